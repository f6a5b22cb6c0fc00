#include "murmur/comm/transport.h"

#include <gtest/gtest.h>

#include "comm/frames.h"
#include "murmur/core/check.h"

namespace murmur::comm {
namespace {

Bytes Msg(int from, int to, uint32_t round, size_t floats, uint8_t phase = 0) {
  return testing::DenseFrame(from, to, round, std::vector<float>(floats, 1.0f * from), phase);
}

TEST(InProcess, DeliversByRoundPhaseAndSenderAndCountsBytes) {
  auto t = MakeInProcessTransport(3);
  t->send(Msg(0, 2, 1, 10));
  t->send(Msg(1, 2, 1, 5));
  t->send(Msg(1, 2, 1, 5, /*phase=*/1));
  EXPECT_FALSE(t->receive(2, 0, 2, 0).has_value());  // wrong round
  auto a = t->receive(2, 1, 1, 0);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(DecodeFrame(*a).header.sender, 1u);
  EXPECT_EQ(DecodeFrame(*a).header.count, 5u);
  ASSERT_TRUE(t->receive(2, 0, 1, 0).has_value());
  EXPECT_FALSE(t->receive(2, 0, 1, 0).has_value());  // consumed
  EXPECT_EQ(t->counters(0).bytes_sent, kHeaderBytes + 40);
  EXPECT_EQ(t->counters(0).header_bytes_sent, kHeaderBytes);
  EXPECT_EQ(t->counters(1).messages_sent, 2u);
  EXPECT_EQ(t->counters(1).bytes_sent, 2 * (kHeaderBytes + 20));
  EXPECT_EQ(t->counters(2).bytes_received, 2 * kHeaderBytes + 60);
  EXPECT_EQ(t->counters(2).messages_received, 2u);
}

TEST(InProcess, RejectsDuplicatesAndBadIds) {
  auto t = MakeInProcessTransport(2);
  t->send(Msg(0, 1, 0, 1));
  EXPECT_THROW(t->send(Msg(0, 1, 0, 1)), ProtocolError);
  EXPECT_THROW(t->send(Msg(0, 5, 0, 1)), ProtocolError);
  Bytes garbage(40, 0);
  EXPECT_THROW(t->send(garbage), ProtocolError);
}

TEST(Counters, Difference) {
  ByteCounters a, b;
  a.bytes_sent = 10;
  b.bytes_sent = 4;
  a.messages_sent = 3;
  b += a;
  EXPECT_EQ((b - a).bytes_sent, 4u);
  EXPECT_EQ(b.messages_sent, 3u);
}

}  // namespace
}  // namespace murmur::comm
