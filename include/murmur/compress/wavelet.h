// 1-D multilevel discrete wavelet transform with symmetric boundary extension, matching
// PyWavelets' wavedec / waverec with mode='symmetric' coefficient for coefficient.
//
// Coefficients are laid out as pywt.wavedec returns them, concatenated:
// [cA_L | cD_L | cD_(L-1) | ... | cD_1]. Each level maps a signal of length N to two halves of
// length floor((N + F - 1) / 2) for a filter of length F, so the coefficient vector is a
// little longer than the signal. A WaveletTransform is immutable and may be shared between
// threads; forward/inverse use caller buffers plus per-call scratch.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace murmur::compress {

// haar (= db1), db2, sym2, db4, sym4 (PyWavelets' filter banks).
const std::vector<std::string>& WaveletNames();

class WaveletTransform {
 public:
  // Throws ConfigError for an unknown wavelet, level < 0 or an empty signal.
  WaveletTransform(const std::string& wavelet, size_t n, int level);
  size_t signal_length() const { return n_; }
  size_t coefficient_count() const { return total_; }
  int level() const { return level_; }
  // Lengths of the blocks [cA_L, cD_L, ..., cD_1].
  const std::vector<size_t>& block_lengths() const { return blocks_; }
  void forward(std::span<const float> x, std::span<float> coeffs) const;
  void inverse(std::span<const float> coeffs, std::span<float> x) const;

 private:
  std::vector<float> lo_, hi_, rlo_, rhi_;
  std::vector<float> lift_;  // lifting coefficients of a 4-tap bank (empty: convolution)
  size_t n_;
  int level_;
  std::vector<size_t> lengths_;  // signal length entering each level (lengths_[0] = n)
  std::vector<size_t> blocks_;
  size_t total_ = 0;
};

}  // namespace murmur::compress
