// Listing of every registered component, for `murmur list`.
#pragma once

#include <string>

namespace murmur::run {

// Algorithms, topologies, models, datasets, partitioners and compressors with one line of
// help each, as printed by `murmur list`.
std::string ListComponents();

}  // namespace murmur::run
