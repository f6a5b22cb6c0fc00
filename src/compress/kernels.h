// Vector kernels of the compressors (internal). SSE2 is part of x86-64, so it is always
// available there; other targets use the scalar loops.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace murmur::compress::kernels {

// True when the CPU and OS support AVX2 (checked once), unless a test turned it off: the
// AVX2 kernels must give the same bits as the baseline ones, which tests check by running
// both on the same machine.
bool HasAvx2();
void SetAvx2ForTesting(bool enabled);
// True when AVX2 is in use and the CPU and OS support AVX-512 F and VL (the wavelet uses
// their two-source permutes on 256-bit vectors), unless a test turned it off; same bits as
// the AVX2 and baseline kernels.
bool HasAvx512Vl();
void SetAvx512ForTesting(bool enabled);
// True when the CPU and OS support F16C (half-float conversion) with AVX.
bool HasF16c();

constexpr size_t kQsgdBlock = 256;

#if defined(__x86_64__)
// The AVX2 kernels (kernels.cc); call them only when HasAvx2().
// UniformBlock::qsgd_codes on count (a multiple of 16) values; steps the eight-word state.
size_t QsgdCodesAvx2(const float* x, size_t count, float inv, int32_t smax, uint64_t* state,
                     uint32_t* codes);
double AbsSumAvx2(const float* x, size_t n);
double SquareSumAvx2(const float* x, size_t n);
void SignWordsAvx2(const float* x, size_t words, uint8_t* out);
size_t FilterKeysAtLeastAvx2(const uint32_t* bits, size_t n, uint32_t t, uint32_t* out, size_t cap,
                             double share);
#endif

// Over the gaps g_j = idx[j] - idx[j - 1] of a sorted index set (idx[-1] = -1, so g >= 1):
// the sums behind the index codecs' exact sizes (codecs.cc, MeasureSizes).
struct GapSums {
  uint64_t bit_length = 0;    // sum of bit_width(g)               (Elias-gamma)
  uint64_t varint_bytes = 0;  // sum of LEB128 bytes of g - 1       (varint)
  uint64_t rice_q[3] = {};    // sum of (g - 1) >> (b0 + t), t < 3  (Rice, three parameters)
  void add(uint64_t g, int b0) {
    bit_length += static_cast<uint64_t>(std::bit_width(g));
    const uint64_t v = g - 1;
    varint_bytes += v < 128 ? 1 : (static_cast<uint64_t>(std::bit_width(v)) + 6) / 7;
    for (int t = 0; t < 3; ++t) rice_q[t] += v >> (b0 + t);
  }
  // Adds the gaps of idx[begin, end), the first one from idx[begin - 1] (or -1 at 0).
  void add_range(const uint32_t* idx, size_t begin, size_t end, int b0) {
    int64_t prev = begin == 0 ? int64_t{-1} : int64_t{idx[begin - 1]};
    for (size_t j = begin; j < end; ++j) {
      add(static_cast<uint64_t>(idx[j] - prev), b0);
      prev = idx[j];
    }
  }
};
#if defined(__x86_64__)
GapSums SumGapsAvx2(const uint32_t* idx, size_t k, int b0);
#endif
inline GapSums SumGaps(const uint32_t* idx, size_t k, int b0) {
#if defined(__x86_64__)
  if (k >= 16 && HasAvx2()) return SumGapsAvx2(idx, k, b0);
#endif
  GapSums s;
  s.add_range(idx, 0, k, b0);
  return s;
}

// Writes the indices j < n whose magnitude key (bits[j] without the sign bit) is >= t to out,
// in order, and returns their count; returns SIZE_MAX as soon as the count exceeds `cap`.
// out must have room for cap + 64 values. `share`: the expected fraction of hits (a speed
// hint only).
inline size_t FilterKeysAtLeast(const uint32_t* bits, size_t n, uint32_t t, uint32_t* out,
                                size_t cap, double share) {
#if defined(__x86_64__)
  if (HasAvx2()) return FilterKeysAtLeastAvx2(bits, n, t, out, cap, share);
#endif
  size_t count = 0, j = 0;
#if defined(__SSE2__)
  const __m128i mask = _mm_set1_epi32(0x7fffffff);
  const __m128i tm1 = _mm_set1_epi32(static_cast<int32_t>(t - 1));
  for (; j + 4 <= n; j += 4) {
    const __m128i key =
        _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bits + j)), mask);
    for (int hit = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpgt_epi32(key, tm1))); hit;
         hit &= hit - 1)
      out[count++] = static_cast<uint32_t>(j + static_cast<size_t>(__builtin_ctz(hit)));
    if (count > cap) return SIZE_MAX;
  }
#endif
  for (; j < n; ++j) {
    out[count] = static_cast<uint32_t>(j);
    count += (bits[j] & 0x7fffffffu) >= t;
    if (count > cap) return SIZE_MAX;
  }
  return count;
}

constexpr size_t kSumBlock = 4096;

// Sum of |x| (Abs) or x^2 (Sq): float partial sums over blocks of 4096 in 16 independent
// lanes, added into a double, so the result is accurate and the loop vectorises. The AVX2
// version gives the same bits.
template <bool kSquare>
double BlockedSum(const float* x, size_t n) {
#if defined(__x86_64__)
  if (n >= 64 && HasAvx2()) return kSquare ? SquareSumAvx2(x, n) : AbsSumAvx2(x, n);
#endif
  double total = 0.0;
  for (size_t b = 0; b < n; b += kSumBlock) {
    const size_t e = b + kSumBlock < n ? b + kSumBlock : n;
    size_t i = b;
#if defined(__SSE2__)
    const __m128 abs_mask = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
    __m128 a0 = _mm_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (; i + 16 <= e; i += 16) {
      __m128 v0 = _mm_loadu_ps(x + i), v1 = _mm_loadu_ps(x + i + 4);
      __m128 v2 = _mm_loadu_ps(x + i + 8), v3 = _mm_loadu_ps(x + i + 12);
      if constexpr (kSquare) {
        v0 = _mm_mul_ps(v0, v0), v1 = _mm_mul_ps(v1, v1), v2 = _mm_mul_ps(v2, v2),
        v3 = _mm_mul_ps(v3, v3);
      } else {
        v0 = _mm_and_ps(v0, abs_mask), v1 = _mm_and_ps(v1, abs_mask);
        v2 = _mm_and_ps(v2, abs_mask), v3 = _mm_and_ps(v3, abs_mask);
      }
      a0 = _mm_add_ps(a0, v0), a1 = _mm_add_ps(a1, v1), a2 = _mm_add_ps(a2, v2),
      a3 = _mm_add_ps(a3, v3);
    }
    float lanes[4];
    _mm_storeu_ps(lanes, _mm_add_ps(_mm_add_ps(a0, a1), _mm_add_ps(a2, a3)));
    double block = static_cast<double>(lanes[0]) + lanes[1] + lanes[2] + lanes[3];
#else
    double block = 0.0;
#endif
    for (; i < e; ++i)
      block += kSquare ? static_cast<double>(x[i]) * x[i] : (x[i] < 0 ? -x[i] : x[i]);
    total += block;
  }
  return total;
}

// Sign bits (1 = negative) of x[0, 64) as one word.
inline uint64_t SignWord(const float* x) {
#if defined(__SSE2__)
  uint64_t w = 0;
  for (int j = 0; j < 64; j += 4)
    w |= static_cast<uint64_t>(_mm_movemask_ps(_mm_loadu_ps(x + j))) << j;
  return w;
#else
  uint64_t w = 0;
  for (int j = 0; j < 64; ++j) {
    uint32_t u;
    std::memcpy(&u, x + j, 4);
    w |= static_cast<uint64_t>(u >> 31) << j;
  }
  return w;
#endif
}

// Sign bits of x[0, 64 * words) packed into `words` little-endian 64-bit words at out.
inline void SignWords(const float* x, size_t words, uint8_t* out) {
#if defined(__x86_64__)
  if (HasAvx2()) return SignWordsAvx2(x, words, out);
#endif
  for (size_t w = 0; w < words; ++w) {
    const uint64_t v = SignWord(x + 64 * w);
    std::memcpy(out + 8 * w, &v, 8);
  }
}

// Uniform floats in [0, 1) with 16 random bits each, for stochastic rounding: four
// xorshift128+ streams (Vigna 2014) seeded from the caller's Rng, stepped together with SSE2.
// Deterministic for a given seed, like every murmur stream.
class UniformBlock {
 public:
  template <typename Rng>
  explicit UniformBlock(Rng& rng) {
    for (auto& w : s_) w = rng.next() | 1;  // xorshift state must not be all zero
  }
  // QSGD codes of x[0, len): level min(floor(|x| inv + u), smax) << 1 | sign bit, with one
  // uniform u per value from fill's stream (whole steps of 16: ceil(len / 16) of them). The
  // AVX2 version draws, quantises and codes in registers and gives the same codes.
  void qsgd_codes(const float* x, size_t len, float inv, int32_t smax, uint32_t* codes) {
    size_t j = 0;
#if defined(__x86_64__)
    if (HasAvx2()) j = QsgdCodesAvx2(x, len / 16 * 16, inv, smax, s_, codes);
#endif
    float u[kQsgdBlock];
    for (; j < len; j += kQsgdBlock) {
      const size_t m = std::min(kQsgdBlock, len - j);
      fill(u, (m + 15) & ~size_t{15});
      for (size_t t = 0; t < m; ++t) {
        const uint32_t sign = std::bit_cast<uint32_t>(x[j + t]) >> 31;
        const int32_t level = std::min(static_cast<int32_t>(std::abs(x[j + t]) * inv + u[t]), smax);
        codes[j + t] = (static_cast<uint32_t>(level) << 1) | sign;
      }
    }
  }
  // Fills u[0, count) (count a multiple of 16).
  void fill(float* u, size_t count) {
#if defined(__SSE2__)
    __m128i a0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s_ + 0));
    __m128i a1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s_ + 2));
    __m128i b0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s_ + 4));
    __m128i b1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s_ + 6));
    const __m128 scale = _mm_set1_ps(0x1p-16f);
    const __m128i zero = _mm_setzero_si128();
    auto step = [](__m128i& s0, __m128i& s1) {  // two lanes of xorshift128+
      __m128i x = s0;
      const __m128i y = s1;
      s0 = y;
      x = _mm_xor_si128(x, _mm_slli_epi64(x, 23));
      s1 = _mm_xor_si128(_mm_xor_si128(x, y),
                         _mm_xor_si128(_mm_srli_epi64(x, 17), _mm_srli_epi64(y, 26)));
      return _mm_add_epi64(s1, y);
    };
    for (size_t i = 0; i < count; i += 16) {
      const __m128i r[2] = {step(a0, a1), step(b0, b1)};  // 16 x 16 bits
      for (int h = 0; h < 2; ++h) {
        const __m128i lo = _mm_unpacklo_epi16(r[h], zero), hi = _mm_unpackhi_epi16(r[h], zero);
        _mm_storeu_ps(u + i + 8 * h, _mm_mul_ps(_mm_cvtepi32_ps(lo), scale));
        _mm_storeu_ps(u + i + 8 * h + 4, _mm_mul_ps(_mm_cvtepi32_ps(hi), scale));
      }
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(s_ + 0), a0);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(s_ + 2), a1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(s_ + 4), b0);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(s_ + 6), b1);
#else
    for (size_t i = 0; i < count; i += 4) {
      uint64_t x = s_[0];
      const uint64_t y = s_[1];
      s_[0] = y;
      x ^= x << 23;
      s_[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
      uint64_t r = s_[1] + y;
      for (int q = 0; q < 4; ++q, r >>= 16) u[i + q] = static_cast<float>(r & 0xffff) * 0x1p-16f;
    }
#endif
  }

 private:
  uint64_t s_[8];
};

// Packs 64 codes of B bits (LSB-first) into B 64-bit words; fully unrolled for constant B.
template <int B>
inline void PackGroup(const uint32_t* __restrict codes, uint8_t* __restrict dst) {
  uint64_t words[B] = {};
#pragma GCC unroll 64
  for (int j = 0; j < 64; ++j) {
    const int bit = j * B, w = bit / 64, sh = bit % 64;
    words[w] |= static_cast<uint64_t>(codes[j]) << sh;
    if (sh + B > 64) words[w + 1] |= static_cast<uint64_t>(codes[j]) >> (64 - sh);
  }
  std::memcpy(dst, words, 8 * B);
}

using PackFn = void (*)(const uint32_t*, uint8_t*);
template <int... Bs>
constexpr PackFn PackTable(int bits, std::integer_sequence<int, Bs...>) {
  PackFn table[] = {nullptr, &PackGroup<Bs + 1>...};
  return table[bits];
}
#if defined(__x86_64__)
// PackGroup<bits> for 1 <= bits <= 6 in AVX2 (kernels.cc): the same 8 * bits bytes.
PackFn GroupPackerAvx2(int bits);
#endif
// The group packer for 1 <= bits <= 32.
inline PackFn GroupPacker(int bits) {
#if defined(__x86_64__)
  if (bits <= 6 && HasAvx2()) return GroupPackerAvx2(bits);
#endif
  return PackTable(bits, std::make_integer_sequence<int, 32>{});
}

// Reads 64 codes of B bits (LSB-first) from B 64-bit words: the inverse of PackGroup.
template <int B>
inline void UnpackGroup(const uint8_t* __restrict src, uint32_t* __restrict codes) {
  uint64_t words[B];
  std::memcpy(words, src, 8 * B);
  constexpr uint64_t mask = B == 64 ? ~uint64_t{0} : (uint64_t{1} << B) - 1;
#pragma GCC unroll 64
  for (int j = 0; j < 64; ++j) {
    const int bit = j * B, w = bit / 64, sh = bit % 64;
    uint64_t v = words[w] >> sh;
    if (sh + B > 64) v |= words[w + 1] << (64 - sh);
    codes[j] = static_cast<uint32_t>(v & mask);
  }
}

using UnpackFn = void (*)(const uint8_t*, uint32_t*);
template <int... Bs>
constexpr UnpackFn UnpackTable(int bits, std::integer_sequence<int, Bs...>) {
  UnpackFn table[] = {nullptr, &UnpackGroup<Bs + 1>...};
  return table[bits];
}
// The group unpacker for 1 <= bits <= 32.
inline UnpackFn GroupUnpacker(int bits) {
  return UnpackTable(bits, std::make_integer_sequence<int, 32>{});
}

}  // namespace murmur::compress::kernels
