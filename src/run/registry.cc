#include "murmur/run/registry.h"

#include <sstream>

#include "murmur/algo/algorithm.h"
#include "murmur/data/dataset.h"
#include "murmur/data/partition.h"
#include "murmur/graph/topology.h"
#include "murmur/train/node_model.h"

namespace murmur::run {
namespace {
template <typename R>
void Section(std::ostringstream& os, const char* title, const R& reg) {
  os << title << ":\n";
  for (auto* e : reg.entries()) {
    os << "  " << e->name;
    for (size_t i = e->name.size(); i < 22; ++i) os << ' ';
    os << e->help << "\n";
  }
}
}  // namespace

std::string ListComponents() {
  std::ostringstream os;
  Section(os, "algorithms (algorithm.name)", algo::AlgorithmRegistry());
  Section(os, "topologies (topology.name)", graph::TopologyRegistry());
  Section(os, "models (model.name)", train::ModelRegistry());
  Section(os, "datasets (data.name)", data::DatasetRegistry());
  os << "partitioners (partition.name):\n";
  for (auto& [name, help] : data::PartitionerHelp()) {
    os << "  " << name;
    for (size_t i = name.size(); i < 22; ++i) os << ' ';
    os << help << "\n";
  }
  os << "compressors (compression.name):\n  none                  full precision (more with issue "
        "#3)\n";
  return os.str();
}

}  // namespace murmur::run
