// The event-driven simulation of asynchronous algorithms (sim.mode = "event"): simulated
// time drives every node.
//
// Events, in order of simulated time (ties: the order they were scheduled in, which is
// itself deterministic):
//   step done   a node's local steps took its device's time (DeviceModel); the algorithm
//               applies them (AsyncAlgorithm::steps_done, which may send frames) when it
//               may_finish, and the node starts its next steps when it may_start
//   arrival     a frame reaches its receiver: latency + bytes / bandwidth after it left its
//               sender's uplink, which sends one frame at a time (NetworkModel's links); an
//               offline receiver or faults.loss makes it lost (the sender is told then)
//   churn       a node goes offline (its running steps are thrown away; it keeps its state)
//               or comes back (ChurnModel)
// Training is the only costly work, and the one thing done in parallel: a node's local steps
// are computed from a copy of its model taken when they start, and they are needed only when
// they are done; the engine trains every node whose steps have started, in parallel, when the
// first of them is needed (or before an evaluation). Each node's steps depend only on its own
// copy, loader and optimizer, so the results do not depend on the thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <span>
#include <unordered_map>
#include <vector>

#include "murmur/algo/async.h"
#include "murmur/comm/devices.h"
#include "murmur/comm/faults.h"
#include "murmur/comm/network_model.h"
#include "murmur/comm/transport.h"
#include "murmur/core/state_io.h"

namespace murmur {
class ThreadPool;
}

namespace murmur::run {

// Trains node i's local steps from `start` (a copy of its model, taken at simulated time
// `started_at`) and overwrites `start` with the steps' change; returns the steps' mean loss.
// Called concurrently for different nodes.
using TrainFn = std::function<double(int node, std::span<float> start, double started_at)>;

// What one node did in a window of simulated time.
struct NodeWindow {
  comm::NodeUsage usage;        // bytes: from `counters` (Impl::add_energy)
  comm::ByteCounters counters;  // cumulative
  double loss_sum = 0.0;
  int64_t loss_count = 0;  // local-steps rounds applied in the window
  algo::AsyncAlgorithm::Staleness staleness;
};

class AsyncEngine final : public algo::AsyncNet {
 public:
  AsyncEngine(algo::AsyncAlgorithm& algorithm, const comm::NetworkModel& network,
              const comm::DeviceModel& device, const comm::ChurnModel& churn,
              const comm::FaultModel& faults, int nodes, ThreadPool& pool, TrainFn train);
  // Runs every event before `until`.
  void run_until(double until);
  // Trains every node whose steps have started (so nothing is left to compute).
  void flush();
  // Node's figures since the last take; the window ends at the last run_until's time.
  NodeWindow take_window(int node);
  int64_t events() const { return events_; }
  // Checkpoints, between windows and after flush(): the engine's own state (the event queue,
  // the frames in flight, the clock) and a node's.
  void checkpoint(StateIo& io);
  void checkpoint_node(int node, StateIo& io);

  // AsyncNet
  double now() const override { return now_; }
  bool online(int node) const override { return nodes_[node].online; }
  void send(comm::Bytes frame) override;

 private:
  enum class Kind : uint8_t { kChurn, kArrive, kStepDone };
  struct Event {
    double t;
    uint64_t seq;
    Kind kind;
    int node;
    uint64_t id;  // kArrive: the message; kStepDone: the node's generation
    bool operator>(const Event& o) const { return t != o.t ? t > o.t : seq > o.seq; }
  };
  struct Node {
    bool online = true, busy = false, pending = false;
    bool waiting_start = false, waiting_finish = false;
    int64_t step = 0;         // local-steps rounds applied
    uint64_t generation = 0;  // bumped when the node leaves: its running steps are void
    double busy_since = 0.0, online_since = 0.0, step_seconds = 0.0, uplink_free = 0.0;
    double loss = 0.0;
    std::vector<float> work;  // the copy its steps start from, then their change
    NodeWindow window;
  };
  struct InFlight {
    comm::Bytes frame;
    int from = 0, to = 0;
  };
  void schedule(double t, Kind kind, int node, uint64_t id);
  void try_start(int i);
  void step_done(int i, uint64_t generation);
  void finish(int i);
  void arrive(uint64_t id);
  void churn(int i);
  void recheck(int i);
  void recheck_all();

  algo::AsyncAlgorithm& algorithm_;
  const comm::NetworkModel& network_;
  const comm::DeviceModel& device_;
  const comm::ChurnModel& churn_;
  const comm::FaultModel& faults_;
  ThreadPool& pool_;
  TrainFn train_;
  std::vector<Node> nodes_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
  std::unordered_map<uint64_t, InFlight> in_flight_;
  std::vector<int> pending_;
  double now_ = 0.0;
  uint64_t seq_ = 0, messages_ = 0;
  int64_t events_ = 0;
};

}  // namespace murmur::run
