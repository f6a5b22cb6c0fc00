#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <fstream>
#include <ostream>

#include "error_text.h"
#include "murmur/graph/spectral.h"
#include "murmur/graph/topology.h"

namespace murmur::graph {
namespace {

std::unique_ptr<Topology> Make(const std::string& name, int n, const std::string& weights = "",
                               int degree = 4) {
  TopologyOptions o;
  o.name = name;
  o.nodes = n;
  o.weights = weights;
  o.degree = degree;
  return MakeTopology(o);
}

struct Expect {
  std::string name;
  int n;
  int64_t directed_edges;
  int min_deg, max_deg;
  int diameter;
};

// Stable, readable test names (the default printer dumps the struct's bytes, pointers included).
void PrintTo(const Expect& e, std::ostream* os) { *os << e.name << " n=" << e.n; }

class BuiltinTopology : public ::testing::TestWithParam<Expect> {};

TEST_P(BuiltinTopology, ShapeWeightsAndConnectivity) {
  const Expect e = GetParam();
  auto t = Make(e.name, e.n);
  const Graph& g = t->at(0);
  EXPECT_EQ(g.directed_edges(), e.directed_edges);
  for (int i = 0; i < e.n; ++i) {
    EXPECT_GE(static_cast<int>(g.out[i].size()), e.min_deg);
    EXPECT_LE(static_cast<int>(g.out[i].size()), e.max_deg);
    EXPECT_GE(g.w_self[i], 0.0);
  }
  if (e.diameter != -2) {  // -2: random graph, diameter not fixed
    EXPECT_EQ(Diameter(g), e.diameter);
  }
  EXPECT_LT(RowStochasticError(g), 1e-12);
  EXPECT_LT(ColumnStochasticError(g), 1e-12);  // MH and column weights are doubly stochastic here
}

INSTANTIATE_TEST_SUITE_P(
    All, BuiltinTopology,
    ::testing::Values(Expect{"ring", 16, 32, 2, 2, 8}, Expect{"ring", 2, 2, 1, 1, 1},
                      Expect{"torus", 16, 64, 4, 4, 4}, Expect{"complete", 6, 30, 5, 5, 1},
                      Expect{"star", 5, 8, 1, 4, 2}, Expect{"regular", 16, 64, 4, 4, -2},
                      Expect{"exponential", 8, 8 * 5, 5, 5, 2},
                      Expect{"directed_ring", 5, 5, 1, 1, 4},
                      Expect{"directed_exponential", 16, 16 * 4, 4, 4, 4}),
    [](const auto& info) { return info.param.name + std::to_string(info.param.n); });

TEST(Topology, RegularGraphIsRegularConnectedAndSeeded) {
  TopologyOptions o;
  o.name = "regular";
  o.nodes = 20;
  o.degree = 3;
  o.seed = 5;
  auto a = MakeTopology(o), b = MakeTopology(o);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(a->at(0).out[i].size(), 3u);
    EXPECT_EQ(a->at(0).out[i], b->at(0).out[i]);
  }
  EXPECT_TRUE(IsStronglyConnected(a->at(0)));
}

TEST(Topology, ErdosRenyiConnected) {
  auto t = Make("erdos_renyi", 30);
  EXPECT_TRUE(IsStronglyConnected(t->at(0)));
}

TEST(Topology, OnePeerExponentialCyclesThroughPowersOfTwo) {
  auto t = Make("one_peer_exponential", 8);
  EXPECT_TRUE(t->time_varying());
  EXPECT_EQ(t->period(), 3);
  for (int r = 0; r < 6; ++r) {
    const Graph& g = t->at(r);
    for (int i = 0; i < 8; ++i) {
      ASSERT_EQ(g.out[i].size(), 1u);
      EXPECT_EQ(g.out[i][0], (i + (1 << (r % 3))) % 8);
      EXPECT_DOUBLE_EQ(g.w_self[i], 0.5);
    }
  }
  // Over one period the product of the mixing matrices is exact averaging for n = 2^k.
  EXPECT_NEAR(SecondEigenvalueModulus(*t), 0.0, 1e-9);
}

TEST(Topology, KPeerExponentialSendsToKPeersInTurn) {
  for (int k : {1, 2, 3, 4}) {
    TopologyOptions o;
    o.name = "k_peer_exponential";
    o.nodes = 16;
    o.peers = k;
    auto t = MakeTopology(o);
    ASSERT_EQ(t->period(), 4);
    EXPECT_TRUE(t->time_varying() && t->directed());
    std::vector<int> uses(4, 0);  // how often each hop 2^h is used over the period
    for (int r = 0; r < 4; ++r) {
      const Graph& g = t->at(r);
      EXPECT_LT(ColumnStochasticError(g), 1e-12);
      for (int i = 0; i < 16; ++i) {
        ASSERT_EQ(static_cast<int>(g.out[i].size()), k) << "k=" << k << " round " << r;
        ASSERT_EQ(static_cast<int>(g.in[i].size()), k);
        for (int to : g.out[i]) {
          const int hop = (to - i + 16) % 16;
          ASSERT_EQ(hop & (hop - 1), 0) << hop;  // a power of two
          if (i == 0) ++uses[std::countr_zero(static_cast<unsigned>(hop))];
        }
      }
    }
    for (int h = 0; h < 4; ++h) EXPECT_EQ(uses[h], k) << "k=" << k;  // every peer in turn
  }
  TopologyOptions o;
  o.name = "k_peer_exponential";
  o.nodes = 16;
  o.peers = 5;
  EXPECT_THROW(MakeTopology(o), ConfigError);
}

class EdgeListFile : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    const std::string path = ::testing::TempDir() + "/edges_" +
                             ::testing::UnitTest::GetInstance()->current_test_info()->name() +
                             std::to_string(count_++) + ".txt";
    std::ofstream(path) << text;
    return path;
  }
  std::unique_ptr<Topology> make(const std::string& path, int n, bool directed) {
    TopologyOptions o;
    o.name = "file";
    o.nodes = n;
    o.file = path;
    o.directed = directed;
    return MakeTopology(o);
  }
  // The ConfigError/IoError text of building the topology.
  std::string error(const std::string& text, int n, bool directed) {
    return test_util::ErrorText([&] { make(write(text), n, directed); });
  }
  int count_ = 0;
};

TEST_F(EdgeListFile, ReadsUndirectedAndDirectedGraphs) {
  const std::string path = write("# a 4-cycle\n0 1\n1 2   # trailing comment\n\n2 3\n3 0\n");
  auto u = make(path, 4, false);
  EXPECT_FALSE(u->directed());
  EXPECT_EQ(u->at(0).directed_edges(), 8);
  EXPECT_LT(RowStochasticError(u->at(0)), 1e-12);  // metropolis_hastings by default
  auto d = make(path, 4, true);
  EXPECT_TRUE(d->directed());
  EXPECT_EQ(d->at(0).directed_edges(), 4);
  EXPECT_EQ(d->at(0).out[3], std::vector<int>{0});
  EXPECT_LT(ColumnStochasticError(d->at(0)), 1e-12);  // column weights by default
}

TEST_F(EdgeListFile, BadFilesAreErrorsNamingTheLine) {
  struct Case {
    std::string text;
    bool directed;
    std::string expect;
  };
  const Case cases[] = {
      {"0 1\n1 4\n", false, ":2: node id 4 is outside [0, 4)"},
      {"0 1\n1 1\n", false, ":2: self loop 1 1"},
      {"0 1\n1 2\n1 0\n", false, ":3: duplicate edge 1 0"},
      {"0 1\n0 1\n", true, ":2: duplicate edge 0 1"},
      {"0 1 2\n", false, ":1: expected two node ids"},
      {"0\n", false, ":1: expected two node ids"},
      {"0 -1\n", false, ":1: '-1' is not a node id"},
      {"0 x\n", false, ":1: 'x' is not a node id"},
      {"0 99999999999\n", false, "is not a node id"},
      {"# nothing\n", false, "has no edges"},
      {"0 1\n2 3\n", false, "is not (strongly) connected"},
      {"0 1\n1 2\n2 3\n", true, "is not (strongly) connected"},
  };
  for (const Case& c : cases) {
    const std::string e = error(c.text, 4, c.directed);
    EXPECT_NE(e.find(c.expect), std::string::npos) << "file:\n" << c.text << "error: " << e;
  }
  EXPECT_THROW(make(::testing::TempDir() + "/does_not_exist.edges", 4, false), IoError);
  TopologyOptions o;
  o.name = "file";
  o.nodes = 4;
  EXPECT_THROW(MakeTopology(o), ConfigError);  // no topology.file
}

TEST(Spectral, RingMatchesClosedForm) {
  for (int n : {5, 8, 16}) {
    auto t = Make("ring", n);
    const double expected = 1.0 / 3.0 + 2.0 / 3.0 * std::cos(2.0 * M_PI / n);
    EXPECT_NEAR(SecondEigenvalueModulus(*t), expected, 1e-6) << n;
  }
}

TEST(Spectral, CompleteUniformAveragesExactly) {
  auto t = Make("complete", 10, "uniform");
  EXPECT_NEAR(SpectralGap(*t), 1.0, 1e-9);
}

TEST(Spectral, StarMaxDegreeClosedForm) {
  // Star with max-degree weights 1/n: eigenvalues of I - L/n are 1 - lambda(L)/n with
  // Laplacian eigenvalues 0, 1 (n-2 times), n, so |lambda_2| = 1 - 1/n.
  auto t = Make("star", 6, "max_degree");
  EXPECT_NEAR(SecondEigenvalueModulus(*t), 1.0 - 1.0 / 6.0, 1e-6);
}

TEST(Weights, MetropolisHastingsOnIrregularGraph) {
  auto t = Make("star", 4);
  const Graph& g = t->at(0);
  EXPECT_DOUBLE_EQ(g.weight(1, 0), 0.25);  // 1 / (1 + max(3, 1))
  EXPECT_DOUBLE_EQ(g.weight(0, 0), 0.25);
  EXPECT_DOUBLE_EQ(g.weight(1, 1), 0.75);
  EXPECT_DOUBLE_EQ(g.weight(1, 2), 0.0);
}

TEST(Weights, UniformOnIrregularGraphIsOnlyRowStochastic) {
  auto t = Make("star", 4, "uniform");
  EXPECT_LT(RowStochasticError(t->at(0)), 1e-12);
  EXPECT_GT(ColumnStochasticError(t->at(0)), 0.1);
}

TEST(Errors, UnknownTopologyListsAllowedNames) {
  const std::string w = test_util::ErrorText<ConfigError>([] { Make("hypercube", 8); });
  EXPECT_TRUE(test_util::Contains(w, "topology.name: unknown topology 'hypercube'"));
  EXPECT_TRUE(test_util::Contains(w, "ring"));
}

TEST(Errors, BadParameters) {
  EXPECT_THROW(Make("regular", 5, "", 3), ConfigError);  // odd n * d
  EXPECT_THROW(Make("regular", 5, "", 5), ConfigError);  // d >= n
  EXPECT_THROW(Make("ring", 0), ConfigError);
  EXPECT_THROW(Make("ring", 8, "metropolis"), ConfigError);
  EXPECT_THROW(Make("directed_ring", 8, "metropolis_hastings"), ConfigError);
}

TEST(Errors, DisconnectedEdgeListDetected) {
  Graph g = GraphFromEdges(4, false, {{0, 1}, {2, 3}});
  EXPECT_FALSE(IsStronglyConnected(g));
  EXPECT_EQ(Diameter(g), -1);
  EXPECT_THROW(GraphFromEdges(3, false, {{0, 3}}), ConfigError);
}

TEST(Describe, ReportsStatsAndEdges) {
  auto t = Make("ring", 4);
  const std::string s = DescribeTopology(*t, true);
  EXPECT_NE(s.find("edges: 4 undirected"), std::string::npos) << s;
  EXPECT_NE(s.find("diameter: 2"), std::string::npos);
  EXPECT_NE(s.find("\n0 1\n"), std::string::npos);
  EXPECT_NE(s.find("\n0 3\n"), std::string::npos);
}

}  // namespace
}  // namespace murmur::graph

namespace murmur::graph {
namespace {

// Graphs too large to build are refused before anything is allocated (complete on 100,000
// nodes used to end in bad_alloc after 20 s), with the count and the way out.
TEST(Errors, GraphsTooLargeToBuildAreRefusedUpFront) {
  std::string err = test_util::ErrorText<ConfigError>([] { Make("complete", 100000); });
  EXPECT_TRUE(test_util::Contains(err,
                                  "'complete' on 100000 nodes has 4.99995e+09 edges, more "
                                  "than murmur builds"))
      << err;
  err = test_util::ErrorText<ConfigError>([] { Make("regular", 2000000, "", 100); });
  EXPECT_TRUE(test_util::Contains(err, "lower topology.degree")) << err;
}

// Beyond the work budget, DescribeTopology says what it did not compute exactly instead of
// running for minutes (an all-pairs diameter of a 200,000-ring is 8e10 steps).
TEST(Describe, LargeGraphsGetBoundsNotMinutesOfWork) {
  auto t = Make("ring", 200000);
  const std::string s = DescribeTopology(*t, false);
  EXPECT_TRUE(test_util::Contains(s, "diameter: >= 100000 (eccentricity of 16 nodes")) << s;
  EXPECT_TRUE(test_util::Contains(s, "spectral gap: not computed")) << s;
  EXPECT_FALSE(test_util::Contains(s, "|lambda_2|")) << s;
}

// A graph listed with duplicate and self edges keeps each edge once, sorted.
TEST(Graph, DuplicateAndSelfEdgesCollapse) {
  const Graph g = GraphFromEdges(3, false, {{2, 0}, {0, 2}, {1, 1}, {0, 1}, {0, 2}});
  EXPECT_EQ(g.out[0], (std::vector<int>{1, 2}));
  EXPECT_EQ(g.in[2], (std::vector<int>{0}));
  EXPECT_TRUE(g.out[1] == std::vector<int>{0});
}

}  // namespace
}  // namespace murmur::graph
