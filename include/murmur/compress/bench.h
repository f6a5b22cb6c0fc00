// Compression benchmarks shared by `murmur bench compress` and bench/compress_bench: every
// operator is timed single-threaded next to a memcpy of its input (n floats) in the same run.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace murmur::compress {

// One timed operation on a vector of n Gaussian floats.
struct BenchOp {
  std::string name;
  double target_ratio;        // the bound on seconds / memcpy_seconds (0: none)
  std::function<void()> run;  // one complete operation
};
// The operators for vectors of n floats; the returned closures own their buffers.
std::vector<BenchOp> CompressBenchOps(size_t n);

struct OpResult {
  std::string name;
  size_t n = 0;
  double seconds = 0;         // per operation
  double memcpy_seconds = 0;  // memcpy of the same n floats, measured alongside
  double target_ratio = 0;
};
struct IndexCodecResult {
  std::string codec;
  size_t n = 0, k = 0;
  size_t bytes = 0;
  double entropy_bound_bytes = 0;
};

// Times every operator and a memcpy of its input, each for at least min_seconds.
std::vector<OpResult> RunCompressBench(size_t n, double min_seconds);
// Encoded index sizes for random k-subsets, k/n in {1e-4, 1e-3, 1e-2, 1e-1}, every codec.
std::vector<IndexCodecResult> IndexSizes(size_t n);
// Seconds of the fastest call of `fn` among calls repeated for at least min_seconds (after a
// warm-up call): the least noisy estimate on a shared machine.
double TimeIt(const std::function<void()>& fn, double min_seconds);

}  // namespace murmur::compress
