// Injected network faults: lost messages, links that go down, nodes that crash (and may
// rejoin), and straggler messages that arrive late.
//
// Every decision is a pure function of (seed, sender, receiver, round, phase), so the sender's
// and the receiver's process agree without talking, results do not depend on threads or MPI
// ranks, and an algorithm may ask whether a message it sent was lost (as a sender that gets
// acknowledgements would know). The transport applies the model (Transport::set_faults): a
// lost frame counts as sent (the sender spent the bytes) and as dropped, and never arrives.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace murmur::comm {

struct LinkDown {
  int a = 0, b = 0;
  bool both_ways = true;     // "a-b" (both directions) or "a>b" (a to b only)
  int64_t from = 0, to = 0;  // rounds [from, to)
};

struct Crash {
  int node = 0;
  int64_t round = 0;    // down from this round on
  int64_t rejoin = -1;  // back from this round on; -1 = never
};

struct FaultOptions {
  double loss = 0.0;  // probability that a message is lost
  std::vector<LinkDown> link_down;
  std::vector<Crash> crashes;
  double delay_prob = 0.0;     // probability that a message is a straggler
  double delay_seconds = 0.0;  // its extra latency in the network model
  // Parses "A-B@R0:R1" / "A>B@R0:R1" and "NODE@ROUND" / "NODE@ROUND:REJOIN"; the error names
  // `key` and the entry.
  static LinkDown ParseLinkDown(const std::string& text, const std::string& key);
  static Crash ParseCrash(const std::string& text, const std::string& key);
};

class FaultModel {
 public:
  FaultModel(FaultOptions options, int nodes, uint64_t seed);
  // Whether any fault can happen at all.
  bool active() const { return active_; }
  // Whether the node is crashed in this round (it neither trains nor communicates).
  bool down(int node, uint32_t round) const;
  // Whether the message from -> to of (round, phase) is lost (loss, a link down, or either
  // end down).
  bool lost(int from, int to, uint32_t round, uint8_t phase) const;
  // Extra seconds of that message in the network model (0 unless it is a straggler).
  double delay(int from, int to, uint32_t round, uint8_t phase) const;
  // Churn in the event-driven simulation: the nodes that are offline (as if crashed) in
  // `round`, set before the round by the runner, which knows the round's simulated start.
  void set_offline(uint32_t round, std::vector<bool> offline);

 private:
  double draw(int from, int to, uint32_t round, uint8_t phase, uint64_t purpose) const;
  FaultOptions o_;
  uint64_t seed_;
  bool active_ = false;
  uint32_t offline_round_ = 0;
  std::vector<bool> offline_;  // empty: no churn
};

}  // namespace murmur::comm
