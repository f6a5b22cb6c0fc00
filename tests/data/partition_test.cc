#include "murmur/data/partition.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

namespace murmur::data {
namespace {

Dataset Labeled(int64_t n, int classes) {
  Dataset d;
  d.size = n;
  d.num_classes = classes;
  d.features.assign(n, 0.0f);
  for (int64_t i = 0; i < n; ++i) d.labels.push_back(static_cast<uint8_t>((i * 7) % classes));
  return d;
}

void ExpectDisjointCover(const std::vector<std::vector<int64_t>>& parts, int64_t n) {
  std::vector<int> seen(n, 0);
  for (auto& p : parts)
    for (int64_t i : p) ++seen[i];
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(seen[i], 1) << "sample " << i;
}

TEST(Partition, IidEqualSizesAndDeterministic) {
  Dataset d = Labeled(1003, 10);
  PartitionOptions o;
  o.nodes = 10;
  auto a = Partition(d, o), b = Partition(d, o);
  ExpectDisjointCover(a, d.size);
  EXPECT_EQ(a, b);
  for (auto& p : a) EXPECT_TRUE(p.size() == 100 || p.size() == 101);
}

TEST(Partition, ShardsGiveFewClassesPerNode) {
  Dataset d = Labeled(1000, 10);
  PartitionOptions o;
  o.name = "shards";
  o.nodes = 10;
  o.shards_per_node = 2;
  auto parts = Partition(d, o);
  ExpectDisjointCover(parts, d.size);
  for (auto& p : parts) {
    std::set<int> classes;
    for (int64_t i : p) classes.insert(d.labels[i]);
    EXPECT_LE(classes.size(), 2u);
  }
}

// Per node, its sample count of each of the 10 classes under dirichlet(alpha) on 10 nodes;
// checks the partition covers d once and gives every node its minimum.
std::vector<std::vector<int>> DirichletClassCounts(const Dataset& d, double alpha) {
  PartitionOptions o;
  o.name = "dirichlet";
  o.nodes = 10;
  o.alpha = alpha;
  auto parts = Partition(d, o);
  ExpectDisjointCover(parts, d.size);
  std::vector<std::vector<int>> counts;
  for (auto& p : parts) {
    EXPECT_GE(static_cast<int64_t>(p.size()), o.min_samples);
    counts.emplace_back(10, 0);
    for (int64_t i : p) ++counts.back()[d.labels[i]];
  }
  return counts;
}

TEST(Partition, DirichletSkewGrowsAsAlphaShrinks) {
  Dataset d = Labeled(5000, 10);
  auto mean_classes = [&](double alpha) {
    double total = 0;
    const auto counts = DirichletClassCounts(d, alpha);
    for (const auto& count : counts) {
      const int size = std::accumulate(count.begin(), count.end(), 0);
      // classes holding at least 5% of the node's data
      for (int c : count) total += c >= 0.05 * size;
    }
    return total / counts.size();
  };
  const double skewed = mean_classes(0.1), mild = mean_classes(100.0);
  EXPECT_LT(skewed, 5.0);
  EXPECT_GT(mild, 9.0);
}

// Down to the schema's smallest alpha (1e-6, where every Gamma draw underflows to 0 in linear
// space) the skew keeps growing; alpha = inf splits every class evenly.
TEST(Partition, DirichletSkewIsMonotoneDownToTinyAlpha) {
  Dataset d = Labeled(5000, 10);
  auto top_class_share = [&](double alpha) {  // mean over nodes of its largest class's share
    double share = 0;
    const auto counts = DirichletClassCounts(d, alpha);
    for (const auto& count : counts)
      share += static_cast<double>(*std::max_element(count.begin(), count.end())) /
               std::accumulate(count.begin(), count.end(), 0) / counts.size();
    return share;
  };
  double previous = 0;
  for (double alpha : {double{INFINITY}, 100.0, 1.0, 0.1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6}) {
    const double share = top_class_share(alpha);
    EXPECT_GE(share, previous - 0.02) << "alpha " << alpha;
    previous = std::max(previous, share);
    if (std::isinf(alpha)) {
      EXPECT_LT(share, 0.12);
    }
    if (alpha <= 1e-4) {
      EXPECT_GT(share, 0.95) << "alpha " << alpha;
    }
  }
}

TEST(Partition, Errors) {
  Dataset d = Labeled(20, 10);
  PartitionOptions o;
  o.nodes = 30;
  EXPECT_THROW(Partition(d, o), ConfigError);
  o.nodes = 4;
  o.name = "weird";
  EXPECT_THROW(Partition(d, o), ConfigError);
  o.name = "dirichlet";
  o.min_samples = 10;  // 4 nodes * 10 > 20 samples: impossible
  EXPECT_THROW(Partition(d, o), ConfigError);
  o.name = "shards";
  o.shards_per_node = 10;
  EXPECT_THROW(Partition(d, o), ConfigError);
}

TEST(Loader, CoversEveryLocalSampleEachEpochDeterministically) {
  Dataset d = Labeled(50, 5);
  for (int64_t i = 0; i < 50; ++i) d.features[i] = static_cast<float>(i);
  std::vector<int64_t> idx = {3, 9, 14, 20, 41};
  NodeLoader a(d, idx, Rng(1, 0, Stream::kShuffle)), b(d, idx, Rng(1, 0, Stream::kShuffle));
  std::vector<float> xa(5), xb(5);
  std::vector<int64_t> ya(5), yb(5);
  a.next_batch(5, xa.data(), ya.data());
  b.next_batch(5, xb.data(), yb.data());
  EXPECT_EQ(xa, xb);
  std::multiset<float> got(xa.begin(), xa.end());
  EXPECT_EQ(got, (std::multiset<float>{3, 9, 14, 20, 41}));
  a.next_batch(2, xa.data(), ya.data());  // wraps into epoch 1
  EXPECT_EQ(a.epoch(), 1);
  EXPECT_EQ(ya[0], d.labels[static_cast<int64_t>(xa[0])]);
}

}  // namespace
}  // namespace murmur::data
