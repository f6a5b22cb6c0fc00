#include "murmur/comm/faults.h"

#include <gtest/gtest.h>

#include <functional>

#include "comm/frames.h"
#include "error_text.h"
#include "murmur/comm/framing.h"
#include "murmur/comm/network_model.h"
#include "murmur/comm/transport.h"
#include "murmur/core/check.h"

namespace murmur::comm {
namespace {

using test_util::ErrorText;

TEST(FaultOptions, ParsesLinksAndCrashesAndNamesTheKeyAndEntryOfABadOne) {
  const LinkDown l = FaultOptions::ParseLinkDown("3-7@10:20", "faults.link_down");
  EXPECT_EQ(l.a, 3);
  EXPECT_EQ(l.b, 7);
  EXPECT_TRUE(l.both_ways);
  EXPECT_EQ(l.from, 10);
  EXPECT_EQ(l.to, 20);
  EXPECT_FALSE(FaultOptions::ParseLinkDown("1>0@0:5", "k").both_ways);
  const Crash c = FaultOptions::ParseCrash("4@100:250", "faults.crash");
  EXPECT_EQ(c.node, 4);
  EXPECT_EQ(c.round, 100);
  EXPECT_EQ(c.rejoin, 250);
  EXPECT_EQ(FaultOptions::ParseCrash("2@7", "k").rejoin, -1);
  for (const char* bad : {"", "3", "3-", "3-7", "3-7@", "3-7@10", "3-7@10:", "3x7@1:2", "a-b@1:2",
                          "3-7@10:20x", "3=7@1:2"})
    EXPECT_NE(ErrorText<ConfigError>([&] {
                FaultOptions::ParseLinkDown(bad, "faults.link_down");
              }).find(std::string("faults.link_down: '") + bad + "' is not a link interval"),
              std::string::npos)
        << bad;
  EXPECT_NE(ErrorText<ConfigError>([] {
              FaultOptions::ParseLinkDown("3-3@1:2", "faults.link_down");
            }).find("needs two different nodes"),
            std::string::npos);
  EXPECT_NE(ErrorText<ConfigError>([] {
              FaultOptions::ParseLinkDown("1-2@5:5", "faults.link_down");
            }).find("rounds R0 < R1"),
            std::string::npos);
  for (const char* bad : {"", "4", "4@", "4@x", "4@1:", "4@1:2:3", "-1@3"})
    EXPECT_NE(ErrorText<ConfigError>([&] {
                FaultOptions::ParseCrash(bad, "faults.crash");
              }).find("faults.crash: '"),
              std::string::npos)
        << bad;
  EXPECT_NE(ErrorText<ConfigError>([] {
              FaultOptions::ParseCrash("4@10:10", "faults.crash");
            }).find("ROUND < REJOIN"),
            std::string::npos);
  FaultOptions o;
  o.crashes = {{9, 1, -1}};
  EXPECT_NE(ErrorText<ConfigError>([&] {
              FaultModel(o, 8, 1);
            }).find("faults.crash: node 9 outside [0, 8)"),
            std::string::npos);
  o.crashes = {{1, 1, -1}, {1, 5, -1}};
  EXPECT_NE(ErrorText<ConfigError>([&] { FaultModel(o, 8, 1); }).find("node 1 is listed twice"),
            std::string::npos);
}

TEST(FaultModel, LossIsSeededPerMessageAtTheRequestedRate) {
  FaultOptions o;
  o.loss = 0.1;
  const FaultModel a(o, 16, 7), b(o, 16, 7), other(o, 16, 8);
  int lost = 0, same = 0, total = 0;
  for (uint32_t r = 0; r < 200; ++r)
    for (int i = 0; i < 16; ++i)
      for (int j = 0; j < 16; ++j) {
        if (i == j) continue;
        ++total;
        lost += a.lost(i, j, r, 0);
        EXPECT_EQ(a.lost(i, j, r, 0), b.lost(i, j, r, 0));  // a pure function of its inputs
        same += a.lost(i, j, r, 0) == other.lost(i, j, r, 0);
      }
  EXPECT_NEAR(static_cast<double>(lost) / total, 0.1, 0.01);
  EXPECT_LT(same, total);  // another seed, other losses
  EXPECT_FALSE(FaultModel(FaultOptions{}, 4, 1).active());
}

TEST(FaultModel, LinksDownAndCrashesFollowTheirRounds) {
  FaultOptions o;
  o.link_down = {{0, 1, true, 5, 10}, {2, 3, false, 0, 3}};
  o.crashes = {{4, 20, 30}, {5, 40, -1}};
  const FaultModel f(o, 8, 1);
  EXPECT_FALSE(f.lost(0, 1, 4, 0));
  EXPECT_TRUE(f.lost(0, 1, 5, 0));
  EXPECT_TRUE(f.lost(1, 0, 9, 2));  // both ways
  EXPECT_FALSE(f.lost(1, 0, 10, 0));
  EXPECT_TRUE(f.lost(2, 3, 2, 0));
  EXPECT_FALSE(f.lost(3, 2, 2, 0));  // one way only
  EXPECT_FALSE(f.down(4, 19));
  EXPECT_TRUE(f.down(4, 20));
  EXPECT_TRUE(f.lost(4, 6, 25, 0));
  EXPECT_TRUE(f.lost(6, 4, 29, 1));
  EXPECT_FALSE(f.down(4, 30));  // rejoined
  EXPECT_TRUE(f.down(5, 1000000));
}

TEST(FaultModel, TheTransportCountsLostFramesAsSentAndDroppedAndNeverDeliversThem) {
  FaultOptions o;
  o.link_down = {{0, 1, false, 0, 1}};
  o.delay_prob = 1.0;
  o.delay_seconds = 0.25;
  const FaultModel f(o, 3, 1);
  auto t = MakeInProcessTransport(3);
  t->set_faults(&f);
  t->record_links(true);
  t->send(testing::DenseFrame(0, 1, 0, std::vector<float>(10, 1.0f)));
  t->send(testing::DenseFrame(0, 2, 0, std::vector<float>(10, 1.0f)));
  EXPECT_TRUE(t->lost(0, 1, 0, 0));
  EXPECT_FALSE(t->receive(1, 0, 0, 0).has_value());
  EXPECT_TRUE(t->receive(2, 0, 0, 0).has_value());
  EXPECT_EQ(t->counters(0).messages_sent, 2u);
  EXPECT_EQ(t->counters(0).messages_dropped, 1u);
  EXPECT_EQ(t->counters(0).bytes_sent, 2 * (kHeaderBytes + 40));
  EXPECT_EQ(t->counters(1).messages_received, 0u);
  // The delivered one is a straggler: the network model sees its extra latency.
  const std::vector<LinkRecord> links = t->take_links(0);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].to, 2);
  EXPECT_EQ(links[0].delay, 0.25);
  NetworkOptions no;
  no.latency_s = 0.001;
  no.bandwidth_bytes_s = 1e9;
  const NetworkModel net(no, 3, 1);
  const std::vector<double> compute(3, 0.0);
  EXPECT_NEAR(net.round_seconds(compute, links), 0.25 + 0.001 + (kHeaderBytes + 40) / 1e9, 1e-12);
}

TEST(MpiFraming, BatchHeadersRoundTripAndBadOnesNameTheRank) {
  std::vector<Bytes> frames = {testing::DenseFrame(1, 6, 5, std::vector<float>(3, 1.0f), 1),
                               testing::DenseFrame(2, 7, 5, std::vector<float>(1, 1.0f), 1)};
  const std::vector<uint64_t> h = EncodeBatchHeader(frames);
  auto bytes = [](const std::vector<uint64_t>& w) {
    const auto* p = reinterpret_cast<const uint8_t*>(w.data());
    return Bytes(p, p + 8 * w.size());
  };
  EXPECT_EQ(DecodeBatchHeader(bytes(h), 0, 5, 1),
            (std::vector<uint64_t>{frames[0].size(), frames[1].size()}));
  EXPECT_TRUE(DecodeBatchHeader(bytes({0}), 0, 5, 1).empty());
  Bytes b = bytes(h);
  b.pop_back();
  EXPECT_NE(ErrorText<ProtocolError>([&] {
              DecodeBatchHeader(b, 4, 5, 1);
            }).find("mpi: header of 23 bytes from rank 4 in round 5 phase 1"),
            std::string::npos);
  EXPECT_NE(ErrorText<ProtocolError>([&] {
              DecodeBatchHeader(bytes({3, 40}), 4, 5, 1);
            }).find("announces 3 frames but lists 1 sizes"),
            std::string::npos);
  EXPECT_NE(ErrorText<ProtocolError>([&] {
              DecodeBatchHeader(bytes({1, 8}), 4, 5, 1);
            }).find("announces a frame of 8 bytes"),
            std::string::npos);
  EXPECT_NE(ErrorText<ProtocolError>([&] {
              DecodeBatchHeader(bytes({1, uint64_t{1} << 40}), 4, 5, 1);
            }).find("announces a frame of"),
            std::string::npos);

  // 8 nodes over 3 ranks (block): rank 0 holds 0-2, rank 2 holds 6-7.
  const NodeMap map(8, 3, "block");
  EXPECT_EQ(CheckDeliveredFrame(frames[0], map, 0, 2, 5, 1).header.receiver, 6u);
  for (const Bytes& bad : {testing::DenseFrame(4, 6, 5, {1.0f}, 1),   // sender on rank 1
                           testing::DenseFrame(1, 3, 5, {1.0f}, 1),   // receiver on rank 1
                           testing::DenseFrame(1, 6, 4, {1.0f}, 1),   // another round
                           testing::DenseFrame(1, 6, 5, {1.0f}, 0)})  // another phase
    EXPECT_NE(ErrorText<ProtocolError>([&] {
                CheckDeliveredFrame(bad, map, 0, 2, 5, 1);
              }).find("mpi: rank 0 delivered a frame from node"),
              std::string::npos);
}

}  // namespace
}  // namespace murmur::comm
