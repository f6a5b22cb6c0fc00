// RelaySum / RelaySGD over the in-process transport.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "algo/harness.h"
#include "error_text.h"
#include "murmur/algo/relaysum.h"

namespace murmur::algo {
namespace {

using testing::Sim;
using testing::Topo;

// A RelaySum simulation whose nodes all start at x0 = 0 (the common initial model).
struct Relay {
  std::vector<float> x0;
  Sim sim;
  Relay(const graph::TopologyOptions& t, int64_t d, const std::string& variant,
        const std::string& normalize = "nodes", const std::string& tree = "topology",
        double beta = 0.5)
      : x0(d, 0.0f), sim("relaysum", t, d, 1, [&](AlgorithmContext& c) {
          c.initial_model = x0;
          RelayOptions o;
          o.variant = variant == "grad"  ? RelayOptions::Variant::kGrad
                      : variant == "mix" ? RelayOptions::Variant::kMix
                                         : RelayOptions::Variant::kModel;
          o.normalize = normalize == "counts" ? RelayOptions::Normalize::kCounts
                                              : RelayOptions::Normalize::kNodes;
          o.spanning_tree =
              tree == "bfs" ? RelayOptions::Tree::kBfs : RelayOptions::Tree::kTopology;
          o.beta = beta;
          c.options = o;
        }) {
    for (auto& v : sim.x) std::fill(v.begin(), v.end(), 0.0f);
  }
};

// The trees a topology relays over (its own, or the BFS tree of its graph).
std::vector<graph::Graph> TreesOf(const graph::Topology& t, bool bfs) {
  if (bfs) return {graph::BfsSpanningTree(t.at(0), 0)};
  if (!t.trees().empty()) return t.trees();
  return {t.at(0)};
}

// RelaySum/Grad: an update injected at node j in round t reaches node i with weight exactly
// 1/n at the end of round t + max(0, dist(i, j) - 1) (so by round t + dist(i, j)), and its
// weight never grows after that. Coordinate j carries node j's update, so x_i[j] is the
// weight node i gives j's update; with several trees, coordinate j travels on tree j mod T.
void CheckDelivery(const graph::TopologyOptions& topo, bool bfs) {
  const int n = topo.nodes;
  Relay r(topo, n, "grad", "nodes", bfs ? "bfs" : "topology");
  const auto trees = TreesOf(*r.sim.topology, bfs);
  const int T = static_cast<int>(trees.size());
  std::vector<std::vector<int>> dist(n);  // dist[j][i] on coordinate j's tree
  int diam = 0;
  for (int j = 0; j < n; ++j) {
    dist[j] = graph::HopDistances(trees[j % T], j);
    for (int d : dist[j]) diam = std::max(diam, d);
  }
  ThreadPool pool(2);
  const uint32_t inject = 2;
  for (uint32_t round = 0; round < inject + diam + 3; ++round) {
    if (round == inject)
      for (int j = 0; j < n; ++j) r.sim.x[j][j] += 1.0f;
    r.sim.round(round, pool);
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) {
        const bool arrived = round >= inject && round >= inject + std::max(0, dist[j][i] - 1);
        ASSERT_EQ(r.sim.x[i][j], arrived ? 1.0f / n : 0.0f)
            << topo.name << " node " << i << " from " << j << " (dist " << dist[j][i] << ") round "
            << round;
      }
    }
  }
}

TEST(RelaySum, GradDeliversEveryUpdateOnceWithWeightOneOverNByTreeDistance) {
  CheckDelivery(Topo("chain", 7), false);
  CheckDelivery(Topo("binary_tree", 13), false);
  CheckDelivery(Topo("double_binary_tree", 16), false);
  CheckDelivery(Topo("ring", 10), true);
  graph::TopologyOptions reg = Topo("regular", 12);
  reg.degree = 3;
  CheckDelivery(reg, true);
}

TEST(RelaySum, BfsTreeOfAnEdgeListFile) {
  const std::string path = ::testing::TempDir() + "/relay.edges";
  {
    std::ofstream f(path);
    f << "0 1\n1 2\n2 3\n3 0\n3 4\n4 5\n5 2\n";
  }
  graph::TopologyOptions t = Topo("file", 6);
  t.file = path;
  CheckDelivery(t, true);
  // The file graph has cycles: relaying over it directly is refused.
  EXPECT_THROW(Relay(t, 4, "model"), ConfigError);
}

// Double binary trees: every coordinate (of both interleaved halves) ends up averaged over
// all n nodes.
TEST(RelaySum, DoubleBinaryTreesAverageEveryCoordinateOverAllNodes) {
  const int n = 16;
  const int64_t d = 101;
  Relay r(Topo("double_binary_tree", n), d, "grad");
  ASSERT_EQ(r.sim.algorithm->phases(), 2);
  Rng rng(5);
  std::vector<double> mean(d, 0.0);
  for (auto& v : r.sim.x) {
    for (int64_t k = 0; k < d; ++k) {
      v[k] = static_cast<float>(rng.normal());
      mean[k] += v[k] / n;
    }
  }
  ThreadPool pool(2);
  for (uint32_t round = 0; round < 12; ++round) r.sim.round(round, pool);
  for (int i = 0; i < n; ++i)
    for (int64_t k = 0; k < d; ++k)
      ASSERT_NEAR(r.sim.x[i][k], mean[k], 1e-5) << "node " << i << " coord " << k;
}

// normalize = counts: the first round averages over the contributions that arrived (self
// and the tree neighbours of the coordinate's tree), filling nothing.
TEST(RelaySum, CountNormalisationAveragesWhatArrived) {
  const int n = 16;
  const int64_t d = 20;
  Relay r(Topo("double_binary_tree", n), d, "model", "counts");
  Rng rng(6);
  for (auto& v : r.sim.x)
    for (float& e : v) e = static_cast<float>(rng.normal());
  const auto before = r.sim.x;
  ThreadPool pool(2);
  r.sim.round(0, pool);
  const auto& trees = r.sim.topology->trees();
  for (int i = 0; i < n; ++i) {
    for (int64_t k = 0; k < d; ++k) {
      const auto& nbrs = trees[k % 2].out[i];
      double sum = before[i][k];
      for (int j : nbrs) sum += before[j][k];
      ASSERT_NEAR(r.sim.x[i][k], sum / (1 + nbrs.size()), 1e-5) << i << " " << k;
    }
  }
}

// RelaySum/Model: node i's model after round t is (1/n) sum_j x_j^{(t - delay_ij) + 1/2}
// with delay_ij = max(0, dist(i, j) - 1) on the coordinate's tree, x0 for contributions that
// have not arrived. Checked against that closed form while every node keeps training.
TEST(RelaySum, ModelVariantMatchesTheDelayedAverageOfAllModels) {
  for (const char* topo : {"double_binary_tree", "binary_tree", "chain"}) {
    const int n = 9;
    const int64_t d = 6;
    Relay r(Topo(topo, n), d, "model");
    const auto trees = TreesOf(*r.sim.topology, false);
    const int T = static_cast<int>(trees.size());
    std::vector<std::vector<std::vector<float>>> half;  // [round][node] = x^{t+1/2}
    ThreadPool pool(2);
    for (uint32_t t = 0; t < 10; ++t) {
      for (int i = 0; i < n; ++i) {
        Rng rng(t, i, Stream::kData);
        for (float& e : r.sim.x[i]) e += static_cast<float>(rng.normal());
      }
      half.push_back(r.sim.x);
      r.sim.round(t, pool);
      for (int i = 0; i < n; ++i) {
        for (int64_t k = 0; k < d; ++k) {
          const auto dist = graph::HopDistances(trees[k % T], i);
          double expect = 0.0;
          for (int j = 0; j < n; ++j) {
            const int delay = std::max(0, dist[j] - 1);
            expect += t >= static_cast<uint32_t>(delay) ? half[t - delay][j][k] : 0.0;
          }
          ASSERT_NEAR(r.sim.x[i][k], expect / n, 1e-5) << topo << " round " << t;
        }
      }
    }
  }
}

TEST(RelaySum, MixWithUnitBetaIsTheModelVariant) {
  Relay model(Topo("binary_tree", 10), 33, "model");
  Relay mix(Topo("binary_tree", 10), 33, "mix", "nodes", "topology", 1.0);
  ThreadPool pool(2);
  for (uint32_t t = 0; t < 8; ++t) {
    model.sim.round(t, pool, true);
    mix.sim.round(t, pool, true);
    for (int i = 0; i < 10; ++i)
      for (int k = 0; k < 33; ++k) ASSERT_NEAR(mix.sim.x[i][k], model.sim.x[i][k], 1e-5);
  }
}

// Mix with beta < 1 still reaches consensus at the average when nodes stop training.
TEST(RelaySum, MixReachesTheAverage) {
  const int n = 8;
  Relay r(Topo("chain", n), 5, "mix", "nodes", "topology", 0.3);
  ThreadPool pool(2);
  r.sim.round(0, pool, true);  // one round of "training", then none
  for (uint32_t t = 1; t < 300; ++t) r.sim.round(t, pool);
  const auto mean = r.sim.mean();
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < 5; ++k) ASSERT_NEAR(r.sim.x[i][k], mean[k], 1e-4) << i;
}

TEST(RelaySum, SendsOneCountedMessagePerTreeEdgeAndDirection) {
  const int n = 16;
  const int64_t d = 101;  // odd: tree 0 carries 51 coordinates, tree 1 carries 50
  Relay r(Topo("double_binary_tree", n), d, "model");
  ThreadPool pool(2);
  r.sim.round(0, pool, true);
  const auto& trees = r.sim.topology->trees();
  for (int i = 0; i < n; ++i) {
    const uint64_t expect =
        trees[0].out[i].size() * (32 + 4 + 4 * 51) + trees[1].out[i].size() * (32 + 4 + 4 * 50);
    EXPECT_EQ(r.sim.transport->counters(i).bytes_sent, expect) << i;
  }
}

TEST(RelaySum, RejectsGraphsWithCyclesAndBadOptions) {
  auto message = test_util::ErrorText<ConfigError>;
  EXPECT_NE(message([] { Relay(Topo("ring", 8), 4, "model"); }).find("has a cycle"),
            std::string::npos);
  EXPECT_NE(message([] {
              Relay(Topo("one_peer_exponential", 8), 4, "model");
            }).find("changes every round"),
            std::string::npos);
  EXPECT_NE(message([] { Relay(Topo("directed_ring", 8), 4, "model"); }).find("directed"),
            std::string::npos);
  // Unknown variant and normalize names are the config's to refuse (config_test.cc).
  // No common initial model.
  EXPECT_THROW(Sim("relaysum", Topo("chain", 4), 4, 1, [](AlgorithmContext&) {}), ConfigError);
}

TEST(Trees, ShapesAndBfs) {
  EXPECT_TRUE(graph::IsTree(graph::ChainTree(5)));
  const graph::Graph b = graph::BinaryTree(7, false), m = graph::BinaryTree(7, true);
  EXPECT_TRUE(graph::IsTree(b));
  EXPECT_TRUE(graph::IsTree(m));
  EXPECT_EQ(b.out[0], (std::vector<int>{1, 2}));
  EXPECT_EQ(m.out[6], (std::vector<int>{4, 5}));
  // Leaves 4..6 of one tree are inner nodes of the other; the middle node 3 of an odd n is a
  // leaf of both (7 nodes have 4 leaves per tree, so no pair of trees can do better).
  for (int leaf = 4; leaf < 7; ++leaf) {
    EXPECT_EQ(b.out[leaf].size(), 1u);
    EXPECT_GE(m.out[leaf].size(), 2u) << leaf;
  }
  graph::TopologyOptions t;
  t.name = "ring";
  t.nodes = 6;
  const auto ring = graph::MakeTopology(t);
  EXPECT_FALSE(graph::IsTree(ring->at(0)));
  const graph::Graph bfs = graph::BfsSpanningTree(ring->at(0), 0);
  EXPECT_TRUE(graph::IsTree(bfs));
  EXPECT_EQ(graph::HopDistances(bfs, 0), (std::vector<int>{0, 1, 2, 3, 2, 1}));
  EXPECT_THROW(graph::BfsSpanningTree(ring->at(0), 6), ConfigError);
}

}  // namespace
}  // namespace murmur::algo
