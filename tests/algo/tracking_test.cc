// Gradient tracking, D², Exact Diffusion and Epidemic Learning (issue #32).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "error_text.h"
#include "harness.h"
#include "murmur/algo/clipped_gossip.h"
#include "murmur/algo/compressed_gossip.h"
#include "murmur/algo/epidemic.h"
#include "murmur/algo/tracking.h"
#include "murmur/comm/transport.h"
#include "murmur/graph/spectral.h"

namespace murmur::algo::testing {
namespace {

// The quadratics of the harness (different optimum per node); every round one exact gradient
// step with a CONSTANT step eta, then the algorithm's communication. Returns the worst node's
// distance to the optimum relative to the optimum's norm.
double QuadraticError(const std::string& algo, const graph::TopologyOptions& topo, int rounds,
                      float eta) {
  const int64_t d = 20;
  static const std::vector<float> zeros(d, 0.0f);
  ThreadPool pool(2);
  Sim s(algo, topo, d, 3, [](AlgorithmContext& c) { c.initial_model = zeros; });
  const Quadratics q(topo.nodes, d, 7);
  for (auto& v : s.x) std::fill(v.begin(), v.end(), 0.0f);
  for (int t = 0; t < rounds; ++t) {
    q.step(s.x, eta);
    s.round(static_cast<uint32_t>(t), pool);
  }
  return q.worst_error(s.x);
}

// With a constant step, D-PSGD's fixed point is biased by the heterogeneity (each node is
// pulled to its own b_i); gradient tracking, D² and Exact Diffusion correct it and reach the
// exact optimum (to float precision: the errors are ~1e-7 and stay there, also over 3000
// rounds, where D² and Exact Diffusion drifted linearly before their correction was kept in
// double and taken from the message as sent).
TEST(Tracking, ConstantStepReachesTheExactOptimumWhereDpsgdKeepsABias) {
  const auto ring8 = Topo("ring", 8), ring7 = Topo("ring", 7);
  const double dpsgd = QuadraticError("dpsgd", ring8, 1500, 0.1f);
  EXPECT_GT(dpsgd, 0.05);
  EXPECT_LT(QuadraticError("gradient_tracking", ring8, 1500, 0.1f), 1e-5);
  EXPECT_LT(QuadraticError("exact_diffusion", ring8, 1500, 0.1f), 1e-5);
  // D² needs lambda_min(W) > -1/3: a ring of 7 (-0.267), not of 8 (exactly -1/3).
  EXPECT_GT(QuadraticError("dpsgd", ring7, 1500, 0.1f), 0.05);
  EXPECT_LT(QuadraticError("d2", ring7, 1500, 0.1f), 1e-5);
}

TEST(Tracking, D2RefusesAMixingMatrixWithAnEigenvalueAtMinusOneThird) {
  const std::string e = test_util::ErrorText<ConfigError>([] { Sim s("d2", "ring", 8, 4); });
  EXPECT_TRUE(test_util::Contains(e, "d2 needs the smallest eigenvalue of W above -1/3")) << e;
  EXPECT_TRUE(test_util::Contains(e, "exact_diffusion")) << e;
  EXPECT_NO_THROW(Sim("d2", "chain", 8, 4));  // a path: lambda_min > -1/3
}

// The smallest eigenvalue of a ring's Metropolis-Hastings W: 1/3 + 2/3 cos(2 pi k / n).
TEST(Spectral, SmallestEigenvalueOfARing) {
  for (int n : {5, 7, 8, 16}) {
    const auto t = graph::MakeTopology(Topo("ring", n));
    double expect = 1.0;
    for (int k = 0; k < n; ++k)
      expect = std::min(expect, 1.0 / 3 + 2.0 / 3 * std::cos(2 * M_PI * k / n));
    EXPECT_NEAR(graph::SmallestEigenvalue(t->at(0)), expect, 1e-6) << n;
  }
}

// Gradient tracking keeps sum_i c_i = 0, so the nodes' mean moves only by the local updates:
// gossip rounds alone (no local steps) preserve it.
TEST(Tracking, GossipAlonePreservesTheMean) {
  for (const char* algo : {"gradient_tracking", "exact_diffusion"}) {
    ThreadPool pool(2);
    Sim s(algo, "ring", 8, 33);
    for (uint32_t r = 0; r < 50; ++r) s.round(r, pool, /*perturb=*/r < 10);
    // The perturbations change the mean; after them it must hold still.
    const auto mean10 = s.mean();
    for (uint32_t r = 50; r < 100; ++r) s.round(r, pool);
    const auto mean = s.mean();
    for (size_t k = 0; k < mean.size(); ++k) ASSERT_NEAR(mean[k], mean10[k], 1e-4) << algo;
  }
}

std::function<void(AlgorithmContext&)> Epidemic(EpidemicOptions::Variant v, int peers) {
  return [v, peers](AlgorithmContext& c) { c.options = EpidemicOptions{v, peers}; };
}

// With s = n - 1 every node averages all n models: all-reduce averaging.
TEST(Epidemic, AllPeersIsAllReduceAveraging) {
  for (auto v : {EpidemicOptions::Variant::kOracle, EpidemicOptions::Variant::kLocal}) {
    ThreadPool pool(2);
    Sim el("epidemic", Topo("complete", 8), 101, 5, Epidemic(v, 7));
    Sim ar("allreduce", Topo("complete", 8), 101, 5, [](AlgorithmContext&) {});
    for (uint32_t r = 0; r < 5; ++r) {
      el.round(r, pool, /*perturb=*/true);
      ar.round(r, pool, /*perturb=*/true);
      ASSERT_LT(MaxRelDiff(el.x, ar.x), 1e-5) << "round " << r;
    }
  }
}

// Every node sends exactly s models per round; the graphs change from round to round and are
// the same for the same seed (so a resumed run draws them again).
TEST(Epidemic, EveryNodeSendsToSFreshPeersEachRound) {
  for (auto v : {EpidemicOptions::Variant::kOracle, EpidemicOptions::Variant::kLocal}) {
    ThreadPool pool(2);
    Sim a("epidemic", Topo("complete", 12), 16, 9, Epidemic(v, 3));
    Sim b("epidemic", Topo("complete", 12), 16, 9, Epidemic(v, 3));
    std::vector<uint64_t> before(12, 0);
    for (uint32_t r = 0; r < 6; ++r) {
      a.round(r, pool, true);
      b.round(r, pool, true);
      ASSERT_EQ(a.x, b.x);
      for (int i = 0; i < 12; ++i) {
        const uint64_t sent = a.transport->counters(i).messages_sent;
        ASSERT_EQ(sent - before[i], 3u) << "node " << i << " round " << r;
        before[i] = sent;
      }
    }
    // Different seeds draw different graphs: the models differ.
    Sim c("epidemic", Topo("complete", 12), 16, 10, Epidemic(v, 3));
    c.x = Sim("epidemic", Topo("complete", 12), 16, 9, Epidemic(v, 3)).x;
    for (uint32_t r = 0; r < 6; ++r) c.round(r, pool, true);
    EXPECT_GT(MaxRelDiff(a.x, c.x), 1e-3);
  }
}

TEST(Epidemic, OptionErrors) {
  EXPECT_TRUE(test_util::Contains(test_util::ErrorText<ConfigError>([] {
                                    Sim("epidemic", Topo("complete", 7), 4, 1,
                                        Epidemic(EpidemicOptions::Variant::kOracle, 3));
                                  }),
                                  "nodes * peers must be even"));
  EXPECT_TRUE(test_util::Contains(test_util::ErrorText<ConfigError>([] {
                                    Sim("epidemic", Topo("ring", 8), 4, 1,
                                        Epidemic(EpidemicOptions::Variant::kLocal, 3));
                                  }),
                                  "has 2 out-neighbours in topology 'ring', fewer than the 3"));
  EXPECT_TRUE(test_util::Contains(test_util::ErrorText<ConfigError>([] {
                                    Sim("epidemic", Topo("complete", 8), 4, 1,
                                        Epidemic(EpidemicOptions::Variant::kOracle, 8));
                                  }),
                                  "epidemic.peers: must be in [1, 7]"));
}

}  // namespace
}  // namespace murmur::algo::testing

namespace murmur::algo::testing {
namespace {

std::function<void(AlgorithmContext&)> Beer(const std::string& compressor, double ratio,
                                            double gamma) {
  return [=](AlgorithmContext& c) {
    c.compression = compressor;
    c.compressor.ratio = ratio;
    GossipOptions o;
    o.gamma = gamma;
    c.options = o;
  };
}

// With the identity compressor and gamma = 1 the public copies are the vectors themselves, and
// BEER is gradient tracking in its combine-then-adapt form.
TEST(Beer, IdentityIsGradientTracking) {
  ThreadPool pool(2);
  static const std::vector<float> zeros(64, 0.0f);
  auto start = [](AlgorithmContext& c) { c.initial_model = zeros; };
  Sim beer("beer", Topo("ring", 8), 64, 4, [&](AlgorithmContext& c) {
    Beer("identity", 1.0, 1.0)(c);
    start(c);
  });
  Sim gt("gradient_tracking", Topo("ring", 8), 64, 4, [&](AlgorithmContext& c) {
    c.options = GradientTrackingOptions{GradientTrackingOptions::Form::kCta};
    start(c);
  });
  for (auto* s : {&beer, &gt})
    for (auto& v : s->x) std::fill(v.begin(), v.end(), 0.0f);
  for (uint32_t r = 0; r < 30; ++r) {
    beer.round(r, pool, /*perturb=*/true);
    gt.round(r, pool, /*perturb=*/true);
    ASSERT_LT(MaxRelDiff(beer.x, gt.x), 1e-4) << "round " << r;
  }
}

// Compressed (top-10%) and with a constant step, BEER still removes the heterogeneity's bias.
TEST(Beer, TopKWithAConstantStepReachesTheOptimum) {
  const auto ring = Topo("ring", 8);
  EXPECT_LT(QuadraticError("gradient_tracking", ring, 1500, 0.1f), 1e-5);  // the reference
  const int64_t d = 20;
  ThreadPool pool(2);
  Sim s("beer", ring, d, 3, Beer("topk", 0.2, 0.3));
  const Quadratics q(8, d, 7);
  for (auto& v : s.x) std::fill(v.begin(), v.end(), 0.0f);
  for (uint32_t t = 0; t < 4000; ++t) {
    q.step(s.x, 0.05f);
    s.round(t, pool);
  }
  EXPECT_LT(q.worst_error(s.x), 1e-3);
}

}  // namespace
}  // namespace murmur::algo::testing

namespace murmur::algo::testing {
namespace {

std::function<void(AlgorithmContext&)> Clipped(double radius, int clip_count = 1) {
  return [=](AlgorithmContext& c) { c.options = ClippedGossipOptions{radius, clip_count}; };
}

// Without attackers and with an infinite radius, ClippedGossip is D-PSGD.
TEST(ClippedGossip, InfiniteRadiusIsDpsgd) {
  for (const char* topo : {"ring", "torus", "exponential"}) {
    ThreadPool pool(2);
    Sim cg("clipped_gossip", Topo(topo, 12), 50, 2,
           Clipped(std::numeric_limits<double>::infinity()));
    Sim dp("dpsgd", Topo(topo, 12), 50, 2, [](AlgorithmContext&) {});
    for (uint32_t r = 0; r < 10; ++r) {
      cg.round(r, pool, /*perturb=*/true);
      dp.round(r, pool, /*perturb=*/true);
      ASSERT_LT(MaxRelDiff(cg.x, dp.x), 1e-5) << topo << " round " << r;
    }
  }
}

// Heterogeneous quadratics on a ring of 10 with one malicious node that sends a model far away
// (1000 in every coordinate, through the transport like any message) every round. D-PSGD's
// honest nodes are dragged hundreds of units away; with the adaptive radius ClippedGossip's stay
// within a few units of the honest optimum.
TEST(ClippedGossip, HonestNodesStayBoundedUnderAttackWherePlainGossipIsDraggedAway) {
  const int n = 10, bad = 4;
  const int64_t d = 8;
  auto run = [&](const std::string& algo, const std::function<void(AlgorithmContext&)>& set) {
    ThreadPool pool(2);
    Sim s(algo, Topo("ring", n), d, 5, set);
    const Quadratics q(n, d, 11);
    for (auto& v : s.x) std::fill(v.begin(), v.end(), 0.0f);
    double worst = 0.0;
    for (uint32_t t = 0; t < 300; ++t) {
      q.step(s.x, 0.1f);
      std::fill(s.x[bad].begin(), s.x[bad].end(), 1000.0f);  // the attack it sends
      s.round(t, pool);
    }
    for (int i = 0; i < n; ++i) {
      if (i == bad) continue;
      double e = 0.0;
      for (int64_t k = 0; k < d; ++k) e += (s.x[i][k] - q.opt[k]) * (s.x[i][k] - q.opt[k]);
      worst = std::max(worst, std::sqrt(e));
    }
    return worst;
  };
  EXPECT_GT(run("dpsgd", [](AlgorithmContext&) {}), 100.0);
  EXPECT_LT(run("clipped_gossip", Clipped(0.0)), 10.0);
}

TEST(ClippedGossip, OptionErrors) {
  EXPECT_TRUE(test_util::Contains(test_util::ErrorText<ConfigError>([] {
                                    Sim("clipped_gossip", Topo("ring", 6), 4, 1, Clipped(-1));
                                  }),
                                  "clipped_gossip.radius: must be >= 0"));
}

}  // namespace
}  // namespace murmur::algo::testing
