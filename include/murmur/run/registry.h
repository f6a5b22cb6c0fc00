// Listing of every registered component, for `murmur list`.
#pragma once

#include <string>
#include <vector>

namespace murmur::run {

// Every registered component: kind ("algorithm", "topology", "model", "dataset",
// "partitioner", "compressor"), name, one line of help.
struct Component {
  std::string kind, name, help;
};
std::vector<Component> Components();

// Algorithms, topologies, models, datasets, partitioners and compressors with one line of
// help each, as printed by `murmur list`.
std::string ListComponents();

}  // namespace murmur::run
