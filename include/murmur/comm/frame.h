// Message framing: every message murmur sends is a Frame, a fixed 32-byte header followed
// by a payload, both little-endian.
//
//   offset size field
//   0      4    magic 'M','R','M','R'
//   4      1    version (kFrameVersion)
//   5      1    codec id of the payload (see Codec)
//   6      1    phase of the round (algorithms with several exchanges per round)
//   7      1    flags (reserved, must be 0)
//   8      4    round
//   12     4    sender node id
//   16     4    receiver node id
//   20     4    count: number of logical elements in the payload (e.g. floats)
//   24     4    payload size in bytes
//   28     4    dimension: length of the vector the payload describes
//
// DecodeFrame validates every field and throws ProtocolError on anything malformed; it never
// reads outside the given bytes.
#pragma once

#include <cstdint>
#include <span>
#include <vector>
#include "murmur/core/coding.h"

namespace murmur::comm {

inline constexpr uint32_t kFrameMagic = 0x524D524DU;  // "MRMR" in memory order
// 2: the index blocks inside payloads changed layout (Rice; see compress::kPayloadVersion).
inline constexpr uint8_t kFrameVersion = 2;
inline constexpr size_t kHeaderBytes = 32;

// Payload codecs known to the framing layer. Compressor codecs (issue #3) add ids >= 16.
enum class Codec : uint8_t {
  kDenseF32 = 1,            // count == dimension floats
  kControl = 2,             // opaque algorithm-defined bytes
  kPushSumF32 = 3,          // f32 push-sum weight, then count == dimension floats
  kRelayF32 = 4,            // u32 relay count (RelaySum), then count == dimension floats
  kCompressed = 16,         // a compress:: payload (self-describing; see compress/compressor.h)
  kPushSumCompressed = 17,  // f32 push-sum weight, then a compress:: payload
};

struct FrameHeader {
  uint8_t codec = 0;
  uint8_t phase = 0;
  uint32_t round = 0;
  uint32_t sender = 0;
  uint32_t receiver = 0;
  uint32_t count = 0;
  uint32_t payload_bytes = 0;
  uint32_t dimension = 0;
};

using murmur::Bytes;

// Header followed by payload, in one buffer.
Bytes EncodeFrame(const FrameHeader& header, std::span<const uint8_t> payload);
// Writes the header into the first kHeaderBytes of `out` (which must be that large).
void WriteHeader(const FrameHeader& header, std::span<uint8_t> out);

struct FrameView {
  FrameHeader header;
  std::span<const uint8_t> payload;  // points into the decoded buffer
};
// Validates magic, version, flags, lengths; the payload must be exactly payload_bytes.
FrameView DecodeFrame(std::span<const uint8_t> bytes);

// Dense float32 payloads: encode a vector into a complete frame; decode checks the codec,
// that count == dimension == expected_dim and payload_bytes == 4 * count.
Bytes EncodeDenseF32(FrameHeader header, std::span<const float> values);
std::span<const uint8_t> DenseF32Payload(const FrameView& frame, size_t expected_dim);
// Reads float i of a dense payload (unaligned-safe).
inline float DenseF32At(std::span<const uint8_t> payload, size_t i);

}  // namespace murmur::comm

#include <cstring>
inline float murmur::comm::DenseF32At(std::span<const uint8_t> payload, size_t i) {
  float v;
  std::memcpy(&v, payload.data() + 4 * i, 4);
  return v;
}
