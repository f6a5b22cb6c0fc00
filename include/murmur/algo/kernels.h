// Vector kernels shared by the algorithms.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace murmur::algo {

// One term of a weighted sum: either float memory or the raw bytes of a dense f32 payload
// (possibly unaligned).
struct WeightedSource {
  float weight = 0.0f;
  const float* values = nullptr;
  const uint8_t* bytes = nullptr;
};

// out[k] = sum_j w_j * src_j[k], accumulated in the order of `sources` in float. Every
// element is computed the same way whatever the chunking, so two callers that pass the
// same weights and sources in the same order get bit-identical results. `out` may alias
// no source. sources must be non-empty.
void WeightedSum(std::span<float> out, std::span<const WeightedSource> sources);

// Mean squared distance to the mean: (1/n) sum_i ||x_i - mean||^2, in double.
double ConsensusDistance(std::span<const std::span<const float>> xs, std::span<float> mean_out);

// The same, fed a block of coordinates at a time (blocks in increasing coordinate order, each
// with every node's values): the result is bit-identical to ConsensusDistance on the whole
// vectors, while only one block of every node need be in memory (rank 0 of an MPI run).
class ConsensusAccumulator {
 public:
  explicit ConsensusAccumulator(size_t nodes) : squares_(nodes, 0.0) {}
  // xs[i]: node i's values of the block's coordinates; mean_out: the block of the mean.
  void add(std::span<const std::span<const float>> xs, std::span<float> mean_out);
  double result() const;

 private:
  std::vector<double> squares_;  // per node, ||x_i - mean||^2 so far
  std::vector<double> sum_;      // scratch: per coordinate, sum_i x_i
};

}  // namespace murmur::algo
