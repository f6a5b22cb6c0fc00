// Asynchronous algorithms: nodes act on their own clocks in the event-driven simulation
// (sim.mode = "event"; the engine is src/run/event_sim.cc).
//
// A node repeats: take its model (model(i)), run its local steps on that copy (the engine,
// in parallel with other nodes, for the simulated seconds its device takes), then
// steps_done(i, delta) with the steps' change to the copy. Meanwhile the model may have been
// changed by messages (stale gradients, as on real devices). Messages are real frames: the
// algorithm hands them to AsyncNet::send, the engine counts their bytes, queues them on the
// sender's uplink and calls arrive() on the receiver when the network model says they are
// there, or lost() on the sender when the receiver is offline then (or faults.loss drops
// them). Nothing runs concurrently: the engine calls these from its event loop, in the order
// of simulated time (ties by node id and sending order), so results depend on the seed only.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "murmur/comm/frame.h"
#include "murmur/core/state_io.h"

namespace murmur::algo {

// What the engine offers an algorithm during a call.
class AsyncNet {
 public:
  virtual ~AsyncNet() = default;
  virtual double now() const = 0;
  virtual bool online(int node) const = 0;
  // Queues `frame` (its header names sender and receiver) on the sender's uplink.
  virtual void send(comm::Bytes frame) = 0;
};

struct AsyncPushSumOptions {
  int64_t staleness_bound = -1;  // async_push_sum.staleness_bound; -1 = none
};

class AsyncAlgorithm {
 public:
  virtual ~AsyncAlgorithm() = default;
  virtual std::string_view name() const = 0;
  // The node's model as training and evaluation see it (x_i; z_i = x_i / w_i for push-sum).
  virtual std::span<const float> model(int node) = 0;
  // The node's local steps start now from model(node).
  virtual void started(int node) {}
  // Whether node may start local-steps round `step` (0, 1, ...) now; false: the engine asks
  // again after every message the node receives or loses and every churn change.
  virtual bool may_start(const AsyncNet& net, int node, int64_t step) const { return true; }
  // Whether node may apply the local steps it just finished; false: asked again as above.
  virtual bool may_finish(int node) const { return true; }
  // Local-steps round `step` finished: `delta` is the steps' change to the copy of model(i)
  // they started from.
  virtual void steps_done(AsyncNet& net, int node, int64_t step, std::span<const float> delta) = 0;
  // A frame arrived at its receiver (online).
  virtual void arrive(AsyncNet& net, std::span<const uint8_t> frame) = 0;
  // A frame the sender sent did not arrive (the receiver was offline, or the message was
  // lost); the sender learns it at the time the frame would have arrived.
  virtual void lost(AsyncNet& net, std::span<const uint8_t> frame) {}
  // The node went offline (it keeps its state; what it was waiting for will not come).
  virtual void left(int node) {}
  // Staleness of what a node took in: the engine reports the mean and maximum in metrics.
  // Returns (sum, count, max) since the last call and resets them.
  struct Staleness {
    double sum = 0.0;
    int64_t count = 0;
    int64_t max = 0;
  };
  virtual Staleness take_staleness(int node) { return {}; }
  // Saves, or loads when io.loading(), the node's state (between windows, for checkpoints).
  virtual void checkpoint(int node, StateIo& io) = 0;
};

}  // namespace murmur::algo
