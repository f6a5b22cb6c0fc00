// Discrete wavelet transform, PyWavelets' conventions (mode 'symmetric'):
//   forward:  a[o] = sum_j lo[j] * ext(x, 2o + 1 - j),  o < floor((N + F - 1) / 2)
//             ext reflects half-sample symmetrically: x[-1] = x[0], x[N] = x[N-1], ...
//   inverse:  x[i] = sum_j rlo[j] * up(a)[i + F - 2 - j] + rhi[j] * up(d)[i + F - 2 - j]
//             with up() inserting zeros after every value; output length 2L - F + 2.
// Multilevel: each inverse level is cut to the length its forward level consumed, so the
// approximation entering the next level always matches its detail block (pywt's waverec
// trims the same value away). Both directions compute their interior on the polyphase
// components (see the kernels below): 4-tap banks (sym2 = db2, JWINS' default) in lifting
// form, the others as convolutions; the few boundary outputs use the reflection directly.
#include "murmur/compress/wavelet.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels.h"
#include "murmur/core/check.h"

namespace murmur::compress {
namespace {

struct Bank {
  std::vector<double> lo, hi;  // decomposition filters; reconstruction = reversed
};

const std::map<std::string, Bank>& Banks() {
  static const std::map<std::string, Bank> banks = [] {
    std::map<std::string, Bank> m;
    const double h = 0.7071067811865476;
    m["haar"] = {{h, h}, {-h, h}};
    m["db1"] = m["haar"];
    m["db2"] = {
        {-0.12940952255126037, 0.2241438680420134, 0.8365163037378079, 0.48296291314453416},
        {-0.48296291314453416, 0.8365163037378079, -0.2241438680420134, -0.12940952255126037}};
    m["sym2"] = {
        {-0.12940952255092145, 0.22414386804185735, 0.836516303737469, 0.48296291314469025},
        {-0.48296291314469025, 0.836516303737469, -0.22414386804185735, -0.12940952255092145}};
    m["db4"] = {
        {-0.010597401785069032, 0.0328830116668852, 0.030841381835560764, -0.18703481171909309,
         -0.027983769416859854, 0.6308807679298589, 0.7148465705529157, 0.2303778133088965},
        {-0.2303778133088965, 0.7148465705529157, -0.6308807679298589, -0.027983769416859854,
         0.18703481171909309, 0.030841381835560764, -0.0328830116668852, -0.010597401785069032}};
    m["sym4"] = {
        {-0.07576571478927333, -0.02963552764599851, 0.49761866763201545, 0.8037387518059161,
         0.29785779560527736, -0.09921954357684722, -0.012603967262037833, 0.0322231006040427},
        {-0.0322231006040427, -0.012603967262037833, 0.09921954357684722, 0.29785779560527736,
         -0.8037387518059161, 0.49761866763201545, 0.02963552764599851, -0.07576571478927333}};
    return m;
  }();
  return banks;
}

// Half-sample symmetric extension, repeated for signals shorter than the filter.
inline size_t Reflect(int64_t m, int64_t n) {
  m %= 2 * n;
  if (m < 0) m += 2 * n;
  return static_cast<size_t>(m < n ? m : 2 * n - 1 - m);
}

// Interior kernels on the polyphase components: with E[k] = x[2k] and O[k] = x[2k + 1],
// output o of the forward is sum_q lo[2q] * O[o - q] + lo[2q + 1] * E[o - q], contiguous in
// o, so the loops vectorise. Each has a baseline version (x86-64's SSE2 or plain C++) and an
// AVX2 one chosen at run time; the AVX2 ones form the same products and add them in the same
// order without FMA, so both give the same bits (tested).
constexpr int64_t kChunk = 1024;

// E[k] = x[2k], O[k] = x[2k + 1] for k < len.
void Deinterleave(const float* __restrict x, int64_t len, float* __restrict E,
                  float* __restrict O) {
  int64_t k = 0;
#if defined(__SSE2__)
  for (; k + 4 <= len; k += 4) {
    const __m128 lo = _mm_loadu_ps(x + 2 * k), hi = _mm_loadu_ps(x + 2 * k + 4);
    _mm_storeu_ps(E + k, _mm_shuffle_ps(lo, hi, 0x88));
    _mm_storeu_ps(O + k, _mm_shuffle_ps(lo, hi, 0xdd));
  }
#endif
  for (; k < len; ++k) {
    E[k] = x[2 * k];
    O[k] = x[2 * k + 1];
  }
}

// Forward outputs [o0, o0 + cnt), all interior (taps inside the signal).
template <int F>
void ForwardChunk(const float* __restrict x, const float* __restrict lo_in,
                  const float* __restrict hi_in, float* __restrict a, float* __restrict d,
                  int64_t o0, int64_t cnt) {
  constexpr int64_t M = F / 2;
  float lo[F], hi[F];
  for (int j = 0; j < F; ++j) lo[j] = lo_in[j], hi[j] = hi_in[j];
  alignas(64) float E[kChunk + M], O[kChunk + M];
  Deinterleave(x + 2 * (o0 - (M - 1)), cnt + M - 1, E, O);
  for (int64_t i = 0; i < cnt; ++i) {
    float sa = lo[0] * O[i + M - 1], sd = hi[0] * O[i + M - 1];
    sa += lo[1] * E[i + M - 1];
    sd += hi[1] * E[i + M - 1];
    for (int64_t q = 1; q < M; ++q) {
      sa += lo[2 * q] * O[i + M - 1 - q];
      sd += hi[2 * q] * O[i + M - 1 - q];
      sa += lo[2 * q + 1] * E[i + M - 1 - q];
      sd += hi[2 * q + 1] * E[i + M - 1 - q];
    }
    a[o0 + i] = sa;
    d[o0 + i] = sd;
  }
}

// Inverse output pairs (2t, 2t + 1) for t in [t0, t0 + cnt), all interior; H = F / 2 - 1.
template <int F>
void InverseChunk(const float* __restrict a, const float* __restrict d,
                  const float* __restrict rlo_in, const float* __restrict rhi_in,
                  float* __restrict out, int64_t t0, int64_t cnt) {
  constexpr int64_t H = F / 2 - 1;
  float rlo[F], rhi[F];
  for (int j = 0; j < F; ++j) rlo[j] = rlo_in[j], rhi[j] = rhi_in[j];
  const float* __restrict ap = a + t0 + H;
  const float* __restrict dp = d + t0 + H;
  float* __restrict out2 = out + 2 * t0;
  for (int64_t j = 0; j < cnt; ++j) {
    float e = rlo[0] * ap[j] + rhi[0] * dp[j];
    float o = rlo[1] * ap[j] + rhi[1] * dp[j];
    for (int64_t q = 1; q <= H; ++q) {
      e += rlo[2 * q] * ap[j - q] + rhi[2 * q] * dp[j - q];
      o += rlo[2 * q + 1] * ap[j - q] + rhi[2 * q + 1] * dp[j - q];
    }
    out2[2 * j] = e;
    out2[2 * j + 1] = o;
  }
}

using ForwardChunkFn = void (*)(const float*, const float*, const float*, float*, float*, int64_t,
                                int64_t);
using InverseChunkFn = void (*)(const float*, const float*, const float*, const float*, float*,
                                int64_t, int64_t);

#if defined(__x86_64__)
// Splits 16 floats into their 8 even and 8 odd ones, each in the lane order
// [0 1 4 5 2 3 6 7] that shuffle_ps leaves (it works within 128-bit halves). Every split
// of a block of 16 gets the same order, so lane-wise arithmetic on them is unaffected and
// one permute per result puts it back in order.
[[gnu::target("avx2"), gnu::always_inline]] inline void Split16(const float* x, __m256& e,
                                                                __m256& o) {
  const __m256 lo = _mm256_loadu_ps(x), hi = _mm256_loadu_ps(x + 8);
  e = _mm256_shuffle_ps(lo, hi, 0x88);
  o = _mm256_shuffle_ps(lo, hi, 0xdd);
}
[[gnu::target("avx2"), gnu::always_inline]] inline __m256 Unscramble(__m256 v) {
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), 0xd8));
}
// The forward body above with the polyphase split kept in registers: 8 outputs per step,
// the same products summed in the same order.
template <int F>
[[gnu::target("avx2")]] void ForwardChunkAvx2(const float* x, const float* lo, const float* hi,
                                              float* a, float* d, int64_t o0, int64_t cnt) {
  constexpr int64_t M = F / 2;
  __m256 vl[F], vh[F];
  for (int j = 0; j < F; ++j) vl[j] = _mm256_set1_ps(lo[j]), vh[j] = _mm256_set1_ps(hi[j]);
  int64_t i = 0;
  for (; i + 8 <= cnt; i += 8) {
    const float* p = x + 2 * (o0 + i);
    __m256 e, o;
    Split16(p, e, o);
    __m256 sa = _mm256_add_ps(_mm256_mul_ps(vl[0], o), _mm256_mul_ps(vl[1], e));
    __m256 sd = _mm256_add_ps(_mm256_mul_ps(vh[0], o), _mm256_mul_ps(vh[1], e));
    for (int64_t q = 1; q < M; ++q) {
      Split16(p - 2 * q, e, o);
      sa = _mm256_add_ps(_mm256_add_ps(sa, _mm256_mul_ps(vl[2 * q], o)),
                         _mm256_mul_ps(vl[2 * q + 1], e));
      sd = _mm256_add_ps(_mm256_add_ps(sd, _mm256_mul_ps(vh[2 * q], o)),
                         _mm256_mul_ps(vh[2 * q + 1], e));
    }
    _mm256_storeu_ps(a + o0 + i, Unscramble(sa));
    _mm256_storeu_ps(d + o0 + i, Unscramble(sd));
  }
  if (i < cnt) ForwardChunk<F>(x, lo, hi, a, d, o0 + i, cnt - i);
}
template <int F>
[[gnu::target("avx2")]] void InverseChunkAvx2(const float* a, const float* d, const float* rlo,
                                              const float* rhi, float* out, int64_t t0,
                                              int64_t cnt) {
  constexpr int64_t H = F / 2 - 1;
  __m256 vl[F], vh[F];
  for (int j = 0; j < F; ++j) vl[j] = _mm256_set1_ps(rlo[j]), vh[j] = _mm256_set1_ps(rhi[j]);
  const float* ap = a + t0 + H;
  const float* dp = d + t0 + H;
  float* o2 = out + 2 * t0;
  int64_t j = 0;
  for (; j + 8 <= cnt; j += 8) {
    __m256 av = _mm256_loadu_ps(ap + j), dv = _mm256_loadu_ps(dp + j);
    __m256 e = _mm256_add_ps(_mm256_mul_ps(vl[0], av), _mm256_mul_ps(vh[0], dv));
    __m256 o = _mm256_add_ps(_mm256_mul_ps(vl[1], av), _mm256_mul_ps(vh[1], dv));
    for (int64_t q = 1; q <= H; ++q) {
      av = _mm256_loadu_ps(ap + j - q), dv = _mm256_loadu_ps(dp + j - q);
      e = _mm256_add_ps(e,
                        _mm256_add_ps(_mm256_mul_ps(vl[2 * q], av), _mm256_mul_ps(vh[2 * q], dv)));
      o = _mm256_add_ps(
          o, _mm256_add_ps(_mm256_mul_ps(vl[2 * q + 1], av), _mm256_mul_ps(vh[2 * q + 1], dv)));
    }
    const __m256 lo = _mm256_unpacklo_ps(e, o), hi = _mm256_unpackhi_ps(e, o);
    _mm256_storeu_ps(o2 + 2 * j, _mm256_permute2f128_ps(lo, hi, 0x20));
    _mm256_storeu_ps(o2 + 2 * j + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
  }
  if (j < cnt) InverseChunk<F>(a, d, rlo, rhi, out, t0 + j, cnt - j);
}
#endif

// Lifting form of a 4-tap orthogonal filter pair (sym2 = db2), for the interior only: with
// u[k] = O[k] + c0 E[k],
//   a[o] = c1 E[o] + c2 u[o] + c3 u[o - 1]        d[o] = c4 u[o - 1] + c5 a[o]
// and back, with u[k] = c6 d[k + 1] + c7 a[k + 1],
//   E[t] = c8 a[t] + c9 u[t] + c10 u[t - 1]       O[t] = u[t] + c11 E[t]
// (Daubechies & Sweldens' factorisation with the scaling folded into the last steps). The
// outputs are the same linear functions of the same taps as the convolution (the lifting
// steps multiply out to the filters, up to the ~1e-12 to which PyWavelets' constants are
// consistent), from 6 multiplies and 4 adds per output pair instead of 8 and 6.
// LiftingFor() derives c from the filters and says whether they factor this way.
using LiftCoefficients = std::array<float, 12>;

std::optional<LiftCoefficients> LiftingFor(const std::vector<double>& lo,
                                           const std::vector<double>& hi) {
  if (lo.size() != 4 || hi.size() != 4 || lo[2] == 0.0 || hi[2] == 0.0) return std::nullopt;
  const double alpha = lo[3] / lo[2], k1 = lo[1] - alpha * lo[0];
  if (k1 == 0.0) return std::nullopt;
  const double beta = lo[0] / k1, gamma = lo[2] / k1, r = hi[0] / hi[2];
  if (beta - r * gamma == 0.0) return std::nullopt;
  const double delta = r / (beta - r * gamma);
  if (1.0 + delta * gamma == 0.0) return std::nullopt;
  const double k2 = hi[2] / (1.0 + delta * gamma);
  // The two filter taps the construction did not use must come out right.
  if (std::abs(k2 * delta * (1.0 + alpha * beta) - hi[1]) > 1e-9 ||
      std::abs(k2 * alpha * (1.0 + delta * gamma) - hi[3]) > 1e-9)
    return std::nullopt;
  const double c[12] = {alpha,  k1,          k1 * beta, k1 * gamma, k2,     k2 * delta / k1,
                        1 / k2, -delta / k1, 1 / k1,    -beta,      -gamma, -alpha};
  LiftCoefficients out;
  for (int j = 0; j < 12; ++j) out[j] = static_cast<float>(c[j]);
  return out;
}

// Forward outputs [o0, o0 + cnt), all interior (o0 >= 1). E and U hold the polyphase
// components from index o0 - 1 on; U becomes u in place.
void ForwardLiftRows(const float* __restrict E, float* __restrict U, const float* __restrict c,
                     float* __restrict a, float* __restrict d, int64_t begin, int64_t cnt) {
  for (int64_t i = begin; i < cnt; ++i) {
    float s = c[1] * E[i + 1] + c[2] * U[i + 1];
    s += c[3] * U[i];
    a[i] = s;
    d[i] = c[4] * U[i] + c[5] * s;
  }
}
void ForwardLiftChunk(const float* __restrict x, const float* __restrict c, const float*,
                      float* __restrict a, float* __restrict d, int64_t o0, int64_t cnt) {
  alignas(64) float E[kChunk + 1], U[kChunk + 1];
  Deinterleave(x + 2 * (o0 - 1), cnt + 1, E, U);
  for (int64_t i = 0; i <= cnt; ++i) U[i] = U[i] + c[0] * E[i];
  ForwardLiftRows(E, U, c, a + o0, d + o0, 0, cnt);
}

// Inverse output pairs (2t, 2t + 1) for t in [t0, t0 + cnt), all interior.
void InverseLiftRows(const float* __restrict a, const float* __restrict U,
                     const float* __restrict c, float* __restrict out2, int64_t begin,
                     int64_t cnt) {
  for (int64_t j = begin; j < cnt; ++j) {
    float e = c[8] * a[j] + c[9] * U[j + 1];
    e += c[10] * U[j];
    out2[2 * j] = e;
    out2[2 * j + 1] = U[j + 1] + c[11] * e;
  }
}
void InverseLiftChunk(const float* __restrict a, const float* __restrict d,
                      const float* __restrict c, const float*, float* __restrict out, int64_t t0,
                      int64_t cnt) {
  alignas(64) float U[kChunk + 1];  // U[i] = u[t0 + i - 1]
  for (int64_t i = 0; i <= cnt; ++i) U[i] = c[6] * d[t0 + i] + c[7] * a[t0 + i];
  InverseLiftRows(a + t0, U, c, out + 2 * t0, 0, cnt);
}

#if defined(__x86_64__)
// The arithmetic of ForwardLiftRows and InverseLiftRows on 8 lanes (u = u[o], u0 = u[o - 1]).
[[gnu::target("avx2"), gnu::always_inline]] inline void ForwardLiftStore(__m256 e, __m256 u,
                                                                         __m256 u0, __m256 c1,
                                                                         __m256 c2, __m256 c3,
                                                                         __m256 c4, __m256 c5,
                                                                         float* a, float* d) {
  __m256 s = _mm256_add_ps(_mm256_mul_ps(c1, e), _mm256_mul_ps(c2, u));
  s = _mm256_add_ps(s, _mm256_mul_ps(c3, u0));
  _mm256_storeu_ps(a, s);
  _mm256_storeu_ps(d, _mm256_add_ps(_mm256_mul_ps(c4, u0), _mm256_mul_ps(c5, s)));
}
[[gnu::target("avx2"), gnu::always_inline]] inline void InverseLiftPair(__m256 a, __m256 u1,
                                                                        __m256 u0, __m256 c8,
                                                                        __m256 c9, __m256 c10,
                                                                        __m256 c11, __m256& e,
                                                                        __m256& o) {
  e = _mm256_add_ps(_mm256_mul_ps(c8, a), _mm256_mul_ps(c9, u1));
  e = _mm256_add_ps(e, _mm256_mul_ps(c10, u0));
  o = _mm256_add_ps(u1, _mm256_mul_ps(c11, e));
}

// The two lifting chunks above with the polyphase split and the interleave in registers;
// the same operations in the same order per value.
[[gnu::target("avx2")]] void ForwardLiftChunkAvx2(const float* x, const float* c, const float*,
                                                  float* a, float* d, int64_t o0, int64_t cnt) {
  const float* p = x + 2 * o0;
  a += o0;
  d += o0;
  const __m256 c0 = _mm256_set1_ps(c[0]), c1 = _mm256_set1_ps(c[1]), c2 = _mm256_set1_ps(c[2]),
               c3 = _mm256_set1_ps(c[3]), c4 = _mm256_set1_ps(c[4]), c5 = _mm256_set1_ps(c[5]);
  // prev holds u[i - 8 .. i - 1]; only its last lane is used.
  __m256 prev = _mm256_set1_ps(p[-1] + c[0] * p[-2]);
  int64_t i = 0;
  for (; i + 8 <= cnt; i += 8) {
    __m256 e, o;
    Split16(p + 2 * i, e, o);
    const __m256 u = Unscramble(_mm256_add_ps(o, _mm256_mul_ps(c0, e)));
    e = Unscramble(e);
    // u0 = u[i - 1 .. i + 6]
    const __m256 t = _mm256_permute2f128_ps(prev, u, 0x21);
    const __m256 u0 =
        _mm256_castsi256_ps(_mm256_alignr_epi8(_mm256_castps_si256(u), _mm256_castps_si256(t), 12));
    ForwardLiftStore(e, u, u0, c1, c2, c3, c4, c5, a + i, d + i);
    prev = u;
  }
  if (i < cnt) ForwardLiftChunk(x, c, nullptr, a - o0, d - o0, o0 + i, cnt - i);
}
[[gnu::target("avx2")]] void InverseLiftChunkAvx2(const float* a, const float* d, const float* c,
                                                  const float*, float* out, int64_t t0,
                                                  int64_t cnt) {
  const float* ap = a + t0;
  const float* dp = d + t0;
  float* o2 = out + 2 * t0;
  const __m256 c6 = _mm256_set1_ps(c[6]), c7 = _mm256_set1_ps(c[7]), c8 = _mm256_set1_ps(c[8]),
               c9 = _mm256_set1_ps(c[9]), c10 = _mm256_set1_ps(c[10]), c11 = _mm256_set1_ps(c[11]);
  // prev holds u[t - 9 .. t - 2] (u[t - 1] in its last lane) for the block starting at t.
  __m256 prev = _mm256_set1_ps(c[6] * dp[0] + c[7] * ap[0]);
  int64_t j = 0;
  for (; j + 8 <= cnt; j += 8) {
    const __m256 u1 = _mm256_add_ps(_mm256_mul_ps(c6, _mm256_loadu_ps(dp + j + 1)),
                                    _mm256_mul_ps(c7, _mm256_loadu_ps(ap + j + 1)));
    const __m256 t = _mm256_permute2f128_ps(prev, u1, 0x21);
    const __m256 u0 = _mm256_castsi256_ps(
        _mm256_alignr_epi8(_mm256_castps_si256(u1), _mm256_castps_si256(t), 12));
    __m256 e, o;
    InverseLiftPair(_mm256_loadu_ps(ap + j), u1, u0, c8, c9, c10, c11, e, o);
    const __m256 lo = _mm256_unpacklo_ps(e, o), hi = _mm256_unpackhi_ps(e, o);
    _mm256_storeu_ps(o2 + 2 * j, _mm256_permute2f128_ps(lo, hi, 0x20));
    _mm256_storeu_ps(o2 + 2 * j + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
    prev = u1;
  }
  if (j < cnt) InverseLiftChunk(a, d, c, nullptr, out, t0 + j, cnt - j);
}

// With AVX-512 VL the split, the interleave and the one-value shift are one two-source
// permute each (AVX2 needs two shuffles or a shuffle and a lane permute): 3 instead of 6
// permute instructions per 8 outputs, the same arithmetic.
[[gnu::target("avx2,avx512f,avx512vl")]] void ForwardLiftChunkAvx512(const float* x, const float* c,
                                                                     const float*, float* a,
                                                                     float* d, int64_t o0,
                                                                     int64_t cnt) {
  const float* p = x + 2 * o0;
  a += o0;
  d += o0;
  const __m256 c0 = _mm256_set1_ps(c[0]), c1 = _mm256_set1_ps(c[1]), c2 = _mm256_set1_ps(c[2]),
               c3 = _mm256_set1_ps(c[3]), c4 = _mm256_set1_ps(c[4]), c5 = _mm256_set1_ps(c[5]);
  const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
  const __m256i odd = _mm256_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15);
  __m256i prev = _mm256_castps_si256(_mm256_set1_ps(p[-1] + c[0] * p[-2]));
  int64_t i = 0;
  for (; i + 8 <= cnt; i += 8) {
    const __m256 lo = _mm256_loadu_ps(p + 2 * i), hi = _mm256_loadu_ps(p + 2 * i + 8);
    const __m256 e = _mm256_permutex2var_ps(lo, even, hi);
    const __m256 u = _mm256_add_ps(_mm256_permutex2var_ps(lo, odd, hi), _mm256_mul_ps(c0, e));
    const __m256i ui = _mm256_castps_si256(u);
    const __m256 u0 = _mm256_castsi256_ps(_mm256_alignr_epi32(ui, prev, 7));  // u[i-1 .. i+6]
    ForwardLiftStore(e, u, u0, c1, c2, c3, c4, c5, a + i, d + i);
    prev = ui;
  }
  if (i < cnt) ForwardLiftChunk(x, c, nullptr, a - o0, d - o0, o0 + i, cnt - i);
}
[[gnu::target("avx2,avx512f,avx512vl")]] void InverseLiftChunkAvx512(const float* a, const float* d,
                                                                     const float* c, const float*,
                                                                     float* out, int64_t t0,
                                                                     int64_t cnt) {
  const float* ap = a + t0;
  const float* dp = d + t0;
  float* o2 = out + 2 * t0;
  const __m256 c6 = _mm256_set1_ps(c[6]), c7 = _mm256_set1_ps(c[7]), c8 = _mm256_set1_ps(c[8]),
               c9 = _mm256_set1_ps(c[9]), c10 = _mm256_set1_ps(c[10]), c11 = _mm256_set1_ps(c[11]);
  const __m256i first = _mm256_setr_epi32(0, 8, 1, 9, 2, 10, 3, 11);
  const __m256i second = _mm256_setr_epi32(4, 12, 5, 13, 6, 14, 7, 15);
  __m256i prev = _mm256_castps_si256(_mm256_set1_ps(c[6] * dp[0] + c[7] * ap[0]));
  int64_t j = 0;
  for (; j + 8 <= cnt; j += 8) {
    const __m256 u1 = _mm256_add_ps(_mm256_mul_ps(c6, _mm256_loadu_ps(dp + j + 1)),
                                    _mm256_mul_ps(c7, _mm256_loadu_ps(ap + j + 1)));
    const __m256i ui = _mm256_castps_si256(u1);
    const __m256 u0 = _mm256_castsi256_ps(_mm256_alignr_epi32(ui, prev, 7));
    __m256 e, o;
    InverseLiftPair(_mm256_loadu_ps(ap + j), u1, u0, c8, c9, c10, c11, e, o);
    _mm256_storeu_ps(o2 + 2 * j, _mm256_permutex2var_ps(e, first, o));
    _mm256_storeu_ps(o2 + 2 * j + 8, _mm256_permutex2var_ps(e, second, o));
    prev = ui;
  }
  if (j < cnt) InverseLiftChunk(a, d, c, nullptr, out, t0 + j, cnt - j);
}
#endif

std::pair<ForwardChunkFn, InverseChunkFn> LiftKernels() {
#if defined(__x86_64__)
  if (kernels::HasAvx512Vl()) return {&ForwardLiftChunkAvx512, &InverseLiftChunkAvx512};
  if (kernels::HasAvx2()) return {&ForwardLiftChunkAvx2, &InverseLiftChunkAvx2};
#endif
  return {&ForwardLiftChunk, &InverseLiftChunk};
}

template <int F>
std::pair<ForwardChunkFn, InverseChunkFn> PickKernels() {
#if defined(__x86_64__)
  if (kernels::HasAvx2()) return {&ForwardChunkAvx2<F>, &InverseChunkAvx2<F>};
#endif
  return {&ForwardChunk<F>, &InverseChunk<F>};
}

std::pair<ForwardChunkFn, InverseChunkFn> KernelsFor(size_t f) {
  switch (f) {
    case 2:
      return PickKernels<2>();
    case 4:
      return PickKernels<4>();
    case 8:
      return PickKernels<8>();
  }
  MURMUR_FAIL(ConfigError, "no wavelet kernel for filter length ", f);
}

// `kernel` computes the interior from k1, k2 (the filters, or the lifting coefficients).
void ForwardLevel(const float* x, size_t n, const std::vector<float>& lo,
                  const std::vector<float>& hi, ForwardChunkFn kernel, const float* k1,
                  const float* k2, float* a, float* d) {
  const int64_t f = static_cast<int64_t>(lo.size());
  const int64_t len = (static_cast<int64_t>(n) + f - 1) / 2;
  // Outputs whose taps 2o+1-j, j in [0, F), all fall inside [0, n).
  // (last uses floor division: for n = 1 there is no interior output, last = -1.)
  const int64_t first = (f - 1) / 2;
  const int64_t last = n >= 2 ? (static_cast<int64_t>(n) - 2) / 2 : -1;  // inclusive
  auto edge = [&](int64_t o) {
    float sa = 0.0f, sd = 0.0f;
    for (int64_t j = 0; j < f; ++j) {
      const float v = x[Reflect(2 * o + 1 - j, static_cast<int64_t>(n))];
      sa += lo[j] * v;
      sd += hi[j] * v;
    }
    a[o] = sa;
    d[o] = sd;
  };
  int64_t o = 0;
  for (; o < std::min(first, len); ++o) edge(o);
  for (int64_t c = o; c <= last; c += kChunk)
    kernel(x, k1, k2, a, d, c, std::min(kChunk, last + 1 - c));
  for (o = std::max(o, last + 1); o < len; ++o) edge(o);
}

// Reconstructs out[0, out_len) from a, d of length len (out_len <= 2 len - F + 2).
void InverseLevel(const float* __restrict a, const float* __restrict d, size_t len,
                  const std::vector<float>& rlo, const std::vector<float>& rhi,
                  InverseChunkFn kernel, const float* k1, const float* k2, float* __restrict out,
                  size_t out_len) {
  const int64_t f = static_cast<int64_t>(rlo.size()), h = f / 2 - 1;
  const int64_t L = static_cast<int64_t>(len), n = static_cast<int64_t>(out_len);
  auto edge = [&](int64_t i) {
    float s = 0.0f;
    for (int64_t j = (i + f) & 1; j < f; j += 2) {  // parity of j equals parity of i + F
      const int64_t m = i + f - 2 - j;
      const int64_t p = m / 2;
      if (m >= 0 && p < L) s += rlo[j] * a[p] + rhi[j] * d[p];
    }
    out[i] = s;
  };
  // Interior pairs (2t, 2t+1): every p = t + h - q, q in [0, h], inside [0, L).
  const int64_t t_end = std::max<int64_t>(0, std::min(L - h, n / 2));  // exclusive
  for (int64_t t0 = 0; t0 < t_end; t0 += kChunk)
    kernel(a, d, k1, k2, out, t0, std::min(kChunk, t_end - t0));
  for (int64_t i = 2 * t_end; i < n; ++i) edge(i);
}

// Per-thread float buffers that grow but never zero-fill (every element is written before
// it is read).
struct Buffer {
  std::unique_ptr<float[]> data;
  size_t capacity = 0;
  float* get(size_t n) {
    if (n > capacity) {
      data.reset(new float[n]);
      capacity = n;
    }
    return data.get();
  }
};

}  // namespace

const std::vector<std::string>& WaveletNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& [name, _] : Banks()) v.push_back(name);
    return v;
  }();
  return names;
}

WaveletTransform::WaveletTransform(const std::string& wavelet, size_t n, int level)
    : n_(n), level_(level) {
  auto it = Banks().find(wavelet);
  if (it == Banks().end()) {
    std::string allowed;
    for (const auto& name : WaveletNames()) allowed += (allowed.empty() ? "" : ", ") + name;
    MURMUR_FAIL(ConfigError, "wavelet '", wavelet, "' unknown; allowed: ", allowed);
  }
  MURMUR_CHECK(ConfigError, level >= 0 && level <= 30, "wavelet level must be in [0, 30], got ",
               level);
  MURMUR_CHECK(ConfigError, n >= 1, "wavelet transform of an empty vector");
  for (double v : it->second.lo) lo_.push_back(static_cast<float>(v));
  for (double v : it->second.hi) hi_.push_back(static_cast<float>(v));
  rlo_.assign(lo_.rbegin(), lo_.rend());
  rhi_.assign(hi_.rbegin(), hi_.rend());
  if (auto lift = LiftingFor(it->second.lo, it->second.hi))
    lift_.assign(lift->begin(), lift->end());
  const size_t f = lo_.size();
  size_t len = n;
  std::vector<size_t> details;
  for (int l = 0; l < level; ++l) {
    lengths_.push_back(len);
    len = (len + f - 1) / 2;
    details.push_back(len);
  }
  blocks_.push_back(len);  // cA_L
  for (auto it2 = details.rbegin(); it2 != details.rend(); ++it2) blocks_.push_back(*it2);
  for (size_t b : blocks_) total_ += b;
}

void WaveletTransform::forward(std::span<const float> x, std::span<float> coeffs) const {
  MURMUR_CHECK(ConfigError, x.size() == n_ && coeffs.size() == total_, "wavelet forward: got ",
               x.size(), " -> ", coeffs.size(), " values, planned ", n_, " -> ", total_);
  if (level_ == 0) {
    std::copy(x.begin(), x.end(), coeffs.begin());
    return;
  }
  const bool lift = !lift_.empty();
  const ForwardChunkFn kernel = (lift ? LiftKernels() : KernelsFor(lo_.size())).first;
  const float* k1 = lift ? lift_.data() : lo_.data();
  const float* k2 = lift ? nullptr : hi_.data();
  thread_local Buffer cur, next;
  // cD_l goes to the end of coeffs first (cD_1 is last), cA_L to the front.
  size_t tail = total_;
  const float* in = x.data();
  for (int l = 0; l < level_; ++l) {
    const size_t half = (lengths_[l] + lo_.size() - 1) / 2;
    tail -= half;
    float* a = l + 1 == level_ ? coeffs.data() : next.get(half);  // the last cA goes in place
    ForwardLevel(in, lengths_[l], lo_, hi_, kernel, k1, k2, a, coeffs.data() + tail);
    std::swap(cur, next);
    in = cur.data.get();
  }
}

void WaveletTransform::inverse(std::span<const float> coeffs, std::span<float> x) const {
  MURMUR_CHECK(ConfigError, coeffs.size() == total_ && x.size() == n_, "wavelet inverse: got ",
               coeffs.size(), " -> ", x.size(), " values, planned ", total_, " -> ", n_);
  if (level_ == 0) {
    std::copy(coeffs.begin(), coeffs.end(), x.begin());
    return;
  }
  const bool lift = !lift_.empty();
  const InverseChunkFn kernel = (lift ? LiftKernels() : KernelsFor(lo_.size())).second;
  const float* k1 = lift ? lift_.data() : rlo_.data();
  const float* k2 = lift ? nullptr : rhi_.data();
  thread_local Buffer cur, next;
  // The approximation entering each level is cA_L itself at first, then the previous output.
  const float* approx = coeffs.data();
  size_t pos = blocks_[0];
  for (int l = level_ - 1; l >= 0; --l) {
    const size_t dlen = blocks_[level_ - l];
    const size_t out_len = lengths_[l];                  // what this level's forward consumed
    float* dst = l == 0 ? x.data() : next.get(out_len);  // level 1 writes the result in place
    InverseLevel(approx, coeffs.data() + pos, dlen, rlo_, rhi_, kernel, k1, k2, dst, out_len);
    pos += dlen;
    std::swap(cur, next);
    approx = cur.data.get();
  }
}

}  // namespace murmur::compress
