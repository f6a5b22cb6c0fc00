#include "murmur/compress/wavelet.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "compress/kernels.h"
#include "murmur/core/check.h"
#include "murmur/core/rng.h"

namespace murmur::compress {
namespace {

// Golden vectors from PyWavelets (tests/compress/make_golden.py).
TEST(Wavelet, MatchesPyWavelets) {
  const std::filesystem::path dir =
      std::filesystem::path(MURMUR_SOURCE_DIR) / "tests/compress/golden";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path());
    size_t n;
    int level;
    std::string name;
    in >> n >> level >> name;
    std::vector<float> x(n);
    for (float& v : x) in >> v;
    WaveletTransform t(name, n, level);
    std::vector<double> expected(t.coefficient_count());
    for (double& v : expected) in >> v;
    ASSERT_TRUE(in.good()) << entry.path() << ": fixture shorter than the planned coefficients";
    double extra;
    EXPECT_FALSE(in >> extra) << entry.path() << ": fixture longer than the planned coefficients";
    std::vector<float> c(t.coefficient_count());
    t.forward(x, c);
    for (size_t i = 0; i < c.size(); ++i)
      ASSERT_NEAR(c[i], expected[i], 1e-5 * std::max(1.0, std::abs(expected[i])))
          << entry.path().filename() << " coefficient " << i;
    std::vector<float> back(n);
    t.inverse(c, back);
    for (size_t i = 0; i < n; ++i) ASSERT_NEAR(back[i], x[i], 1e-5) << entry.path().filename();
    ++files;
  }
  EXPECT_GE(files, 10);
}

TEST(Wavelet, PerfectReconstructionAllWaveletsAndLengths) {
  Rng rng(1);
  for (const auto& name : WaveletNames())
    for (size_t n : {1, 2, 3, 5, 8, 31, 64, 1001})
      for (int level : {0, 1, 2, 4}) {
        std::vector<float> x(n);
        for (float& v : x) v = static_cast<float>(rng.normal());
        WaveletTransform t(name, n, level);
        std::vector<float> c(t.coefficient_count()), back(n);
        t.forward(x, c);
        t.inverse(c, back);
        double err = 0, norm = 0;
        for (size_t i = 0; i < n; ++i) {
          err += (back[i] - x[i]) * double(back[i] - x[i]);
          norm += x[i] * double(x[i]);
        }
        EXPECT_LT(std::sqrt(err / norm), 1e-5) << name << " n=" << n << " level=" << level;
      }
}

// One forward level straight from the definition, in double: the kernels compute the
// interior in chunks of 1,024 outputs and 8 lanes, which the golden files are too short to
// cross.
std::vector<double> DirectLevel(const std::vector<double>& x, const std::vector<double>& filter) {
  const int64_t n = static_cast<int64_t>(x.size()), f = static_cast<int64_t>(filter.size());
  std::vector<double> out((n + f - 1) / 2);
  for (int64_t o = 0; o < static_cast<int64_t>(out.size()); ++o)
    for (int64_t j = 0; j < f; ++j) {
      int64_t m = (2 * o + 1 - j) % (2 * n);
      if (m < 0) m += 2 * n;
      out[o] += filter[j] * x[m < n ? m : 2 * n - 1 - m];
    }
  return out;
}

// One inverse level from the definition, in double: x[i] = sum_j rlo[j] up(a)[i + F - 2 - j]
// + rhi[j] up(d)[i + F - 2 - j] (up() puts a zero after every value), cut to n values.
std::vector<double> DirectInverseLevel(const std::vector<float>& a, const std::vector<float>& d,
                                       const std::vector<double>& lo, const std::vector<double>& hi,
                                       size_t n) {
  const int64_t f = static_cast<int64_t>(lo.size()), len = static_cast<int64_t>(a.size());
  std::vector<double> out(n);
  for (int64_t i = 0; i < static_cast<int64_t>(n); ++i)
    for (int64_t j = 0; j < f; ++j) {
      const int64_t m = i + f - 2 - j;
      if (m < 0 || m % 2 || m / 2 >= len) continue;
      // Reconstruction filters are the decomposition filters reversed.
      out[i] += lo[f - 1 - j] * a[m / 2] + hi[f - 1 - j] * d[m / 2];
    }
  return out;
}

TEST(Wavelet, LongSignalsMatchTheDefinition) {
  // Decomposition filters of two banks (PyWavelets' dec_lo / dec_hi).
  const std::vector<std::pair<std::string, std::vector<double>>> lows = {
      {"sym2", {-0.12940952255092145, 0.22414386804185735, 0.836516303737469, 0.48296291314469025}},
      {"haar", {0.7071067811865476, 0.7071067811865476}}};
  Rng rng(5);
  for (const auto& [name, lo] : lows) {
    std::vector<double> hi(lo.size());
    for (size_t j = 0; j < lo.size(); ++j) hi[j] = (j % 2 ? 1.0 : -1.0) * lo[lo.size() - 1 - j];
    for (size_t n : {2047, 2048, 4111, 9000}) {
      std::vector<float> x(n);
      for (float& v : x) v = static_cast<float>(rng.normal());
      WaveletTransform t(name, n, 2);
      std::vector<float> c(t.coefficient_count());
      t.forward(x, c);
      const std::vector<double> x0(x.begin(), x.end());
      const auto a1 = DirectLevel(x0, lo), d1 = DirectLevel(x0, hi);
      const auto a2 = DirectLevel(a1, lo), d2 = DirectLevel(a1, hi);
      std::vector<double> expected = a2;
      expected.insert(expected.end(), d2.begin(), d2.end());
      expected.insert(expected.end(), d1.begin(), d1.end());
      ASSERT_EQ(expected.size(), c.size());
      for (size_t i = 0; i < c.size(); ++i)
        ASSERT_NEAR(c[i], expected[i], 1e-5 * std::max(1.0, std::abs(expected[i])))
            << name << " n=" << n << " coefficient " << i;
      // One inverse level of random coefficients (not a transform's: every output then
      // depends on the kernel's arithmetic, not only on perfect reconstruction).
      WaveletTransform one(name, n, 1);
      std::vector<float> r(one.coefficient_count()), back(n);
      for (float& v : r) v = static_cast<float>(rng.normal());
      one.inverse(r, back);
      const size_t half = one.block_lengths()[0];
      const auto want =
          DirectInverseLevel(std::vector<float>(r.begin(), r.begin() + half),
                             std::vector<float>(r.begin() + half, r.end()), lo, hi, n);
      for (size_t i = 0; i < n; ++i)
        ASSERT_NEAR(back[i], want[i], 1e-5 * std::max(1.0, std::abs(want[i])))
            << name << " n=" << n << " inverse output " << i;
    }
  }
}

// The AVX2 and AVX-512 kernels (used when the CPU has them) must give the bits of the
// baseline ones, so runs agree between machines with and without them.
TEST(Wavelet, VectorKernelsGiveTheBaselineBits) {
  if (!kernels::HasAvx2()) GTEST_SKIP() << "this CPU has no AVX2";
  const bool avx512 = kernels::HasAvx512Vl();
  Rng rng(9);
  for (const auto& name : WaveletNames())
    for (size_t n : {1, 7, 8, 17, 100, 1030, 5000})
      for (int level : {1, 3, 5}) {
        std::vector<float> x(n);
        for (float& v : x) v = static_cast<float>(rng.normal());
        WaveletTransform t(name, n, level);
        auto run = [&](bool use_avx2, bool use_avx512) {
          kernels::SetAvx2ForTesting(use_avx2);
          kernels::SetAvx512ForTesting(use_avx512);
          std::vector<float> c(t.coefficient_count()), back(n);
          t.forward(x, c);
          // The inverse of one fixed set of coefficients, so a difference shows where it is.
          std::vector<float> fixed(t.coefficient_count());
          for (size_t i = 0; i < fixed.size(); ++i) fixed[i] = x[i % n] + 0.25f * (i % 7);
          t.inverse(fixed, back);
          kernels::SetAvx2ForTesting(true);
          kernels::SetAvx512ForTesting(true);
          return std::pair{c, back};
        };
        const auto base = run(false, false);
        for (auto [use_avx2, use_avx512] : {std::pair{true, false}, std::pair{true, true}}) {
          if (use_avx512 && !avx512) continue;
          const auto got = run(use_avx2, use_avx512);
          const char* what = use_avx512 ? "AVX-512" : "AVX2";
          ASSERT_EQ(0, std::memcmp(got.first.data(), base.first.data(), base.first.size() * 4))
              << what << " forward " << name << " n=" << n << " level=" << level;
          ASSERT_EQ(0, std::memcmp(got.second.data(), base.second.data(), n * 4))
              << what << " inverse " << name << " n=" << n << " level=" << level;
        }
      }
}

TEST(Wavelet, SingleValueUsesOnlyTheExtension) {
  // n = 1: every tap is the reflected x[0]; pywt.wavedec([3], 'haar', level=1) = [[3 sqrt2], [0]].
  WaveletTransform t("haar", 1, 1);
  std::vector<float> x = {3.0f}, c(2, -1.0f);
  t.forward(x, c);
  EXPECT_NEAR(c[0], 3.0f * std::sqrt(2.0f), 1e-6);
  EXPECT_NEAR(c[1], 0.0f, 1e-6);
}

TEST(Wavelet, BlockLengthsFollowPyWavelets) {
  WaveletTransform t("sym2", 10, 2);  // 10 -> 6 -> 4: [cA2=4, cD2=4, cD1=6]
  EXPECT_EQ(t.block_lengths(), (std::vector<size_t>{4, 4, 6}));
  EXPECT_EQ(t.coefficient_count(), 14u);
}

TEST(Wavelet, Errors) {
  EXPECT_THROW(WaveletTransform("coif3", 10, 1), ConfigError);
  EXPECT_THROW(WaveletTransform("sym2", 0, 1), ConfigError);
  EXPECT_THROW(WaveletTransform("sym2", 10, -1), ConfigError);
  WaveletTransform t("haar", 8, 1);
  std::vector<float> x(7), c(8);
  EXPECT_THROW(t.forward(x, c), ConfigError);
}

}  // namespace
}  // namespace murmur::compress
