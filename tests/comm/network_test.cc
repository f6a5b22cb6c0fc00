#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "murmur/comm/cluster.h"
#include "murmur/comm/network_model.h"
#include "murmur/core/check.h"

namespace murmur::comm {
namespace {

TEST(NodeMap, BlockGivesContiguousRangesAndTheRemainderToTheFirstRanks) {
  const NodeMap m(8, 3, "block");
  EXPECT_EQ(m.local(0), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(m.local(1), (std::vector<int>{3, 4, 5}));
  EXPECT_EQ(m.local(2), (std::vector<int>{6, 7}));
  EXPECT_EQ(m.owner(5), 1);
  EXPECT_EQ(m.describe(2), "nodes 6-7");
  const NodeMap one(5, 5, "block");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(one.owner(i), i);
  EXPECT_EQ(one.describe(3), "node 3");
}

TEST(NodeMap, CyclicDealsNodesRoundRobin) {
  const NodeMap m(7, 3, "cyclic");
  EXPECT_EQ(m.local(0), (std::vector<int>{0, 3, 6}));
  EXPECT_EQ(m.local(2), (std::vector<int>{2, 5}));
  EXPECT_EQ(m.describe(0), "nodes 0, 3, 6");
}

TEST(NodeMap, RejectsMoreRanksThanNodesAndUnknownMappings) {
  EXPECT_THROW(NodeMap(2, 3, "block"), ConfigError);
  EXPECT_THROW(NodeMap(8, 2, "random"), ConfigError);
}

TEST(LocalCluster, IsOneRankThatGathersItsOwnBlock) {
  auto c = MakeLocalCluster();
  EXPECT_EQ(c->size(), 1);
  auto all = c->gather(Bytes{1, 2, 3}, "test");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0], (Bytes{1, 2, 3}));
}

NetworkOptions Uniform(double latency_s, double bytes_s) {
  NetworkOptions o;
  o.latency_s = latency_s;
  o.bandwidth_bytes_s = bytes_s;
  return o;
}

// D-PSGD on a ring: every node sends b bytes to both neighbours in one phase.
std::vector<LinkRecord> RingRound(int n, uint64_t b) {
  std::vector<LinkRecord> l;
  for (int i = 0; i < n; ++i) {
    l.push_back({i, (i + 1) % n, 0, b});
    l.push_back({i, (i + n - 1) % n, 0, b});
  }
  return l;
}

TEST(NetworkModel, RingRoundIsComputePlusLatencyPlusTransfer) {
  const NetworkModel m(Uniform(0.002, 1e6), 8, 1);
  const std::vector<double> compute(8, 0.05);
  // 0.05 + 0.002 + 25000 / 1e6
  EXPECT_DOUBLE_EQ(m.round_seconds(compute, RingRound(8, 25000)), 0.05 + 0.002 + 0.025);
}

TEST(NetworkModel, StarWithTwoPhasesAddsBothHops) {
  // Phase 0: every leaf sends b0 bytes to the centre; phase 1: the centre sends b1 back.
  const int n = 6;
  const NetworkModel m(Uniform(0.001, 2e6), n, 1);
  std::vector<LinkRecord> l;
  for (int i = 1; i < n; ++i) l.push_back({i, 0, 0, 4000});
  for (int i = 1; i < n; ++i) l.push_back({0, i, 1, 1000});
  const std::vector<double> compute(n, 0.01);
  std::vector<double> finish(n);
  const double t = m.round_seconds(compute, l, finish);
  const double hop0 = 0.001 + 4000 / 2e6, hop1 = 0.001 + 1000 / 2e6;
  EXPECT_DOUBLE_EQ(finish[0], 0.01 + hop0);
  EXPECT_DOUBLE_EQ(t, 0.01 + hop0 + hop1);
  // One phase only (D-PSGD on a star): the centre receives n-1 messages on n-1 links in
  // parallel, the leaves one each; the round is compute + one hop.
  std::vector<LinkRecord> g;
  for (int i = 1; i < n; ++i) g.push_back({i, 0, 0, 4000}), g.push_back({0, i, 0, 4000});
  EXPECT_DOUBLE_EQ(m.round_seconds(compute, g), 0.01 + hop0);
}

TEST(NetworkModel, AStragglerOrASlowLinkSetsTheCriticalPath) {
  NetworkOptions o = Uniform(0.0, 1e6);
  o.stragglers = 1;
  o.straggler_slowdown = 3.0;
  const NetworkModel m(o, 8, 7);
  int slow = -1;
  for (int i = 0; i < 8; ++i)
    if (m.slowdown(i) == 3.0) slow = i;
  ASSERT_GE(slow, 0);
  const std::vector<double> compute(8, 0.1);
  // The straggler finishes its compute at 0.3; its neighbours get its message 1e-3 later.
  std::vector<double> finish(8);
  EXPECT_DOUBLE_EQ(m.round_seconds(compute, RingRound(8, 1000), finish), 0.3 + 0.001);
  EXPECT_DOUBLE_EQ(finish[(slow + 1) % 8], 0.3 + 0.001);
  EXPECT_DOUBLE_EQ(finish[(slow + 4) % 8], 0.1 + 0.001);
}

TEST(NetworkModel, HeterogeneousLinksAreSeededPerLinkAndWithinTheirRange) {
  NetworkOptions o = Uniform(0.01, 1e6);
  o.heterogeneity = "uniform";
  o.spread = 0.5;
  const NetworkModel a(o, 16, 3), b(o, 16, 3), c(o, 16, 4);
  double lo = 1e9, hi = 0;
  bool differs = false;
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 16; ++j) {
      EXPECT_EQ(a.bandwidth(i, j), b.bandwidth(i, j));
      EXPECT_EQ(a.latency(i, j), b.latency(i, j));
      differs |= a.bandwidth(i, j) != c.bandwidth(i, j);
      lo = std::min(lo, a.bandwidth(i, j));
      hi = std::max(hi, a.bandwidth(i, j));
    }
  EXPECT_TRUE(differs);
  EXPECT_GE(lo, 0.5e6);
  EXPECT_LE(hi, 1.5e6);
  EXPECT_LT(lo, 0.6e6);  // 256 draws cover the range
  EXPECT_GT(hi, 1.4e6);
  // The round is the slowest link's latency + transfer on top of the compute.
  const std::vector<double> compute(16, 0.0);
  const auto ring = RingRound(16, 50000);
  double expect = 0;
  for (const LinkRecord& r : ring)
    expect = std::max(expect, a.latency(r.from, r.to) + 50000 / a.bandwidth(r.from, r.to));
  EXPECT_DOUBLE_EQ(a.round_seconds(compute, ring), expect);
}

TEST(NetworkModel, RejectsBadOptions) {
  NetworkOptions o;
  o.bandwidth_bytes_s = 0;
  EXPECT_THROW(NetworkModel(o, 4, 1), ConfigError);
  o = NetworkOptions{};
  o.heterogeneity = "uniform";
  o.spread = 1.0;
  EXPECT_THROW(NetworkModel(o, 4, 1), ConfigError);
  o = NetworkOptions{};
  o.stragglers = 5;
  EXPECT_THROW(NetworkModel(o, 4, 1), ConfigError);
}

}  // namespace
}  // namespace murmur::comm
