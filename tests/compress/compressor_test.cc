#include "murmur/compress/compressor.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <numeric>

#include "compress/kernels.h"
#include "error_text.h"
#include "murmur/core/check.h"

namespace murmur::compress {
namespace {

std::vector<float> Gaussian(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.normal());
  return v;
}

std::vector<float> RoundTrip(const Compressor& c, std::span<const float> x, Rng& rng,
                             Bytes* out = nullptr) {
  Bytes b;
  c.compress(x, rng, b);
  std::vector<float> y(x.size(), 123.0f);
  Decompress(b, y);
  if (out) *out = b;
  return y;
}

double RelError(std::span<const float> x, std::span<const float> y) {
  double e = 0, s = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    e += (x[i] - y[i]) * double(x[i] - y[i]);
    s += x[i] * double(x[i]);
  }
  return e / s;
}

// Table-driven: every compressor round-trips with at most its documented error.
struct Case {
  std::string name;
  CompressorOptions o;
  double max_rel_error;  // E||Q(x) - x||^2 / ||x||^2 bound for Gaussian x
  bool index_free;       // payload carries no index block
};

// A compressor registered from outside (as examples/cpp/own_plugins.cc does) is made by name;
// a name already taken is refused.
TEST(Compressors, RegisteredFromOutside) {
  RegisterCompressor("test_dense_copy", "identity under another name",
                     [](const CompressorOptions& o) { return MakeCompressor("identity", o); });
  EXPECT_TRUE(CompressorRegistry().contains("test_dense_copy"));
  const auto c = MakeCompressor("test_dense_copy", {});
  std::vector<float> x = {1.0f, -2.0f, 3.5f}, y(3);
  Rng rng(1);
  Bytes payload;
  c->compress(x, rng, payload);
  Decompress(payload, y);
  EXPECT_EQ(x, y);
  EXPECT_TRUE(test_util::Contains(test_util::ErrorText<ConfigError>([] {
                                    RegisterCompressor("topk", "", [](const CompressorOptions& o) {
                                      return MakeCompressor("identity", o);
                                    });
                                  }),
                                  "RegisterCompressor: 'topk' is already a compressor"));
}

// An external payload (a Python compressor's) is decoded by the decoder registered under its
// name, sparse or dense; a payload of an unknown compressor, or a decoder's out-of-range index,
// is a ProtocolError before anything is written.
TEST(Compressors, ExternalPayloadsUseTheirRegisteredDecoder) {
  // Body: pairs (index u32, value f32).
  RegisterPayloadDecoder("test_pairs", [](std::span<const uint8_t> body, uint32_t n,
                                          std::vector<uint32_t>& idx, std::vector<float>& vals) {
    ByteReader in(body, "pairs");
    while (!in.done()) {
      idx.push_back(in.u32());
      vals.push_back(in.f32());
    }
    return false;
  });
  Bytes body;
  PutU32(body, 2);
  PutU32(body, std::bit_cast<uint32_t>(1.5f));
  PutU32(body, 0);
  PutU32(body, std::bit_cast<uint32_t>(-2.0f));
  Bytes payload;
  EncodeExternalPayload("test_pairs", 4, body, payload);
  EXPECT_EQ(InspectPayload(payload).format, Format::kExternal);
  std::vector<float> y = {9, 9, 9, 9};
  Decompress(payload, y);
  EXPECT_EQ(y, (std::vector<float>{-2.0f, 0, 1.5f, 0}));
  std::vector<float> acc = {1, 1, 1, 1};
  DecompressAdd(payload, 2.0f, acc);
  EXPECT_EQ(acc, (std::vector<float>{-3.0f, 1, 4.0f, 1}));
  // Dimension 2: index 2 is out of range.
  Bytes small;
  EncodeExternalPayload("test_pairs", 2, body, small);
  std::vector<float> z = {7, 7};
  EXPECT_TRUE(
      test_util::Contains(test_util::ErrorText<ProtocolError>([&] { Decompress(small, z); }),
                          "compressor 'test_pairs' decoded index 2 for dimension 2"));
  EXPECT_EQ(z, (std::vector<float>{7, 7}));
  Bytes unknown;
  EncodeExternalPayload("nobody", 4, body, unknown);
  EXPECT_TRUE(
      test_util::Contains(test_util::ErrorText<ProtocolError>([&] { Decompress(unknown, y); }),
                          "written by compressor 'nobody', whose decoder"));
  RegisterPayloadDecoder("test_pairs", {});
  EXPECT_THROW(Decompress(payload, y), ProtocolError);
}

TEST(Compressors, RoundTripWithinTheirError) {
  CompressorOptions topk;
  topk.ratio = 0.1;
  CompressorOptions qsgd;
  qsgd.levels = 16;
  CompressorOptions chunked = topk;
  chunked.chunk = 300;
  const std::vector<Case> table = {
      {"identity", {}, 0.0, true},
      {"fp16", {}, 1e-6, true},
      {"bf16", {}, 3e-5, true},
      {"topk", topk, 0.9 - 0.1, false},  // top 10% of a Gaussian holds ~40% of the energy
      {"topk", chunked, 0.9 - 0.1, false},
      // Biased random-k keeps k/n of the energy in expectation; one draw of 100 of 1000
      // Gaussian coordinates deviates by a few percent.
      {"randomk", topk, 0.95, true},
      {"threshold", {}, 1e-6, false},  // threshold 1e-3 keeps nearly everything
      {"sign", {}, 1.0 - 2.0 / M_PI + 0.02, true},
      {"qsgd", qsgd, 1.0, true},
      {"topk_quant", topk, 0.9 - 0.1, false},
  };
  const std::vector<float> x = Gaussian(1000, 5);
  for (const Case& c : table) {
    auto comp = MakeCompressor(c.name, c.o);
    Rng rng(1);
    Bytes b;
    const auto y = RoundTrip(*comp, x, rng, &b);
    EXPECT_LE(RelError(x, y), c.max_rel_error + 1e-9) << c.name;
    const PayloadInfo info = InspectPayload(b);
    EXPECT_EQ(info.n, 1000u);
    if (c.index_free) {
      EXPECT_EQ(info.index_bytes, 0u) << c.name;
    }
  }
}

// With the AVX-512 kernels, with AVX2 only and without either (chosen at run time), every
// compressor writes the same bytes: sign bits and scales, QSGD norms and codes, bf16, over
// lengths with and without a tail.
TEST(Compressors, Avx2KernelsGiveTheBaselineBytes) {
  if (!kernels::HasAvx2()) GTEST_SKIP() << "this CPU has no AVX2";
  CompressorOptions chunked;
  chunked.chunk = 777;
  CompressorOptions qsgd;
  qsgd.levels = 16;
  CompressorOptions qsgd_chunked = qsgd;  // segments end inside 16-value steps and blocks
  qsgd_chunked.chunk = 777;
  qsgd_chunked.levels = 5;
  // 6-bit codes (the widest packed in registers), 8-bit codes with 15 random bits, and the
  // largest s with 1 random bit: the unfused AVX2 path.
  CompressorOptions qsgd31 = qsgd, qsgd100 = qsgd, qsgd_max = qsgd;
  qsgd31.levels = 31;
  qsgd100.levels = 100;
  qsgd_max.levels = 1 << 20;
  std::vector<std::pair<std::string, CompressorOptions>> cases = {
      {"sign", {}},           {"sign", chunked}, {"qsgd", qsgd},
      {"qsgd", qsgd_chunked}, {"qsgd", qsgd31},  {"qsgd", qsgd100},
      {"qsgd", qsgd_max},     {"bf16", {}},      {"topk", chunked}};
  // Every code width of the fused kernels: s = 1, 2, 4, 8 give 2, 3, 4, 5 bits (odd widths
  // take the AVX-512 kernel's 64-bit merge, even ones skip it).
  for (int s : {1, 2, 4, 8}) {
    CompressorOptions o = qsgd;
    o.levels = s;
    cases.emplace_back("qsgd", o);
  }
  for (size_t n : {1, 63, 64, 1000, 4099, 20000, 100003})
    for (const auto& [name, o] : cases) {
      std::vector<float> x = Gaussian(n, n + 1);
      // Non-finite values: sign and qsgd refuse them (the same error on every path), bf16 and
      // topk write the same bytes.
      const bool non_finite = n == 4099 || n == 20000;
      if (n == 4099) x[100] = std::numeric_limits<float>::infinity();
      if (n == 20000) x[7] = std::numeric_limits<float>::quiet_NaN();
      auto comp = MakeCompressor(name, o);
      auto compress = [&] {  // the bytes, and the error text ("<no error>" if none)
        Bytes b;
        Rng rng(3);
        std::string error = test_util::ErrorText([&] { comp->compress(x, rng, b); });
        return std::make_pair(b, error);
      };
      const auto with = compress();  // AVX-512 kernels where this CPU has them
      kernels::SetAvx512ForTesting(false);
      const auto avx2_only = compress();
      kernels::SetAvx512ForTesting(true);
      kernels::SetAvx2ForTesting(false);
      const auto without = compress();
      kernels::SetAvx2ForTesting(true);
      EXPECT_EQ(with, without) << name << " s=" << o.levels << " n=" << n;
      EXPECT_EQ(avx2_only, without) << name << " s=" << o.levels << " n=" << n;
      EXPECT_EQ(without.second == "<no error>", !(non_finite && (name == "sign" || name == "qsgd")))
          << name << " n=" << n << ": " << without.second;
    }
}

TEST(Compressors, PayloadSizes) {
  const std::vector<float> x = Gaussian(1024, 2);
  Rng rng(1);
  CompressorOptions o;
  Bytes b;
  MakeCompressor("identity", o)->compress(x, rng, b);
  EXPECT_EQ(b.size(), 10u + 1 + 4 * 1024);
  b.clear();
  MakeCompressor("fp16", o)->compress(x, rng, b);
  EXPECT_EQ(b.size(), 10u + 1 + 2 * 1024);
  b.clear();
  MakeCompressor("sign", o)->compress(x, rng, b);
  EXPECT_EQ(b.size(), 10u + 4 + 8 + 1024 / 8);  // one segment: length + scale
  b.clear();
  o.ratio = 0.01;  // k = 11
  MakeCompressor("randomk", o)->compress(x, rng, b);
  EXPECT_EQ(b.size(), 10u + 8 + 4 + 8 + 1 + 4 * 11);  // seed, segments, values: no indices
  b.clear();
  o.levels = 7;  // 1 sign bit + 3 level bits
  MakeCompressor("qsgd", o)->compress(x, rng, b);
  EXPECT_EQ(b.size(), 10u + 4 + 1 + 4 + 8 + 1024 * 4 / 8);
}

TEST(TopK, PicksExactlyTheLargestMagnitudesWithDeterministicTies) {
  const std::vector<float> x = {0.5f, -3.0f, 2.0f, -2.0f, 0.0f, 2.0f, 1.0f, -0.25f};
  std::vector<uint32_t> idx;
  TopKIndices(x, 1, 0, idx);
  EXPECT_EQ(idx, (std::vector<uint32_t>{1}));
  idx.clear();
  TopKIndices(x, 3, 0, idx);  // |2| three times: the lower indices 2 and 3 win
  EXPECT_EQ(idx, (std::vector<uint32_t>{1, 2, 3}));
  idx.clear();
  TopKIndices(x, 8, 10, idx);
  EXPECT_EQ(idx.size(), 8u);
  EXPECT_EQ(idx.front(), 10u);
  // Against a brute-force reference on random data, many sizes.
  for (size_t n : {1, 2, 17, 1000, 4099}) {
    const auto v = Gaussian(n, n);
    for (uint32_t k :
         {uint32_t{0}, uint32_t{1}, static_cast<uint32_t>(n / 3), static_cast<uint32_t>(n)}) {
      std::vector<uint32_t> ref(n);
      std::iota(ref.begin(), ref.end(), 0);
      std::stable_sort(ref.begin(), ref.end(),
                       [&](uint32_t a, uint32_t b) { return std::abs(v[a]) > std::abs(v[b]); });
      ref.resize(k);
      std::sort(ref.begin(), ref.end());
      std::vector<uint32_t> got;
      TopKIndices(v, k, 0, got);
      EXPECT_EQ(got, ref) << "n=" << n << " k=" << k;
    }
  }
  // All equal magnitudes: the first k indices.
  std::vector<float> flat(100, -1.0f);
  idx.clear();
  TopKIndices(flat, 10, 0, idx);
  for (uint32_t i = 0; i < 10; ++i) EXPECT_EQ(idx[i], i);
}

std::vector<uint32_t> ReferenceTopK(const std::vector<float>& v, uint32_t k) {
  std::vector<uint32_t> ref(v.size());
  std::iota(ref.begin(), ref.end(), 0);
  std::stable_sort(ref.begin(), ref.end(),
                   [&](uint32_t a, uint32_t b) { return std::abs(v[a]) > std::abs(v[b]); });
  ref.resize(k);
  std::sort(ref.begin(), ref.end());
  return ref;
}

// Large inputs take the sampled-threshold path; check it, its tie handling, and the exact
// fallback when the sample overestimates the threshold.
TEST(TopK, SampledPathIsExact) {
  const auto g = Gaussian(200000, 3);
  for (uint32_t k : {1u, 200u, 2000u, 20000u}) {
    std::vector<uint32_t> got;
    TopKIndices(g, k, 5, got);
    auto ref = ReferenceTopK(g, k);
    for (auto& r : ref) r += 5;
    EXPECT_EQ(got, ref) << "k=" << k;
  }
  // Many exact ties at the threshold: quantised values.
  std::vector<float> q(100000);
  for (size_t i = 0; i < q.size(); ++i) q[i] = static_cast<float>(static_cast<int>(g[i] * 2)) / 2;
  std::vector<uint32_t> got;
  TopKIndices(q, 3000, 0, got);
  EXPECT_EQ(got, ReferenceTopK(q, 3000));
  // Large values exactly on the sampled positions (stride n / (n / 64) = 64) fool the sample into
  // a threshold above the k-th value: the fallback must still be exact.
  std::vector<float> trap(100000, 1.0f);
  for (size_t i = 0; i < trap.size(); i += 64) trap[i] = 100.0f;
  for (size_t i = 1; i < trap.size(); i += 7) trap[i] = 2.0f + static_cast<float>(i % 13);
  got.clear();
  TopKIndices(trap, 5000, 0, got);
  EXPECT_EQ(got, ReferenceTopK(trap, 5000));
}

// The top-k filter kernel: every index whose magnitude key reaches t, in order, for hit rates
// that take each of its variants (skip empty steps, 4 or 8 unconditional writes, the loop for
// crowded steps), with and without AVX2; SIZE_MAX once the count passes the cap.
TEST(TopK, FilterKernelFindsEveryHitInOrder) {
  auto g = Gaussian(10007, 6);  // not a multiple of the 32-value step
  // Runs of large values crowd some steps with more hits than the unconditional writes.
  for (size_t i = 3000; i < 3100; ++i) g[i] = 50.0f + static_cast<float>(i % 7);
  const auto* bits = reinterpret_cast<const uint32_t*>(g.data());
  for (double share : {0.001, 0.01, 0.05, 0.3}) {
    std::vector<float> mags(g.size());
    for (size_t i = 0; i < g.size(); ++i) mags[i] = std::abs(g[i]);
    std::nth_element(mags.begin(), mags.begin() + static_cast<size_t>(share * g.size()), mags.end(),
                     std::greater<>());
    const uint32_t t = std::bit_cast<uint32_t>(mags[static_cast<size_t>(share * g.size())]);
    std::vector<uint32_t> want;
    for (uint32_t i = 0; i < g.size(); ++i)
      if ((bits[i] & 0x7fffffffu) >= t) want.push_back(i);
    for (bool avx2 : {true, false}) {
      kernels::SetAvx2ForTesting(avx2);
      for (double hint : {0.001, 0.01, 0.1}) {
        std::vector<uint32_t> got(g.size() + 64);
        const size_t count =
            kernels::FilterKeysAtLeast(bits, g.size(), t, got.data(), g.size(), hint);
        ASSERT_EQ(count, want.size()) << "share " << share << " hint " << hint;
        got.resize(count);
        EXPECT_EQ(got, want) << "share " << share << " hint " << hint << " avx2 " << avx2;
        EXPECT_EQ(kernels::FilterKeysAtLeast(bits, g.size(), t, got.data(), want.size() / 2, hint),
                  SIZE_MAX);
      }
    }
    kernels::SetAvx2ForTesting(true);
  }
}

// Small values exactly on the sampled positions make the sampled threshold far too low: the
// filter passes almost everything, stops at its cap, and the radix select gives the result.
TEST(TopK, SampleBelowTheThresholdFallsBackExactly) {
  auto g = Gaussian(100000, 7);
  for (size_t i = 0; i < g.size(); i += 64) g[i] = 1e-6f;
  std::vector<uint32_t> got;
  TopKIndices(g, 1000, 0, got);
  EXPECT_EQ(got, ReferenceTopK(g, 1000));
}

// Large k on large inputs goes to the radix select (branch-free split around the boundary
// bucket, the bucket's k-th key, ties to the lower index, merge): Gaussian and heavily tied
// (quantised) values, with an offset.
TEST(TopK, RadixPathIsExactAtLargeK) {
  const auto g = Gaussian(300000, 4);
  std::vector<float> q(g.size());
  for (size_t i = 0; i < q.size(); ++i) q[i] = static_cast<float>(static_cast<int>(g[i] * 4)) / 4;
  const std::vector<float>* inputs[] = {&g, &q};
  for (const std::vector<float>* v : inputs)
    for (double share : {0.1, 0.2, 0.3, 0.5, 0.9}) {
      const auto k = static_cast<uint32_t>(share * static_cast<double>(v->size()));
      std::vector<uint32_t> got = {42};  // appended after what is there
      TopKIndices(*v, k, 3, got);
      auto ref = ReferenceTopK(*v, k);
      for (auto& r : ref) r += 3;
      ref.insert(ref.begin(), 42);
      EXPECT_EQ(got, ref) << (v == &g ? "gaussian" : "quantised") << " k/n=" << share;
    }
}

TEST(RandomK, SeededIndicesAreSortedDistinctAndReproducible) {
  for (uint32_t k : {0u, 1u, 50u, 99u, 100u}) {
    std::vector<uint32_t> a, b;
    SeededIndices(42, 100, k, a);
    SeededIndices(42, 100, k, b);
    EXPECT_EQ(a, b);
    EXPECT_EQ(a.size(), k);
    for (size_t i = 1; i < a.size(); ++i) EXPECT_LT(a[i - 1], a[i]);
    if (!a.empty()) {
      EXPECT_LT(a.back(), 100u);
    }
  }
}

// E[Q(x)] == x for the unbiased compressors. With T trials the mean's error per coordinate
// has std sigma/sqrt(T); the tolerance is 5 of those, sigma from the compressor's variance.
TEST(Compressors, UnbiasedInExpectation) {
  const std::vector<float> x = {0.8f, -0.3f, 0.05f, 1.2f, -0.9f, 0.4f, 0.0f, -0.15f};
  const int trials = 40000;
  struct U {
    std::string name;
    CompressorOptions o;
    double sigma;  // per-coordinate std bound of Q(x)
  };
  CompressorOptions rk;
  rk.ratio = 0.25;  // k = 2 of 8; unbiased: values scaled by 4
  rk.unbiased = true;
  CompressorOptions q;
  q.levels = 2;
  q.unbiased = true;
  double norm = 0;
  for (float v : x) norm += v * v;
  norm = std::sqrt(norm);
  const std::vector<U> table = {{"randomk", rk, 1.2 * std::sqrt(3.0)},  // |x|max * sqrt(n/k - 1)
                                {"qsgd", q, norm / 2}};                 // one level = norm/s
  for (const U& u : table) {
    auto c = MakeCompressor(u.name, u.o);
    Rng rng(9);
    std::vector<double> mean(x.size(), 0.0);
    for (int t = 0; t < trials; ++t) {
      const auto y = RoundTrip(*c, x, rng);
      for (size_t i = 0; i < x.size(); ++i) mean[i] += y[i] / trials;
    }
    const double tol = 5 * u.sigma / std::sqrt(double(trials));
    for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(mean[i], x[i], tol) << u.name << " " << i;
  }
  // QSGD on 128 values (whole 64-code groups: the AVX2 path quantises and packs in
  // registers): x tiled 16 times, s = 4.
  std::vector<float> tiled;
  for (int r = 0; r < 16; ++r) tiled.insert(tiled.end(), x.begin(), x.end());
  q.levels = 4;
  auto c = MakeCompressor("qsgd", q);
  Rng rng(10);
  std::vector<double> mean(tiled.size(), 0.0);
  for (int t = 0; t < trials / 4; ++t) {
    const auto y = RoundTrip(*c, tiled, rng);
    for (size_t i = 0; i < y.size(); ++i) mean[i] += y[i] / (trials / 4);
  }
  const double tol = 5 * (4 * norm / 4) / std::sqrt(trials / 4.0);  // one level = 4 norm / s
  for (size_t i = 0; i < tiled.size(); ++i) EXPECT_NEAR(mean[i], tiled[i], tol) << i;
}

TEST(Sign, SegmentsAcrossChunkBoundaries) {
  const auto x = Gaussian(10000, 8);
  CompressorOptions o;
  o.segments = {100, 4000, 5900};  // boundaries inside the 4096-value chunks
  Rng rng(1);
  const auto y = RoundTrip(*MakeCompressor("sign", o), x, rng);
  size_t start = 0;
  for (uint32_t len : o.segments) {
    double l1 = 0;
    for (size_t i = start; i < start + len; ++i) l1 += std::abs(x[i]);
    for (size_t i = start; i < start + len; ++i)
      ASSERT_FLOAT_EQ(y[i], (x[i] < 0 ? -1 : 1) * static_cast<float>(l1 / len)) << i;
    start += len;
  }
}

TEST(Sign, ScaleIsMeanAbsolutePerSegment) {
  const std::vector<float> x = {1.0f, -3.0f, 2.0f, 0.5f, -0.5f};
  CompressorOptions o;
  o.segments = {3, 2};
  Rng rng(1);
  const auto y = RoundTrip(*MakeCompressor("sign", o), x, rng);
  EXPECT_EQ(y, (std::vector<float>{2.0f, -2.0f, 2.0f, 0.5f, -0.5f}));
}

// A code is the rounded level x s / norm offset by s, in [0, 2s]: exact levels round to
// themselves whatever the random bits, zero is s, and the decoder rejects codes above 2s.
TEST(Qsgd, CodesAreRoundedLevelsOffsetByS) {
  const std::vector<float> x = {3.0f, -4.0f, 0.0f, -0.0f};  // norm 5
  CompressorOptions o;
  o.levels = 5;  // levels 3, -4, 0, 0: codes 8, 1, 5, 5 in bit_width(10) = 4 bits each
  o.unbiased = true;
  auto c = MakeCompressor("qsgd", o);
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Rng rng(seed);
    Bytes b;
    c->compress(x, rng, b);
    ASSERT_GE(b.size(), 2u);
    EXPECT_EQ(b[b.size() - 2], 0x18) << "codes 8 and 1";
    EXPECT_EQ(b[b.size() - 1], 0x55) << "codes 5 and 5";
    std::vector<float> y(4);
    Decompress(b, y);
    EXPECT_EQ(y, (std::vector<float>{3.0f, -4.0f, 0.0f, 0.0f}));
    b.back() = 0xB5;  // codes 5 and 11 > 2s
    EXPECT_TRUE(test_util::Contains(test_util::ErrorText<ProtocolError>([&] { Decompress(b, y); }),
                                    "qsgd code 11 above 2 s = 10"));
  }
}

TEST(Qsgd, BiasedScalingShrinksByTau) {
  const std::vector<float> x = {3.0f, 4.0f};  // norm 5
  CompressorOptions o;
  o.levels = 1;
  auto c = MakeCompressor("qsgd", o);
  const double tau = 1.0 + std::min(2.0, std::sqrt(2.0));
  Rng rng(3);
  for (int t = 0; t < 50; ++t) {
    const auto y = RoundTrip(*c, x, rng);
    for (float v : y) EXPECT_TRUE(v == 0.0f || std::abs(v - 5.0 / tau) < 1e-5) << v;
  }
}

// Values whose squares overflow float (|x| > ~1.8e19) still have a finite norm: QSGD and sign
// fall back to double sums and decode to finite values of the right size. A NaN or infinity
// is refused on the sending side, naming the coordinate.
TEST(Compressors, HugeFiniteValuesCompressAndNonFiniteOnesAreRefused) {
  std::vector<float> x = Gaussian(5000, 4);
  for (float& v : x) v *= 1e30f;  // squares near 1e60
  CompressorOptions o;
  o.levels = 4;
  o.unbiased = true;
  o.chunk = 1000;
  Rng rng(5);
  for (const char* name : {"qsgd", "sign"}) {
    const auto y = RoundTrip(*MakeCompressor(name, o), x, rng);
    double norm_x = 0, norm_y = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_TRUE(std::isfinite(y[i])) << name << " " << i;
      norm_x += double(x[i]) * x[i];
      norm_y += double(y[i]) * y[i];
    }
    EXPECT_GT(norm_y, 0.1 * norm_x) << name;
    EXPECT_LT(norm_y, 10 * norm_x) << name;
  }
  // Sign's float sums overflow only where a 4096-value block adds up past 3.4e38: values of
  // +-3e35 take the double sums, and the scale is their mean |x|, 3e35.
  std::vector<float> big(4096, 3e35f);
  big[1] = -3e35f;
  const auto y = RoundTrip(*MakeCompressor("sign", {}), big, rng);
  EXPECT_FLOAT_EQ(y[0], 3e35f);
  EXPECT_FLOAT_EQ(y[1], -3e35f);
  for (const char* name : {"qsgd", "sign"}) {
    x[1234] = std::numeric_limits<float>::quiet_NaN();
    Bytes b;
    EXPECT_TRUE(test_util::Contains(
        test_util::ErrorText([&] { MakeCompressor(name, o)->compress(x, rng, b); }),
        std::string(name) + ": cannot compress a vector holding nan (coordinate 1234)"));
    x[1234] = -std::numeric_limits<float>::infinity();
    EXPECT_TRUE(test_util::Contains(
        test_util::ErrorText([&] { MakeCompressor(name, o)->compress(x, rng, b); }),
        "holding -inf (coordinate 1234)"));
  }
}

TEST(Compressors, DecompressAddAccumulatesOnlyCarriedCoordinates) {
  const std::vector<float> x = {0.0f, 5.0f, 0.0f, -1.0f};
  CompressorOptions o;
  o.ratio = 0.25;
  Bytes b;
  Rng rng(1);
  MakeCompressor("topk", o)->compress(x, rng, b);
  std::vector<float> acc = {1.0f, 1.0f, 1.0f, 1.0f};
  DecompressAdd(b, 0.5f, acc);
  EXPECT_EQ(acc, (std::vector<float>{1.0f, 3.5f, 1.0f, 1.0f}));
}

TEST(Compressors, DecompressAddDifferenceWeighsOnlyTheCarriedChanges) {
  // The fill-in rule: out += w (fill - base) where fill is base with the payload's values.
  const std::vector<float> base = {1.0f, 2.0f, 3.0f, 4.0f};
  Bytes sparse;
  EncodeSparsePayload(std::vector<uint32_t>{1, 3}, std::vector<float>{6.0f, 0.0f}, 4,
                      IndexCodec::kAuto, {}, nullptr, sparse);
  std::vector<float> out = {10.0f, 10.0f, 10.0f, 10.0f};
  DecompressAddDifference(sparse, 0.5f, base, out);
  EXPECT_EQ(out, (std::vector<float>{10.0f, 12.0f, 10.0f, 8.0f}));
  Bytes dense;
  EncodeDensePayload(std::vector<float>{0.0f, 0.0f, 0.0f, 0.0f}, {}, nullptr, dense);
  DecompressAddDifference(dense, 1.0f, base, out);
  EXPECT_EQ(out, (std::vector<float>{9.0f, 10.0f, 7.0f, 4.0f}));
}

TEST(Compressors, OptionErrors) {
  CompressorOptions o;
  o.ratio = 0.0;
  EXPECT_THROW(MakeCompressor("topk", o), ConfigError);
  o.ratio = 1.5;
  EXPECT_THROW(MakeCompressor("randomk", o), ConfigError);
  o = {};
  o.levels = 0;
  EXPECT_THROW(MakeCompressor("qsgd", o), ConfigError);
  EXPECT_THROW(MakeCompressor("zip", {}), ConfigError);
  o = {};
  o.segments = {3, 3};
  Rng rng(1);
  Bytes b;
  EXPECT_THROW(MakeCompressor("sign", o)->compress(std::vector<float>(5), rng, b), ConfigError);
}

// Every truncation and many single-byte corruptions of valid payloads are rejected or
// decode to something of the right size; nothing crashes or writes out of bounds.
TEST(Compressors, MalformedPayloadsAreRejectedCleanly) {
  const std::vector<float> x = Gaussian(200, 4);
  CompressorOptions o;
  o.ratio = 0.05;
  o.chunk = 64;
  for (const auto& name : CompressorRegistry().names()) {
    Bytes b;
    Rng rng(2);
    MakeCompressor(name, o)->compress(x, rng, b);
    std::vector<float> out(200, 7.0f);
    for (size_t len = 0; len < b.size(); ++len) {
      const std::vector<float> before = out;
      EXPECT_THROW(Decompress(std::span<const uint8_t>(b.data(), len), out), ProtocolError)
          << name << " truncated to " << len;
      EXPECT_EQ(out, before) << "a rejected payload must not touch the output";
    }
    Bytes longer = b;
    longer.push_back(0);
    EXPECT_THROW(Decompress(longer, out), ProtocolError) << name;
    std::vector<float> wrong(199);
    EXPECT_THROW(Decompress(b, wrong), ProtocolError) << name;
    for (size_t pos = 0; pos < std::min<size_t>(b.size(), 64); ++pos)
      for (uint8_t flip : {0x01, 0x80, 0xff}) {
        Bytes c = b;
        c[pos] ^= flip;
        try {
          Decompress(c, out);
        } catch (const ProtocolError&) {
        }
      }
  }
  Bytes version = {static_cast<uint8_t>(Format::kDense), 9, 1, 0, 0, 0, 1, 0, 0, 0};
  std::vector<float> one(1);
  EXPECT_THROW(Decompress(version, one), ProtocolError);
}

}  // namespace
}  // namespace murmur::compress
