// Frames the gossip algorithms exchange, and the receive-side checks they share.
//
// Every message is one frame (comm/frame.h). Push-sum messages put the sender's f32
// push-sum weight in front of the vector payload (codecs kPushSumF32 and
// kPushSumCompressed); compressed payloads are compress:: payloads, self-describing.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "murmur/comm/frame.h"
#include "murmur/comm/transport.h"

namespace murmur::algo::detail {

// A frame whose payload is a compress:: payload for a vector of length `dim`, preceded by
// the push-sum weight when `weight` is set.
comm::Bytes EncodeCompressedFrame(comm::FrameHeader h, uint32_t dim,
                                  std::span<const uint8_t> payload, std::optional<float> weight);
// A dense f32 frame preceded by the push-sum weight.
comm::Bytes EncodePushSumF32Frame(comm::FrameHeader h, float weight, std::span<const float> x);
// A dense f32 frame preceded by a RelaySum count.
comm::Bytes EncodeRelayF32Frame(comm::FrameHeader h, uint32_t count, std::span<const float> x);

// A received, validated message. `body` points into `frame`, so a Message is move-only.
struct Message {
  comm::Bytes frame;
  float weight = 1.0f;            // push-sum weight (1 when the codec carries none)
  uint32_t relay_count = 0;       // RelaySum count (kRelayF32 only)
  uint32_t count = 0;             // the header's element count
  std::span<const uint8_t> body;  // the vector payload
  Message() = default;
  Message(Message&&) = default;
  Message& operator=(Message&&) = default;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;
};

// Takes the message `from` sent `node` in (round, phase) and checks that its header names
// that sender, round and phase, that its codec is `codec` and that it describes a vector of
// `dim` values. Throws ProtocolError naming `algo` when the message is missing or malformed:
// these algorithms keep state in step with their neighbours and need every message.
Message TakeMessage(comm::Transport& transport, std::string_view algo, int node, int from,
                    uint32_t round, uint8_t phase, comm::Codec codec, uint32_t dim);
// The same checks, but a message the transport knows is lost gives nullopt (for algorithms
// with a rule for missing messages); a malformed one still throws.
std::optional<Message> TryTakeMessage(comm::Transport& transport, std::string_view algo, int node,
                                      int from, uint32_t round, uint8_t phase, comm::Codec codec,
                                      uint32_t dim);

// What TakeDenseInbox (internal.h) returns.
struct DenseInbox {
  std::vector<Message> messages;
  std::vector<double> weights;  // w_ij of each message's sender
};

// The checks of TakeMessage on a frame already at hand (the part that sees network bytes).
Message ParseMessage(comm::Bytes frame, std::string_view algo, int node, int from, uint32_t round,
                     uint8_t phase, comm::Codec codec, uint32_t dim);

}  // namespace murmur::algo::detail
