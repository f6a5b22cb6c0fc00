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
}  // namespace

void SetAvx2ForTesting(bool enabled) { avx2_allowed = enabled; }

#if defined(__x86_64__)
namespace {
// AVX in the CPU (CPUID.1:ECX bit 28), OSXSAVE (bit 27) and the AVX state enabled by the OS
// (XCR0 bits 1-2): what every 256-bit kernel needs before its own feature bit.
bool HasAvxState(unsigned ecx1) {
  if (!(ecx1 & (1u << 27)) || !(ecx1 & (1u << 28))) return false;
  uint32_t lo, hi;
  __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (lo & 6u) == 6u;
}
}  // namespace
#endif

// AVX2: CPUID.7:EBX bit 5, with the AVX state.
bool HasAvx2() {
#if defined(__x86_64__)
  static const bool has = [] {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !HasAvxState(c)) return false;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    return (b & (1u << 5)) != 0;
  }();
  return has && avx2_allowed.load(std::memory_order_relaxed);
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
#endif

}  // namespace murmur::compress::kernels
