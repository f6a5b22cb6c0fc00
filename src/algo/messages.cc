#include "messages.h"

#include <cmath>
#include <cstring>

#include "murmur/compress/compressor.h"
#include "murmur/core/check.h"

namespace murmur::algo::detail {

comm::Bytes EncodeCompressedFrame(comm::FrameHeader h, uint32_t dim,
                                  std::span<const uint8_t> payload, std::optional<float> weight) {
  const size_t prefix = weight ? 4 : 0;
  MURMUR_ASSERT(payload.size() + prefix <= UINT32_MAX, "payload too large for one frame");
  h.codec =
      static_cast<uint8_t>(weight ? comm::Codec::kPushSumCompressed : comm::Codec::kCompressed);
  h.count = compress::InspectPayload(payload).k;
  h.dimension = dim;
  h.payload_bytes = static_cast<uint32_t>(prefix + payload.size());
  comm::Bytes out(comm::kHeaderBytes + h.payload_bytes);
  comm::WriteHeader(h, out);
  if (weight) std::memcpy(out.data() + comm::kHeaderBytes, &*weight, 4);
  if (!payload.empty())
    std::memcpy(out.data() + comm::kHeaderBytes + prefix, payload.data(), payload.size());
  return out;
}

namespace {
// A dense f32 frame whose floats follow a 4-byte prefix.
comm::Bytes EncodePrefixedF32Frame(comm::FrameHeader h, comm::Codec codec, const void* prefix,
                                   std::span<const float> x) {
  MURMUR_ASSERT(x.size() < UINT32_MAX / 4, "vector too large for one frame");
  h.codec = static_cast<uint8_t>(codec);
  h.count = h.dimension = static_cast<uint32_t>(x.size());
  h.payload_bytes = static_cast<uint32_t>(4 + 4 * x.size());
  comm::Bytes out(comm::kHeaderBytes + h.payload_bytes);
  comm::WriteHeader(h, out);
  std::memcpy(out.data() + comm::kHeaderBytes, prefix, 4);
  if (!x.empty()) std::memcpy(out.data() + comm::kHeaderBytes + 4, x.data(), 4 * x.size());
  return out;
}
}  // namespace

comm::Bytes EncodePushSumF32Frame(comm::FrameHeader h, float weight, std::span<const float> x) {
  return EncodePrefixedF32Frame(h, comm::Codec::kPushSumF32, &weight, x);
}

comm::Bytes EncodeRelayF32Frame(comm::FrameHeader h, uint32_t count, std::span<const float> x) {
  return EncodePrefixedF32Frame(h, comm::Codec::kRelayF32, &count, x);
}

Message TakeMessage(comm::Transport& transport, std::string_view algo, int node, int from,
                    uint32_t round, uint8_t phase, comm::Codec codec, uint32_t dim) {
  auto m = TryTakeMessage(transport, algo, node, from, round, phase, codec, dim);
  MURMUR_CHECK(MissingMessageError, m.has_value(), algo, ": node ", node,
               " got no message from node ", from, " in round ", round,
               " (its state must stay in step with its neighbours)");
  return std::move(*m);
}

std::optional<Message> TryTakeMessage(comm::Transport& transport, std::string_view algo, int node,
                                      int from, uint32_t round, uint8_t phase, comm::Codec codec,
                                      uint32_t dim) {
  auto frame = transport.receive(node, from, round, phase);
  if (!frame) return std::nullopt;
  return ParseMessage(std::move(*frame), algo, node, from, round, phase, codec, dim);
}

Message ParseMessage(comm::Bytes frame, std::string_view algo, int node, int from, uint32_t round,
                     uint8_t phase, comm::Codec codec, uint32_t dim) {
  Message m;
  m.frame = std::move(frame);
  const comm::FrameView f = comm::DecodeFrame(m.frame);
  MURMUR_CHECK(ProtocolError,
               f.header.sender == static_cast<uint32_t>(from) && f.header.round == round &&
                   f.header.phase == phase,
               algo, ": node ", node, " expected round ", round, " phase ", int{phase},
               " from node ", from, ", got round ", f.header.round, " phase ", int{f.header.phase},
               " from node ", f.header.sender);
  MURMUR_CHECK(ProtocolError, f.header.codec == static_cast<uint8_t>(codec), algo,
               ": message from node ", from, " has codec ", int{f.header.codec}, ", expected ",
               int{static_cast<uint8_t>(codec)});
  MURMUR_CHECK(ProtocolError, f.header.dimension == dim, algo, ": message from node ", from,
               " describes ", f.header.dimension, " values, expected ", dim);
  std::span<const uint8_t> body = f.payload;
  const bool weighted =
      codec == comm::Codec::kPushSumF32 || codec == comm::Codec::kPushSumCompressed;
  if (weighted) {
    MURMUR_CHECK(ProtocolError, body.size() >= 4, algo, ": message from node ", from,
                 " is too short for its push-sum weight");
    std::memcpy(&m.weight, body.data(), 4);
    MURMUR_CHECK(ProtocolError, std::isfinite(m.weight) && m.weight > 0.0f, algo,
                 ": message from node ", from, " carries push-sum weight ", m.weight,
                 " (must be finite and > 0)");
    body = body.subspan(4);
  }
  if (codec == comm::Codec::kRelayF32) {
    MURMUR_CHECK(ProtocolError, body.size() >= 4, algo, ": message from node ", from,
                 " is too short for its relay count");
    std::memcpy(&m.relay_count, body.data(), 4);
    body = body.subspan(4);
  }
  if (codec == comm::Codec::kDenseF32 || codec == comm::Codec::kPushSumF32 ||
      codec == comm::Codec::kRelayF32) {
    MURMUR_CHECK(ProtocolError, f.header.count == dim && body.size() == 4ull * dim, algo,
                 ": message from node ", from, " has ", body.size(), " bytes for ", dim, " floats");
  }
  m.count = f.header.count;
  m.body = body;
  return m;
}

}  // namespace murmur::algo::detail
