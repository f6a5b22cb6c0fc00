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

#include "internal.h"
#include "kernels.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include "murmur/core/check.h"

namespace murmur::compress {
namespace {

using detail::Scratch;
using detail::SegmentSeed;
using detail::U32;

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

// ---- dense casts ------------------------------------------------------------------------

class Cast final : public Compressor {
 public:
  Cast(std::string name, ValueCodec codec) : name_(std::move(name)), codec_(codec) {}
  std::string_view name() const override { return name_; }
  void compress(std::span<const float> x, Rng&, Bytes& out) const override {
    const uint32_t n = U32(x.size(), "vector length");
    out.reserve(out.size() + 10 + EncodedValueBytes(n, {codec_}));
    EncodeDensePayload(x, {codec_}, nullptr, out);
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
    EncodeSparsePayload(idx, vals, n, o_.index_codec, values_, &rng, out);
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
    EncodeSeededSparsePayload(seed, segs, ks, vals, values_, &rng, out);
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
    const SignLayout at = PutSignLayout(n, segs, out);
    uint8_t* p = out.data() + at.bits;
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
      EncodeFixed(out.data() + at.scales + 8 * s + 4, scale);
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
    PutQsgdLayout(n, s, bits, segs.size(), out);
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

namespace {
Registry<CompressorFactory>& MutableRegistry() {
  static Registry<CompressorFactory> registry = MakeBuiltins();
  return registry;
}
}  // namespace

const Registry<CompressorFactory>& CompressorRegistry() { return MutableRegistry(); }

void RegisterCompressor(std::string name, std::string help, CompressorFactory factory) {
  MURMUR_CHECK(ConfigError, !MutableRegistry().contains(name), "RegisterCompressor: '", name,
               "' is already a compressor");
  MutableRegistry().add(std::move(name), std::move(help), std::move(factory));
}

std::unique_ptr<Compressor> MakeCompressor(const std::string& name, const CompressorOptions& o) {
  return CompressorRegistry().get(name, "compression.name").value(o);
}

}  // namespace murmur::compress
