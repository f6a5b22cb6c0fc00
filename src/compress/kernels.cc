// Run-time CPU dispatch and the AVX2 versions of the kernels in kernels.h. Each AVX2 kernel
// does exactly the arithmetic of its baseline version, in the same order, so results do not
// depend on the machine (tests compare the two on the same input).
#include "kernels.h"

#include <atomic>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace murmur::compress::kernels {
namespace {
std::atomic<bool> avx2_allowed{true};
std::atomic<bool> avx512_allowed{true};
}  // namespace

void SetAvx2ForTesting(bool enabled) { avx2_allowed = enabled; }
void SetAvx512ForTesting(bool enabled) { avx512_allowed = enabled; }

#if defined(__x86_64__)
namespace {
// AVX in the CPU (CPUID.1:ECX bit 28), OSXSAVE (bit 27) and the AVX state enabled by the OS
// (XCR0 bits 1-2): what every 256-bit kernel needs before its own feature bit.
// The state components the OS enabled (XCR0; needs OSXSAVE).
uint32_t Xcr0() {
  uint32_t lo, hi;
  __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return lo;
}
bool HasAvxState(unsigned ecx1) {
  if (!(ecx1 & (1u << 27)) || !(ecx1 & (1u << 28))) return false;
  return (Xcr0() & 6u) == 6u;
}
// CPUID.7:EBX (the AVX2 and AVX-512 feature bits) when the CPU has the AVX state, else 0.
unsigned AvxLeaf7Ebx() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !HasAvxState(c)) return 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  return b;
}
}  // namespace
#endif

// AVX2: CPUID.7:EBX bit 5, with the AVX state, and POPCNT (CPUID.1:ECX bit 23), which the
// AVX2 kernels also use (every AVX2 CPU has it).
bool HasAvx2() {
#if defined(__x86_64__)
  static const bool has = [] {
    unsigned a, b, c, d;
    const bool popcnt = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 23));
    return popcnt && (AvxLeaf7Ebx() & (1u << 5)) != 0;
  }();
  return has && avx2_allowed.load(std::memory_order_relaxed);
#else
  return false;
#endif
}

// AVX-512 F and VL (CPUID.7:EBX bits 16 and 31), with the opmask and ZMM state enabled by
// the OS (XCR0 bits 5-7) besides the AVX state; only with HasAvx2().
bool HasAvx512Vl() {
#if defined(__x86_64__)
  static const bool has = [] {
    const unsigned b = AvxLeaf7Ebx();
    return (b & (1u << 16)) && (b & (1u << 31)) && (Xcr0() & 0xe0u) == 0xe0u;
  }();
  return has && HasAvx2() && avx512_allowed.load(std::memory_order_relaxed);
#else
  return false;
#endif
}

// F16C: CPUID.1:ECX bit 29, with the AVX state.
bool HasF16c() {
#if defined(__x86_64__)
  static const bool has = [] {
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29)) && HasAvxState(c);
  }();
  return has;
#else
  return false;
#endif
}

#if defined(__x86_64__)
namespace {
// BlockedSum's SSE2 loop keeps 16 lanes in four registers a0..a3 over x[i, i + 16); here
// b0 = (a0 | a1) and b1 = (a2 | a3), and the final (a0 + a1) + (a2 + a3) is the same adds.
template <bool kSquare>
[[gnu::target("avx2")]] double BlockedSumAvx2(const float* x, size_t n) {
  double total = 0.0;
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (size_t b = 0; b < n; b += kSumBlock) {
    const size_t e = b + kSumBlock < n ? b + kSumBlock : n;
    size_t i = b;
    __m256 b0 = _mm256_setzero_ps(), b1 = b0;
    for (; i + 16 <= e; i += 16) {
      __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
      if constexpr (kSquare) {
        v0 = _mm256_mul_ps(v0, v0), v1 = _mm256_mul_ps(v1, v1);
      } else {
        v0 = _mm256_and_ps(v0, abs_mask), v1 = _mm256_and_ps(v1, abs_mask);
      }
      b0 = _mm256_add_ps(b0, v0), b1 = _mm256_add_ps(b1, v1);
    }
    const __m128 a01 = _mm_add_ps(_mm256_castps256_ps128(b0), _mm256_extractf128_ps(b0, 1));
    const __m128 a23 = _mm_add_ps(_mm256_castps256_ps128(b1), _mm256_extractf128_ps(b1, 1));
    float lanes[4];
    _mm_storeu_ps(lanes, _mm_add_ps(a01, a23));
    double block = static_cast<double>(lanes[0]) + lanes[1] + lanes[2] + lanes[3];
    for (; i < e; ++i)
      block += kSquare ? static_cast<double>(x[i]) * x[i] : (x[i] < 0 ? -x[i] : x[i]);
    total += block;
  }
  return total;
}
}  // namespace

double AbsSumAvx2(const float* x, size_t n) { return BlockedSumAvx2<false>(x, n); }
double SquareSumAvx2(const float* x, size_t n) { return BlockedSumAvx2<true>(x, n); }

[[gnu::target("avx2")]] void SignWordsAvx2(const float* x, size_t words, uint8_t* out) {
  for (size_t w = 0; w < words; ++w, x += 64) {
    uint64_t v = 0;
    for (int j = 0; j < 64; j += 8)
      v |= static_cast<uint64_t>(static_cast<uint32_t>(_mm256_movemask_ps(_mm256_loadu_ps(x + j))))
           << j;
    std::memcpy(out + 8 * w, &v, 8);
  }
}

// 32 keys per step: four compares give a 32-bit mask; its set bits are written as indices
// without a branch per bit (kWrites unconditional writes, extra ones land past the count
// and are overwritten), so the cost does not depend on where the hits fall. A step with
// more than kWrites hits takes the loop.
template <int kWrites, bool kSkipEmpty>
[[gnu::target("avx2,popcnt")]] size_t FilterKeysAtLeastAvx2T(const uint32_t* bits, size_t n,
                                                             uint32_t t, uint32_t* out,
                                                             size_t cap) {
  const __m256i mask = _mm256_set1_epi32(0x7fffffff);
  const __m256i tm1 = _mm256_set1_epi32(static_cast<int32_t>(t - 1));
  size_t count = 0, j = 0;
  for (; j + 32 <= n; j += 32) {
    uint64_t m = 0;
    for (int q = 0; q < 4; ++q) {
      const __m256i key = _mm256_and_si256(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bits + j + 8 * q)), mask);
      m |= static_cast<uint64_t>(static_cast<uint32_t>(
               _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(key, tm1)))))
           << (8 * q);
    }
    if (kSkipEmpty && m == 0) continue;
    const int hits = __builtin_popcountll(m);
    uint32_t* d = out + count;
    const uint32_t base = static_cast<uint32_t>(j);
    if (hits <= kWrites) {
      for (int q = 0; q < kWrites; ++q) {
        d[q] = base + static_cast<uint32_t>(__builtin_ctzll(m | (uint64_t{1} << 63)));
        m &= m - 1;
      }
    } else {
      for (; m; m &= m - 1) *d++ = base + static_cast<uint32_t>(__builtin_ctzll(m));
    }
    count += static_cast<size_t>(hits);
    if (count > cap) return SIZE_MAX;
  }
  for (; j < n; ++j) {
    out[count] = static_cast<uint32_t>(j);
    count += (bits[j] & 0x7fffffffu) >= t;
    if (count > cap) return SIZE_MAX;
  }
  return count;
}

// UniformBlock's two SSE2 generator pairs (state words 0-3 and 4-7) side by side in one
// 256-bit generator: its low half gives values i..i+7, its high half i+8..i+15, as fill does.
[[gnu::target("avx2")]] size_t QsgdCodesAvx2(const float* x, size_t count, float inv, int32_t smax,
                                             uint64_t* state, uint32_t* codes) {
  auto load2 = [state](int at) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(state + at));
  };
  __m256i s0 = _mm256_set_m128i(load2(4), load2(0)), s1 = _mm256_set_m128i(load2(6), load2(2));
  const __m256 scale = _mm256_set1_ps(0x1p-16f), vinv = _mm256_set1_ps(inv);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256i vmax = _mm256_set1_epi32(smax);
  for (size_t i = 0; i < count; i += 16) {
    __m256i a = s0;
    const __m256i b = s1;
    s0 = b;
    a = _mm256_xor_si256(a, _mm256_slli_epi64(a, 23));
    s1 = _mm256_xor_si256(_mm256_xor_si256(a, b),
                          _mm256_xor_si256(_mm256_srli_epi64(a, 17), _mm256_srli_epi64(b, 26)));
    const __m256i r = _mm256_add_epi64(s1, b);
    for (int h = 0; h < 2; ++h) {
      const __m128i r16 = h ? _mm256_extracti128_si256(r, 1) : _mm256_castsi256_si128(r);
      const __m256 u = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(r16)), scale);
      const __m256 v = _mm256_loadu_ps(x + i + 8 * h);
      const __m256 level_f = _mm256_add_ps(_mm256_mul_ps(_mm256_and_ps(v, abs_mask), vinv), u);
      const __m256i level = _mm256_min_epi32(_mm256_cvttps_epi32(level_f), vmax);
      const __m256i code = _mm256_or_si256(_mm256_slli_epi32(level, 1),
                                           _mm256_srli_epi32(_mm256_castps_si256(v), 31));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(codes + i + 8 * h), code);
    }
  }
  auto store2 = [state](int at, __m128i v) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(state + at), v);
  };
  store2(0, _mm256_castsi256_si128(s0));
  store2(4, _mm256_extracti128_si256(s0, 1));
  store2(2, _mm256_castsi256_si128(s1));
  store2(6, _mm256_extracti128_si256(s1, 1));
  return count;
}

namespace {
// 64 codes of B <= 6 bits: narrowed to bytes in order, then merged in registers — byte
// pairs by one multiply-add (c0 + c1 << B), pairs of pairs by another, then the two halves
// of each 64-bit lane — so each lane holds eight codes in its low 8B bits, B bytes, which a
// byte shuffle moves next to each other.
template <int B>
[[gnu::target("avx2")]] void PackGroupAvx2(const uint32_t* __restrict codes,
                                           uint8_t* __restrict dst) {
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  const __m256i pair_w = _mm256_set1_epi16(static_cast<int16_t>(1 | (1 << (8 + B))));
  const __m256i quad_w = _mm256_set1_epi32(1 | (1 << (16 + 2 * B)));
  const __m256i low32 = _mm256_set1_epi64x(0xffffffff);
  // Bytes 0..B-1 of each 64-bit lane, both lanes of a 128-bit half side by side.
  alignas(16) int8_t pick[16];
  for (int j = 0; j < 16; ++j) pick[j] = j < B ? j : j < 2 * B ? 8 + j - B : -1;
  const __m128i pick128 = _mm_load_si128(reinterpret_cast<const __m128i*>(pick));
  const __m256i shuffle = _mm256_broadcastsi128_si256(pick128);
  alignas(16) uint8_t staged[8 * B + 16];  // the stores below write past their 2B bytes
  for (int h = 0; h < 2; ++h) {
    const __m256i* in = reinterpret_cast<const __m256i*>(codes + 32 * h);
    const __m256i w01 = _mm256_packus_epi32(_mm256_loadu_si256(in), _mm256_loadu_si256(in + 1));
    const __m256i w23 = _mm256_packus_epi32(_mm256_loadu_si256(in + 2), _mm256_loadu_si256(in + 3));
    const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(w01, w23), order);
    const __m256i pairs = _mm256_maddubs_epi16(bytes, pair_w);
    const __m256i quads = _mm256_madd_epi16(pairs, quad_w);
    const __m256i octets = _mm256_or_si256(_mm256_and_si256(quads, low32),
                                           _mm256_slli_epi64(_mm256_srli_epi64(quads, 32), 4 * B));
    const __m256i packed = _mm256_shuffle_epi8(octets, shuffle);
    uint8_t* out = staged + 4 * B * h;  // 32 codes = 4B bytes
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(packed));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * B), _mm256_extracti128_si256(packed, 1));
  }
  std::memcpy(dst, staged, 8 * B);  // exactly the group's bytes, as PackGroup
}
}  // namespace

PackFn GroupPackerAvx2(int bits) {
  static constexpr PackFn kTable[] = {nullptr,           &PackGroupAvx2<1>, &PackGroupAvx2<2>,
                                      &PackGroupAvx2<3>, &PackGroupAvx2<4>, &PackGroupAvx2<5>,
                                      &PackGroupAvx2<6>};
  return kTable[bits];
}

namespace {
[[gnu::target("avx2")]] uint64_t LaneSum(__m256i v) {
  alignas(32) uint32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), v);
  uint64_t s = 0;
  for (uint32_t x : lanes) s += x;
  return s;
}
// Adds the lane sums to s and clears them.
[[gnu::target("avx2")]] void FlushLanes(GapSums& s, __m256i& len, __m256i& var, __m256i& q0,
                                        __m256i& q1, __m256i& q2) {
  s.bit_length += LaneSum(len);
  s.varint_bytes += LaneSum(var);
  s.rice_q[0] += LaneSum(q0);
  s.rice_q[1] += LaneSum(q1);
  s.rice_q[2] += LaneSum(q2);
  len = var = q0 = q1 = q2 = _mm256_setzero_si256();
}
}  // namespace

// Eight gaps per step. The bit length comes from the exponent of the gap converted to float,
// exact below 2^24; a step with a larger gap goes through the scalar loop. The varint length
// of v = g - 1 < 2^24 is 1 + [v >= 2^7] + [v >= 2^14] + [v >= 2^21]. Lane sums are 32-bit and
// flushed every 2^20 steps (a lane's Rice quotients sum to at most n < 2^32 anyway).
[[gnu::target("avx2")]] GapSums SumGapsAvx2(const uint32_t* idx, size_t k, int b0) {
  GapSums s;
  s.add_range(idx, 0, 1, b0);  // the first gap, from -1
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i high = _mm256_set1_epi32(static_cast<int>(0xff000000u));
  const __m256i exp_bias = _mm256_set1_epi32(126);
  const __m256i v7 = _mm256_set1_epi32(127), v14 = _mm256_set1_epi32((1 << 14) - 1),
                v21 = _mm256_set1_epi32((1 << 21) - 1);
  const __m128i sh0 = _mm_cvtsi32_si128(b0), sh1 = _mm_cvtsi32_si128(b0 + 1),
                sh2 = _mm_cvtsi32_si128(b0 + 2);
  __m256i len = _mm256_setzero_si256(), var = len, q0 = len, q1 = len, q2 = len;
  size_t j = 1, steps = 0;
  for (; j + 8 <= k; j += 8) {
    const __m256i g =
        _mm256_sub_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(idx + j)),
                         _mm256_loadu_si256(reinterpret_cast<const __m256i*>(idx + j - 1)));
    if (!_mm256_testz_si256(g, high)) {  // a gap of 2^24 or more: this step in scalar
      s.add_range(idx, j, j + 8, b0);
      continue;
    }
    const __m256i v = _mm256_sub_epi32(g, one);
    const __m256i exponent = _mm256_srli_epi32(_mm256_castps_si256(_mm256_cvtepi32_ps(g)), 23);
    len = _mm256_add_epi32(len, _mm256_sub_epi32(exponent, exp_bias));
    // cmpgt gives -1 where true: 1 - (-1) per threshold passed.
    __m256i bytes = _mm256_sub_epi32(one, _mm256_cmpgt_epi32(v, v7));
    bytes = _mm256_sub_epi32(bytes, _mm256_cmpgt_epi32(v, v14));
    bytes = _mm256_sub_epi32(bytes, _mm256_cmpgt_epi32(v, v21));
    var = _mm256_add_epi32(var, bytes);
    q0 = _mm256_add_epi32(q0, _mm256_srl_epi32(v, sh0));
    q1 = _mm256_add_epi32(q1, _mm256_srl_epi32(v, sh1));
    q2 = _mm256_add_epi32(q2, _mm256_srl_epi32(v, sh2));
    if (++steps == (size_t{1} << 20)) {
      FlushLanes(s, len, var, q0, q1, q2);
      steps = 0;
    }
  }
  FlushLanes(s, len, var, q0, q1, q2);
  s.add_range(idx, j, k, b0);
  return s;
}

size_t FilterKeysAtLeastAvx2(const uint32_t* bits, size_t n, uint32_t t, uint32_t* out, size_t cap,
                             double share) {
  // Below ~0.5% hits most steps have none (P = 85% at 0.5%), and a branch that skips them is
  // well predicted. Four writes cover a step at up to ~3% hits (P(more than 4 of 32) < 1%),
  // eight up to ~12%.
  if (share <= 0.005) return FilterKeysAtLeastAvx2T<4, true>(bits, n, t, out, cap);
  if (share <= 0.03) return FilterKeysAtLeastAvx2T<4, false>(bits, n, t, out, cap);
  return FilterKeysAtLeastAvx2T<8, false>(bits, n, t, out, cap);
}
#endif

}  // namespace murmur::compress::kernels
