#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "algo/harness.h"
#include "error_text.h"
#include "murmur/algo/kernels.h"

namespace murmur::algo {
namespace {

using testing::Sim;

// Algorithms registered from outside get a name like the built-ins; a taken name, or a plugin
// without a factory, is refused.
TEST(AlgorithmRegistry, RegisteredFromOutside) {
  AlgorithmPlugin copy = GetAlgorithm("dpsgd");
  RegisterAlgorithm("test_dpsgd_copy", "D-PSGD under another name", copy);
  EXPECT_TRUE(AlgorithmRegistry().contains("test_dpsgd_copy"));
  EXPECT_TRUE(test_util::Contains(
      test_util::ErrorText<ConfigError>([&] { RegisterAlgorithm("dpsgd", "", copy); }),
      "RegisterAlgorithm: 'dpsgd' is already an algorithm"));
  EXPECT_TRUE(test_util::Contains(
      test_util::ErrorText<ConfigError>([] { RegisterAlgorithm("test_empty", "", {}); }),
      "'test_empty' has no factory"));
}

TEST(Dpsgd, CompleteGraphWithUniformWeightsEqualsAllReduceExactly) {
  for (int n : {2, 5, 8}) {
    for (int threads : {1, 2}) {
      ThreadPool pool(threads);
      Sim d("dpsgd", "complete", n, 1001, "uniform"), a("allreduce", "complete", n, 1001);
      ASSERT_EQ(d.x, a.x);
      for (uint32_t r = 0; r < 5; ++r) {
        d.round(r, pool, /*perturb=*/true);
        a.round(r, pool, /*perturb=*/true);
        ASSERT_EQ(d.x, a.x) << "n=" << n << " round " << r;  // bit for bit
      }
      for (int i = 1; i < n; ++i) EXPECT_EQ(a.x[i], a.x[0]);
    }
  }
}

TEST(Dpsgd, BytesPerRoundEqualEdgesTimesEncodedSize) {
  const int64_t d = 123;
  for (const char* topo : {"ring", "torus", "star", "exponential", "directed_ring"}) {
    ThreadPool pool(2);
    Sim s("dpsgd", topo, 12, d);
    const int64_t edges = s.topology->at(0).directed_edges();
    s.round(0, pool);
    uint64_t sent = 0, received = 0, headers = 0;
    for (int i = 0; i < 12; ++i) {
      const auto& c = s.transport->counters(i);
      sent += c.bytes_sent;
      received += c.bytes_received;
      headers += c.header_bytes_sent;
      EXPECT_EQ(c.messages_sent, s.topology->at(0).out[i].size());
      EXPECT_EQ(c.bytes_sent, s.topology->at(0).out[i].size() * (comm::kHeaderBytes + 4 * d));
    }
    EXPECT_EQ(sent, static_cast<uint64_t>(edges * (comm::kHeaderBytes + 4 * d))) << topo;
    EXPECT_EQ(received, sent);
    EXPECT_EQ(headers, static_cast<uint64_t>(edges * comm::kHeaderBytes));
  }
}

TEST(AllReduce, BytesMatchRingAllReduce) {
  const int n = 4;
  const int64_t d = 400;  // divisible by n: every chunk has d/n values
  ThreadPool pool(2);
  Sim s("allreduce", "ring", n, d);
  s.round(0, pool);
  for (int i = 0; i < n; ++i) {
    const auto& c = s.transport->counters(i);
    EXPECT_EQ(c.messages_sent, 2u * (n - 1));
    EXPECT_EQ(c.bytes_sent - c.header_bytes_sent, 2u * (n - 1) * (d / n) * 4);
  }
}

TEST(AllReduce, EveryNodeHoldsTheExactMean) {
  ThreadPool pool(2);
  Sim s("allreduce", "ring", 7, 50);  // uneven chunks
  const auto m = s.mean();
  s.round(0, pool);
  for (auto& v : s.x)
    for (size_t k = 0; k < v.size(); ++k) EXPECT_NEAR(v[k], m[k], 1e-6);
}

TEST(Dpsgd, PreservesMeanAndReachesConsensus) {
  ThreadPool pool(2);
  Sim s("dpsgd", "ring", 8, 20);
  const auto m0 = s.mean();
  for (uint32_t r = 0; r < 300; ++r) s.round(r, pool);
  const auto m1 = s.mean();
  for (size_t k = 0; k < m0.size(); ++k) EXPECT_NEAR(m1[k], m0[k], 1e-4);
  for (auto& v : s.x)
    for (size_t k = 0; k < v.size(); ++k) EXPECT_NEAR(v[k], m0[k], 1e-3);
}

TEST(Dpsgd, TimeVaryingDirectedGraphAveragesExactlyOverAPeriod) {
  ThreadPool pool(1);
  Sim s("dpsgd", "one_peer_exponential", 8, 10);
  const auto m = s.mean();
  for (uint32_t r = 0; r < 3; ++r) s.round(r, pool);
  for (auto& v : s.x)
    for (size_t k = 0; k < v.size(); ++k) EXPECT_NEAR(v[k], m[k], 1e-5);
}

TEST(Dpsgd, RejectsWeightsThatAreNotDoublyStochastic) {
  EXPECT_TRUE(test_util::Contains(
      test_util::ErrorText<ConfigError>([] { Sim s("dpsgd", "star", 5, 4, "uniform"); }),
      "doubly stochastic"));
}

TEST(Dpsgd, MissingMessageRenormalisesWeights) {
  ThreadPool pool(1);
  Sim s("dpsgd", "ring", 3, 1);
  s.x = {{0.0f}, {3.0f}, {6.0f}};
  for (int i = 0; i < 3; ++i) s.algorithm->send(0, 0, i, s.x[i]);
  // Drop 2 -> 0: node 0 averages itself and node 1 with weights 1/3, 1/3, renormalised.
  ASSERT_TRUE(s.transport->receive(0, 2, 0, 0).has_value());
  s.algorithm->receive(0, 0, 0, s.x[0]);
  EXPECT_FLOAT_EQ(s.x[0][0], 1.5f);
}

TEST(Dpsgd, FramesOfOtherRoundsAreNotUsed) {
  ThreadPool pool(1);
  Sim s("dpsgd", "ring", 3, 2);
  comm::FrameHeader h;
  h.sender = 2;
  h.receiver = 0;
  h.round = 5;  // wrong round for round 0: must not be accepted as node 2's message
  s.transport->send(comm::EncodeDenseF32(h, s.x[2]));
  s.algorithm->send(0, 0, 1, s.x[1]);
  // Node 2's round-0 message is missing; the stray round-5 frame is never used.
  s.algorithm->receive(0, 0, 0, s.x[0]);
  EXPECT_TRUE(s.transport->receive(0, 2, 5, 0).has_value());
}

TEST(Kernels, WeightedSumFromBytesEqualsFromFloats) {
  std::vector<float> a(3000), b(3000);
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = 0.001f * i;
    b[i] = -0.5f * i;
  }
  std::vector<uint8_t> raw(4 * b.size() + 1);
  std::memcpy(raw.data() + 1, b.data(), 4 * b.size());  // unaligned
  std::vector<float> o1(3000), o2(3000);
  WeightedSource s1[] = {{0.25f, a.data(), nullptr}, {0.75f, b.data(), nullptr}};
  WeightedSource s2[] = {{0.25f, a.data(), nullptr}, {0.75f, nullptr, raw.data() + 1}};
  WeightedSum(o1, s1);
  WeightedSum(o2, s2);
  EXPECT_EQ(o1, o2);
  EXPECT_FLOAT_EQ(o1[100], 0.25f * 0.1f + 0.75f * -50.0f);
}

TEST(Kernels, ConsensusDistance) {
  std::vector<float> a = {1, 1}, b = {3, -1};
  std::vector<std::span<const float>> xs = {a, b};
  std::vector<float> mean(2);
  EXPECT_DOUBLE_EQ(ConsensusDistance(xs, mean), 2.0);  // each is sqrt(2) from (2, 0)
  EXPECT_EQ(mean, (std::vector<float>{2, 0}));
}

// Rank 0 of an MPI run computes the distance a block of coordinates at a time: the same bits.
TEST(Kernels, ConsensusDistanceInBlocksIsBitIdentical) {
  const size_t n = 7, d = 1000;
  std::vector<std::vector<float>> x(n, std::vector<float>(d));
  Rng rng(5);
  for (auto& v : x)
    for (float& e : v) e = static_cast<float>(rng.normal() * std::exp(4 * rng.normal()));
  std::vector<std::span<const float>> whole(x.begin(), x.end());
  std::vector<float> mean(d), mean_blocks(d);
  const double expected = ConsensusDistance(whole, mean);
  ConsensusAccumulator acc(n);
  for (size_t begin = 0; begin < d; begin += 64) {
    const size_t len = std::min<size_t>(64, d - begin);
    std::vector<std::span<const float>> block;
    for (auto& v : x) block.push_back(std::span<const float>(v).subspan(begin, len));
    acc.add(block, std::span(mean_blocks).subspan(begin, len));
  }
  EXPECT_EQ(acc.result(), expected);  // bit-identical, not merely close
  EXPECT_EQ(mean_blocks, mean);
}

TEST(Registry, UnknownAlgorithmListsAllowed) {
  EXPECT_TRUE(
      test_util::Contains(test_util::ErrorText<ConfigError>([] { Sim s("choco2", "ring", 3, 2); }),
                          "algorithm.name: unknown algorithm 'choco2'; allowed: adpsgd, allreduce, "
                          "async_push_sum, beer, "
                          "choco, clipped_gossip, "
                          "d2, dpsgd, epidemic, exact_diffusion, gradient_tracking, jwins, local, "
                          "majority_vote, relaysum, "
                          "scsp, sgp, sparse_push"));
}

}  // namespace
}  // namespace murmur::algo
