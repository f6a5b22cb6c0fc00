// CHOCO-SGD, SGP, Sparse-Push and SCSP over the in-process transport.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>

#include "../../src/algo/messages.h"
#include "algo/harness.h"
#include "error_text.h"
#include "murmur/algo/compressed_gossip.h"
#include "murmur/algo/kernels.h"
#include "murmur/algo/majority_vote.h"
#include "murmur/algo/tune_gamma.h"

namespace murmur::algo {
namespace {

using testing::MaxRelDiff;
using testing::Sim;
using testing::Topo;

// choco / sparse_push / scsp's options with this gamma (0 = tune), changed by `more`.
void Gossip(AlgorithmContext& c, double gamma,
            const std::function<void(GossipOptions&)>& more = {}) {
  GossipOptions o = c.options_or_default<GossipOptions>();
  o.gamma = gamma;
  if (more) more(o);
  c.options = o;
}

auto Compression(const std::string& name, double ratio, double gamma) {
  return [=](AlgorithmContext& c) {
    c.compression = name;
    c.compressor.ratio = ratio;
    Gossip(c, gamma);
  };
}

double ConsensusOf(const std::vector<std::vector<float>>& x) {
  std::vector<std::span<const float>> v(x.begin(), x.end());
  std::vector<float> mean(x[0].size());
  return ConsensusDistance(v, mean);
}

// The directed graphs push-sum must handle (file-based one below, in its own test).
const char* kDirected[] = {"directed_ring", "directed_exponential", "one_peer_exponential",
                           "k_peer_exponential"};

TEST(Choco, IdentityCompressorAndUnitGammaEqualsDpsgd) {
  for (const char* topo : {"ring", "torus", "exponential", "star"}) {
    ThreadPool pool(2);
    Sim choco("choco", Topo(topo, 9), 300, 1, Compression("none", 0, 1.0));
    Sim dpsgd("dpsgd", topo, 9, 300);
    ASSERT_EQ(choco.x, dpsgd.x);
    for (uint32_t r = 0; r < 8; ++r) {
      choco.round(r, pool, /*perturb=*/true);
      dpsgd.round(r, pool, /*perturb=*/true);
      ASSERT_LT(MaxRelDiff(choco.x, dpsgd.x), 1e-5) << topo << " round " << r;
    }
  }
}

// A directed graph whose out-degrees differ (0 -> everyone): column-stochastic weights are
// not doubly stochastic on it.
graph::TopologyOptions HubGraph() {
  const std::string path = ::testing::TempDir() + "/irregular.edges";
  {
    std::ofstream f(path);
    f << "# hub\n0 1\n0 2\n0 3\n0 4\n1 2\n2 3\n3 4\n4 0\n";
  }
  graph::TopologyOptions t = Topo("file", 5);
  t.file = path;
  t.directed = true;
  return t;
}

TEST(Choco, RejectsIrregularDirectedGraphsAndBadGamma) {
  EXPECT_THROW(Sim("choco", HubGraph(), 10, 1, Compression("topk", 0.5, 0.5)), ConfigError);
  EXPECT_THROW(Sim("choco", Topo("ring", 5), 10, 1, Compression("topk", 0.5, 1.5)), ConfigError);
  EXPECT_THROW(Sim("sgp", Topo("directed_ring", 5), 10, 1, Compression("topk", 0.5, 0.5)),
               ConfigError);
}

TEST(Choco, KeepsTheAverageAndReachesConsensusWithTopK) {
  ThreadPool pool(2);
  Sim s("choco", Topo("ring", 8), 200, 3, Compression("topk", 0.1, 0.2));
  const auto mean0 = s.mean();
  for (uint32_t r = 0; r < 600; ++r) s.round(r, pool);
  const auto mean = s.mean();
  for (size_t k = 0; k < mean.size(); ++k) ASSERT_NEAR(mean[k], mean0[k], 1e-4);
  EXPECT_LT(ConsensusOf(s.x), 1e-6);
}

// f_i(x) = 1/2 ||x - b_i||^2 with a different b_i per node: the optimum of sum_i f_i is the
// mean of the b_i. Exact gradients and a decaying step size; CHOCO with top-10% must reach
// the optimum on every node, not only on average.
TEST(Choco, TopKOnQuadraticObjectivesConvergesToTheGlobalOptimum) {
  const int n = 8;
  const int64_t d = 100;
  ThreadPool pool(2);
  Sim s("choco", Topo("ring", n), d, 5, Compression("topk", 0.1, 0.3));
  const testing::Quadratics q(n, d, 77);
  for (auto& v : s.x) std::fill(v.begin(), v.end(), 0.0f);
  for (uint32_t t = 0; t < 3000; ++t) {
    q.step(s.x, 2.0f / (t + 20.0f));
    s.round(t, pool);
  }
  EXPECT_LT(q.worst_error(s.x), 0.02);
}

TEST(SparsePush, IdentityCompressorAndUnitGammaEqualsSgp) {
  for (const char* topo : kDirected) {
    ThreadPool pool(2);
    Sim sp("sparse_push", Topo(topo, 16), 257, 1, Compression("none", 0, 1.0));
    Sim sgp("sgp", Topo(topo, 16), 257, 1, [](AlgorithmContext&) {});
    for (uint32_t r = 0; r < 10; ++r) {
      sp.round(r, pool, /*perturb=*/true);
      sgp.round(r, pool, /*perturb=*/true);
      ASSERT_LT(MaxRelDiff(sp.x, sgp.x), 1e-5) << topo << " round " << r;
    }
  }
}

// sum_i w_i z_i (the numerators) and sum_i w_i are invariants of push-sum.
void ExpectMassPreserved(Sim& s, ThreadPool& pool, int rounds, const std::string& what) {
  const size_t n = s.x.size(), d = s.x[0].size();
  std::vector<double> mass0(d, 0.0);
  for (auto& v : s.x)
    for (size_t k = 0; k < d; ++k) mass0[k] += v[k];
  for (int r = 0; r < rounds; ++r) {
    s.round(static_cast<uint32_t>(r), pool);
    std::vector<double> mass(d, 0.0);
    double wsum = 0.0;
    for (size_t i = 0; i < n; ++i) {
      const double w = s.algorithm->push_sum_weight(static_cast<int>(i));
      ASSERT_GT(w, 0.0);
      wsum += w;
      for (size_t k = 0; k < d; ++k) mass[k] += w * s.x[i][k];
    }
    ASSERT_NEAR(wsum, static_cast<double>(n), 1e-4) << what << " round " << r;
    for (size_t k = 0; k < d; ++k)
      ASSERT_NEAR(mass[k], mass0[k], 2e-3 * (1.0 + std::abs(mass0[k]))) << what << " round " << r;
  }
}

TEST(PushSum, PreservesNumeratorAndWeightSumsOnEveryDirectedGraph) {
  for (const char* topo : kDirected) {
    ThreadPool pool(2);
    Sim sgp("sgp", Topo(topo, 12), 64, 2, [](AlgorithmContext&) {});
    ExpectMassPreserved(sgp, pool, 30, std::string("sgp on ") + topo);
    Sim sp("sparse_push", Topo(topo, 12), 64, 2, Compression("topk", 0.1, 0.5));
    ExpectMassPreserved(sp, pool, 30, std::string("sparse_push on ") + topo);
  }
}

TEST(PushSum, WeightsLeaveOneOnIrregularGraphs) {
  // Out-degrees that differ across nodes make w_i != 1.
  const graph::TopologyOptions t = HubGraph();
  ThreadPool pool(1);
  Sim sgp("sgp", t, 16, 3, [](AlgorithmContext&) {});
  sgp.round(0, pool);
  double spread = 0.0;
  for (int i = 0; i < 5; ++i) spread += std::abs(sgp.algorithm->push_sum_weight(i) - 1.0);
  EXPECT_GT(spread, 0.1);
  Sim sgp2("sgp", t, 16, 3, [](AlgorithmContext&) {});
  ExpectMassPreserved(sgp2, pool, 40, "sgp on an edge-list file");
  Sim sp("sparse_push", t, 16, 3, Compression("topk", 0.25, 0.5));
  ExpectMassPreserved(sp, pool, 40, "sparse_push on an edge-list file");
  Sim sp1("sparse_push", t, 16, 3, Compression("none", 0, 1.0));
  Sim sgp3("sgp", t, 16, 3, [](AlgorithmContext&) {});
  for (uint32_t r = 0; r < 10; ++r) {
    sp1.round(r, pool, true);
    sgp3.round(r, pool, true);
    ASSERT_LT(MaxRelDiff(sp1.x, sgp3.x), 1e-5) << "round " << r;
  }
}

// lr = 0: z_i = x_i / w_i must reach the average of the initial vectors. On the one-peer
// exponential graph a node's in-neighbour changes every round; inconsistent public copies
// would leave a bias or stall.
TEST(PushSum, ReachesTheInitialAverageOnTimeVaryingGraphs) {
  struct Case {
    std::string algo, topo;
    std::function<void(AlgorithmContext&)> configure;
    int rounds;
    double tol;
  };
  const Case cases[] = {
      {"sgp", "one_peer_exponential", [](AlgorithmContext&) {}, 60, 1e-5},
      {"sgp", "k_peer_exponential", [](AlgorithmContext&) {}, 60, 1e-5},
      {"sparse_push", "one_peer_exponential", Compression("topk", 0.1, 0.5), 1500, 1e-3},
      {"sparse_push", "k_peer_exponential", Compression("topk", 0.1, 0.5), 1500, 1e-3},
      {"sparse_push", "one_peer_exponential", Compression("qsgd", 0, 0.5), 600, 1e-3},
      {"sparse_push", "one_peer_exponential", Compression("sign", 0, 1.0 / 64), 3000, 1e-2},
  };
  for (const Case& c : cases) {
    ThreadPool pool(2);
    Sim s(c.algo, Topo(c.topo, 16), 100, 4, c.configure);
    const auto mean0 = s.mean();
    for (int r = 0; r < c.rounds; ++r) s.round(static_cast<uint32_t>(r), pool);
    double worst = 0.0;
    for (auto& v : s.x)
      for (size_t k = 0; k < v.size(); ++k) worst = std::max(worst, std::abs(v[k] - mean0[k]));
    EXPECT_LT(worst, c.tol) << c.algo << " on " << c.topo << " gamma "
                            << s.algorithm->resolved_parameters()[0].second;
  }
}

TEST(Scsp, AveragesExactlyOnItsRoundsAndAfterTheLast) {
  ThreadPool pool(2);
  const int n = 8;
  Sim s("scsp", Topo("one_peer_exponential", n), 50, 6, [](AlgorithmContext& c) {
    c.compression = "topk";
    c.compressor.ratio = 0.1;
    Gossip(c, 0.5, [](GossipOptions& o) {
      o.average_every = 4;
      o.final_average = true;
    });
    c.rounds = 10;
  });
  EXPECT_EQ(s.algorithm->phases(), 3);
  for (uint32_t r = 0; r < 10; ++r) {
    uint64_t before = 0;
    for (int i = 0; i < n; ++i) before += s.transport->counters(i).messages_sent;
    s.round(r, pool, /*perturb=*/true);
    uint64_t after = 0;
    for (int i = 0; i < n; ++i) after += s.transport->counters(i).messages_sent;
    const bool avg = (r + 1) % 4 == 0 || r == 9;
    // One-peer gossip sends n messages; an all-reduce adds 2 n (n - 1).
    EXPECT_EQ(after - before, static_cast<uint64_t>(n + (avg ? 2 * n * (n - 1) : 0))) << r;
    if (avg) {
      for (int i = 1; i < n; ++i) ASSERT_EQ(s.x[i], s.x[0]) << "round " << r;
      for (int i = 0; i < n; ++i) EXPECT_EQ(s.algorithm->push_sum_weight(i), 1.0);
    } else {
      EXPECT_GT(ConsensusOf(s.x), 0.0);
    }
  }
  EXPECT_THROW(Sim("scsp", Topo("directed_ring", 4), 10, 1,
                   [](AlgorithmContext& c) {
                     Gossip(c, 1, [](GossipOptions& o) {
                       o.average_every = 0;
                       o.final_average = false;
                     });
                   }),
               ConfigError);
}

// After an average the copies restart from the mean on both ends of every edge, so
// gossip continues to preserve the mass.
TEST(Scsp, StaysConsistentAfterAveraging) {
  ThreadPool pool(2);
  Sim s("scsp", Topo("one_peer_exponential", 8), 40, 6, [](AlgorithmContext& c) {
    c.compression = "topk";
    c.compressor.ratio = 0.2;
    Gossip(c, 0.5, [](GossipOptions& o) {
      o.average_every = 5;
      o.final_average = false;
    });
  });
  for (uint32_t r = 0; r < 5; ++r) s.round(r, pool, true);
  ExpectMassPreserved(s, pool, 4, "scsp after an average");
}

// Top-k gossip on `topo` for the tuner.
AlgorithmContext TopKContext(const graph::Topology& topo, int nodes, double ratio) {
  AlgorithmContext ctx;
  ctx.nodes = nodes;
  ctx.topology = &topo;
  ctx.compression = "topk";
  ctx.compressor.ratio = ratio;
  return ctx;
}

TEST(TuneGamma, PicksTheLargestStableGammaNearTheSmallestErrorAndIsDeterministic) {
  auto topo = graph::MakeTopology(Topo("ring", 8));
  AlgorithmContext ctx = TopKContext(*topo, 8, 0.05);
  TuneGammaOptions o;
  o.dim = 400;
  o.rounds = 150;
  o.stability_rounds = 600;
  const auto a = TuneGamma(ctx, o), b = TuneGamma(ctx, o);
  ASSERT_EQ(a.size(), 11u);
  for (size_t k = 0; k < a.size(); ++k) {
    EXPECT_EQ(a[k].error, b[k].error);
    EXPECT_EQ(a[k].long_error, b[k].long_error);
    EXPECT_EQ(a[k].stable, b[k].stable);
  }
  const double best = BestGamma(a);
  double min_error = std::numeric_limits<double>::infinity();
  for (const auto& r : a)
    if (r.stable) min_error = std::min(min_error, r.error);
  EXPECT_LT(min_error, 1.0);
  for (const auto& r : a) {
    if (r.gamma == best) {
      EXPECT_TRUE(r.stable);
      EXPECT_LE(r.error, kGammaErrorSlack * min_error);
    }
    if (r.gamma > best && r.stable) {
      EXPECT_GT(r.error, kGammaErrorSlack * min_error) << r.gamma;
    }
  }
  // Aggressive compression cannot take the full step: gamma = 1 blows up.
  EXPECT_LT(best, 1.0);
  EXPECT_FALSE(a[0].stable);
  EXPECT_EQ(a[0].long_error, std::numeric_limits<double>::infinity());
  // Without compression gamma = 1 is exact gossip, the fastest.
  ctx.compression = "none";
  o.rounds = 20;  // before float round-off hides the difference
  EXPECT_EQ(BestGamma(TuneGamma(ctx, o)), 1.0);
  o.algorithm = "dpsgd";
  EXPECT_THROW(TuneGamma(ctx, o), ConfigError);
  o.algorithm = "choco";
  o.stability_rounds = -1;
  EXPECT_THROW(TuneGamma(ctx, o), ConfigError);
}

// Top-3% on a ring of 8: gamma = 0.125 has the smallest error after 200 rounds, and then the
// error grows again (biased compressors can do that); the stability check turns it down.
TEST(TuneGamma, AGammaWhoseErrorGrowsLaterIsNotPicked) {
  auto topo = graph::MakeTopology(Topo("ring", 8));
  const AlgorithmContext ctx = TopKContext(*topo, 8, 0.03);
  TuneGammaOptions o;
  o.dim = 256;
  o.rounds = 200;
  o.stability_rounds = 2000;
  o.grid = {0.25, 0.125, 0.0625, 0.03125};
  const auto t = TuneGamma(ctx, o);
  ASSERT_EQ(t.size(), 4u);
  const GammaResult& g125 = t[1];
  for (const auto& r : t) EXPECT_LE(g125.error, r.error) << r.gamma;  // best after 200 rounds
  EXPECT_FALSE(g125.stable);
  EXPECT_GT(g125.long_error, g125.error);  // and grown since
  EXPECT_TRUE(t[2].stable);
  EXPECT_LT(t[2].long_error, 1e-9);
  EXPECT_EQ(BestGamma(t), 0.0625);
  // Without the check the unstable gamma wins.
  o.stability_rounds = 0;
  const auto unchecked = TuneGamma(ctx, o);
  for (const auto& r : unchecked) EXPECT_TRUE(r.stable || !std::isfinite(r.error)) << r.gamma;
  EXPECT_EQ(BestGamma(unchecked), 0.125);
}

// The same case on the half-octave grid: 2^-3.5 lies between the unstable 0.125 and 0.0625,
// is stable and contracts faster than 0.0625, so the finer grid finds it.
TEST(TuneGamma, AHalfOctaveGridFindsAStableGammaBetweenThePowersOfTwo) {
  auto topo = graph::MakeTopology(Topo("ring", 8));
  AlgorithmContext ctx = TopKContext(*topo, 8, 0.03);
  TuneGammaOptions o;
  o.dim = 256;
  o.steps_per_octave = 2;
  const auto t = TuneGamma(ctx, o);
  ASSERT_EQ(t.size(), 21u);
  for (size_t k = 0; k < t.size(); ++k) EXPECT_NEAR(t[k].gamma, std::exp2(-0.5 * k), 1e-15);
  EXPECT_EQ(t[6].gamma, 0.125);  // the powers of 2 are exact
  EXPECT_FALSE(t[6].stable);
  EXPECT_TRUE(t[7].stable);
  EXPECT_LT(t[7].error, t[8].error);  // 2^-3.5 beats 0.0625 after 200 rounds
  EXPECT_EQ(BestGamma(t), t[7].gamma);
  // An automatic gamma (algorithm.gamma = 0) uses the option.
  Sim s("choco", Topo("ring", 8), 256, 1, [](AlgorithmContext& c) {
    Compression("topk", 0.03, 0.0)(c);
    Gossip(c, 0.0, [](GossipOptions& o) { o.gamma_steps_per_octave = 2; });
  });
  EXPECT_EQ(s.algorithm->resolved_parameters()[0].second, t[7].gamma);
  o.steps_per_octave = 0;
  EXPECT_THROW(TuneGamma(ctx, o), ConfigError);
}

TEST(TuneGamma, BestGammaTakesTheLargestStableNearTie) {
  const double inf = std::numeric_limits<double>::infinity();
  using R = GammaResult;
  // Near ties (within 2x): the largest.
  EXPECT_EQ(BestGamma({R{1.0, inf, inf, false}, R{0.5, 0.15, 0.01, true},
                       R{0.25, 0.100, 0.001, true}, R{0.125, 0.3, 0.01, true}}),
            0.5);
  EXPECT_EQ(BestGamma({R{0.5, 0.25, 0.01, true}, R{0.25, 0.100, 0.001, true}}), 0.25);
  // An unstable gamma neither wins nor sets the bar.
  EXPECT_EQ(BestGamma({R{0.5, 0.001, 5.0, false}, R{0.25, 0.100, 0.001, true},
                       R{0.125, 0.15, 0.01, true}}),
            0.25);
  EXPECT_EQ(BestGamma({R{1.0, 0.0, 0.0, true}, R{0.5, 0.0, 0.0, true}}), 1.0);    // exact
  EXPECT_EQ(BestGamma({R{1.0, inf, inf, false}, R{0.5, 0.1, 1.0, false}}), 0.5);  // none stable
}

TEST(TuneGamma, AutoGammaIsRecordedAsAResolvedParameter) {
  Sim s("choco", Topo("ring", 6), 300, 1, Compression("topk", 0.02, 0.0));
  const auto params = s.algorithm->resolved_parameters();
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].first, "gamma");
  EXPECT_GT(params[0].second, 0.0);
  EXPECT_LT(params[0].second, 1.0);
}

// A message that never came (MissingMessageError) is told apart from malformed bytes
// (ProtocolError).
TEST(GossipMessages, MissingAndMalformedMessagesAreToldApart) {
  ThreadPool pool(1);
  // Missing: node 1 never sent.
  Sim s("sparse_push", Topo("directed_ring", 3), 20, 1, Compression("topk", 0.5, 0.5));
  s.algorithm->send(0, 0, 0, s.x[0]);
  s.algorithm->send(0, 0, 2, s.x[2]);
  const std::string missing =
      test_util::ErrorText<MissingMessageError>([&] { s.algorithm->receive(0, 0, 2, s.x[2]); });
  EXPECT_TRUE(test_util::Contains(missing, "node 2 got no message from node 1 in round 0"))
      << missing;
  // A push-sum weight that is not a positive number.
  comm::FrameHeader h;
  h.sender = 1;
  h.receiver = 2;
  std::vector<float> v(20, 1.0f);
  Sim t("sgp", Topo("directed_ring", 3), 20, 1, [](AlgorithmContext&) {});
  t.transport->send(detail::EncodePushSumF32Frame(h, -1.0f, v));
  EXPECT_THROW(t.algorithm->receive(0, 0, 2, t.x[2]), ProtocolError);
  // A dense frame where a compressed one belongs.
  Sim u("choco", Topo("ring", 3), 20, 1, Compression("topk", 0.5, 0.5));
  u.algorithm->send(0, 0, 1, u.x[1]);
  h.sender = 0;
  h.receiver = 1;
  u.transport->send(comm::EncodeDenseF32(h, v));
  EXPECT_THROW(u.algorithm->receive(0, 0, 1, u.x[1]), ProtocolError);
}

}  // namespace
}  // namespace murmur::algo

namespace murmur::algo {
namespace {

// Injected faults: 20% of messages lost, node 3 down in rounds [4, 12), node 7 from round 6 on.
comm::FaultModel& Faults() {
  static comm::FaultModel f(
      [] {
        comm::FaultOptions o;
        o.loss = 0.2;
        o.crashes = {{3, 4, 12}, {7, 6, -1}};
        return o;
      }(),
      12, 5);
  return f;
}

std::function<void(AlgorithmContext&)> WithFaults(std::function<void(AlgorithmContext&)> f) {
  return [f](AlgorithmContext& c) {
    f(c);
    c.transport->set_faults(&Faults());
  };
}

uint64_t Dropped(const Sim& s) {
  uint64_t d = 0;
  for (int i = 0; i < s.transport->nodes(); ++i) d += s.transport->counters(i).messages_dropped;
  return d;
}

// Push-sum keeps sum_i w_i and sum_i w_i z_i exactly: the sender of a lost message keeps its
// share (sgp) or neither end moves (sparse_push), and a crashed node keeps its own mass.
TEST(Faults, PushSumLosesNoMassWhenMessagesAreLostOrNodesCrash) {
  ThreadPool pool(2);
  for (const char* topo : {"directed_exponential", "one_peer_exponential"}) {
    Sim sgp("sgp", Topo(topo, 12), 64, 2, WithFaults([](AlgorithmContext&) {}));
    sgp.faults = &Faults();
    ExpectMassPreserved(sgp, pool, 30, std::string("sgp with faults on ") + topo);
    EXPECT_GT(Dropped(sgp), 30u) << topo;
    Sim sp("sparse_push", Topo(topo, 12), 64, 2, WithFaults(Compression("topk", 0.1, 0.5)));
    sp.faults = &Faults();
    ExpectMassPreserved(sp, pool, 30, std::string("sparse_push with faults on ") + topo);
  }
}

// CHOCO with lost messages keeps the sum of the models and still reaches consensus: the copies
// at both ends of an edge stay equal, and the next message carries what was lost.
TEST(Faults, ChocoKeepsTheAverageAndReachesConsensusDespiteLoss) {
  ThreadPool pool(2);
  comm::FaultOptions o;
  o.loss = 0.2;
  comm::FaultModel lossy(o, 12, 9);
  Sim s("choco", Topo("ring", 12), 64, 3, [&](AlgorithmContext& c) {
    Compression("topk", 0.2, 0.4)(c);
    c.transport->set_faults(&lossy);
  });
  const std::vector<double> mean0 = s.mean();
  const double start = ConsensusOf(s.x);
  for (uint32_t r = 0; r < 300; ++r) s.round(r, pool);
  const std::vector<double> mean = s.mean();
  for (size_t k = 0; k < mean.size(); ++k) ASSERT_NEAR(mean[k], mean0[k], 1e-4) << k;
  EXPECT_LT(ConsensusOf(s.x), 1e-6 * start);
  EXPECT_GT(Dropped(s), 100u);
}

// Every algorithm runs through lost messages and crashed nodes without a NaN, an exception or
// a stall.
struct FaultCase {
  const char* algo;
  const char* topo;
  std::function<void(AlgorithmContext&)> configure;
};

std::ostream& operator<<(std::ostream& os, const FaultCase& c) { return os << c.algo; }

class EveryAlgorithmUnderFaults : public ::testing::TestWithParam<FaultCase> {};

TEST_P(EveryAlgorithmUnderFaults, SurvivesLossAndCrashes) {
  const FaultCase& k = GetParam();
  ThreadPool pool(2);
  graph::TopologyOptions t = Topo(k.topo, 12);
  t.degree = 3;
  Sim s(k.algo, t, 48, 4, WithFaults(k.configure));
  s.faults = &Faults();
  for (uint32_t r = 0; r < 30; ++r) ASSERT_NO_THROW(s.round(r, pool, true)) << r;
  for (const auto& v : s.x)
    for (float e : v) ASSERT_TRUE(std::isfinite(e));
  EXPECT_GT(Dropped(s), 20u);
}

const std::vector<float>& FaultX0() {
  static const std::vector<float> x0(48, 0.5f);
  return x0;
}
void FaultInit(AlgorithmContext& c) { c.initial_model = FaultX0(); }

INSTANTIATE_TEST_SUITE_P(
    Faults, EveryAlgorithmUnderFaults,
    ::testing::Values(FaultCase{"dpsgd", "ring", [](AlgorithmContext&) {}},
                      FaultCase{"allreduce", "complete", [](AlgorithmContext&) {}},
                      FaultCase{"sgp", "one_peer_exponential", [](AlgorithmContext&) {}},
                      FaultCase{"choco", "exponential", Compression("randomk", 0.2, 0.3)},
                      FaultCase{"sparse_push", "k_peer_exponential", Compression("topk", 0.1, 0.5)},
                      FaultCase{"scsp", "directed_ring",
                                [](AlgorithmContext& c) {
                                  Compression("topk", 0.1, 0.5)(c);
                                  Gossip(c, 0.5, [](GossipOptions& o) { o.average_every = 7; });
                                  c.rounds = 30;
                                }},
                      FaultCase{"relaysum", "double_binary_tree", FaultInit},
                      FaultCase{"majority_vote", "complete",
                                [](AlgorithmContext& c) {
                                  FaultInit(c);
                                  VoteOptions o;
                                  o.mask_ratio = 0.1;
                                  o.mask_reuse = 3;
                                  c.options = o;
                                }},
                      FaultCase{"jwins", "regular", FaultInit}),
    [](const ::testing::TestParamInfo<FaultCase>& info) { return std::string(info.param.algo); });

TEST(Faults, AllToAllVotingIsRefusedBecauseALostVoteSplitsTheMask) {
  static const std::vector<float> x0(16, 0.0f);
  EXPECT_TRUE(test_util::Contains(test_util::ErrorText<ConfigError>([] {
                                    Sim s("majority_vote", Topo("complete", 12), 16, 1,
                                          WithFaults([](AlgorithmContext& c) {
                                            c.initial_model = x0;
                                            VoteOptions o;
                                            o.mode = VoteOptions::Mode::kAllToAll;
                                            c.options = o;
                                          }));
                                  }),
                                  "use vote.mode = server with [faults]"));
}

}  // namespace
}  // namespace murmur::algo
