// The transport interface: moves encoded frames between nodes and counts their bytes.
//
// A message is identified by (round, phase, sender, receiver), all read from its frame
// header. send() never blocks. receive() returns the frame a given sender addressed to a
// given receiver in a given round and phase, or nullopt when the transport knows it will
// never arrive (lost to an injected fault). For the in-process transport, receives of a
// phase must happen after every send of that phase (the runner's barrier guarantees it).
//
// Transports that span processes (MPI) move frames between processes in exchange(), which
// the runner calls on its main thread after every send of a phase and before its receives;
// in-process it does nothing.
//
// Thread-safety: send/receive may run concurrently for different nodes. The byte counters
// and link records of node i are written only by calls made on behalf of node i (sends from
// i, receives to i), so they need no locks.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "murmur/comm/faults.h"
#include "murmur/comm/frame.h"

namespace murmur::comm {

struct ByteCounters {
  uint64_t bytes_sent = 0;         // header + payload
  uint64_t header_bytes_sent = 0;  // header part of bytes_sent
  uint64_t messages_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t header_bytes_received = 0;
  uint64_t messages_received = 0;
  uint64_t messages_dropped = 0;  // sent but lost to an injected fault (counted in *_sent)

  ByteCounters& operator+=(const ByteCounters& o);
  ByteCounters operator-(const ByteCounters& o) const;
};

// One frame as the network model sees it: who sent how many bytes to whom in which phase.
struct LinkRecord {
  int from = 0, to = 0;
  uint8_t phase = 0;
  uint64_t bytes = 0;
  double delay = 0.0;  // extra seconds of a straggler message (FaultModel::delay)
};

class Transport {
 public:
  explicit Transport(int nodes);
  virtual ~Transport() = default;
  virtual std::string_view name() const = 0;
  int nodes() const { return static_cast<int>(counters_.size()); }

  // Sends a complete frame; counts it against the sender named in its header.
  void send(Bytes frame);
  // Receives the frame `from` sent `to` in (round, phase); counts it against `to`.
  std::optional<Bytes> receive(int to, int from, uint32_t round, uint8_t phase);

  // Cumulative counters of one node since construction.
  const ByteCounters& counters(int node) const { return counters_[node]; }
  // Overwrites a node's counters (the runner's copy of a node another process counted).
  void set_counters(int node, const ByteCounters& c) { counters_[node] = c; }

  // Moves the frames of (round, phase) to their receivers' processes; see above.
  virtual void exchange(uint32_t round, uint8_t phase) {}
  // Seconds exchange() has spent waiting for other processes since construction.
  virtual double wait_seconds() const { return 0.0; }

  // Injects faults (nullptr: none); the model must outlive the transport. Lost frames are
  // counted as sent and dropped and never delivered; receive() of one returns nullopt.
  void set_faults(const FaultModel* faults) {
    faults_ = faults && faults->active() ? faults : nullptr;
    delays_ = faults;
  }
  // Whether the frame from -> to of (round, phase) is lost (false without faults).
  bool lost(int from, int to, uint32_t round, uint8_t phase) const {
    return faults_ && faults_->lost(from, to, round, phase);
  }
  // Whether the node is crashed in this round (false without faults).
  bool down(int node, uint32_t round) const { return faults_ && faults_->down(node, round); }
  bool faulty() const { return faults_ != nullptr; }

  // Keep a record of every frame sent (for the network model); off by default.
  void record_links(bool on) { record_links_ = on; }
  // The records of frames `from` sent since the last call; clears them.
  std::vector<LinkRecord> take_links(int from);

 protected:
  virtual void do_send(int from, int to, uint32_t round, uint8_t phase, Bytes frame) = 0;
  virtual std::optional<Bytes> do_receive(int to, int from, uint32_t round, uint8_t phase) = 0;

 private:
  std::vector<ByteCounters> counters_;
  std::vector<std::vector<LinkRecord>> links_;
  bool record_links_ = false;
  const FaultModel* faults_ = nullptr;  // set when it can lose messages
  const FaultModel* delays_ = nullptr;  // set for straggler delays too
};

// The default transport: all nodes in this process; frames move between per-receiver
// mailboxes without copies.
std::unique_ptr<Transport> MakeInProcessTransport(int nodes);

}  // namespace murmur::comm
