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
template <typename R>
void Section(std::ostringstream& os, const char* title, const R& reg) {
  os << title << ":\n";
  for (auto* e : reg.entries()) Line(os, e->name, e->help);
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

std::string ListComponents() {
  std::ostringstream os;
  os << "algorithms (algorithm.name):\n";
  for (auto* e : algo::AlgorithmRegistry().entries())
    Line(os, e->name, e->help + TraitTags(e->value.traits));
  Section(os, "topologies (topology.name)", graph::TopologyRegistry());
  Section(os, "models (model.name)", train::ModelRegistry());
  Section(os, "datasets (data.name)", data::DatasetRegistry());
  Section(os, "partitioners (partition.name)", data::PartitionerRegistry());
  os << "compressors (compression.name):\n";
  Line(os, "none", "full precision, no compressor");
  for (auto* e : compress::CompressorRegistry().entries()) Line(os, e->name, e->help);
  return os.str();
}

}  // namespace murmur::run
