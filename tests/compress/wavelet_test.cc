#include "murmur/compress/wavelet.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

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
