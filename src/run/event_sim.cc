#include "event_sim.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "murmur/core/check.h"
#include "murmur/core/thread_pool.h"

namespace murmur::run {

AsyncEngine::AsyncEngine(algo::AsyncAlgorithm& algorithm, const comm::NetworkModel& network,
                         const comm::DeviceModel& device, const comm::ChurnModel& churn,
                         const comm::FaultModel& faults, int nodes, ThreadPool& pool, TrainFn train)
    : algorithm_(algorithm),
      network_(network),
      device_(device),
      churn_(churn),
      faults_(faults),
      pool_(pool),
      train_(std::move(train)),
      nodes_(nodes) {
  for (int i = 0; i < nodes; ++i) {
    Node& n = nodes_[i];
    n.online = churn_.online(i, 0.0);
    const double change = churn_.next_change(i, 0.0);
    if (std::isfinite(change)) schedule(change, Kind::kChurn, i, 0);
  }
  for (int i = 0; i < nodes; ++i) try_start(i);
}

void AsyncEngine::schedule(double t, Kind kind, int node, uint64_t id) {
  queue_.push(Event{t, seq_++, kind, node, id});
}

void AsyncEngine::run_until(double until) {
  while (!queue_.empty() && queue_.top().t < until) {
    const Event e = queue_.top();
    queue_.pop();
    now_ = e.t;
    ++events_;
    switch (e.kind) {
      case Kind::kChurn:
        churn(e.node);
        break;
      case Kind::kArrive:
        arrive(e.id);
        break;
      case Kind::kStepDone:
        step_done(e.node, e.id);
        break;
    }
  }
  now_ = until;
}

void AsyncEngine::try_start(int i) {
  Node& n = nodes_[i];
  n.waiting_start = false;
  if (!n.online || n.busy || n.waiting_finish) return;
  if (!algorithm_.may_start(*this, i, n.step)) {
    n.waiting_start = true;
    return;
  }
  const std::span<const float> x = algorithm_.model(i);
  n.work.assign(x.begin(), x.end());
  algorithm_.started(i);
  n.busy = true;
  n.pending = true;
  pending_.push_back(i);
  n.busy_since = now_;
  n.step_seconds = device_.step_seconds(i, n.step);
  schedule(now_ + n.step_seconds, Kind::kStepDone, i, n.generation);
}

void AsyncEngine::flush() {
  if (pending_.empty()) return;
  std::vector<int> batch;
  batch.swap(pending_);
  std::sort(batch.begin(), batch.end());
  pool_.parallel_for(batch.size(), [&](size_t k) {
    Node& n = nodes_[batch[k]];
    n.loss = train_(batch[k], n.work, n.busy_since);
  });
  for (int i : batch) nodes_[i].pending = false;
}

void AsyncEngine::step_done(int i, uint64_t generation) {
  Node& n = nodes_[i];
  if (generation != n.generation) return;  // it left while computing
  if (n.pending) flush();
  n.busy = false;
  n.window.usage.busy_s += n.step_seconds;
  ++n.window.usage.steps;
  if (algorithm_.may_finish(i)) {
    finish(i);
  } else {
    n.waiting_finish = true;
  }
}

void AsyncEngine::finish(int i) {
  Node& n = nodes_[i];
  n.waiting_finish = false;
  algorithm_.steps_done(*this, i, n.step, n.work);
  ++n.step;
  n.window.loss_sum += n.loss;
  ++n.window.loss_count;
  try_start(i);
}

void AsyncEngine::send(comm::Bytes frame) {
  const comm::FrameHeader h = comm::DecodeFrame(frame).header;
  const int from = static_cast<int>(h.sender), to = static_cast<int>(h.receiver);
  MURMUR_ASSERT(from >= 0 && from < static_cast<int>(nodes_.size()) && to >= 0 &&
                to < static_cast<int>(nodes_.size()) && from != to);
  Node& s = nodes_[from];
  const double bytes = static_cast<double>(frame.size());
  comm::ByteCounters& c = s.window.counters;
  c.bytes_sent += frame.size();
  c.header_bytes_sent += comm::kHeaderBytes;
  ++c.messages_sent;
  const double depart = std::max(now_, s.uplink_free) + bytes / network_.bandwidth(from, to);
  s.uplink_free = depart;
  const uint64_t id = messages_++;
  in_flight_.emplace(id, InFlight{std::move(frame), from, to});
  schedule(depart + network_.latency(from, to), Kind::kArrive, to, id);
}

void AsyncEngine::arrive(uint64_t id) {
  auto it = in_flight_.find(id);
  MURMUR_ASSERT(it != in_flight_.end());
  InFlight m = std::move(it->second);
  in_flight_.erase(it);
  Node& r = nodes_[m.to];
  // faults.loss draws per message (its sequence number stands for the round).
  const bool dropped = !r.online || faults_.lost(m.from, m.to, static_cast<uint32_t>(id), 0);
  if (dropped) {
    ++nodes_[m.from].window.counters.messages_dropped;
    algorithm_.lost(*this, m.frame);
  } else {
    comm::ByteCounters& c = r.window.counters;
    c.bytes_received += m.frame.size();
    c.header_bytes_received += comm::kHeaderBytes;
    ++c.messages_received;
    algorithm_.arrive(*this, m.frame);
  }
  recheck(m.from);
  recheck(m.to);
}

void AsyncEngine::churn(int i) {
  Node& n = nodes_[i];
  const bool up = churn_.online(i, now_);
  const double next = churn_.next_change(i, now_);
  if (std::isfinite(next)) schedule(next, Kind::kChurn, i, 0);
  if (up == n.online) return;
  if (!up) {  // leaves: its running steps are lost, the compute spent so far is not
    if (n.busy) n.window.usage.busy_s += now_ - n.busy_since;
    n.window.usage.online_s += now_ - n.online_since;
    if (n.pending) pending_.erase(std::find(pending_.begin(), pending_.end(), i));
    n.busy = n.pending = n.waiting_start = n.waiting_finish = false;
    ++n.generation;
    n.online = false;
    algorithm_.left(i);
  } else {
    n.online = true;
    n.online_since = now_;
  }
  recheck_all();
}

void AsyncEngine::recheck(int i) {
  Node& n = nodes_[i];
  if (n.waiting_finish && algorithm_.may_finish(i)) {
    finish(i);
  } else if (!n.busy && !n.waiting_finish) {
    try_start(i);
  }
}

void AsyncEngine::recheck_all() {
  for (int i = 0; i < static_cast<int>(nodes_.size()); ++i)
    if (nodes_[i].online && (nodes_[i].waiting_start || nodes_[i].waiting_finish)) recheck(i);
}

NodeWindow AsyncEngine::take_window(int i) {
  Node& n = nodes_[i];
  if (n.online) {
    n.window.usage.online_s += now_ - n.online_since;
    n.online_since = now_;
  }
  n.window.staleness = algorithm_.take_staleness(i);
  NodeWindow w = n.window;
  const comm::ByteCounters keep = n.window.counters;
  n.window = NodeWindow{};
  n.window.counters = keep;
  return w;
}

void AsyncEngine::checkpoint(StateIo& io) {
  MURMUR_ASSERT(io.loading() || pending_.empty(), "flush() before a checkpoint");
  std::vector<Event> events;
  for (auto q = queue_; !q.empty(); q.pop()) events.push_back(q.top());
  io.vector(events);
  uint64_t count = in_flight_.size();
  io.value(count);
  std::vector<uint64_t> ids;
  for (const auto& [id, m] : in_flight_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());  // the same bytes for the same state
  if (io.loading()) {
    MURMUR_CHECK(IoError, count <= (uint64_t{1} << 32), io.what(), ": ", count,
                 " frames in flight is not a count");
    ids.assign(static_cast<size_t>(count), 0);
    in_flight_.clear();
  }
  for (uint64_t& id : ids) {
    io.value(id);
    InFlight& m = in_flight_[id];
    io.value(m.from);
    io.value(m.to);
    io.vector(m.frame);
  }
  for (double* v : {&now_}) io.value(*v);
  for (uint64_t* v : {&seq_, &messages_}) io.value(*v);
  io.value(events_);
  if (!io.loading()) return;
  queue_ = {};
  for (const Event& e : events) queue_.push(e);
  pending_.clear();
}

void AsyncEngine::checkpoint_node(int i, StateIo& io) {
  Node& n = nodes_[i];
  for (bool* b : {&n.online, &n.busy, &n.waiting_start, &n.waiting_finish}) {
    uint8_t v = *b ? 1 : 0;
    io.value(v);
    *b = v != 0;
  }
  io.value(n.step);
  io.value(n.generation);
  for (double* v : {&n.busy_since, &n.online_since, &n.step_seconds, &n.uplink_free, &n.loss})
    io.value(*v);
  io.vector(n.work);
  io.value(n.window);
  n.pending = false;
}

}  // namespace murmur::run
