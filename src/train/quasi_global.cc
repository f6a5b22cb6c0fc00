#include "murmur/train/quasi_global.h"

#include "murmur/core/check.h"

namespace murmur::train {

void QuasiGlobalMomentum::begin_round(std::span<const float> x, std::span<const float> buffer) {
  MURMUR_ASSERT(x.size() >= buffer.size());
  x_before_.assign(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(buffer.size()));
  m_.assign(buffer.begin(), buffer.end());
}

std::span<const float> QuasiGlobalMomentum::end_round(std::span<const float> x, double lr,
                                                      int steps) {
  MURMUR_ASSERT(x.size() >= m_.size());
  const double scale = lr * steps;
  if (scale <= 0.0) return m_;
  const float mu = static_cast<float>(mu_), keep = static_cast<float>((1.0 - mu_) / scale);
  for (size_t k = 0; k < m_.size(); ++k) m_[k] = mu * m_[k] + keep * (x_before_[k] - x[k]);
  return m_;
}

}  // namespace murmur::train
