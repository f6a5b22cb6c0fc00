// Per-receiver mailboxes keyed by (round, phase, sender): where frames wait for their
// receiver. Shared by the in-process and the MPI transport (which delivers frames between
// nodes of the same rank, and frames that arrived from other ranks, into the same boxes).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <tuple>
#include <vector>

#include "murmur/comm/frame.h"
#include "murmur/core/check.h"

namespace murmur::comm::detail {

class Mailboxes {
 public:
  explicit Mailboxes(int nodes) : boxes_(nodes) {}

  // Stores the frame `from` sent `to`; a second frame for the same key is a protocol error.
  void put(int from, int to, uint32_t round, uint8_t phase, Bytes frame) {
    Box& box = boxes_[to];
    std::lock_guard<std::mutex> lock(box.mu);
    auto [it, inserted] = box.frames.try_emplace(Key{round, phase, from}, std::move(frame));
    MURMUR_CHECK(ProtocolError, inserted, "node ", from, " sent node ", to,
                 " two messages in round ", round, " phase ", static_cast<int>(phase));
  }

  // Removes and returns the frame, or nullopt when none is there.
  std::optional<Bytes> take(int to, int from, uint32_t round, uint8_t phase) {
    Box& box = boxes_[to];
    std::lock_guard<std::mutex> lock(box.mu);
    auto it = box.frames.find(Key{round, phase, from});
    if (it == box.frames.end()) return std::nullopt;
    Bytes out = std::move(it->second);
    box.frames.erase(it);
    return out;
  }

 private:
  using Key = std::tuple<uint32_t, uint8_t, int>;
  struct Box {
    std::mutex mu;
    std::map<Key, Bytes> frames;
  };
  std::vector<Box> boxes_;
};

}  // namespace murmur::comm::detail
