#include "murmur/comm/frame.h"

#include <gtest/gtest.h>

#include "error_text.h"
#include "murmur/core/check.h"

namespace murmur::comm {
namespace {

FrameHeader Header() {
  FrameHeader h;
  h.round = 7;
  h.sender = 3;
  h.receiver = 5;
  h.phase = 1;
  return h;
}

TEST(Frame, DenseRoundTrip) {
  const std::vector<float> v = {1.5f, -2.0f, 3.25f};
  const Bytes b = EncodeDenseF32(Header(), v);
  EXPECT_EQ(b.size(), kHeaderBytes + 12);
  const FrameView f = DecodeFrame(b);
  EXPECT_EQ(f.header.round, 7u);
  EXPECT_EQ(f.header.sender, 3u);
  EXPECT_EQ(f.header.receiver, 5u);
  EXPECT_EQ(f.header.phase, 1);
  EXPECT_EQ(f.header.count, 3u);
  auto p = DenseF32Payload(f, 3);
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(DenseF32At(p, i), v[i]);
}

TEST(Frame, EmptyPayload) {
  const Bytes b = EncodeFrame(Header(), {});
  EXPECT_EQ(DecodeFrame(b).payload.size(), 0u);
}

// Table of corruptions: each must be rejected with ProtocolError and a message naming it.
struct Corruption {
  const char* name;
  std::function<void(Bytes&)> mutate;
  const char* message;
};

TEST(Frame, RejectsMalformed) {
  const std::vector<Corruption> table = {
      {"short", [](Bytes& b) { b.resize(10); }, "shorter than the 32-byte header"},
      {"magic", [](Bytes& b) { b[0] ^= 0xff; }, "bad magic"},
      {"version", [](Bytes& b) { b[4] = 99; }, "unsupported version 99"},
      {"flags", [](Bytes& b) { b[7] = 1; }, "reserved flags"},
      {"truncated payload", [](Bytes& b) { b.pop_back(); }, "payload bytes, got"},
      {"extra payload", [](Bytes& b) { b.push_back(0); }, "payload bytes, got"},
      {"count > dimension", [](Bytes& b) { b[20] = 200; }, "exceeds dimension"},
  };
  const std::vector<float> v(8, 1.0f);
  for (const auto& c : table) {
    Bytes b = EncodeDenseF32(Header(), v);
    c.mutate(b);
    EXPECT_TRUE(test_util::Contains(test_util::ErrorText<ProtocolError>([&] { DecodeFrame(b); }),
                                    c.message))
        << c.name;
  }
}

TEST(Frame, DensePayloadChecksCodecAndLength) {
  const std::vector<float> v(4, 1.0f);
  Bytes b = EncodeDenseF32(Header(), v);
  EXPECT_THROW(DenseF32Payload(DecodeFrame(b), 5), ProtocolError);
  b[5] = static_cast<uint8_t>(Codec::kControl);
  EXPECT_THROW(DenseF32Payload(DecodeFrame(b), 4), ProtocolError);
}

TEST(Frame, RandomBytesNeverCrash) {
  // Cheap in-test fuzzing; the libFuzzer target comes with the codec work.
  uint64_t s = 12345;
  for (int trial = 0; trial < 20000; ++trial) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    Bytes b((s >> 33) % 80);
    for (auto& x : b) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      x = static_cast<uint8_t>(s >> 56);
    }
    if (b.size() >= 8 && (trial & 1)) {  // valid prefix so later checks are reached
      b[0] = 'M', b[1] = 'R', b[2] = 'M', b[3] = 'R', b[4] = kFrameVersion, b[7] = 0;
    }
    try {
      FrameView f = DecodeFrame(b);
      EXPECT_EQ(f.payload.size() + kHeaderBytes, b.size());
    } catch (const ProtocolError&) {
    }
  }
}

}  // namespace
}  // namespace murmur::comm
