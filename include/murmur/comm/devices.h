// Devices as the event-driven simulation (sim.mode = "event") sees them: how long a node's
// local steps take, when a node is online (churn), and what a node's work costs in energy.
//
// Every draw is a pure function of (seed, node, step) or (seed, node, period), so results do
// not depend on threads or on the order in which nodes are asked about.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace murmur::comm {

// device.*: the time of one node's local steps (train.local_steps SGD steps) is
//   base x slowdown_i x node_factor_i x jitter_{i,k}
// base = train.local_steps x device.seconds_per_step (or, when that is 0, x train.batch_size x
// network.seconds_per_sample), slowdown_i the
// network model's straggler factor, node_factor_i = exp(node_spread N(0,1)) drawn once per
// node, jitter_{i,k} = exp(step_jitter N(0,1)) drawn per step k. A trace file gives a node's
// step times instead, in order (cycled when the run is longer).
struct DeviceOptions {
  double seconds_per_step = 0.0;  // 0: from network.seconds_per_sample (the caller's base)
  double node_spread = 0.0;
  double step_jitter = 0.0;
  std::string trace;  // CSV "node,seconds", one row per step; empty = the formula for all
};

class DeviceModel {
 public:
  // `slowdown` holds each node's straggler factor (NetworkModel::slowdown).
  DeviceModel(const DeviceOptions& options, double base_seconds, std::vector<double> slowdown,
              uint64_t seed);
  int nodes() const { return static_cast<int>(slowdown_.size()); }
  // Seconds of node's local steps number `step` (0, 1, ...).
  double step_seconds(int node, int64_t step) const;
  bool traced(int node) const { return !trace_[node].empty(); }

 private:
  DeviceOptions o_;
  double base_;
  std::vector<double> slowdown_, node_factor_;
  std::vector<std::vector<double>> trace_;
  uint64_t seed_;
};

// Reads a trace file "node,seconds" (a header line, then one row per step of a node); the
// error names the file and line. Nodes outside [0, nodes) or non-positive times are errors.
std::vector<std::vector<double>> ReadStepTrace(const std::string& path, int nodes);

// churn.*: a node is offline during [from, to) simulated seconds.
struct OfflinePeriod {
  int node = 0;
  double from = 0.0, to = std::numeric_limits<double>::infinity();
  // Parses "NODE@T0:T1" or "NODE@T0" (gone for good); the error names `key` and the entry.
  static OfflinePeriod Parse(const std::string& text, const std::string& key);
};

struct ChurnOptions {
  // Random on/off periods: each node alternates online periods ~ Exp(mean (1 - f) P) and
  // offline ones ~ Exp(mean f P), f = offline_fraction, P = period_s, and starts offline with
  // probability f, so a fraction f of the nodes is offline at any time on average.
  double offline_fraction = 0.0;
  double period_s = 10.0;
  std::vector<OfflinePeriod> schedule;  // given periods, on top of the random ones
};

class ChurnModel {
 public:
  ChurnModel(ChurnOptions options, int nodes, uint64_t seed);
  bool active() const { return active_; }
  bool online(int node, double t) const;
  // The first time after t at which node's online state changes (infinity: never).
  double next_change(int node, double t) const;

 private:
  // Node's random offline periods, extended until one ends after t. Not thread-safe: ask
  // from one thread.
  const std::vector<OfflinePeriod>& periods_until(int node, double t) const;
  ChurnOptions o_;
  uint64_t seed_;
  bool active_ = false;
  mutable std::vector<std::vector<OfflinePeriod>> random_;
  mutable std::vector<double> generated_until_;
  mutable std::vector<uint64_t> draws_;
};

// energy.*: joules a node spends. One device class for every node, or one per node from a
// CSV file (energy.classes) with the columns of NodeEnergyParams.
struct NodeEnergyParams {
  double compute_watts = 0.0;       // while computing its local steps
  double compute_j_per_step = 0.0;  // > 0: joules per local-steps round instead of watts
  double tx_nj_per_bit = 0.0;       // radio, per bit sent (frame headers included)
  double rx_nj_per_bit = 0.0;       // radio, per bit received
  double idle_watts = 0.0;          // online and not computing
};

// What a node did, as energy counts it.
struct NodeUsage {
  double busy_s = 0.0;    // computing
  double online_s = 0.0;  // online (idle = online - busy)
  int64_t steps = 0;      // local-steps rounds done
  uint64_t bytes_sent = 0, bytes_received = 0;
  NodeUsage& operator+=(const NodeUsage& o);
};

struct EnergyBreakdown {
  double compute = 0.0, radio = 0.0, idle = 0.0;
  double total() const { return compute + radio + idle; }
};

struct EnergyOptions {
  NodeEnergyParams all;
  std::string classes;  // CSV "node,compute_watts,compute_j_per_step,tx_nj_per_bit,..."
};

class EnergyModel {
 public:
  EnergyModel(const EnergyOptions& options, int nodes);
  // Whether any parameter is non-zero (else every figure is 0 and reports leave it out).
  bool active() const { return active_; }
  const NodeEnergyParams& params(int node) const { return params_[node]; }
  EnergyBreakdown joules(int node, const NodeUsage& u) const;

 private:
  std::vector<NodeEnergyParams> params_;
  bool active_ = false;
};

}  // namespace murmur::comm
