#include "murmur/comm/frame.h"

#include <bit>
#include <cstring>

#include "murmur/core/check.h"
#include "murmur/core/coding.h"

static_assert(std::endian::native == std::endian::little,
              "murmur's wire format is little-endian; big-endian hosts need byte swaps");

namespace murmur::comm {

void WriteHeader(const FrameHeader& h, std::span<uint8_t> out) {
  MURMUR_ASSERT(out.size() >= kHeaderBytes);
  uint8_t* p = out.data();
  EncodeFixed32(p, kFrameMagic);
  p[4] = kFrameVersion;
  p[5] = h.codec;
  p[6] = h.phase;
  p[7] = 0;
  EncodeFixed32(p + 8, h.round);
  EncodeFixed32(p + 12, h.sender);
  EncodeFixed32(p + 16, h.receiver);
  EncodeFixed32(p + 20, h.count);
  EncodeFixed32(p + 24, h.payload_bytes);
  EncodeFixed32(p + 28, h.dimension);
}

Bytes EncodeFrame(const FrameHeader& header, std::span<const uint8_t> payload) {
  FrameHeader h = header;
  MURMUR_ASSERT(payload.size() <= UINT32_MAX, "payload too large for one frame");
  h.payload_bytes = static_cast<uint32_t>(payload.size());
  Bytes out(kHeaderBytes + payload.size());
  WriteHeader(h, out);
  if (!payload.empty()) std::memcpy(out.data() + kHeaderBytes, payload.data(), payload.size());
  return out;
}

FrameView DecodeFrame(std::span<const uint8_t> bytes) {
  MURMUR_CHECK(ProtocolError, bytes.size() >= kHeaderBytes, "frame of ", bytes.size(),
               " bytes is shorter than the ", kHeaderBytes, "-byte header");
  const uint8_t* p = bytes.data();
  MURMUR_CHECK(ProtocolError, DecodeFixed32(p) == kFrameMagic, "frame: bad magic 0x", std::hex,
               DecodeFixed32(p));
  MURMUR_CHECK(ProtocolError, p[4] == kFrameVersion, "frame: unsupported version ",
               static_cast<int>(p[4]), " (this build reads ", static_cast<int>(kFrameVersion), ")");
  MURMUR_CHECK(ProtocolError, p[7] == 0, "frame: reserved flags set: ", static_cast<int>(p[7]));
  FrameView f;
  f.header.codec = p[5];
  f.header.phase = p[6];
  f.header.round = DecodeFixed32(p + 8);
  f.header.sender = DecodeFixed32(p + 12);
  f.header.receiver = DecodeFixed32(p + 16);
  f.header.count = DecodeFixed32(p + 20);
  f.header.payload_bytes = DecodeFixed32(p + 24);
  f.header.dimension = DecodeFixed32(p + 28);
  MURMUR_CHECK(ProtocolError, bytes.size() - kHeaderBytes == f.header.payload_bytes,
               "frame: header says ", f.header.payload_bytes, " payload bytes, got ",
               bytes.size() - kHeaderBytes);
  MURMUR_CHECK(ProtocolError,
               f.header.count <= f.header.dimension ||
                   f.header.codec == static_cast<uint8_t>(Codec::kControl),
               "frame: count ", f.header.count, " exceeds dimension ", f.header.dimension);
  f.payload = bytes.subspan(kHeaderBytes);
  return f;
}

Bytes EncodeDenseF32(FrameHeader header, std::span<const float> values) {
  MURMUR_ASSERT(values.size() <= UINT32_MAX / 4, "vector too large for one frame");
  header.codec = static_cast<uint8_t>(Codec::kDenseF32);
  header.count = static_cast<uint32_t>(values.size());
  header.dimension = static_cast<uint32_t>(values.size());
  header.payload_bytes = static_cast<uint32_t>(values.size() * 4);
  Bytes out(kHeaderBytes + values.size() * 4);
  WriteHeader(header, out);
  if (!values.empty()) std::memcpy(out.data() + kHeaderBytes, values.data(), values.size() * 4);
  return out;
}

std::span<const uint8_t> DenseF32Payload(const FrameView& f, size_t expected_dim) {
  MURMUR_CHECK(ProtocolError, f.header.codec == static_cast<uint8_t>(Codec::kDenseF32),
               "frame from node ", f.header.sender, ": expected dense f32 codec, got codec ",
               static_cast<int>(f.header.codec));
  MURMUR_CHECK(ProtocolError, f.header.dimension == expected_dim && f.header.count == expected_dim,
               "frame from node ", f.header.sender, ": dense vector of ", f.header.count, "/",
               f.header.dimension, " values, expected ", expected_dim);
  MURMUR_CHECK(ProtocolError, f.payload.size() == static_cast<size_t>(f.header.count) * 4,
               "frame from node ", f.header.sender, ": ", f.payload.size(), " payload bytes for ",
               f.header.count, " floats");
  return f.payload;
}

}  // namespace murmur::comm
