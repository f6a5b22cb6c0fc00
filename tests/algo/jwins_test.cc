// JWINS over the in-process transport.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "algo/harness.h"
#include "murmur/algo/jwins.h"
#include "murmur/compress/codecs.h"
#include "murmur/compress/wavelet.h"

namespace murmur::algo {
namespace {

using testing::Sim;
using testing::Topo;

auto Options(std::vector<double> alphas, const std::string& wavelet = "sym2", int level = 4) {
  return [=](AlgorithmContext& c) {
    JwinsOptions o;
    o.alpha_list = alphas;
    o.wavelet = wavelet;
    o.level = level;
    c.options = o;
  };
}

// Parses a CSV file of an algorithm's outputs into rows of cells.
std::vector<std::vector<std::string>> Csv(const Algorithm& a, const std::string& name) {
  for (const OutputFile& f : a.outputs()) {
    if (f.name != name) continue;
    std::vector<std::vector<std::string>> rows;
    std::istringstream in(f.content);
    std::string line;
    while (std::getline(in, line)) {
      rows.emplace_back();
      std::istringstream cells(line);
      std::string cell;
      while (std::getline(cells, cell, ',')) rows.back().push_back(cell);
    }
    return rows;
  }
  ADD_FAILURE() << "no output " << name;
  return {};
}

TEST(Jwins, FullSharingIsDpsgdWithTheSameWeights) {
  for (const char* topo : {"ring", "regular", "star"}) {
    ThreadPool pool(2);
    Sim jwins("jwins", Topo(topo, 10), 300, 1, Options({1.0}));
    Sim dpsgd("dpsgd", Topo(topo, 10), 300, 1, [](AlgorithmContext&) {});
    for (uint32_t r = 0; r < 6; ++r) {
      jwins.round(r, pool, /*perturb=*/true);
      dpsgd.round(r, pool, /*perturb=*/true);
      for (int i = 0; i < 10; ++i)
        for (int k = 0; k < 300; ++k)
          ASSERT_NEAR(jwins.x[i][k], dpsgd.x[i][k], 1e-5) << topo << " round " << r;
    }
    // Every coefficient went out every round from every node.
    const compress::WaveletTransform wt("sym2", 300, 4);
    const auto counts = Csv(*jwins.algorithm, "jwins_share_counts.csv");
    ASSERT_EQ(counts.size(), wt.coefficient_count() + 1);
    EXPECT_EQ(counts[1][1], "cA4");
    EXPECT_EQ(counts.back()[1], "cD1");
    for (size_t k = 1; k < counts.size(); ++k) ASSERT_EQ(counts[k][2], "60");
  }
}

// Three nodes on a triangle (Metropolis-Hastings weights 1/3), haar on 32 values (an
// orthogonal transform: 32 coefficients). Node j's training moves 8 coefficients S_j by
// large amounts, so its accumulator selects exactly S_j at alpha 0.25. Node i must end at
// IDWT(c_i + sum_j 1/3 (fill_j - c_i)), fill_j = c_i with c_j on S_j.
TEST(Jwins, ReceiverFillsUnsentCoefficientsWithItsOwn) {
  const int n = 3;
  const int64_t d = 32;
  const compress::WaveletTransform wt("haar", d, 2);
  ASSERT_EQ(wt.coefficient_count(), 32u);
  std::vector<float> x0(d);
  Rng rng(11);
  for (float& e : x0) e = static_cast<float>(rng.normal());
  Sim s("jwins", Topo("complete", n), d, 1, [&](AlgorithmContext& c) {
    Options({0.25}, "haar", 2)(c);
    c.initial_model = x0;
  });
  std::vector<std::vector<int>> sets = {
      {0, 3, 5, 9, 12, 20, 21, 30}, {1, 3, 6, 9, 14, 22, 25, 31}, {2, 4, 5, 10, 12, 23, 26, 28}};
  std::vector<std::vector<float>> c(n, std::vector<float>(d));
  for (int i = 0; i < n; ++i) {
    std::vector<float> delta(d, 0.0f), dx(d);
    for (size_t j = 0; j < sets[i].size(); ++j) delta[sets[i][j]] = 5.0f + j + i;
    wt.inverse(delta, dx);
    for (int64_t k = 0; k < d; ++k) s.x[i][k] = x0[k] + dx[k];
    wt.forward(s.x[i], c[i]);
  }
  ThreadPool pool(2);
  s.round(0, pool);
  for (int i = 0; i < n; ++i) {
    std::vector<float> total = c[i], expect(d);
    for (int j = 0; j < n; ++j) {
      if (j == i) continue;
      for (int k : sets[j]) total[k] += (c[j][k] - c[i][k]) / 3.0f;
    }
    wt.inverse(total, expect);
    for (int64_t k = 0; k < d; ++k) ASSERT_NEAR(s.x[i][k], expect[k], 1e-5) << i << " " << k;
  }
}

// A coefficient whose change is always small is never among the top alpha of |A| and keeps
// accumulating its changes; the ones sent restart from 0.
TEST(Jwins, UnselectedCoefficientKeepsAccumulating) {
  const int64_t d = 64;
  const int q = 5;
  const float eps = 1e-3f;
  const compress::WaveletTransform wt("haar", d, 2);
  const std::vector<float> x0(d, 0.5f);
  Sim s("jwins", Topo("chain", 2), d, 1, [&](AlgorithmContext& c) {
    Options({0.25}, "haar", 2)(c);
    c.initial_model = x0;
    auto o = c.options_or_default<JwinsOptions>();
    o.accumulate_averaging = false;
    o.save_accumulator = true;
    o.share_counts = JwinsOptions::ShareCounts::kPerNode;
    c.options = o;
  });
  for (auto& x : s.x) x = x0;
  ThreadPool pool(2);
  const int rounds = 20;
  for (int r = 0; r < rounds; ++r) {
    for (int i = 0; i < 2; ++i) {
      std::vector<float> delta(d), dx(d);
      Rng rng(r, i, Stream::kData);
      for (float& e : delta) e = static_cast<float>(rng.normal());
      delta[q] = eps;
      wt.inverse(delta, dx);
      for (int64_t k = 0; k < d; ++k) s.x[i][k] += dx[k];
    }
    s.round(r, pool);
  }
  const auto counts = Csv(*s.algorithm, "jwins_share_counts.csv");
  const auto acc = Csv(*s.algorithm, "jwins_accumulator.csv");
  ASSERT_EQ(counts[0].size(), 7u);  // coefficient, band, total, min, max, node_0, node_1
  EXPECT_EQ(counts[1 + q][2], "0");
  for (int i = 0; i < 2; ++i)
    EXPECT_NEAR(std::stod(acc[1 + q][1 + i]), rounds * eps, 1e-4) << "node " << i;
  // round(0.25 * 64) = 16 coefficients per node and round were sent.
  long total = 0;
  for (size_t k = 1; k < counts.size(); ++k) total += std::stol(counts[k][2]);
  EXPECT_EQ(total, 2 * rounds * 16);
}

TEST(Jwins, BytesOfFullAndPartialShares) {
  const int64_t d = 1000;
  const compress::WaveletTransform wt("sym2", d, 4);
  const size_t L = wt.coefficient_count();
  ThreadPool pool(2);
  Sim full("jwins", Topo("ring", 6), d, 1, Options({1.0}));
  full.round(0, pool, true);
  // Frame header + payload header (10) + f32 value block.
  const uint64_t dense = 32 + 10 + compress::EncodedValueBytes(L, compress::ValueOptions{});
  EXPECT_EQ(full.transport->counters(0).bytes_sent, 2 * dense);
  Sim part("jwins", Topo("ring", 6), d, 1, Options({0.1}));
  part.round(0, pool, true);
  const uint64_t k = static_cast<uint64_t>(std::round(0.1 * L));
  const uint64_t sent = part.transport->counters(0).bytes_sent / 2;
  EXPECT_GT(sent, 32 + 4 * k);                // values are lossless f32
  EXPECT_LT(sent, 32 + 10 + 4 * k + k + 32);  // indices cost about a byte each at 10%
}

TEST(Jwins, RejectsBadOptions) {
  EXPECT_THROW(Sim("jwins", Topo("ring", 4), 50, 1, Options({0.0})), ConfigError);
  EXPECT_THROW(Sim("jwins", Topo("ring", 4), 50, 1, Options({})), ConfigError);
  EXPECT_THROW(Sim("jwins", Topo("ring", 4), 50, 1, Options({0.1}, "db3")), ConfigError);
  graph::TopologyOptions star = Topo("star", 5);
  star.weights = "uniform";  // not doubly stochastic on a star
  EXPECT_THROW(Sim("jwins", star, 50, 1, Options({0.1})), ConfigError);
  EXPECT_THROW(
      Sim("jwins", Topo("ring", 4), 50, 1, [](AlgorithmContext& c) { c.compression = "topk"; }),
      ConfigError);
}

}  // namespace
}  // namespace murmur::algo
