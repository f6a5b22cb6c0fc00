// The asynchronous algorithms (algo/async.h) driven by hand: a test network that holds the
// frames until the test delivers them, in any order it likes.
#include "murmur/algo/async.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <numeric>

#include "harness.h"
#include "murmur/algo/algorithm.h"
#include "murmur/core/check.h"

namespace murmur::algo {
namespace {

struct HeldNet : AsyncNet {
  std::vector<bool> up;
  std::deque<comm::Bytes> frames;
  explicit HeldNet(int n) : up(n, true) {}
  double now() const override { return 0.0; }
  bool online(int node) const override { return up[node]; }
  void send(comm::Bytes frame) override { frames.push_back(std::move(frame)); }
  // Delivers the oldest frame (lost when its receiver is down); returns its receiver.
  int deliver(AsyncAlgorithm& a) {
    comm::Bytes f = std::move(frames.front());
    frames.pop_front();
    const int to = static_cast<int>(comm::DecodeFrame(f).header.receiver);
    if (up[to]) {
      a.arrive(*this, f);
    } else {
      a.lost(*this, f);
    }
    return to;
  }
  void deliver_all(AsyncAlgorithm& a) {
    while (!frames.empty()) deliver(a);
  }
};

struct AsyncSetup {
  std::unique_ptr<graph::Topology> topology;
  std::vector<float> x0;
  std::unique_ptr<AsyncAlgorithm> algorithm;
  AsyncSetup(const std::string& algo, const std::string& topo, int n,
             int64_t staleness_bound = -1) {
    topology = graph::MakeTopology(testing::Topo(topo, n));
    x0 = {1.0f, -2.0f, 0.5f};
    AlgorithmContext ctx;
    ctx.nodes = n;
    ctx.dim = static_cast<int64_t>(x0.size());
    ctx.seed = 3;
    ctx.topology = topology.get();
    ctx.initial_model = x0;
    ctx.options = AsyncPushSumOptions{staleness_bound};
    algorithm = GetAlgorithm(algo).make_async(ctx);
  }
  std::vector<float> sum(int n) const {
    std::vector<float> s(x0.size(), 0.0f);
    for (int i = 0; i < n; ++i) {
      const std::span<const float> x = algorithm->model(i);
      for (size_t k = 0; k < s.size(); ++k) s[k] += x[k];
    }
    return s;
  }
};

TEST(AdPsgd, ThePairAveragesAtOneInstantAndTheRequesterWaitsForTheReply) {
  const int n = 4;
  AsyncSetup s("adpsgd", "ring", n);
  AsyncAlgorithm& a = *s.algorithm;
  HeldNet net(n);
  const std::vector<float> delta{3.0f, 1.0f, -1.0f};
  a.started(0);
  a.steps_done(net, 0, 0, delta);
  ASSERT_EQ(net.frames.size(), 1u);
  EXPECT_FALSE(a.may_finish(0));  // one averaging in flight
  const std::vector<float> before = s.sum(n);
  const int j = net.deliver(a);  // the request: the pair is averaged now
  EXPECT_TRUE(j == 1 || j == 3);
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(a.model(0)[k], a.model(j)[k]);
    EXPECT_FLOAT_EQ(a.model(0)[k], s.x0[k] + 0.5f * delta[k]);
  }
  const std::vector<float> after = s.sum(n);
  for (size_t k = 0; k < 3; ++k) EXPECT_FLOAT_EQ(after[k], before[k]);  // nothing lost
  EXPECT_FALSE(a.may_finish(0));
  ASSERT_EQ(net.frames.size(), 1u);  // the reply
  EXPECT_EQ(net.deliver(a), 0);
  EXPECT_TRUE(a.may_finish(0));
  // Its next steps were computed on the model it had when they started: one change since.
  const AsyncAlgorithm::Staleness st = a.take_staleness(0);
  EXPECT_EQ(st.count, 1);
  EXPECT_EQ(st.max, 0);
  a.started(0);
  a.steps_done(net, 0, 1, std::vector<float>(3, 0.0f));
  net.deliver_all(a);
  a.steps_done(net, 0, 2, std::vector<float>(3, 0.0f));
  EXPECT_GE(a.take_staleness(0).max, 1);
}

TEST(AdPsgd, ARequestToAnOfflineNodeIsLostAndReleasesTheRequester) {
  const int n = 4;
  AsyncSetup s("adpsgd", "ring", n);
  AsyncAlgorithm& a = *s.algorithm;
  HeldNet net(n);
  net.up = {true, false, true, false};  // both neighbours of node 0 are away
  a.steps_done(net, 0, 0, std::vector<float>{1.0f, 1.0f, 1.0f});
  EXPECT_FALSE(a.may_finish(0));
  net.deliver(a);
  EXPECT_TRUE(a.may_finish(0));
  EXPECT_FLOAT_EQ(a.model(0)[0], s.x0[0] + 1.0f);
  EXPECT_FLOAT_EQ(a.model(1)[0], s.x0[0]);
}

// A lost reply releases the requester too; a reply to an averaging from before the node left
// and came back does not end the one in flight now.
TEST(AdPsgd, OnlyTheReplyToTheAveragingInFlightReleasesTheRequester) {
  const int n = 4;
  AsyncSetup s("adpsgd", "ring", n);
  AsyncAlgorithm& a = *s.algorithm;
  HeldNet net(n);
  const std::vector<float> zero(3, 0.0f);
  a.steps_done(net, 0, 0, zero);
  net.deliver(a);  // the request; its reply is held
  comm::Bytes old_reply = net.frames.front();
  net.frames.clear();
  a.left(0);  // node 0 leaves and comes back
  EXPECT_TRUE(a.may_finish(0));
  a.steps_done(net, 0, 1, zero);
  EXPECT_FALSE(a.may_finish(0));
  net.frames.push_front(old_reply);
  net.deliver(a);  // the old reply
  EXPECT_FALSE(a.may_finish(0));
  // The new averaging's reply is lost (faults.loss): node 0 learns it and goes on.
  net.frames.clear();
  a.lost(net, comm::EncodeDenseF32(
                  [] {
                    comm::FrameHeader h;
                    h.codec = static_cast<uint8_t>(comm::Codec::kDenseF32);
                    h.phase = 1;
                    h.round = 1;
                    h.sender = 1;
                    h.receiver = 0;
                    return h;
                  }(),
                  std::vector<float>(3, 0.0f)));
  EXPECT_TRUE(a.may_finish(0));
}

TEST(AdPsgd, RefusesDirectedGraphs) {
  EXPECT_THROW(AsyncSetup("adpsgd", "directed_ring", 4), ConfigError);
}

// Push-sum keeps its mass: with messages delivered late, out of order or lost (returned to the
// sender), every z_i tends to the average of the nodes' updates.
TEST(AsyncPushSum, MassIsKeptAndEveryNodeReachesTheAverage) {
  const int n = 5;
  AsyncSetup s("async_push_sum", "directed_exponential", n);
  AsyncAlgorithm& a = *s.algorithm;
  HeldNet net(n);
  std::vector<float> target(s.x0.begin(), s.x0.end());
  for (int i = 0; i < n; ++i) {
    const std::vector<float> d{static_cast<float>(i), -static_cast<float>(i * i), 0.25f};
    for (size_t k = 0; k < 3; ++k) target[k] += d[k] / n;
    a.steps_done(net, i, 0, d);
  }
  const std::vector<float> zero(3, 0.0f);
  for (int64_t step = 1; step < 80; ++step) {
    net.up[step % n] = step % 3 != 0;  // a node away now and then: what it is sent comes back
    for (int i = 0; i < n; ++i) {
      if (!net.up[i]) continue;
      a.steps_done(net, i, step, zero);
      if (!net.frames.empty()) net.deliver(a);  // some frames wait
    }
    net.up.assign(n, true);
  }
  net.deliver_all(a);
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < n; ++i) a.steps_done(net, i, 100 + round, zero);
    net.deliver_all(a);
  }
  for (int i = 0; i < n; ++i)
    for (size_t k = 0; k < 3; ++k) EXPECT_NEAR(a.model(i)[k], target[k], 1e-4) << i << " " << k;
}

TEST(AsyncPushSum, AStalenessBoundMakesAFastNodeWaitForItsInNeighbours) {
  const int n = 3;
  AsyncSetup s("async_push_sum", "directed_ring", n, 1);  // node 0 hears from node 2 only
  AsyncAlgorithm& a = *s.algorithm;
  HeldNet net(n);
  const std::vector<float> zero(3, 0.0f);
  EXPECT_TRUE(a.may_start(net, 0, 1));  // node 2 may be 1 step behind
  a.steps_done(net, 0, 0, zero);
  a.steps_done(net, 0, 1, zero);
  EXPECT_FALSE(a.may_start(net, 0, 2));  // nothing from node 2 yet
  net.up[2] = false;
  EXPECT_TRUE(a.may_start(net, 0, 2));  // an offline neighbour is not waited for
  net.up[2] = true;
  a.steps_done(net, 2, 0, zero);
  while (!net.frames.empty()) net.deliver(a);
  EXPECT_TRUE(a.may_start(net, 0, 2));
  EXPECT_FALSE(a.may_start(net, 0, 3));
  EXPECT_THROW(AsyncSetup("async_push_sum", "one_peer_exponential", 4, 2), ConfigError);
}

TEST(AsyncAlgorithms, RefuseToRunInRounds) {
  EXPECT_THROW(testing::Sim("adpsgd", "ring", 4, 3), ConfigError);
  EXPECT_THROW(testing::Sim("async_push_sum", "ring", 4, 3), ConfigError);
  EXPECT_TRUE(GetAlgorithm("adpsgd").traits.asynchronous);
  EXPECT_FALSE(GetAlgorithm("dpsgd").traits.asynchronous);
}

}  // namespace
}  // namespace murmur::algo
