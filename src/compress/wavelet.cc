// Discrete wavelet transform, PyWavelets' conventions (mode 'symmetric'):
//   forward:  a[o] = sum_j lo[j] * ext(x, 2o + 1 - j),  o < floor((N + F - 1) / 2)
//             ext reflects half-sample symmetrically: x[-1] = x[0], x[N] = x[N-1], ...
//   inverse:  x[i] = sum_j rlo[j] * up(a)[i + F - 2 - j] + rhi[j] * up(d)[i + F - 2 - j]
//             with up() inserting zeros after every value; output length 2L - F + 2.
// Multilevel: each inverse level is cut to the length its forward level consumed, so the
// approximation entering the next level always matches its detail block (pywt's waverec
// trims the same value away). The inverse computes its interior on the polyphase
// components (measured faster); the forward's stride-2 loop is already fast.
#include "murmur/compress/wavelet.h"

#include <algorithm>
#include <map>
#include <memory>

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

void ForwardLevel(const float* x, size_t n, const std::vector<float>& lo,
                  const std::vector<float>& hi, float* a, float* d) {
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
  if (f == 4) {
    const float l0 = lo[0], l1 = lo[1], l2 = lo[2], l3 = lo[3];
    const float h0 = hi[0], h1 = hi[1], h2 = hi[2], h3 = hi[3];
    for (; o <= last; ++o) {
      const float* p = x + 2 * o + 1;
      a[o] = l0 * p[0] + l1 * p[-1] + l2 * p[-2] + l3 * p[-3];
      d[o] = h0 * p[0] + h1 * p[-1] + h2 * p[-2] + h3 * p[-3];
    }
  } else {
    for (; o <= last; ++o) {
      const float* p = x + 2 * o + 1;
      float sa = 0.0f, sd = 0.0f;
      for (int64_t j = 0; j < f; ++j) {
        sa += lo[j] * p[-j];
        sd += hi[j] * p[-j];
      }
      a[o] = sa;
      d[o] = sd;
    }
  }
  for (; o < len; ++o) edge(o);
}

constexpr int64_t kChunk = 1024;
// Reconstructs out[0, out_len) from a, d of length len (out_len <= 2 len - F + 2).
void InverseLevel(const float* __restrict a, const float* __restrict d, size_t len,
                  const std::vector<float>& rlo, const std::vector<float>& rhi,
                  float* __restrict out, size_t out_len) {
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
  alignas(64) float ev[kChunk], od[kChunk];
  for (int64_t t0 = 0; t0 < t_end; t0 += kChunk) {
    const int64_t cnt = std::min(kChunk, t_end - t0);
    for (int64_t j = 0; j < cnt; ++j) ev[j] = od[j] = 0.0f;
    for (int64_t q = 0; q <= h; ++q) {
      const float re = rlo[2 * q], ro = rlo[2 * q + 1], se = rhi[2 * q], so = rhi[2 * q + 1];
      const float* __restrict aq = a + t0 + h - q;
      const float* __restrict dq = d + t0 + h - q;
      for (int64_t j = 0; j < cnt; ++j) {
        ev[j] += re * aq[j] + se * dq[j];
        od[j] += ro * aq[j] + so * dq[j];
      }
    }
    float* o = out + 2 * t0;
    for (int64_t j = 0; j < cnt; ++j) {
      o[2 * j] = ev[j];
      o[2 * j + 1] = od[j];
    }
  }
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
  thread_local Buffer cur, next;
  // cD_l goes to the end of coeffs first (cD_1 is last), cA_L to the front.
  size_t tail = total_;
  const float* in = x.data();
  for (int l = 0; l < level_; ++l) {
    const size_t half = (lengths_[l] + lo_.size() - 1) / 2;
    tail -= half;
    float* a = l + 1 == level_ ? coeffs.data() : next.get(half);  // the last cA goes in place
    ForwardLevel(in, lengths_[l], lo_, hi_, a, coeffs.data() + tail);
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
  thread_local Buffer cur, next;
  // The approximation entering each level is cA_L itself at first, then the previous output.
  const float* approx = coeffs.data();
  size_t pos = blocks_[0];
  for (int l = level_ - 1; l >= 0; --l) {
    const size_t dlen = blocks_[level_ - l];
    const size_t out_len = lengths_[l];                  // what this level's forward consumed
    float* dst = l == 0 ? x.data() : next.get(out_len);  // level 1 writes the result in place
    InverseLevel(approx, coeffs.data() + pos, dlen, rlo_, rhi_, dst, out_len);
    pos += dlen;
    std::swap(cur, next);
    approx = cur.data.get();
  }
}

}  // namespace murmur::compress
