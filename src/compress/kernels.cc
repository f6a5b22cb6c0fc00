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

// AVX2: CPUID.7:EBX bit 5, with the AVX state, and POPCNT and FMA, which the AVX2 kernels
// also use.
bool HasAvx2() {
#if defined(__x86_64__)
  static const bool has = [] {
    unsigned a, b, c, d;
    // POPCNT: CPUID.1:ECX bit 23; FMA: bit 12. Every AVX2 CPU has both.
    const bool leaf1 = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 23)) && (c & (1u << 12));
    return leaf1 && (AvxLeaf7Ebx() & (1u << 5)) != 0;
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

// AVX-512 BW, VBMI and VBMI2 besides F and VL (CPUID.7:EBX bit 30, ECX bits 1 and 6): byte
// and word arithmetic, byte permutes and double shifts; only with HasAvx512Vl().
bool HasAvx512Vbmi() {
#if defined(__x86_64__)
  static const bool has = [] {
    unsigned a, b, c, d;
    return (AvxLeaf7Ebx() & (1u << 30)) && __get_cpuid_count(7, 0, &a, &b, &c, &d) &&
           (c & (1u << 1)) && (c & (1u << 6));
  }();
  return has && HasAvx512Vl();
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
// BlockedSum's SSE2 loop keeps 64 lanes in sixteen registers a0..a15 over x[i, i + 64); here
// b0 = (a0 | a1), ..., b7 = (a14 | a15), and the final sums are the same adds in the same order.
template <bool kSquare>
[[gnu::target("avx2")]] double BlockedSumAvx2(const float* x, size_t n) {
  double total = 0.0;
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (size_t b = 0; b < n; b += kSumBlock) {
    const size_t e = b + kSumBlock < n ? b + kSumBlock : n;
    size_t i = b;
    __m256 acc[8];
    for (__m256& v : acc) v = _mm256_setzero_ps();
    for (; i + 64 <= e; i += 64)
      for (int q = 0; q < 8; ++q) {
        __m256 v = _mm256_loadu_ps(x + i + 8 * q);
        v = kSquare ? _mm256_mul_ps(v, v) : _mm256_and_ps(v, abs_mask);
        acc[q] = _mm256_add_ps(acc[q], v);
      }
    __m128 pair[8];  // a0 + a1, ..., a14 + a15
    for (int q = 0; q < 8; ++q)
      pair[q] = _mm_add_ps(_mm256_castps256_ps128(acc[q]), _mm256_extractf128_ps(acc[q], 1));
    double block = SumLanePairs(pair);
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

namespace {
// The four xorshift128+ generators of UniformBlock in one 256-bit pair of state registers:
// 64-bit lane g is generator g, so the eight 32-bit words of a step come out in
// UniformBlock::step's order.
struct XorshiftAvx2 {
  __m256i s0, s1;
  [[gnu::target("avx2")]] explicit XorshiftAvx2(const uint64_t* state) {
    auto load2 = [state](int at) {
      return _mm_loadu_si128(reinterpret_cast<const __m128i*>(state + at));
    };
    s0 = _mm256_set_m128i(load2(4), load2(0));
    s1 = _mm256_set_m128i(load2(6), load2(2));
  }
  [[gnu::target("avx2")]] __m256i step() {
    __m256i a = s0;
    const __m256i b = s1;
    s0 = b;
    a = _mm256_xor_si256(a, _mm256_slli_epi64(a, 23));
    s1 = _mm256_xor_si256(_mm256_xor_si256(a, b),
                          _mm256_xor_si256(_mm256_srli_epi64(a, 17), _mm256_srli_epi64(b, 26)));
    return _mm256_add_epi64(s1, b);
  }
  // The same step with AVX-512 VL's three-way exclusive or: seven operations instead of
  // eight (s1 = a' ^ (a' >> 17) ^ b ^ (b >> 26) with a' = a ^ (a << 23)).
  [[gnu::target("avx2,avx512f,avx512vl")]] __m256i step_ternary() {
    __m256i a = s0;
    const __m256i b = s1;
    s0 = b;
    a = _mm256_xor_si256(a, _mm256_slli_epi64(a, 23));
    s1 = _mm256_xor_si256(_mm256_ternarylogic_epi64(a, _mm256_srli_epi64(a, 17), b, 0x96),
                          _mm256_srli_epi64(b, 26));
    return _mm256_add_epi64(s1, b);
  }
  [[gnu::target("avx2")]] void save(uint64_t* state) const {
    auto store2 = [state](int at, __m128i v) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(state + at), v);
    };
    store2(0, _mm256_castsi256_si128(s0));
    store2(4, _mm256_extracti128_si256(s0, 1));
    store2(2, _mm256_castsi256_si128(s1));
    store2(6, _mm256_extracti128_si256(s1, 1));
  }
};

// UniformBlock's two generator banks, stepped in turn (step t uses bank t % 2, `first` being
// the bank of the next step); save() writes both states back.
struct XorshiftBanksAvx2 {
  uint64_t* first;
  uint64_t* second;
  XorshiftAvx2 bank[2];
  [[gnu::target("avx2")]] XorshiftBanksAvx2(uint64_t* a, uint64_t* b)
      : first(a), second(b), bank{XorshiftAvx2(a), XorshiftAvx2(b)} {}
  [[gnu::target("avx2")]] void save() const {
    bank[0].save(first);
    bank[1].save(second);
  }
};

// QSGD's codes of 16 values from one generator step (QsgdScale, UniformBlock::qsgd_codes):
// with truncation, five operations per eight values — the fused multiply-add (with the
// load), the truncation, the random bits, their sum and the shift —; with the rounding in
// the addend, the truncation and the sum become an or into the addend and a subtraction. No
// sign handling, since the code is the rounded level offset by s; the callers clamp.
struct QsgdAvx2 {
  __m256 mul, add;
  __m256i low, max_code, addend, magic;
  __m128i shift, high_shift;
  [[gnu::target("avx2")]] explicit QsgdAvx2(const QsgdScale& q)
      : mul(_mm256_set1_ps(q.mul)),
        add(_mm256_set1_ps(q.add)),
        low(_mm256_set1_epi32(static_cast<int32_t>((uint32_t{1} << q.shift) - 1))),
        max_code(_mm256_set1_epi32(static_cast<int32_t>(q.max_code))),
        addend(_mm256_set1_epi32(static_cast<int32_t>(q.addend_bits))),
        magic(_mm256_set1_epi32(static_cast<int32_t>(kQsgdMagicBits))),
        shift(_mm_cvtsi32_si128(q.shift)),
        high_shift(_mm_cvtsi32_si128(32 - q.shift)) {}
  // The sum whose bits above `shift` are the code (before the clamp) for random bits r.
  template <bool kAddend>
  [[gnu::target("avx2,fma")]] __m256i code_sum(const float* x, __m256i r) const {
    if constexpr (kAddend) {
      const __m256 c = _mm256_castsi256_ps(_mm256_or_si256(r, addend));
      const __m256 f = _mm256_fmadd_ps(_mm256_loadu_ps(x), mul, c);
      return _mm256_sub_epi32(_mm256_castps_si256(f), magic);
    } else {
      const __m256i t = _mm256_cvttps_epi32(_mm256_fmadd_ps(_mm256_loadu_ps(x), mul, add));
      return _mm256_add_epi32(t, r);
    }
  }
  // Before the clamp to [0, max_code] (done by the caller, in 32 or 8 bits).
  template <bool kAddend>
  [[gnu::target("avx2,fma")]] void codes16(const float* x, __m256i r, __m256i* out) const {
    out[0] = _mm256_sra_epi32(code_sum<kAddend>(x, _mm256_and_si256(r, low)), shift);
    out[1] = _mm256_sra_epi32(code_sum<kAddend>(x + 8, _mm256_srl_epi32(r, high_shift)), shift);
  }
};

template <bool kAddend>
[[gnu::target("avx2,fma")]] void QsgdCodesLoopAvx2(const float* x, size_t count, const QsgdScale& q,
                                                   uint64_t* first, uint64_t* second,
                                                   uint32_t* codes) {
  XorshiftBanksAvx2 gen(first, second);
  const QsgdAvx2 quant(q);
  const __m256i zero = _mm256_setzero_si256();
  for (size_t i = 0; i < count; i += 16) {
    __m256i c[2];
    quant.codes16<kAddend>(x + i, gen.bank[i / 16 % 2].step(), c);
    for (int h = 0; h < 2; ++h)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(codes + i + 8 * h),
                          _mm256_min_epi32(_mm256_max_epi32(c[h], zero), quant.max_code));
  }
  gen.save();
}
}  // namespace

size_t QsgdCodesAvx2(const float* x, size_t count, const QsgdScale& q, uint64_t* first,
                     uint64_t* second, uint32_t* codes) {
  if (q.addend_bits != 0)
    QsgdCodesLoopAvx2<true>(x, count, q, first, second, codes);
  else
    QsgdCodesLoopAvx2<false>(x, count, q, first, second, codes);
  return count;
}

namespace {
// Appends the 2B-byte pieces P = 0..3 (zero above their 2B bytes) to the group's 8B bytes,
// kept in registers: piece P starts at byte 2BP, in 16-byte vector 2BP / 16, and spills into
// the next vector when it crosses a 16-byte boundary. All offsets are compile-time constants.
template <int B, int P>
[[gnu::target("avx2")]] inline void PlacePiece(__m128i piece, __m128i* vec) {
  constexpr int at = 2 * B * P, v = at / 16, shift = at % 16;
  if constexpr (shift == 0)
    vec[v] = _mm_or_si128(vec[v], piece);
  else
    vec[v] = _mm_or_si128(vec[v], _mm_bslli_si128(piece, shift));
  if constexpr (shift + 2 * B > 16) vec[v + 1] = _mm_bsrli_si128(piece, 16 - shift);
}

// 64 codes of B <= 6 bits: narrowed to bytes in order, then merged in registers — byte
// pairs by one multiply-add (c0 + c1 << B), pairs of pairs by another, then (odd B) the two
// halves of each 64-bit lane — so each 64-bit lane holds eight codes in its low 8B bits, B
// bytes, which a byte shuffle moves next to each other. The four 128-bit pieces are then joined in
// registers and stored once each: no store is read back (a staging buffer here, read with
// loads that straddle its stores, stalled on store forwarding and cost half the time).
// With kClamp the codes (int32 in [-2^15, 2^15)) are clamped to [0, max8] on the way: the
// saturating narrowing gives [0, 255], then one byte minimum.
// Sources of PackCodesAvx2's codes 8v..8v+7: loads straight into the narrowing (an array of
// loaded registers went through the stack in 128-bit halves and stalled on store
// forwarding), or the registers of the fused QSGD kernel.
struct LoadedCodes {
  const uint32_t* codes;
  [[gnu::target("avx2")]] __m256i operator()(int v) const {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + 8 * v));
  }
};
struct RegisterCodes {
  const __m256i* codes;
  [[gnu::target("avx2")]] __m256i operator()(int v) const { return codes[v]; }
};

template <int B, bool kClamp = false, typename Codes>
[[gnu::target("avx2")]] inline void PackCodesAvx2(const Codes& codes, uint8_t* __restrict dst,
                                                  __m256i max8) {
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  const __m256i pair_w = _mm256_set1_epi16(static_cast<int16_t>(1 | (1 << (8 + B))));
  const __m256i quad_w = _mm256_set1_epi32(1 | (1 << (16 + 2 * B)));
  const __m256i low32 = _mm256_set1_epi64x(0xffffffff);
  // Odd B: bytes 0..B-1 of each 64-bit lane, both lanes of a 128-bit half side by side.
  // Even B: the four codes of a 32-bit lane already fill B/2 whole bytes, so the shuffle
  // takes those and the 64-bit merge is skipped. Zeros above the 2B bytes.
  constexpr bool kEven = B % 2 == 0;
  alignas(16) int8_t pick[16];
  for (int j = 0; j < 16; ++j)
    pick[j] = j >= 2 * B ? -1
              : kEven    ? static_cast<int8_t>(4 * (j / (B / 2)) + j % (B / 2))
              : j < B    ? j
                         : 8 + j - B;
  const __m128i pick128 = _mm_load_si128(reinterpret_cast<const __m128i*>(pick));
  const __m256i shuffle = _mm256_broadcastsi128_si256(pick128);
  __m128i piece[4];
  for (int h = 0; h < 2; ++h) {
    const __m256i w01 = _mm256_packus_epi32(codes(4 * h), codes(4 * h + 1));
    const __m256i w23 = _mm256_packus_epi32(codes(4 * h + 2), codes(4 * h + 3));
    __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(w01, w23), order);
    if constexpr (kClamp) bytes = _mm256_min_epu8(bytes, max8);
    const __m256i pairs = _mm256_maddubs_epi16(bytes, pair_w);
    const __m256i quads = _mm256_madd_epi16(pairs, quad_w);
    __m256i octets = quads;
    if constexpr (!kEven)
      octets = _mm256_or_si256(_mm256_and_si256(quads, low32),
                               _mm256_slli_epi64(_mm256_srli_epi64(quads, 32), 4 * B));
    const __m256i packed = _mm256_shuffle_epi8(octets, shuffle);
    piece[2 * h] = _mm256_castsi256_si128(packed);
    piece[2 * h + 1] = _mm256_extracti128_si256(packed, 1);
  }
  constexpr int kVecs = (8 * B + 15) / 16;
  __m128i vec[kVecs + 1];
  for (__m128i& v : vec) v = _mm_setzero_si128();
  PlacePiece<B, 0>(piece[0], vec);
  PlacePiece<B, 1>(piece[1], vec);
  PlacePiece<B, 2>(piece[2], vec);
  PlacePiece<B, 3>(piece[3], vec);
  // Exactly the group's 8B bytes, as PackGroup: whole vectors, then 8 bytes when B is odd.
  for (int v = 0; v < 8 * B / 16; ++v)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 16 * v), vec[v]);
  if constexpr (8 * B % 16 != 0)
    _mm_storel_epi64(reinterpret_cast<__m128i*>(dst + 8 * B - 8), vec[kVecs - 1]);
}

template <int B>
[[gnu::target("avx2")]] void PackGroupAvx2(const uint32_t* __restrict codes,
                                           uint8_t* __restrict dst) {
  PackCodesAvx2<B>(LoadedCodes{codes}, dst, _mm256_setzero_si256());
}

// QsgdPackAvx2 for B bits: four generator steps give a group's 64 codes in registers.
template <int B>
[[gnu::target("avx2,fma")]] void QsgdPackGroupsAvx2(const float* x, size_t groups,
                                                    const QsgdScale& q, uint64_t* first,
                                                    uint64_t* second, uint8_t* dst) {
  XorshiftBanksAvx2 gen(first, second);
  const QsgdAvx2 quant(q);  // rounding in the addend, shift 16: codes in [-2^15, 2^15)
  const __m256i max8 = _mm256_set1_epi8(static_cast<char>(q.max_code));
  for (size_t g = 0; g < groups; ++g, x += 64, dst += 8 * B) {
    __m256i c[8];
    for (int t = 0; t < 4; ++t) quant.codes16<true>(x + 16 * t, gen.bank[t % 2].step(), c + 2 * t);
    PackCodesAvx2<B, true>(RegisterCodes{c}, dst, max8);
  }
  gen.save();
}
}  // namespace

namespace {
// The output byte order of QsgdPackGroupsAvx512: byte j of a group's 8B comes from byte
// source[j] of the merged vector, where qword Q (of eight) holds codes 8 o(Q) .. 8 o(Q) + 7,
// o(Q) = 4 (Q / 4) + {0, 2, 1, 3}[Q % 4] (the word permute and the in-lane byte narrowing
// below), merged into its low 8B bits (odd B) or into B/2 bytes at the bottom of each of its
// two dwords (even B: four codes fill B/2 whole bytes, so no 64-bit merge is needed).
template <int B>
struct Avx512PackOrder {
  alignas(64) uint8_t source[64] = {};
  constexpr Avx512PackOrder() {
    constexpr int kOrder[4] = {0, 2, 1, 3};  // its own inverse
    for (int j = 0; j < 8 * B; ++j) {
      const int o = j / B, i = j % B;
      const int q = 4 * (o / 4) + kOrder[o % 4];
      source[j] = static_cast<uint8_t>(B % 2 != 0  ? 8 * q + i
                                       : i < B / 2 ? 8 * q + i
                                                   : 8 * q + 4 + i - B / 2);
    }
  }
};

// QsgdPackAvx2's work with AVX-512 (VL, BW, VBMI, VBMI2): the generator's three-way
// exclusive or; the random bits or-ed into the addend by one ternary-logic (low halves) or
// one double shift (high halves); each 16 codes' high 16-bit halves picked from two vectors
// by one word permute and the magic's high half subtracted there (the codes before the
// clamp, as the AVX2 kernel's arithmetic shift and saturating narrowing give them); the
// group's 64 codes merged in one 512-bit vector and put in order with one byte permute and
// one masked store. About 64 operations per 64 codes against about 100 in the AVX2 kernel,
// and far fewer shifts and shuffles, which share two of the four vector pipes on AMD Zen 4.
// GCC 12's 512-bit intrinsics start from a self-initialised "undefined" vector, which
// -Wmaybe-uninitialized reports (GCC bug 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
template <int B>
[[gnu::target("avx2,fma,avx512f,avx512vl,avx512bw,avx512vbmi,avx512vbmi2")]] void
QsgdPackGroupsAvx512(const float* x, size_t groups, const QsgdScale& q, uint64_t* first,
                     uint64_t* second, uint8_t* dst) {
  static constexpr Avx512PackOrder<B> kOrder;
  XorshiftBanksAvx2 gen(first, second);
  const __m256 mul = _mm256_set1_ps(q.mul);
  const __m256i low = _mm256_set1_epi32(0xffff);
  const __m256i addend = _mm256_set1_epi32(static_cast<int32_t>(q.addend_bits));
  const __m256i addend_high = _mm256_set1_epi32(static_cast<int32_t>(q.addend_bits >> 16));
  const __m256i magic_high = _mm256_set1_epi16(static_cast<int16_t>(kQsgdMagicBits >> 16));
  // Word i of the permute: the high half of dword i of the first source (i < 8) or of dword
  // i - 8 of the second: codes 16t .. 16t + 15 in order.
  const __m256i high_words =
      _mm256_setr_epi16(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512i max8 = _mm512_set1_epi8(static_cast<char>(q.max_code));
  const __m512i pair_w = _mm512_set1_epi16(static_cast<int16_t>(1 | (1 << (8 + B))));
  const __m512i quad_w = _mm512_set1_epi32(1 | (1 << (16 + 2 * B)));
  const __m512i low_octet = _mm512_set1_epi64(static_cast<int64_t>((uint64_t{1} << (4 * B)) - 1));
  const __m512i order = _mm512_load_si512(kOrder.source);
  const __mmask64 keep = (uint64_t{1} << (8 * B)) - 1;
  for (size_t g = 0; g < groups; ++g, x += 64, dst += 8 * B) {
    __m256i w[4];
    for (int t = 0; t < 4; ++t) {
      const __m256i r = gen.bank[t % 2].step_ternary();
      // (r & 0xffff) | addend and (r >> 16) | addend (addend's low 16 bits are 0).
      const __m256i c_lo = _mm256_ternarylogic_epi32(r, low, addend, 0xEA);
      const __m256i c_hi = _mm256_shrdi_epi32(r, addend_high, 16);
      const __m256 lo =
          _mm256_fmadd_ps(_mm256_loadu_ps(x + 16 * t), mul, _mm256_castsi256_ps(c_lo));
      const __m256 hi =
          _mm256_fmadd_ps(_mm256_loadu_ps(x + 16 * t + 8), mul, _mm256_castsi256_ps(c_hi));
      w[t] = _mm256_sub_epi16(
          _mm256_permutex2var_epi16(_mm256_castps_si256(lo), high_words, _mm256_castps_si256(hi)),
          magic_high);
    }
    // Signed words to bytes with saturation: codes below 0 (and NaN's) become 0. Qword Q of
    // 128-bit lane L of half h holds codes 32h + 16(Q % 2) + 8L .. + 7.
    const __m512i bytes =
        _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_packus_epi16(w[0], w[1])),
                           _mm256_packus_epi16(w[2], w[3]), 1);
    const __m512i pairs = _mm512_maddubs_epi16(_mm512_min_epu8(bytes, max8), pair_w);
    __m512i merged = _mm512_madd_epi16(pairs, quad_w);
    if constexpr (B % 2 != 0)  // the high dword's 4B bits above the low dword's: (a & m) | (c & ~m)
      merged =
          _mm512_ternarylogic_epi64(merged, low_octet, _mm512_srli_epi64(merged, 32 - 4 * B), 0xE2);
    _mm512_mask_storeu_epi8(dst, keep, _mm512_permutexvar_epi8(order, merged));
  }
  gen.save();
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
}  // namespace

void QsgdPackAvx2(const float* x, size_t groups, const QsgdScale& q, int bits, uint64_t* first,
                  uint64_t* second, uint8_t* dst) {
  using Fn = void (*)(const float*, size_t, const QsgdScale&, uint64_t*, uint64_t*, uint8_t*);
  if (HasAvx512Vbmi()) {
    static constexpr Fn kTable512[] = {nullptr,
                                       &QsgdPackGroupsAvx512<1>,
                                       &QsgdPackGroupsAvx512<2>,
                                       &QsgdPackGroupsAvx512<3>,
                                       &QsgdPackGroupsAvx512<4>,
                                       &QsgdPackGroupsAvx512<5>,
                                       &QsgdPackGroupsAvx512<6>};
    return kTable512[bits](x, groups, q, first, second, dst);
  }
  static constexpr Fn kTable[] = {nullptr,
                                  &QsgdPackGroupsAvx2<1>,
                                  &QsgdPackGroupsAvx2<2>,
                                  &QsgdPackGroupsAvx2<3>,
                                  &QsgdPackGroupsAvx2<4>,
                                  &QsgdPackGroupsAvx2<5>,
                                  &QsgdPackGroupsAvx2<6>};
  kTable[bits](x, groups, q, first, second, dst);
}

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
