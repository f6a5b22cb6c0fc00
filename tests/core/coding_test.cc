#include "murmur/core/coding.h"

#include <gtest/gtest.h>

#include <limits>

#include "error_text.h"
#include "murmur/core/check.h"

namespace murmur {
namespace {

TEST(Coding, NumbersAreLittleEndianAndReadBack) {
  Bytes b;
  PutU8(b, 0xab);
  PutU16(b, 0x1234);
  PutU32(b, 0x01020304u);
  PutU64(b, 0x0102030405060708ull);
  Put<int32_t>(b, -2);
  PutF32(b, 1.5f);
  Put(b, -0.25);
  ASSERT_EQ(b.size(), 1u + 2 + 4 + 8 + 4 + 4 + 8);
  // The byte order is fixed, whatever the machine: least significant byte first.
  EXPECT_EQ(b[1], 0x34);
  EXPECT_EQ(b[2], 0x12);
  EXPECT_EQ(b[3], 0x04);
  EXPECT_EQ(b[6], 0x01);
  EXPECT_EQ(b[7], 0x08);
  EXPECT_EQ(b[15 + 0], 0xfe);  // -2 in two's complement
  EXPECT_EQ(b[15 + 3], 0xff);
  ByteReader r(b, "test");
  EXPECT_EQ(r.u8(), 0xab);
  EXPECT_EQ(r.u16(), 0x1234);
  EXPECT_EQ(r.u32(), 0x01020304u);
  EXPECT_EQ(r.u64(), 0x0102030405060708ull);
  EXPECT_EQ(r.get<int32_t>(), -2);
  EXPECT_EQ(r.f32(), 1.5f);
  EXPECT_EQ(r.get<double>(), -0.25);
  EXPECT_TRUE(r.done());
}

TEST(Coding, FloatsAndFixedPositions) {
  const std::vector<float> v{0.0f, -1.0f, std::numeric_limits<float>::infinity(), 3.25f};
  Bytes b;
  PutFloats(b, v);
  PutBytes(b, std::vector<uint8_t>{7, 8});
  ASSERT_EQ(b.size(), 4 * v.size() + 2);
  EXPECT_EQ(DecodeFixed<float>(b.data() + 4), -1.0f);
  ByteReader r(b, "test");
  std::vector<float> back(v.size());
  r.floats(back);
  EXPECT_EQ(back, v);
  EXPECT_EQ(r.remaining(), 2u);
  uint8_t header[4];
  EncodeFixed32(header, 0xdeadbeefu);
  EXPECT_EQ(header[0], 0xef);
  EXPECT_EQ(DecodeFixed32(header), 0xdeadbeefu);
}

TEST(Coding, ReadingPastTheEndNamesTheBytes) {
  Bytes b;
  PutU32(b, 5);
  ByteReader r(b, "gathered metrics");
  r.u16();
  const std::string e = test_util::ErrorText<ProtocolError>([&] { r.u32(); });
  EXPECT_TRUE(test_util::Contains(e, "gathered metrics: needs 4 more bytes, only 2 left")) << e;
  std::vector<float> four(4);
  EXPECT_THROW(r.floats(four), ProtocolError);
  EXPECT_EQ(r.remaining(), 2u);  // a failed read takes nothing
}

}  // namespace
}  // namespace murmur
