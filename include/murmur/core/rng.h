// Deterministic random number streams.
//
// Every random decision in murmur draws from an Rng seeded by DeriveSeed(seed, node,
// purpose), so results depend only on the config seed, never on thread scheduling or on
// the order in which nodes run. Rng is xoshiro256** (fast, 256-bit state, passes BigCrush);
// it is not thread-safe: give each thread or node its own.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

namespace murmur {

// Named purposes keep streams of one node independent of each other.
enum class Stream : uint64_t {
  kModelInit = 1,
  kPartition = 2,
  kShuffle = 3,
  kTopology = 4,
  kData = 5,
  kAlgorithm = 6,
  kCompression = 7,
  kFaults = 8,
  kNetwork = 9,
  kDevice = 10,
  kChurn = 11,
};

// Mixes (seed, node, purpose) into a 64-bit seed with SplitMix64 finalisers.
uint64_t DeriveSeed(uint64_t seed, uint64_t node, Stream purpose);

// SplitMix64's finaliser: a bijective mix of 64 bits (for hashing values into random bits).
inline uint64_t MixBits(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  using result_type = uint64_t;
  explicit Rng(uint64_t seed = 0);
  Rng(uint64_t seed, uint64_t node, Stream purpose) : Rng(DeriveSeed(seed, node, purpose)) {}

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() { return next(); }
  uint64_t next();

  // Uniform integer in [0, n); n > 0. Unbiased (Lemire's method).
  uint64_t uniform_int(uint64_t n);
  // Uniform double in [0, 1) with 53 random bits.
  double uniform();
  // Standard normal (Box-Muller, one value per call; deterministic).
  double normal();
  // Gamma(shape, 1) (Marsaglia-Tsang); shape > 0.
  double gamma(double shape);
  // The draw gamma(shape) would make (bit for bit, from the same random numbers) and its
  // logarithm: for a tiny shape (below ~1e-4) the draw underflows to 0, its logarithm does not.
  std::pair<double, double> gamma_and_log(double shape);

  // Fisher-Yates shuffle of a span.
  template <typename T>
  void shuffle(std::span<T> v) {
    for (size_t i = v.size(); i > 1; --i) {
      size_t j = uniform_int(i);
      std::swap(v[i - 1], v[j]);
    }
  }

  std::array<uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s) { s_ = s; }

 private:
  std::array<uint64_t, 4> s_;
};

}  // namespace murmur
