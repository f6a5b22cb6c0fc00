// The MPI transport between ranks; run under `mpirun -np 2` (tests/CMakeLists.txt).
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "comm/frames.h"
#include "murmur/comm/cluster.h"
#include "murmur/core/check.h"

namespace murmur::comm {
namespace {

// Values that differ per sender, receiver and position.
Bytes Msg(int from, int to, uint32_t round, size_t floats) {
  std::vector<float> v(floats);
  for (size_t k = 0; k < floats; ++k) v[k] = 1000.0f * from + to + 0.5f * k;
  return testing::DenseFrame(from, to, round, v);
}

std::unique_ptr<Cluster>& TheCluster() {
  static std::unique_ptr<Cluster> c = MakeMpiCluster(2.0);
  return c;
}

TEST(MpiTransport, EveryNodeReceivesWhatEveryOtherNodeSentAndBytesAreCounted) {
  Cluster& c = *TheCluster();
  ASSERT_EQ(c.size(), 2) << "run under mpirun -np 2";
  const NodeMap map(5, 2, "block");  // rank 0: nodes 0-2, rank 1: nodes 3-4
  auto t = c.make_transport(map);
  for (uint32_t round = 0; round < 3; ++round) {
    for (int from : map.local(c.rank()))
      for (int to = 0; to < 5; ++to)
        if (to != from) t->send(Msg(from, to, round, 10 + to + round * 1000));
    t->exchange(round, 0);
    for (int to : map.local(c.rank()))
      for (int from = 0; from < 5; ++from) {
        if (from == to) continue;
        auto f = t->receive(to, from, round, 0);
        ASSERT_TRUE(f.has_value()) << from << " -> " << to;
        EXPECT_EQ(*f, Msg(from, to, round, 10 + to + round * 1000));
      }
  }
  for (int i : map.local(c.rank())) {
    EXPECT_EQ(t->counters(i).messages_sent, 12u);
    EXPECT_EQ(t->counters(i).messages_received, 12u);
  }
  // An exchange with nothing to send completes too.
  t->exchange(3, 1);
  EXPECT_FALSE(t->receive(map.local(c.rank())[0], 4, 3, 1).has_value());
}

TEST(MpiTransport, ALargeFrameCrossesIntact) {
  Cluster& c = *TheCluster();
  const NodeMap map(2, 2, "block");
  auto t = c.make_transport(map);
  const int me = c.rank(), other = 1 - me;
  t->send(Msg(me, other, 0, 1 << 20));  // 4 MiB of values
  t->exchange(0, 0);
  auto f = t->receive(me, other, 0, 0);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(*f, Msg(other, me, 0, 1 << 20));
}

TEST(MpiTransport, GatherCollectsEveryRankInOrder) {
  Cluster& c = *TheCluster();
  auto all = c.gather(Bytes(3 + c.rank(), static_cast<uint8_t>(c.rank() + 1)), "test");
  if (c.rank() != 0) {
    EXPECT_TRUE(all.empty());
    return;
  }
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], Bytes(3, 1));
  EXPECT_EQ(all[1], Bytes(4, 2));
}

TEST(MpiTransport, ARankThatDoesNotTakePartTimesOutNamingThePeerAndRound) {
  Cluster& c = *TheCluster();
  const NodeMap map(4, 2, "block");
  auto t = c.make_transport(map);
  if (c.rank() == 0) {
    try {
      t->exchange(7, 2);
      FAIL() << "no timeout";
    } catch (const TimeoutError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("round 7 phase 2: no message from rank 1 (nodes 2-3)"), std::string::npos)
          << what;
    }
  } else {
    // Rank 1 joins only after rank 0 gave up (timeout 2 s); rank 0's header is waiting.
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    EXPECT_NO_THROW(t->exchange(7, 2));
  }
}

}  // namespace
}  // namespace murmur::comm
