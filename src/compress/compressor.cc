// The compressors of the field.
//  - identity / fp16 / bf16: dense casts (fp16/bf16 round to nearest even).
//  - topk: the k largest magnitudes, exact, ties to the lower index (Alistarh et al. 2018;
//    Stich et al. 2018). Found by a threshold estimated on a strided sample, one filtering
//    pass and an exact selection among the candidates; a radix select on the magnitude bits
//    takes over for small inputs and when the sample overestimates (see TopKIndices).
//  - randomk: k uniformly random coordinates; the payload carries a 64-bit seed instead of
//    indices and the receiver regenerates them (SeededIndices). Optionally scaled by n/k so
//    it is unbiased.
//  - threshold: every coordinate with |x| >= threshold (Strom 2015).
//  - sign: sign(x) * ||x||_1 / d per segment (Karimireddy et al. 2019, as in CHOCO-SGD).
//  - qsgd: s-level stochastic quantisation of x / ||x||_2 (Alistarh et al. 2017); unbiased,
//    or with CHOCO-SGD's biased scaling 1/tau, tau = 1 + min(d/s^2, sqrt(d)/s).
//  - topk_quant: top-k with the kept values quantised to `bits` bits.
#include "murmur/compress/compressor.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <numeric>

#include "bits.h"
#include "kernels.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include "murmur/core/check.h"

namespace murmur::compress {
namespace {

void PutHeader(Bytes& out, Format f, uint32_t n, uint32_t k) {
  PutU8(out, static_cast<uint8_t>(f));
  PutU8(out, kPayloadVersion);
  PutU32(out, n);
  PutU32(out, k);
}

uint32_t U32(size_t v, const char* what) {
  MURMUR_CHECK(ConfigError, v <= UINT32_MAX, what, ": ", v, " exceeds 2^32 - 1");
  return static_cast<uint32_t>(v);
}

// Segment lengths for a vector of length n.
std::vector<uint32_t> Segments(const CompressorOptions& o, size_t n) {
  if (!o.segments.empty()) {
    const uint64_t sum = std::accumulate(o.segments.begin(), o.segments.end(), uint64_t{0});
    MURMUR_CHECK(ConfigError, sum == n, "compressor segments sum to ", sum, " but the vector has ",
                 n, " values");
    return o.segments;
  }
  if (o.chunk == 0 || o.chunk >= n) return {U32(n, "vector length")};
  std::vector<uint32_t> s(n / o.chunk, o.chunk);
  if (n % o.chunk) s.push_back(static_cast<uint32_t>(n % o.chunk));
  return s;
}

// Sum of |x| (kSquare false) or x^2 over x[offset, offset + len), in double throughout: the
// fallback for when kernels::BlockedSum's float partial sums overflow on large finite values
// (|x| above ~1.8e19 squared). Any NaN or infinity in the segment is an error naming where,
// raised here on the sending side rather than as a payload its receiver rejects.
template <bool kSquare>
double ExactSegmentSum(std::span<const float> x, uint32_t offset, uint32_t len, const char* who) {
  double total = 0.0;
  for (uint32_t i = offset; i < offset + len; ++i) {
    MURMUR_CHECK(Error, std::isfinite(x[i]), who, ": cannot compress a vector holding ", x[i],
                 " (coordinate ", i, ")");
    total += kSquare ? static_cast<double>(x[i]) * x[i] : std::abs(static_cast<double>(x[i]));
  }
  return total;
}

// QSGD's variance factor as CHOCO-SGD uses it: tau = 1 + min(d / s^2, sqrt(d) / s).
double QsgdTau(double s, double d) { return 1.0 + std::min(d / (s * s), std::sqrt(d) / s); }

// How the kept values of a sparsifier are written.
ValueOptions ValuesFrom(const CompressorOptions& o) {
  ValueOptions v;
  v.codec = o.value_codec;
  v.bits = o.bits;
  return v;
}

void CheckRatio(double ratio) {
  MURMUR_CHECK(ConfigError, ratio > 0.0 && ratio <= 1.0,
               "compression.ratio: must be in (0, 1], got ", ratio);
}

// Per-thread scratch buffers; Tag keeps the users of one element type apart.
template <typename T, int Tag>
std::vector<T>& Scratch() {
  thread_local std::vector<T> v;
  return v;
}

// ---- dense casts ------------------------------------------------------------------------

class Cast final : public Compressor {
 public:
  Cast(std::string name, ValueCodec codec) : name_(std::move(name)), codec_(codec) {}
  std::string_view name() const override { return name_; }
  void compress(std::span<const float> x, Rng&, Bytes& out) const override {
    const uint32_t n = U32(x.size(), "vector length");
    out.reserve(out.size() + 10 + EncodedValueBytes(n, {codec_}));
    PutHeader(out, Format::kDense, n, n);
    EncodeValues(x, {codec_}, nullptr, out);
  }

 private:
  std::string name_;
  ValueCodec codec_;
};

// ---- sparsifiers with explicit indices --------------------------------------------------

class Sparse : public Compressor {
 public:
  explicit Sparse(const CompressorOptions& o) : o_(o), values_(ValuesFrom(o)) {}
  void compress(std::span<const float> x, Rng& rng, Bytes& out) const override {
    const uint32_t n = U32(x.size(), "vector length");
    std::vector<uint32_t>& idx = Scratch<uint32_t, 0>();
    idx.clear();
    select(x, idx);
    std::vector<float>& vals = Scratch<float, 1>();
    vals.resize(idx.size());
    for (size_t j = 0; j < idx.size(); ++j) vals[j] = x[idx[j]];
    const uint32_t k = static_cast<uint32_t>(idx.size());
    PutHeader(out, Format::kSparse, n, k);
    EncodeIndices(idx, n, o_.index_codec, out);
    EncodeValues(vals, values_, &rng, out);
  }

 protected:
  virtual void select(std::span<const float> x, std::vector<uint32_t>& idx) const = 0;
  CompressorOptions o_;
  ValueOptions values_;
};

class TopK final : public Sparse {
 public:
  TopK(const CompressorOptions& o, std::string name) : Sparse(o), name_(std::move(name)) {
    CheckRatio(o.ratio);
  }
  std::string_view name() const override { return name_; }

 protected:
  void select(std::span<const float> x, std::vector<uint32_t>& idx) const override {
    uint32_t offset = 0;
    for (uint32_t len : Segments(o_, x.size())) {
      TopKIndices(x.subspan(offset, len), KeepCount(o_.ratio, len), offset, idx);
      offset += len;
    }
  }

 private:
  std::string name_;
};

class Threshold final : public Sparse {
 public:
  explicit Threshold(const CompressorOptions& o) : Sparse(o) {
    MURMUR_CHECK(ConfigError, o.threshold >= 0.0 && std::isfinite(o.threshold),
                 "compression.threshold: must be finite and >= 0, got ", o.threshold);
  }
  std::string_view name() const override { return "threshold"; }

 protected:
  void select(std::span<const float> x, std::vector<uint32_t>& idx) const override {
    const float t = static_cast<float>(o_.threshold);
    for (size_t i = 0; i < x.size(); ++i)
      if (std::abs(x[i]) >= t) idx.push_back(static_cast<uint32_t>(i));
  }
};

// ---- random-k ---------------------------------------------------------------------------

uint64_t SegmentSeed(uint64_t seed, size_t segment) {
  return DeriveSeed(seed, segment, Stream::kCompression);
}

class RandomK final : public Compressor {
 public:
  explicit RandomK(const CompressorOptions& o) : o_(o), values_(ValuesFrom(o)) {
    CheckRatio(o.ratio);
  }
  std::string_view name() const override { return "randomk"; }
  void compress(std::span<const float> x, Rng& rng, Bytes& out) const override {
    const uint32_t n = U32(x.size(), "vector length");
    const std::vector<uint32_t> segs = Segments(o_, n);
    const uint64_t seed = rng.next();
    std::vector<uint32_t>& idx = Scratch<uint32_t, 2>();
    std::vector<float>& vals = Scratch<float, 3>();
    vals.clear();
    std::vector<uint32_t> ks;
    uint32_t offset = 0;
    for (size_t s = 0; s < segs.size(); ++s) {
      const uint32_t k = KeepCount(o_.ratio, segs[s]);
      ks.push_back(k);
      SeededIndices(SegmentSeed(seed, s), segs[s], k, idx);
      const float scale = o_.unbiased ? static_cast<float>(segs[s]) / static_cast<float>(k) : 1.0f;
      for (uint32_t i : idx) vals.push_back(x[offset + i] * scale);
      offset += segs[s];
    }
    PutHeader(out, Format::kSeededSparse, n, static_cast<uint32_t>(vals.size()));
    PutU64(out, seed);
    PutU32(out, static_cast<uint32_t>(segs.size()));
    for (size_t s = 0; s < segs.size(); ++s) {
      PutU32(out, segs[s]);
      PutU32(out, ks[s]);
    }
    EncodeValues(vals, values_, &rng, out);
  }

 private:
  CompressorOptions o_;
  ValueOptions values_;
};

// ---- sign and QSGD ----------------------------------------------------------------------

class Sign final : public Compressor {
 public:
  explicit Sign(const CompressorOptions& o) : o_(o) {}
  std::string_view name() const override { return "sign"; }
  void compress(std::span<const float> x, Rng&, Bytes& out) const override {
    const uint32_t n = U32(x.size(), "vector length");
    const std::vector<uint32_t> segs = Segments(o_, n);
    PutHeader(out, Format::kSign, n, n);
    PutU32(out, static_cast<uint32_t>(segs.size()));
    const size_t scales_at = out.size();
    for (uint32_t len : segs) {
      PutU32(out, len);
      PutF32(out, 0.0f);  // scale, filled in below
    }
    const size_t start = out.size();
    out.resize(start + (static_cast<size_t>(n) + 7) / 8, 0);
    uint8_t* p = out.data() + start;
    // One pass in chunks of 4096 (a multiple of 64): pack the chunk's sign bits, then add its
    // |x| to the segment sums while the chunk is still in L1.
    std::vector<double> l1(segs.size(), 0.0);
    size_t g = 0, seg_end = segs.empty() ? 0 : segs[0];
    for (size_t c = 0; c < n; c += 4096) {
      const size_t e = std::min<size_t>(n, c + 4096);
      const size_t words = (e - c) / 64;
      kernels::SignWords(x.data() + c, words, p + c / 8);
      size_t i = c + 64 * words;
      for (; i < e; ++i)
        p[i / 8] |= static_cast<uint8_t>((std::bit_cast<uint32_t>(x[i]) >> 31) << (i & 7));
      for (size_t pos = c; pos < e;) {
        while (pos >= seg_end) seg_end += segs[++g];
        const size_t stop = std::min(e, seg_end);
        l1[g] += kernels::BlockedSum<false>(x.data() + pos, stop - pos);
        pos = stop;
      }
    }
    uint32_t offset = 0;
    for (size_t s = 0; s < segs.size(); ++s) {
      if (!std::isfinite(l1[s])) l1[s] = ExactSegmentSum<false>(x, offset, segs[s], "sign");
      const float scale = segs[s] ? static_cast<float>(l1[s] / segs[s]) : 0.0f;
      std::memcpy(out.data() + scales_at + 8 * s + 4, &scale, 4);
      offset += segs[s];
    }
  }

 private:
  CompressorOptions o_;
};

class Qsgd final : public Compressor {
 public:
  explicit Qsgd(const CompressorOptions& o) : o_(o) {
    MURMUR_CHECK(ConfigError, o.levels >= 1 && o.levels <= (1 << 20),
                 "compression.levels: must be in [1, 2^20], got ", o.levels);
  }
  std::string_view name() const override { return "qsgd"; }
  void compress(std::span<const float> x, Rng& rng, Bytes& out) const override {
    const uint32_t n = U32(x.size(), "vector length");
    const std::vector<uint32_t> segs = Segments(o_, n);
    const uint32_t s = static_cast<uint32_t>(o_.levels);
    const int bits = static_cast<int>(std::bit_width(2 * s));  // codes in [0, 2s]
    PutHeader(out, Format::kQsgd, n, n);
    PutU32(out, s);
    PutU8(out, static_cast<uint8_t>(bits));
    PutU32(out, static_cast<uint32_t>(segs.size()));
    // Stochastic rounding of y = x s / norm (QSGD's sign(x) xi(|x| s / norm) has the same
    // distribution) with `shift` random bits: 16, fewer only when 2^shift s would reach 2^22
    // (s >= 64), so that fma(x, mul, add) stays in [-0.75, 2^shift 2s + 0.75] (float's
    // spacing there is at most 0.5) and truncates to [0, 2^shift 2s]. At s = 2^20, 1 bit.
    const int shift = std::min(16, 22 - static_cast<int>(std::bit_width(s)));
    std::vector<kernels::QsgdScale> scales(segs.size());
    uint32_t offset = 0;
    for (size_t g = 0; g < segs.size(); ++g) {
      const uint32_t len = segs[g];
      double norm = std::sqrt(kernels::BlockedSum<true>(x.data() + offset, len));
      if (!std::isfinite(norm)) norm = std::sqrt(ExactSegmentSum<true>(x, offset, len, "qsgd"));
      double unit = norm / s;  // decoded value of one level
      if (!o_.unbiased) unit /= QsgdTau(s, std::max<double>(len, 1));
      MURMUR_CHECK(Error, std::isfinite(static_cast<float>(unit)), "qsgd: the norm ", norm,
                   " of coordinates [", offset, ", ", offset + len,
                   ") puts one level beyond float range");
      PutU32(out, len);
      PutF32(out, static_cast<float>(unit));
      kernels::QsgdScale& q = scales[g];
      q.mul = norm > 0 ? static_cast<float>(std::ldexp(s / norm, shift)) : 0.0f;
      q.add = std::ldexp(static_cast<float>(s), shift);
      q.shift = shift;
      q.max_code = 2 * s;
      // Rounding in the multiply-add (kernels::QsgdScale): |x| <= norm keeps every scaled
      // value within a few units of [0, 2^17 s], far inside the magic's +-2^22 for s < 32.
      if (shift == 16 && s < 32)
        q.addend_bits = std::bit_cast<uint32_t>(kernels::kQsgdMagic + q.add);
      offset += len;
    }
    // Codes floor(x s / norm + s + u) in [0, 2s] (kernels::QsgdScale), packed `bits` wide in
    // one continuous stream over the segments: whole 64-code groups straight from the input
    // (kernels::UniformBlock::qsgd_pack), the groups that straddle a segment's end through
    // `codes`.
    const size_t start = out.size();
    const size_t bytes = (static_cast<uint64_t>(n) * bits + 7) / 8;
    out.resize(start + bytes + 8 * 32);  // the last group is packed whole
    uint8_t* dst = out.data() + start;
    const size_t group_bytes = 8 * static_cast<size_t>(bits);
    const kernels::PackFn pack = kernels::GroupPacker(bits);
    kernels::UniformBlock uniforms(rng);
    uint32_t codes[64];
    uint32_t fill = 0;  // codes waiting in `codes`
    offset = 0;
    for (size_t g = 0; g < segs.size(); ++g) {
      const uint32_t end = offset + segs[g];
      for (uint32_t b = offset; b < end;) {
        if (fill == 0 && end - b >= 64) {
          const uint32_t m = (end - b) / 64 * 64;
          uniforms.qsgd_pack(x.data() + b, m, scales[g], bits, dst);
          dst += m / 64 * group_bytes;
          b += m;
          continue;
        }
        const uint32_t len = std::min(64 - fill, end - b);
        uniforms.qsgd_codes(x.data() + b, len, scales[g], codes + fill);
        fill += len;
        b += len;
        if (fill == 64) {
          pack(codes, dst);
          dst += group_bytes;
          fill = 0;
        }
      }
      offset = end;
    }
    if (fill > 0) {
      std::fill(codes + fill, codes + 64, 0u);
      pack(codes, dst);
    }
    out.resize(start + bytes);
  }

 private:
  CompressorOptions o_;
};

Registry<CompressorFactory> MakeBuiltins() {
  Registry<CompressorFactory> r("compressor");
  r.add("identity", "no compression: f32 values (the dense baseline)",
        [](const CompressorOptions&) {
          return std::make_unique<Cast>("identity", ValueCodec::kF32);
        });
  r.add("fp16", "cast to IEEE half precision (2 bytes per value)",
        [](const CompressorOptions&) { return std::make_unique<Cast>("fp16", ValueCodec::kF16); });
  r.add("bf16", "cast to bfloat16 (2 bytes per value)",
        [](const CompressorOptions&) { return std::make_unique<Cast>("bf16", ValueCodec::kBF16); });
  r.add("topk", "exact top-k by magnitude (compression.ratio), per segment",
        [](const CompressorOptions& o) { return std::make_unique<TopK>(o, "topk"); });
  r.add("randomk", "k random coordinates, indices regenerated from a seed (no index bytes)",
        [](const CompressorOptions& o) { return std::make_unique<RandomK>(o); });
  r.add("threshold", "coordinates with |x| >= compression.threshold",
        [](const CompressorOptions& o) { return std::make_unique<Threshold>(o); });
  r.add("sign", "sign(x) * ||x||_1 / d per segment: 1 bit per value",
        [](const CompressorOptions& o) { return std::make_unique<Sign>(o); });
  r.add("qsgd", "QSGD with compression.levels levels, stochastic rounding",
        [](const CompressorOptions& o) { return std::make_unique<Qsgd>(o); });
  r.add("topk_quant", "top-k, kept values quantised to compression.bits bits",
        [](const CompressorOptions& o) {
          CompressorOptions q = o;
          q.value_codec = ValueCodec::kQuant;
          return std::make_unique<TopK>(q, "topk_quant");
        });
  return r;
}

}  // namespace

const Registry<CompressorFactory>& CompressorRegistry() {
  static const Registry<CompressorFactory> registry = MakeBuiltins();
  return registry;
}

std::unique_ptr<Compressor> MakeCompressor(const std::string& name, const CompressorOptions& o) {
  return CompressorRegistry().get(name, "compression.name").value(o);
}

// ---- selection kernels ------------------------------------------------------------------

namespace {

// Magnitude key of a float: its bits without the sign (monotone in |x|; NaNs sort highest).
inline uint32_t Key(const uint32_t* bits, size_t i) { return bits[i] & 0x7fffffffu; }

// Writes to dst, in order, the members q < count whose key(q) is above kth and the first
// `ties` whose key equals it (ties to the lower index); returns how many. Branch-free (which
// members stay is a coin flip for the branch predictor): every member is written and only
// the kept ones advance, so dst needs one spare slot.
template <typename IndexAt, typename KeyAt>
size_t KeepAboveAndFirstTies(size_t count, IndexAt index, KeyAt key, uint32_t kth, size_t ties,
                             uint32_t* dst) {
  size_t kept = 0;
  for (size_t q = 0; q < count; ++q) {
    const uint32_t kq = key(q);
    const bool tie = kq == kth && ties > 0;
    ties -= tie;
    dst[kept] = index(q);
    kept += (kq > kth) | tie;
  }
  return kept;
}

// Exact top-k by radix select: histogram of the top 11 key bits, then the boundary bucket's
// members compete. Two full passes; used for small inputs and when the sampled threshold
// fails.
void TopKRadix(std::span<const float> x, uint32_t k, uint32_t offset, std::vector<uint32_t>& out) {
  const size_t n = x.size();
  const uint32_t* bits = reinterpret_cast<const uint32_t*>(x.data());
  constexpr int kBuckets = 2048;
  std::vector<uint32_t> hist(4 * kBuckets, 0);  // four tables keep the increments independent
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    ++hist[Key(bits, i) >> 20];
    ++hist[kBuckets + (Key(bits, i + 1) >> 20)];
    ++hist[2 * kBuckets + (Key(bits, i + 2) >> 20)];
    ++hist[3 * kBuckets + (Key(bits, i + 3) >> 20)];
  }
  for (; i < n; ++i) ++hist[Key(bits, i) >> 20];
  uint32_t boundary = kBuckets - 1;
  uint64_t above = 0, in_bucket = 0;
  for (;; --boundary) {
    in_bucket = uint64_t{hist[boundary]} + hist[kBuckets + boundary] +
                hist[2 * kBuckets + boundary] + hist[3 * kBuckets + boundary];
    if (above + in_bucket >= k) break;
    above += in_bucket;
  }
  // One branch-free pass (which side of the boundary a coordinate falls is a coin flip for
  // the predictor at large k): every index is written to both lists and kept where it
  // belongs; each list has one spare slot for the last write and, later, a sentinel.
  std::vector<uint32_t>& high = Scratch<uint32_t, 12>();  // above the bucket, in order
  std::vector<uint32_t>& cidx = Scratch<uint32_t, 13>();  // the bucket's members, in order
  std::vector<uint32_t>& ckey = Scratch<uint32_t, 14>();  // and their keys
  high.resize(above + 1);
  cidx.resize(in_bucket + 1);
  ckey.resize(in_bucket + 1);
  size_t h = 0, m = 0;
  for (uint32_t j = 0; j < n; ++j) {
    const uint32_t key = Key(bits, j);
    const uint32_t b = key >> 20;
    high[h] = j;
    cidx[m] = j;
    ckey[m] = key;
    h += b > boundary;
    m += b == boundary;
  }
  MURMUR_ASSERT(h == above && m == in_bucket);
  // The need-th largest key in the bucket; members above it, then the first ones equal to it
  // (ties to the lower index), in index order.
  const size_t need = k - above;
  std::vector<uint32_t>& sel = Scratch<uint32_t, 15>();
  sel.assign(ckey.begin(), ckey.begin() + in_bucket);
  std::nth_element(sel.begin(), sel.begin() + (need - 1), sel.end(), std::greater<>());
  const uint32_t kth = sel[need - 1];
  size_t greater = 0;
  for (size_t q = 0; q < in_bucket; ++q) greater += ckey[q] > kth;
  std::vector<uint32_t>& low = Scratch<uint32_t, 16>();
  low.resize(in_bucket + 1);
  const size_t l = KeepAboveAndFirstTies(
      in_bucket, [&](size_t q) { return cidx[q]; }, [&](size_t q) { return ckey[q]; }, kth,
      need - greater, low.data());
  MURMUR_ASSERT(l == need);
  // Merge the two ordered lists; UINT32_MAX sentinels end each.
  high[above] = UINT32_MAX;
  low[need] = UINT32_MAX;
  const size_t base = out.size();
  out.resize(base + k);
  size_t a = 0, c = 0;
  for (size_t q = 0; q < k; ++q) {
    const uint32_t hv = high[a], lv = low[c];
    const bool take_high = hv < lv;
    out[base + q] = offset + (take_high ? hv : lv);
    a += take_high;
    c += !take_high;
  }
}

}  // namespace

// Top-k by a sampled threshold: estimate a magnitude slightly below the k-th largest from a
// strided sample, collect every coordinate at or above it in one filtering pass (in index
// order), then select exactly among those candidates. When the estimate was too high (fewer
// than k candidates) the exact radix select runs instead, so the result is always exact.
void TopKIndices(std::span<const float> x, uint32_t k, uint32_t offset,
                 std::vector<uint32_t>& out) {
  const size_t n = x.size();
  if (k == 0) return;
  if (k >= n) {
    for (uint32_t i = 0; i < n; ++i) out.push_back(offset + i);
    return;
  }
  // Selecting among the ~1.1 k candidates grows faster than the radix passes: measured on
  // Gaussian input, radix wins from k/n = 0.2 at n = 9e4 (168 vs 347 us; sampled is faster
  // at 0.15, 92 vs 155 us) and from k/n = 0.08 at n = 1e6 (1.55 vs 1.99 ms; sampled at 0.05,
  // 1.30 vs 1.49 ms).
  const double share = static_cast<double>(k) / static_cast<double>(n);
  if (n < 32768 || share > 0.16 || (share > 0.06 && n > (size_t{1} << 18)))
    return TopKRadix(x, k, offset, out);
  const uint32_t* bits = reinterpret_cast<const uint32_t*>(x.data());
  // Sample rank with margin: about k*m/n sample points lie above the true threshold. The
  // sample is kept small next to n so selecting in it stays cheap.
  const size_t m = std::clamp<size_t>(n / 64, 512, 8192);
  std::vector<uint32_t>& sample = Scratch<uint32_t, 9>();
  sample.resize(m);
  const size_t stride = n / m;
  for (size_t s = 0; s < m; ++s) sample[s] = Key(bits, s * stride);
  // The number of sample points at or above the true k-th largest is about Poisson(expect);
  // rank sits 3 standard deviations above it (a miss, P ~ 1e-3 on i.i.d. input, costs the
  // radix select), so ~(1 + 3 / sqrt(expect)) k candidates pass the filter.
  const double expect = static_cast<double>(k) * m / static_cast<double>(n);
  const size_t rank =
      std::min<size_t>(m - 1, static_cast<size_t>(expect + 3 * std::sqrt(expect) + 4));
  std::nth_element(sample.begin(), sample.begin() + rank, sample.end(), std::greater<>());
  const uint32_t t = sample[rank];
  // Filter pass: indices of keys >= t, in order. About rank / m of the values pass; more than
  // twice that (a sample far from the distribution) falls back to the radix select.
  std::vector<uint32_t>& cand = Scratch<uint32_t, 10>();
  const size_t cap = std::min(n, 2 * (rank + 1) * n / m + 1024);
  if (cand.size() < cap + 64) cand.resize(cap + 64);
  const size_t found =
      kernels::FilterKeysAtLeast(bits, n, t, cand.data(), cap, static_cast<double>(rank + 1) / m);
  if (found == SIZE_MAX) return TopKRadix(x, k, offset, out);
  cand.resize(found);
  if (cand.size() < k) return TopKRadix(x, k, offset, out);
  // The k-th largest key among the candidates, then an in-order pass with ties to the front.
  std::vector<uint32_t>& keys = Scratch<uint32_t, 11>();
  keys.resize(cand.size());
  for (size_t c = 0; c < cand.size(); ++c) keys[c] = Key(bits, cand[c]);
  std::nth_element(keys.begin(), keys.begin() + (k - 1), keys.end(), std::greater<>());
  const uint32_t kth = keys[k - 1];
  size_t above = 0;  // nth_element left the k largest in front
  for (size_t c = 0; c < k; ++c) above += keys[c] > kth;
  const size_t start = out.size();
  out.resize(start + k + 1);  // one spare slot for the last candidate's write
  const size_t kept = KeepAboveAndFirstTies(
      cand.size(), [&](size_t q) { return offset + cand[q]; },
      [&](size_t q) { return Key(bits, cand[q]); }, kth, k - above, out.data() + start);
  MURMUR_ASSERT(kept == k);
  out.resize(start + k);
}

void SeededIndices(uint64_t seed, uint32_t n, uint32_t k, std::vector<uint32_t>& out) {
  MURMUR_CHECK(ProtocolError, k <= n, "random-k of ", k, " from ", n);
  out.resize(k);
  if (k == 0) return;
  Rng rng(seed);
  // Mark k (or, when k > n/2, the n-k excluded) distinct positions in a bitmap, then read it
  // in order: O(k) draws plus an O(n/64) scan, and sorted for free.
  const bool invert = k > n / 2;
  const uint32_t draws = invert ? n - k : k;
  std::vector<uint64_t>& bitmap = Scratch<uint64_t, 6>();
  bitmap.assign((static_cast<size_t>(n) + 63) / 64, 0);
  for (uint32_t d = 0; d < draws;) {
    const uint32_t i = static_cast<uint32_t>(rng.uniform_int(n));
    uint64_t& w = bitmap[i >> 6];
    const uint64_t m = uint64_t{1} << (i & 63);
    if (!(w & m)) {
      w |= m;
      ++d;
    }
  }
  uint32_t j = 0;
  for (size_t wi = 0; wi < bitmap.size(); ++wi) {
    uint64_t w = invert ? ~bitmap[wi] : bitmap[wi];
    if (invert && wi + 1 == bitmap.size() && (n & 63)) w &= (uint64_t{1} << (n & 63)) - 1;
    while (w) {
      out[j++] = static_cast<uint32_t>(wi * 64 + __builtin_ctzll(w));
      w &= w - 1;
    }
  }
  MURMUR_ASSERT(j == k);
}

// ---- decoding ---------------------------------------------------------------------------

namespace {

struct Header {
  Format format;
  uint32_t n, k;
};

Header ReadHeader(ByteReader& in) {
  const uint8_t f = in.u8();
  MURMUR_CHECK(ProtocolError, f >= 1 && f <= 5, "payload: unknown format ", int{f});
  const uint8_t v = in.u8();
  MURMUR_CHECK(ProtocolError, v == kPayloadVersion, "payload: unsupported version ", int{v});
  Header h{static_cast<Format>(f), in.u32(), in.u32()};
  MURMUR_CHECK(ProtocolError, h.k <= h.n, "payload: ", h.k, " values for dimension ", h.n);
  return h;
}

// Reads `count` (len, x) segment pairs; checks the lengths sum to n.
std::vector<std::pair<uint32_t, uint32_t>> ReadSegments(ByteReader& in, uint32_t n) {
  const uint32_t count = in.u32();
  MURMUR_CHECK(ProtocolError, count <= std::max<uint32_t>(n, 1) && count <= in.remaining() / 8,
               "payload: ", count, " segments for dimension ", n);
  std::vector<std::pair<uint32_t, uint32_t>> segs(count);
  uint64_t sum = 0;
  for (auto& [len, second] : segs) {
    len = in.u32();
    second = in.u32();
    sum += len;
  }
  MURMUR_CHECK(ProtocolError, sum == n, "payload: segment lengths sum to ", sum, ", dimension is ",
               n);
  return segs;
}

float AsFloat(uint32_t u) { return std::bit_cast<float>(u); }

// Validates the whole payload, then calls begin() once and emit(index, value) for every
// coordinate it carries; nothing is emitted for a malformed payload.
template <typename Begin, typename Emit>
void Decode(std::span<const uint8_t> payload, size_t expected_n, Begin begin, Emit emit) {
  ByteReader in(payload, "payload");
  const Header h = ReadHeader(in);
  MURMUR_CHECK(ProtocolError, h.n == expected_n, "payload: dimension ", h.n, ", expected ",
               expected_n);
  std::vector<float>& vals = Scratch<float, 7>();
  // Every value costs at least one bit: bound counts by the bytes present before allocating.
  MURMUR_CHECK(ProtocolError, h.k <= 8ull * in.remaining(), "payload: ", h.k,
               " values cannot fit in ", in.remaining(), " bytes");
  auto done = [&] {
    MURMUR_CHECK(ProtocolError, in.remaining() == 0, "payload: ", in.remaining(),
                 " trailing bytes");
    begin();
  };
  switch (h.format) {
    case Format::kDense: {
      MURMUR_CHECK(ProtocolError, h.k == h.n, "payload: dense with ", h.k, " of ", h.n, " values");
      vals.resize(h.n);
      DecodeValues(in, h.n, vals);
      done();
      for (uint32_t i = 0; i < h.n; ++i) emit(i, vals[i]);
      return;
    }
    case Format::kSparse: {
      std::vector<uint32_t>& idx = Scratch<uint32_t, 8>();
      DecodeIndices(in, h.n, h.k, idx);
      vals.resize(h.k);
      DecodeValues(in, h.k, vals);
      done();
      for (uint32_t j = 0; j < h.k; ++j) emit(idx[j], vals[j]);
      return;
    }
    case Format::kSeededSparse: {
      const uint64_t seed = in.u64();
      auto segs = ReadSegments(in, h.n);
      uint64_t total = 0;
      for (auto [len, k] : segs) {
        MURMUR_CHECK(ProtocolError, k <= len, "payload: random-k of ", k, " from a segment of ",
                     len);
        total += k;
      }
      MURMUR_CHECK(ProtocolError, total == h.k, "payload: segments keep ", total, ", header says ",
                   h.k);
      vals.resize(h.k);
      DecodeValues(in, h.k, vals);
      done();
      std::vector<uint32_t>& idx = Scratch<uint32_t, 8>();
      uint32_t offset = 0, j = 0;
      for (size_t s = 0; s < segs.size(); ++s) {
        SeededIndices(SegmentSeed(seed, s), segs[s].first, segs[s].second, idx);
        for (uint32_t i : idx) emit(offset + i, vals[j++]);
        offset += segs[s].first;
      }
      return;
    }
    case Format::kSign: {
      MURMUR_CHECK(ProtocolError, h.k == h.n, "payload: sign with ", h.k, " of ", h.n, " values");
      auto segs = ReadSegments(in, h.n);
      for (auto [len, scale_bits] : segs)
        MURMUR_CHECK(ProtocolError, std::isfinite(AsFloat(scale_bits)),
                     "payload: sign scale is not finite");
      auto bits = in.take((static_cast<size_t>(h.n) + 7) / 8);
      done();
      uint32_t i = 0;
      for (auto [len, scale_bits] : segs) {
        const float scale = AsFloat(scale_bits);
        for (uint32_t e = i + len; i < e; ++i)
          emit(i, (bits[i >> 3] >> (i & 7)) & 1 ? -scale : scale);
      }
      return;
    }
    case Format::kQsgd: {
      MURMUR_CHECK(ProtocolError, h.k == h.n, "payload: qsgd with ", h.k, " of ", h.n, " values");
      const uint32_t s = in.u32();
      const int bits = in.u8();
      MURMUR_CHECK(ProtocolError,
                   s >= 1 && s <= (1u << 20) && bits == static_cast<int>(std::bit_width(2 * s)),
                   "payload: qsgd with ", s, " levels and ", bits, "-bit codes");
      auto segs = ReadSegments(in, h.n);
      for (auto [len, unit_bits] : segs)
        MURMUR_CHECK(ProtocolError, std::isfinite(AsFloat(unit_bits)),
                     "payload: qsgd scale is not finite");
      auto codes = in.take((static_cast<uint64_t>(h.n) * bits + 7) / 8);
      {
        BitReader check(codes.data(), codes.size(), "payload");
        for (uint32_t i = 0; i < h.n; ++i) {
          const uint64_t code = check.get(bits);
          MURMUR_CHECK(ProtocolError, code <= 2 * uint64_t{s}, "payload: qsgd code ", code,
                       " above 2 s = ", 2 * uint64_t{s});
        }
      }
      done();
      BitReader r(codes.data(), codes.size(), "payload");
      uint32_t i = 0;
      for (auto [len, unit_bits] : segs) {
        const float unit = AsFloat(unit_bits);
        for (uint32_t e = i + len; i < e; ++i) {
          const auto level = static_cast<int64_t>(r.get(bits)) - int64_t{s};  // in [-s, s]
          emit(i, unit * static_cast<float>(level));
        }
      }
      return;
    }
  }
}

}  // namespace

uint32_t KeepCount(double ratio, uint32_t len) {
  if (len == 0) return 0;
  const double k = std::ceil(ratio * static_cast<double>(len));
  return static_cast<uint32_t>(std::clamp(k, 1.0, static_cast<double>(len)));
}

PayloadInfo InspectPayload(std::span<const uint8_t> payload) {
  ByteReader in(payload, "payload");
  const Header h = ReadHeader(in);
  PayloadInfo info{h.format, h.n, h.k, 0, 0};
  if (h.format == Format::kSparse) {
    in.u8();
    in.u8();
    info.index_bytes = 6 + in.u32();
  }
  info.value_bytes = payload.size() - 10 - info.index_bytes;
  return info;
}

void Decompress(std::span<const uint8_t> payload, std::span<float> out) {
  Decode(
      payload, out.size(), [&] { std::fill(out.begin(), out.end(), 0.0f); },
      [&](uint32_t i, float v) { out[i] = v; });
}

void EncodeSparsePayload(std::span<const uint32_t> sorted, std::span<const float> values,
                         uint32_t n, IndexCodec index_codec, const ValueOptions& value_options,
                         Rng* rng, Bytes& out) {
  MURMUR_ASSERT(sorted.size() == values.size() && sorted.size() <= n);
  PutHeader(out, Format::kSparse, n, static_cast<uint32_t>(sorted.size()));
  EncodeIndices(sorted, n, index_codec, out);
  EncodeValues(values, value_options, rng, out);
}

void EncodeDensePayload(std::span<const float> values, const ValueOptions& value_options, Rng* rng,
                        Bytes& out) {
  const uint32_t n = U32(values.size(), "vector length");
  PutHeader(out, Format::kDense, n, n);
  EncodeValues(values, value_options, rng, out);
}

void DecompressAdd(std::span<const uint8_t> payload, float weight, std::span<float> out) {
  Decode(
      payload, out.size(), [] {}, [&](uint32_t i, float v) { out[i] += weight * v; });
}

void DecompressAddDifference(std::span<const uint8_t> payload, float weight,
                             std::span<const float> base, std::span<float> out) {
  MURMUR_ASSERT(base.size() == out.size());
  Decode(
      payload, out.size(), [] {}, [&](uint32_t i, float v) { out[i] += weight * (v - base[i]); });
}

}  // namespace murmur::compress
