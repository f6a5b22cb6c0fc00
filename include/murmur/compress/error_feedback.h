// Error feedback (error compensation): a residual memory e that keeps what compression
// dropped and adds it back before the next compression (Seide et al. 2014; Stich et al. 2018;
// Karimireddy et al. 2019):   v = e + x;  payload = C(v);  e = v - decompress(payload).
// One ErrorFeedback per node and stream; not thread-safe.
#pragma once

#include <span>
#include <vector>

#include "murmur/compress/compressor.h"

namespace murmur::compress {

class ErrorFeedback {
 public:
  explicit ErrorFeedback(size_t n) : residual_(n, 0.0f), work_(n) {}
  // Appends the payload for e + x to out, updates e, and writes what the receiver will decode
  // to `sent` (optional, same length as x).
  void compress(const Compressor& c, std::span<const float> x, Rng& rng, Bytes& out,
                std::span<float> sent = {});
  std::span<const float> residual() const { return residual_; }
  std::span<float> mutable_residual() { return residual_; }

 private:
  std::vector<float> residual_, work_;
};

}  // namespace murmur::compress
