// SGP, Stochastic Gradient Push: Assran, Loizou, Ballas, Rabbat, "Stochastic Gradient Push
// for Distributed Deep Learning", ICML 2019 (push-sum: Kempe, Dobra, Gehrke 2003).
//
// Node i keeps a numerator x_i and a push-sum weight w_i (starts 1) and trains on
// z_i = x_i / w_i, the vector the runner hands in. Local steps change z_i; the change is
// applied to the numerator unscaled, as in SGP (detail::AbsorbLocalSteps). Then node i
// sends (x_i, w_i) to its out-peers of this round and sets
//   x_i <- sum_j W_ij x_j,  w_i <- sum_j W_ij w_j   (self included, sender-id order),
// with column-stochastic W (the topology's `column` weights: W_ij = 1/(1 + outdeg_j)), so
// sum_i x_i and sum_i w_i are preserved exactly and z_i = x_i / w_i tends to the average on
// any sequence of strongly connected directed graphs, static or time-varying.
// A lost message (an injected fault, [faults]): the receiver goes without it, and the sender,
// which learns of the loss as acknowledgements would tell it, keeps that share (adds
// W_ki x_i and W_ki w_i back to itself), so sum_i x_i and sum_i w_i stay exact.
#include <algorithm>
#include <vector>

#include "internal.h"
#include "messages.h"
#include "murmur/algo/algorithm.h"
#include "murmur/algo/kernels.h"

namespace murmur::algo {
namespace {

class Sgp final : public Algorithm {
 public:
  explicit Sgp(const AlgorithmContext& ctx) : ctx_(ctx), nodes_(ctx.nodes) {
    detail::RequireNoCompression(ctx, "sgp", " or use sparse_push");
    detail::RequireMixing(ctx, "sgp", detail::Mixing::kColumnStochastic,
                          "use column (the default on directed graphs)");
  }
  std::string_view name() const override { return "sgp"; }
  double push_sum_weight(int node) const override { return nodes_[node].w; }
  void checkpoint(int node, StateIo& io) override {
    io.vector(nodes_[node].x);
    io.value(nodes_[node].w);
  }

  void send(int, uint32_t round, int node, std::span<float> z) override {
    State& s = nodes_[node];
    detail::AbsorbLocalSteps(s.x, s.w, z);
    detail::SendToOutPeers(ctx_, round, node, [&](const comm::FrameHeader& h) {
      return detail::EncodePushSumF32Frame(h, s.w, s.x);
    });
  }

  void receive(int, uint32_t round, int node, std::span<float> z) override {
    State& s = nodes_[node];
    const graph::Graph& g = ctx_.topology->at(round);
    const uint32_t dim = static_cast<uint32_t>(z.size());
    std::vector<detail::Message> msgs;
    std::vector<WeightedSource> sources;
    msgs.reserve(g.in[node].size());
    double w = 0.0;
    bool self_added = false;
    auto add_self = [&] {
      sources.push_back({static_cast<float>(g.w_self[node]), s.x.data(), nullptr});
      w += g.w_self[node] * s.w;
      self_added = true;
    };
    for (size_t k = 0; k < g.in[node].size(); ++k) {
      const int from = g.in[node][k];
      if (!self_added && from > node) add_self();
      auto m = detail::TryTakeMessage(*ctx_.transport, "sgp", node, from, round, 0,
                                      comm::Codec::kPushSumF32, dim);
      if (!m) continue;  // lost: its sender kept that share (below)
      msgs.push_back(std::move(*m));
      sources.push_back({static_cast<float>(g.w_in[node][k]), nullptr, msgs.back().body.data()});
      w += g.w_in[node][k] * msgs.back().weight;
    }
    if (!self_added) add_self();
    // Shares this node sent that were lost stay here, so no push-sum mass disappears.
    for (int to : g.out[node]) {
      if (!ctx_.transport->lost(node, to, round, 0)) continue;
      const double share = g.weight(to, node);
      sources.push_back({static_cast<float>(share), s.x.data(), nullptr});
      w += share * s.w;
    }
    s.tmp.resize(z.size());
    WeightedSum(s.tmp, sources);
    std::swap(s.x, s.tmp);
    s.w = static_cast<float>(w);
    detail::Debias(s.x, s.w, z);
  }

 private:
  struct State {
    std::vector<float> x, tmp;  // numerator; scratch
    float w = 1.0f;
  };
  AlgorithmContext ctx_;
  std::vector<State> nodes_;
};

}  // namespace

AlgorithmPlugin SgpPlugin() {
  AlgorithmPlugin p;
  p.make = [](const AlgorithmContext& ctx) { return std::make_unique<Sgp>(ctx); };
  p.traits.full_sharing = true;
  p.traits.directed_graphs = true;
  return p;
}

}  // namespace murmur::algo
