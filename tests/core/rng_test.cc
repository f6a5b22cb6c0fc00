#include "murmur/core/rng.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <set>

namespace murmur {
namespace {

TEST(Rng, SameSeedSameStream) {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    differs |= x != c.next();
  }
  EXPECT_TRUE(differs);
}

TEST(Rng, DerivedStreamsDifferByNodeAndPurpose) {
  std::set<uint64_t> seeds;
  for (uint64_t node = 0; node < 50; ++node)
    for (Stream s : {Stream::kModelInit, Stream::kShuffle, Stream::kTopology})
      seeds.insert(DeriveSeed(7, node, s));
  EXPECT_EQ(seeds.size(), 150u);
  EXPECT_EQ(DeriveSeed(7, 3, Stream::kShuffle), DeriveSeed(7, 3, Stream::kShuffle));
}

TEST(Rng, UniformIntInRangeAndRoughlyUniform) {
  Rng r(1);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i) {
    const uint64_t v = r.uniform_int(7);
    ASSERT_LT(v, 7u);
    ++counts[v];
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);
}

TEST(Rng, NormalAndGammaMoments) {
  Rng r(3);
  double s = 0, s2 = 0, g = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = r.normal();
    s += x;
    s2 += x * x;
    g += r.gamma(0.5);
  }
  EXPECT_NEAR(s / n, 0.0, 0.01);
  EXPECT_NEAR(s2 / n, 1.0, 0.02);
  EXPECT_NEAR(g / n, 0.5, 0.01);  // mean of Gamma(k, 1) is k
}

TEST(Rng, ShuffleIsPermutationAndDeterministic) {
  std::vector<int> a(100), b(100);
  std::iota(a.begin(), a.end(), 0);
  b = a;
  Rng r1(5), r2(5);
  r1.shuffle(std::span<int>(a));
  r2.shuffle(std::span<int>(b));
  EXPECT_EQ(a, b);
  std::vector<int> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_NE(a[0] + a[1] * 100, 0 + 1 * 100);
}

TEST(Rng, StateRoundTrips) {
  Rng a(9);
  a.next();
  Rng b(0);
  b.set_state(a.state());
  EXPECT_EQ(a.next(), b.next());
}

}  // namespace
}  // namespace murmur
