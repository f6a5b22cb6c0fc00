#include "murmur/core/state_io.h"

namespace murmur {
namespace {

constexpr uint64_t kP1 = 0x9e3779b185ebca87ULL;
constexpr uint64_t kP2 = 0xc2b2ae3d27d4eb4fULL;
constexpr uint64_t kP3 = 0x165667b19e3779f9ULL;

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
uint64_t Lane(uint64_t h, uint64_t w) { return Rotl(h + w * kP2, 31) * kP1; }
uint64_t Load(const uint8_t* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

}  // namespace

uint64_t Checksum64(std::span<const uint8_t> bytes) {
  const uint8_t* p = bytes.data();
  const size_t n = bytes.size();
  uint64_t h[4] = {kP1 + kP2, kP2, 0, kP1 * 3};
  size_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int l = 0; l < 4; ++l) h[l] = Lane(h[l], Load(p + i + 8 * l));
  uint64_t acc = Rotl(h[0], 1) + Rotl(h[1], 7) + Rotl(h[2], 12) + Rotl(h[3], 18) + n;
  for (; i + 8 <= n; i += 8) acc = Rotl(acc ^ Lane(0, Load(p + i)), 27) * kP1 + kP3;
  for (; i < n; ++i) acc = Rotl(acc ^ (p[i] * kP3), 11) * kP1;
  acc ^= acc >> 33;
  acc *= kP2;
  acc ^= acc >> 29;
  acc *= kP3;
  return acc ^ (acc >> 32);
}

}  // namespace murmur
