#include "murmur/run/registry.h"

#include <sstream>

#include "murmur/algo/algorithm.h"
#include "murmur/compress/compressor.h"
#include "murmur/data/dataset.h"
#include "murmur/data/partition.h"
#include "murmur/graph/topology.h"
#include "murmur/train/node_model.h"

namespace murmur::run {
namespace {
void Line(std::ostringstream& os, const std::string& name, const std::string& help) {
  os << "  " << name;
  for (size_t i = name.size(); i < 22; ++i) os << ' ';
  os << help << "\n";
}
// What an algorithm's traits tell a user: "[compressed, directed graphs, ...]".
std::string TraitTags(const algo::AlgorithmTraits& t) {
  std::string tags;
  for (const auto& [on, tag] : {std::pair{t.compressed, "compression.*"},
                                {t.tunes_gamma, "gamma tuned"},
                                {t.directed_graphs, "directed graphs"},
                                {t.full_sharing, "full sharing"},
                                {!t.mixes_models, "no gossip-only rounds"}})
    if (on) tags += (tags.empty() ? " [" : ", ") + std::string(tag);
  return tags.empty() ? tags : tags + "]";
}
}  // namespace

std::vector<Component> Components() {
  std::vector<Component> out;
  auto add = [&](const char* kind, const auto& registry) {
    for (auto* e : registry.entries()) out.push_back({kind, e->name, e->help});
  };
  for (auto* e : algo::AlgorithmRegistry().entries())
    out.push_back({"algorithm", e->name, e->help + TraitTags(e->value.traits)});
  add("topology", graph::TopologyRegistry());
  add("model", train::ModelRegistry());
  add("dataset", data::DatasetRegistry());
  add("partitioner", data::PartitionerRegistry());
  out.push_back({"compressor", "none", "full precision, no compressor"});
  add("compressor", compress::CompressorRegistry());
  return out;
}

std::string ListComponents() {
  static const std::pair<const char*, const char*> kTitles[] = {
      {"algorithm", "algorithms (algorithm.name)"},
      {"topology", "topologies (topology.name)"},
      {"model", "models (model.name)"},
      {"dataset", "datasets (data.name)"},
      {"partitioner", "partitioners (partition.name)"},
      {"compressor", "compressors (compression.name)"}};
  const std::vector<Component> all = Components();
  std::ostringstream os;
  for (const auto& [kind, title] : kTitles) {
    os << title << ":\n";
    for (const Component& c : all)
      if (c.kind == kind) Line(os, c.name, c.help);
  }
  return os.str();
}

}  // namespace murmur::run
