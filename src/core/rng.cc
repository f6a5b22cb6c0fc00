#include "murmur/core/rng.h"

#include <cmath>

namespace murmur {
namespace {

uint64_t SplitMix(uint64_t& x) { return MixBits(x += 0x9e3779b97f4a7c15ULL); }

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

uint64_t DeriveSeed(uint64_t seed, uint64_t node, Stream purpose) {
  uint64_t x = seed;
  uint64_t a = SplitMix(x);
  x = a ^ (node * 0xd1b54a32d192ed03ULL);
  uint64_t b = SplitMix(x);
  x = b ^ (static_cast<uint64_t>(purpose) * 0x8cb92ba72f3d8dd7ULL);
  return SplitMix(x);
}

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  for (auto& w : s_) w = SplitMix(x);
}

uint64_t Rng::next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

uint64_t Rng::uniform_int(uint64_t n) {
  uint64_t x = next();
  __uint128_t m = static_cast<__uint128_t>(x) * n;
  uint64_t l = static_cast<uint64_t>(m);
  if (l < n) {
    const uint64_t t = -n % n;
    while (l < t) {
      x = next();
      m = static_cast<__uint128_t>(x) * n;
      l = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  double u1 = uniform();
  double u2 = uniform();
  if (u1 < 1e-300) u1 = 1e-300;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

std::pair<double, double> Rng::gamma_and_log(double shape) {
  if (shape < 1.0) {
    // Boost: Gamma(a) = Gamma(a + 1) * U^(1/a); its logarithm does not underflow.
    double u = uniform();
    if (u < 1e-300) u = 1e-300;
    const auto [g, log_g] = gamma_and_log(shape + 1.0);
    return {g * std::pow(u, 1.0 / shape), log_g + std::log(u) / shape};
  }
  const double g = gamma(shape);
  return {g, std::log(g)};
}

double Rng::gamma(double shape) {
  if (shape < 1.0) return gamma_and_log(shape).first;
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    double x, v;
    do {
      x = normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = uniform();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

}  // namespace murmur
