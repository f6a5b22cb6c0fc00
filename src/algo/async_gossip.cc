// The asynchronous algorithms of the event-driven simulation (include/murmur/algo/async.h).
//
// AD-PSGD: Lian, Zhang, Zhang, Liu, "Asynchronous Decentralized Parallel Stochastic Gradient
// Descent", ICML 2018. Each node, on its own clock, computes its local steps on its model as it
// was when they started (x̂_i), then
//   x_i <- x_i + delta_i                      (the steps' change, computed at the stale x̂_i)
//   picks a neighbour j uniformly (seeded by node and step) and sends it x_i;
//   when the request arrives: x_i, x_j <- (x_i + x_j) / 2, both at that one instant
// which is what the paper's lock on the pair gives (no update of either is lost, the sum of
// the models is kept); j replies with the average (its bytes are counted; the value is
// already in place). The node starts its next steps at once (computation overlaps the
// averaging), but applies them only after the reply has come: one averaging in flight per node.
// A request to an offline node is lost (and a request or a reply may be, with faults.loss); the
// requester learns it when the frame would have arrived. If the requester is offline when its
// request arrives, j averages with the request's content alone.
//
// Asynchronous push-sum (gradient push): Assran, Rabbat, "Asynchronous Gradient Push", IEEE
// TAC 2020 (push-sum: Kempe et al. 2003). Node i keeps a numerator x_i and a weight w_i (1 at
// the start) and trains on z_i = x_i / w_i. After each local-steps round:
//   x_i <- x_i + delta_i                      (unscaled, as SGP)
//   sends (x_i / (d_i + 1), w_i / (d_i + 1)) to each of its d_i out-neighbours of the graph at
//   its step count, keeps the same share itself;
//   a receiver adds whatever arrives, when it arrives: x_j += x, w_j += w.
// A message that is lost returns its share to the sender (it learns of the loss as an
// acknowledgement would tell it), so sum_i x_i and sum_i w_i are kept. With a staleness bound
// tau >= 0 (async_push_sum.staleness_bound) a node starts its k-th local steps only when it has
// heard from every online in-neighbour a message sent after that neighbour's (k - tau)-th
// steps (a lost one counts as heard: a real receiver sees the gap in its sequence numbers).
#include <algorithm>
#include <tuple>
#include <utility>
#include <vector>

#include "internal.h"
#include "messages.h"
#include "murmur/algo/algorithm.h"
#include "murmur/algo/async.h"
#include "murmur/core/check.h"
#include "murmur/core/rng.h"

namespace murmur::algo {
namespace {

using comm::FrameHeader;

// Statistics of the staleness a node saw since the engine last asked.
struct StalenessSum {
  AsyncAlgorithm::Staleness s;
  void add(int64_t v) {
    s.sum += static_cast<double>(v);
    ++s.count;
    s.max = std::max(s.max, v);
  }
  AsyncAlgorithm::Staleness take() { return std::exchange(s, {}); }
};

FrameHeader Header(comm::Codec codec, int from, int to, int64_t step, uint8_t phase) {
  FrameHeader h;
  h.codec = static_cast<uint8_t>(codec);
  h.phase = phase;
  h.round = static_cast<uint32_t>(step);
  h.sender = static_cast<uint32_t>(from);
  h.receiver = static_cast<uint32_t>(to);
  return h;
}

class AdPsgd final : public AsyncAlgorithm {
 public:
  explicit AdPsgd(const AlgorithmContext& ctx) : ctx_(ctx), nodes_(ctx.nodes) {
    MURMUR_CHECK(ConfigError, !ctx.topology->directed(), "adpsgd averages pairs of neighbours ",
                 "and needs an undirected topology; ", ctx.topology->name(),
                 " is directed (use async_push_sum on directed graphs)");
    for (State& s : nodes_) s.x.assign(ctx.initial_model.begin(), ctx.initial_model.end());
  }
  std::string_view name() const override { return "adpsgd"; }
  std::span<const float> model(int node) override { return nodes_[node].x; }
  void started(int node) override { nodes_[node].read_version = nodes_[node].version; }
  bool may_finish(int node) const override { return nodes_[node].awaiting < 0; }
  void left(int node) override { nodes_[node].awaiting = -1; }
  Staleness take_staleness(int node) override { return nodes_[node].staleness.take(); }
  void checkpoint(int node, StateIo& io) override {
    State& s = nodes_[node];
    io.vector(s.x);
    io.value(s.awaiting);
    io.value(s.version);
    io.value(s.read_version);
    io.value(s.staleness.s);
    MURMUR_CHECK(IoError, s.x.size() == static_cast<size_t>(ctx_.dim), io.what(),
                 ": adpsgd state of another model");
  }

  void steps_done(AsyncNet& net, int node, int64_t step, std::span<const float> delta) override {
    State& s = nodes_[node];
    s.staleness.add(s.version - s.read_version);
    for (size_t k = 0; k < delta.size(); ++k) s.x[k] += delta[k];
    ++s.version;
    const std::vector<int>& peers = ctx_.topology->at(static_cast<uint64_t>(step)).out[node];
    if (peers.empty()) return;
    Rng rng(DeriveSeed(ctx_.seed, static_cast<uint64_t>(step), Stream::kAlgorithm),
            static_cast<uint64_t>(node), Stream::kAlgorithm);
    const int j = peers[rng.uniform_int(peers.size())];
    s.awaiting = step;
    net.send(comm::EncodeDenseF32(Header(comm::Codec::kDenseF32, node, j, step, 0), s.x));
  }

  void arrive(AsyncNet& net, std::span<const uint8_t> bytes) override {
    const comm::FrameView f = comm::DecodeFrame(bytes);
    const int from = static_cast<int>(f.header.sender), to = static_cast<int>(f.header.receiver);
    const size_t dim = static_cast<size_t>(ctx_.dim);
    if (f.header.phase == 1) {  // the reply: the average is already in place
      comm::DenseF32Payload(f, dim);
      release(to, f.header.round);
      return;
    }
    const std::span<const uint8_t> p = comm::DenseF32Payload(f, dim);
    State& a = nodes_[from];
    State& b = nodes_[to];
    if (net.online(from)) {  // the pair, atomically
      for (size_t k = 0; k < dim; ++k) a.x[k] = b.x[k] = 0.5f * (a.x[k] + b.x[k]);
      ++a.version;
    } else {  // the requester is gone: the receiver takes in what the request carried
      for (size_t k = 0; k < dim; ++k) b.x[k] = 0.5f * (comm::DenseF32At(p, k) + b.x[k]);
    }
    ++b.version;
    net.send(
        comm::EncodeDenseF32(Header(comm::Codec::kDenseF32, to, from, f.header.round, 1), b.x));
  }

  // A lost request (its sender) or a lost reply (its receiver, the requester): no reply will
  // come, which the requester learns when it would have come.
  void lost(AsyncNet&, std::span<const uint8_t> bytes) override {
    const FrameHeader h = comm::DecodeFrame(bytes).header;
    release(static_cast<int>(h.phase == 0 ? h.sender : h.receiver), h.round);
  }

 private:
  // The averaging a node started after its local steps `step` is over (a reply or a loss of an
  // older averaging, from before the node left and came back, is not this one's).
  void release(int node, uint32_t step) {
    if (nodes_[node].awaiting >= 0 && static_cast<uint32_t>(nodes_[node].awaiting) == step)
      nodes_[node].awaiting = -1;
  }
  struct State {
    std::vector<float> x;
    int64_t awaiting = -1;                  // the step whose averaging is in flight, or -1
    int64_t version = 0, read_version = 0;  // changes to x; the count its steps started from
    StalenessSum staleness;
  };
  AlgorithmContext ctx_;
  std::vector<State> nodes_;
};

class AsyncPushSum final : public AsyncAlgorithm {
 public:
  explicit AsyncPushSum(const AlgorithmContext& ctx)
      : ctx_(ctx),
        bound_(ctx.options_or_default<AsyncPushSumOptions>().staleness_bound),
        nodes_(ctx.nodes) {
    MURMUR_CHECK(ConfigError, bound_ < 0 || !ctx.topology->time_varying(),
                 "async_push_sum.staleness_bound = ", bound_, " waits for in-neighbours, which ",
                 ctx.topology->name(), " changes every step; use a static topology or -1");
    for (State& s : nodes_) {
      s.x.assign(ctx.initial_model.begin(), ctx.initial_model.end());
      s.z = s.x;
      s.heard.assign(ctx.nodes, 0);
    }
  }
  std::string_view name() const override { return "async_push_sum"; }
  std::span<const float> model(int node) override {
    State& s = nodes_[node];
    for (size_t k = 0; k < s.x.size(); ++k) s.z[k] = static_cast<float>(s.x[k] / s.w);
    return s.z;
  }
  Staleness take_staleness(int node) override { return nodes_[node].staleness.take(); }
  void checkpoint(int node, StateIo& io) override {
    State& s = nodes_[node];
    io.vector(s.x);
    io.value(s.w);
    io.value(s.steps);
    io.vector(s.heard);
    io.value(s.staleness.s);
    MURMUR_CHECK(IoError,
                 s.x.size() == static_cast<size_t>(ctx_.dim) &&
                     s.heard.size() == static_cast<size_t>(ctx_.nodes),
                 io.what(), ": async_push_sum state of another model or graph");
    s.z.resize(s.x.size());
  }

  bool may_start(const AsyncNet& net, int node, int64_t step) const override {
    if (bound_ < 0) return true;
    for (int j : ctx_.topology->at(0).in[node])
      if (net.online(j) && nodes_[node].heard[j] < step - bound_) return false;
    return true;
  }

  void steps_done(AsyncNet& net, int node, int64_t step, std::span<const float> delta) override {
    State& s = nodes_[node];
    s.steps = step + 1;
    for (size_t k = 0; k < delta.size(); ++k) s.x[k] += delta[k];
    const std::vector<int>& peers = ctx_.topology->at(static_cast<uint64_t>(step)).out[node];
    const double share = 1.0 / static_cast<double>(peers.size() + 1);
    for (float& v : s.x) v = static_cast<float>(v * share);
    s.w *= share;
    for (int j : peers)
      net.send(detail::EncodePushSumF32Frame(Header(comm::Codec::kPushSumF32, node, j, s.steps, 0),
                                             static_cast<float>(s.w), s.x));
  }

  void arrive(AsyncNet&, std::span<const uint8_t> bytes) override {
    const auto [from, to, tag] = Sender(bytes);
    const detail::Message m = Parse(bytes, from, to, tag);
    State& s = nodes_[to];
    Add(s, m);
    s.heard[from] = std::max<int64_t>(s.heard[from], tag);
    s.staleness.add(std::max<int64_t>(0, s.steps - tag));
  }

  void lost(AsyncNet&, std::span<const uint8_t> bytes) override {
    const auto [from, to, tag] = Sender(bytes);
    Add(nodes_[from], Parse(bytes, from, to, tag));  // the share comes back
    nodes_[to].heard[from] = std::max<int64_t>(nodes_[to].heard[from], tag);
  }

 private:
  struct State {
    std::vector<float> x, z;
    double w = 1.0;
    int64_t steps = 0;
    std::vector<int64_t> heard;  // per in-neighbour: the newest step count it sent that came
    StalenessSum staleness;
  };
  static std::tuple<int, int, int64_t> Sender(std::span<const uint8_t> bytes) {
    const FrameHeader h = comm::DecodeFrame(bytes).header;
    return {static_cast<int>(h.sender), static_cast<int>(h.receiver), h.round};
  }
  detail::Message Parse(std::span<const uint8_t> bytes, int from, int to, int64_t tag) const {
    return detail::ParseMessage(comm::Bytes(bytes.begin(), bytes.end()), "async_push_sum", to, from,
                                static_cast<uint32_t>(tag), 0, comm::Codec::kPushSumF32,
                                static_cast<uint32_t>(ctx_.dim));
  }
  static void Add(State& s, const detail::Message& m) {
    for (size_t k = 0; k < s.x.size(); ++k) s.x[k] += comm::DenseF32At(m.body, k);
    s.w += m.weight;
  }
  AlgorithmContext ctx_;
  int64_t bound_;
  std::vector<State> nodes_;
};

std::vector<OptionSpec> AsyncPushSumKeys() {
  return {IntOption("async_push_sum.staleness_bound", -1, -1, 1e9,
                    "async_push_sum: a node starts its k-th local steps only when every online "
                    "in-neighbour's newest message was sent after its (k - bound)-th; -1 = no "
                    "bound (never waits)")};
}

std::any ParseAsyncPushSumOptions(const OptionReader& r) {
  AsyncPushSumOptions o;
  o.staleness_bound = r.get_int("async_push_sum.staleness_bound");
  return o;
}

std::unique_ptr<Algorithm> NotInRounds(const std::string& name) {
  MURMUR_FAIL(ConfigError, "algorithm.name = ", name,
              " is asynchronous: it runs in the event-driven simulation; set sim.mode = \"event\" "
              "(docs/simulation.md)");
}

}  // namespace

AlgorithmPlugin AdPsgdPlugin() {
  AlgorithmPlugin p;
  p.make = [](const AlgorithmContext&) { return NotInRounds("adpsgd"); };
  p.make_async = [](const AlgorithmContext& ctx) { return std::make_unique<AdPsgd>(ctx); };
  p.traits.full_sharing = true;
  p.traits.asynchronous = true;
  return p;
}

AlgorithmPlugin AsyncPushSumPlugin() {
  AlgorithmPlugin p;
  p.make = [](const AlgorithmContext&) { return NotInRounds("async_push_sum"); };
  p.make_async = [](const AlgorithmContext& ctx) { return std::make_unique<AsyncPushSum>(ctx); };
  p.traits.full_sharing = true;
  p.traits.directed_graphs = true;
  p.traits.asynchronous = true;
  p.keys = AsyncPushSumKeys();
  p.parse = ParseAsyncPushSumOptions;
  return p;
}

}  // namespace murmur::algo
