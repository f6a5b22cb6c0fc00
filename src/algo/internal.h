// Building blocks shared by the algorithm implementations (not part of the public API).
#pragma once

#include <memory>

#include "murmur/algo/algorithm.h"

namespace murmur::algo::detail {

// The exact average of all nodes' vectors as a two-phase algorithm (reduce-scatter, then
// all-gather; see allreduce.cc) whose frames carry phases phase_base and phase_base + 1.
// Algorithms embed it for periodic exact averaging; it ignores ctx.compression.
std::unique_ptr<Algorithm> MakeExactAverage(const AlgorithmContext& ctx, int phase_base);

}  // namespace murmur::algo::detail
