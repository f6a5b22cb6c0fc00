// The network model: simulated wall-clock time of synchronous rounds on a network of
// given per-link latency and bandwidth, with optional compute stragglers.
//
// A round starts with every node's local compute c_i (measured, or modelled per sample) times
// its slowdown s_i. Then the round's frames are applied phase by phase (ascending frame
// phase): a frame of b bytes from j to i arrives at t_j + L_ji + b / W_ji, where t_j is when j
// finished the previous phase (or its compute), and node i finishes the phase at the later
// of its own time and its slowest arrival. The round ends when the slowest node is done:
//   T = max_i t_i after the last phase.
// For a single phase and equal compute this is max_i (c + max_{j -> i} (L_ji + b_ji / W_ji)):
// each node's compute plus the time its slowest incoming message needs on its link. Links
// are independent (a node sending to k neighbours uses k links at full bandwidth each);
// frames are counted with their 32-byte header.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "murmur/comm/transport.h"

namespace murmur::comm {

struct NetworkOptions {
  double latency_s = 1e-3;            // per-link latency
  double bandwidth_bytes_s = 12.5e6;  // per-link bandwidth (100 Mbit/s)
  // Per-link draws: "none" (every link the same), "uniform" (latency and bandwidth each
  // multiplied by an independent factor uniform in [1 - spread, 1 + spread]) or "lognormal"
  // (factor exp(spread * N(0, 1))).
  std::string heterogeneity = "none";
  double spread = 0.5;
  int stragglers = 0;               // nodes whose compute is slowed down (drawn by seed)
  double straggler_slowdown = 4.0;  // their compute time multiplier
  // The event-driven simulation (sim.mode = "event"): a node's uplink carries one frame at a
  // time, so the frames it sends in one phase leave one after another (in receiver order); a
  // frame's arrival is its departure + bytes / bandwidth + latency. False: every link is
  // independent (the rounds mode above).
  bool shared_uplink = false;
};

class NetworkModel {
 public:
  NetworkModel(const NetworkOptions& options, int nodes, uint64_t seed);
  int nodes() const { return static_cast<int>(slowdown_.size()); }
  double latency(int from, int to) const;
  double bandwidth(int from, int to) const;  // bytes per second
  double slowdown(int node) const { return slowdown_[node]; }

  // Simulated seconds of one round: compute[i] is node i's local compute (before the
  // slowdown), links every frame of the round. Writes each node's finish time to `finish`
  // when it is non-empty.
  double round_seconds(std::span<const double> compute, std::span<const LinkRecord> links,
                       std::span<double> finish = {}) const;

 private:
  double factor(int from, int to, int which) const;
  NetworkOptions o_;
  uint64_t seed_;
  std::vector<double> slowdown_;
};

}  // namespace murmur::comm
