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

// True when the CPU and OS support AVX2 (with POPCNT and FMA; checked once), unless a test turned
// it off: the AVX2 kernels must give the same bits as the baseline ones, which tests check by
// running both on the same machine.
bool HasAvx2();
void SetAvx2ForTesting(bool enabled);
// True when AVX2 is in use and the CPU and OS support AVX-512 F and VL (the wavelet uses
// their two-source permutes on 256-bit vectors), unless a test turned it off; same bits as
// the AVX2 and baseline kernels.
bool HasAvx512Vl();
void SetAvx512ForTesting(bool enabled);
// True when HasAvx512Vl() and the CPU also has AVX-512 BW, VBMI and VBMI2 (the fused QSGD kernel's
// byte arithmetic and byte permute); same bits as the AVX2 and baseline kernels.
bool HasAvx512Vbmi();
// True when the CPU and OS support F16C (half-float conversion) with AVX.
bool HasF16c();

#if defined(__x86_64__)
// The AVX2 kernels (kernels.cc); call them only when HasAvx2().
struct QsgdScale;
// UniformBlock::qsgd_codes on count (a multiple of 16) values; steps the two eight-word
// generator banks alternately, `first` first.
size_t QsgdCodesAvx2(const float* x, size_t count, const QsgdScale& q, uint64_t* first,
                     uint64_t* second, uint32_t* codes);
// UniformBlock::qsgd_pack for 1 <= bits <= 6 and addend_bits set (shift 16), codes packed in
// registers (with AVX-512 VBMI where the CPU has it).
void QsgdPackAvx2(const float* x, size_t groups, const QsgdScale& q, int bits, uint64_t* first,
                  uint64_t* second, uint8_t* dst);
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

#if defined(__SSE2__)
// The end of one BlockedSum block: its 64 float lanes, given as the eight 4-lane sums
// a0 + a1, ..., a14 + a15, added in a fixed tree into one double. The SSE2 and AVX2 versions
// both end here, so they add in the same order and give the same bits.
inline double SumLanePairs(const __m128* pair) {
  const __m128 lo = _mm_add_ps(_mm_add_ps(pair[0], pair[1]), _mm_add_ps(pair[2], pair[3]));
  const __m128 hi = _mm_add_ps(_mm_add_ps(pair[4], pair[5]), _mm_add_ps(pair[6], pair[7]));
  float lanes[4];
  _mm_storeu_ps(lanes, _mm_add_ps(lo, hi));
  return static_cast<double>(lanes[0]) + lanes[1] + lanes[2] + lanes[3];
}
#endif

// Sum of |x| (Abs) or x^2 (Sq): float partial sums over blocks of 4096 in 64 independent
// lanes (sixteen 4-lane accumulators, eight 8-lane ones in AVX2: enough independent adds to
// keep both of a core's add pipes busy through their latency), added into a double, so the
// result is accurate and the loop vectorises. The AVX2 version gives the same bits.
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
    __m128 a[16];
    for (__m128& v : a) v = _mm_setzero_ps();
    for (; i + 64 <= e; i += 64)
      for (int q = 0; q < 16; ++q) {
        __m128 v = _mm_loadu_ps(x + i + 4 * q);
        v = kSquare ? _mm_mul_ps(v, v) : _mm_and_ps(v, abs_mask);
        a[q] = _mm_add_ps(a[q], v);
      }
    __m128 pair[8];  // a0 + a1, ..., a14 + a15: what the AVX2 version's halves add up to
    for (int q = 0; q < 8; ++q) pair[q] = _mm_add_ps(a[2 * q], a[2 * q + 1]);
    double block = SumLanePairs(pair);
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

// QSGD's codes as integer arithmetic on one fused multiply-add (compressor.cc, Qsgd):
//   code = clamp((cvtt(fma(x, mul, add)) + r) >> shift, 0, max_code)   (int32, wrapping add)
// with mul = 2^shift s / norm, add = 2^shift s and r uniform on [0, 2^shift): the code is
// floor(x s / norm + s + r / 2^shift), the stochastic rounding of x s / norm to an integer
// level, offset by s so that it lies in [0, 2s].
// With `addend_bits` set (shift 16, s < 32 and a finite norm: every value then lies in
// [-2^22, 2^22) after scaling), the random bits go into the addend and the multiply-add does
// the rounding, with no conversion:
//   f = fma(x, mul, float(kQsgdMagic + add + r)),  code = clamp((bits(f) - bits(kQsgdMagic)) >> 16)
// kQsgdMagic = 1.5 2^23, where floats are spaced 1 apart, so the sum is rounded to the nearest
// integer (ties to even) and its bits, less the magic's, are that integer; kQsgdMagic + add is
// a multiple of 2^16, so adding r is or-ing it into the low 16 bits (addend_bits | r).
inline constexpr float kQsgdMagic = 12582912.0f;  // 1.5 2^23
inline constexpr uint32_t kQsgdMagicBits = 0x4b400000u;
struct QsgdScale {
  float mul = 0;
  float add = 0;
  int shift = 16;
  uint32_t max_code = 0;
  uint32_t addend_bits = 0;  // bits of kQsgdMagic + add, or 0: truncation as above
};

// cvttps2dq on one float: truncation toward zero, INT32_MIN for NaN and out of range.
inline int32_t TruncateF32(float f) {
  return f >= -0x1p31f && f < 0x1p31f ? static_cast<int32_t>(f) : INT32_MIN;
}

// Random bits for stochastic rounding: two banks of four xorshift128+ generators (Vigna 2014)
// seeded from the caller's Rng, deterministic for a given seed like every murmur stream. A
// step steps the four generators of one bank together and gives eight 32-bit words; steps
// alternate between the banks, so that the vector kernels run two independent chains (one
// bank's steps depend on each other, and one chain alone held the fused QSGD kernel to its
// latency). Generator g of a bank is its state words (g % 2 + 4 (g / 2), g % 2 + 2 + 4 (g / 2))
// and gives words 2g (low half) and 2g + 1 (high half): the layout of the AVX2 registers.
class UniformBlock {
 public:
  template <typename Rng>
  explicit UniformBlock(Rng& rng) {
    for (auto& bank : s_)
      for (auto& w : bank) w = rng.next() | 1;  // xorshift state must not be all zero
  }
  // QSGD codes of x[0, len) (QsgdScale), one step per 16 values (ceil(len / 16) steps):
  // value i + j of a step takes the low `shift` bits of word j, value i + 8 + j the high
  // `shift` bits. The AVX2 version draws, quantises and codes in registers, the same codes.
  void qsgd_codes(const float* x, size_t len, const QsgdScale& q, uint32_t* codes) {
    size_t i = 0;
#if defined(__x86_64__)
    if (HasAvx2()) {
      i = QsgdCodesAvx2(x, len / 16 * 16, q, s_[next_], s_[next_ ^ 1], codes);
      next_ ^= static_cast<int>(i / 16) & 1;
    }
#endif
    const uint32_t low = (uint32_t{1} << q.shift) - 1;
    for (; i < len; i += 16) {
      uint32_t r[8];
      step(r);
      for (size_t j = 0; j < 16 && i + j < len; ++j) {
        const uint32_t bits = j < 8 ? r[j] & low : r[j - 8] >> (32 - q.shift);
        uint32_t sum;  // wraps like vpaddd / vpsubd
        if (q.addend_bits != 0) {
          const float f = std::fma(x[i + j], q.mul, std::bit_cast<float>(q.addend_bits | bits));
          sum = std::bit_cast<uint32_t>(f) - kQsgdMagicBits;
        } else {
          sum = static_cast<uint32_t>(TruncateF32(std::fma(x[i + j], q.mul, q.add))) + bits;
        }
        const int32_t v = static_cast<int32_t>(sum) >> q.shift;
        codes[i + j] = static_cast<uint32_t>(std::clamp(v, 0, static_cast<int32_t>(q.max_code)));
      }
    }
  }
  // QSGD codes of x[0, len) (len a multiple of 64) packed `bits` wide (PackGroup) at dst: the
  // same codes and random steps as qsgd_codes, 64 at a time; fused in AVX2 for bits <= 6.
  void qsgd_pack(const float* x, size_t len, const QsgdScale& q, int bits, uint8_t* dst);

 private:
  // One step of the four generators of the next bank: eight 32-bit words.
  void step(uint32_t* r) {
    uint64_t* bank = s_[next_];
    next_ ^= 1;
    for (int g = 0; g < 4; ++g) {
      uint64_t& s0 = bank[g % 2 + 4 * (g / 2)];
      uint64_t& s1 = bank[g % 2 + 2 + 4 * (g / 2)];
      uint64_t a = s0;
      const uint64_t b = s1;
      s0 = b;
      a ^= a << 23;
      s1 = a ^ b ^ (a >> 17) ^ (b >> 26);
      const uint64_t out = s1 + b;
      r[2 * g] = static_cast<uint32_t>(out);
      r[2 * g + 1] = static_cast<uint32_t>(out >> 32);
    }
  }
  uint64_t s_[2][8];
  int next_ = 0;  // the bank of the next step
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

inline void UniformBlock::qsgd_pack(const float* x, size_t len, const QsgdScale& q, int bits,
                                    uint8_t* dst) {
#if defined(__x86_64__)
  // Four steps per group: the next bank is the same after each group.
  if (bits <= 6 && q.addend_bits != 0 && HasAvx2())
    return QsgdPackAvx2(x, len / 64, q, bits, s_[next_], s_[next_ ^ 1], dst);
#endif
  const PackFn pack = GroupPacker(bits);
  uint32_t codes[64];
  for (size_t g = 0; g < len; g += 64) {
    qsgd_codes(x + g, 64, q, codes);
    pack(codes, dst + g / 64 * 8 * static_cast<size_t>(bits));
  }
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
