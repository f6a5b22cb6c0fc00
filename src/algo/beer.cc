// BEER: Zhao, Li, Richtárik, Chi, "BEER: Fast O(1/T) Rate for Decentralized Nonconvex
// Optimization with Communication Compression", NeurIPS 2022 (reference code: liboyue/beer).
//
// Gradient tracking with compressed communication: node i keeps its model x_i, a tracker v_i of
// the average gradient, and public surrogates h_i ≈ x_i and q_i ≈ v_i that its neighbours know
// (through the compressed changes it sends them). In the paper's notation, with C any compressor
// (compression.*) and gamma the consensus step (algorithm.gamma; 0 = tuned as for choco):
//     x⁺ = x + gamma ((W h)_i - h_i) - eta v        h⁺ = h + C(x⁺ - h)
//     v⁺ = v + gamma ((W q)_i - q_i) + g(x⁺) - g(x)  q⁺ = q + C(v⁺ - q).
// murmur's rounds run the local steps first, so the gradient enters as the local update: the
// runner moved x to x + u with u = -eta g(x) (any optimizer, any number of steps), and v is kept
// in update units (v' = -eta v). Round t at node i:
//     v' <- v' + gamma (s_q - q) + u - u(previous round)     [s_q = (W q)_i, kept as a sum]
//     q  <- q + C(v' - q);  x⁺ = x + gamma (s_h - h) + v';  h <- h + C(x⁺ - h)
// and sends the two compressed changes (phase 0: h's, phase 1: q's); every receiver adds w_ij
// times each to its sums s_h and s_q (its own with w_ii). At the start h = q = v' = 0. With the
// identity compressor and gamma = 1, h = x and q = v', and BEER is gradient tracking in its
// combine-then-adapt form (gradient_tracking.form = "cta"; test Beer.IdentityIsGradientTracking).
// A message lost to a fault is not added (the sums then drift from W h, W q, as for choco).
// Undirected graphs, doubly stochastic W. State per node: x, h, q, v', u, s_h, s_q and the
// compressor's RNG (checkpointed).
#include <vector>

#include "internal.h"
#include "messages.h"
#include "murmur/algo/algorithm.h"
#include "murmur/algo/compressed_gossip.h"
#include "murmur/compress/compressor.h"

namespace murmur::algo {
namespace {

class Beer final : public Algorithm {
 public:
  explicit Beer(const AlgorithmContext& ctx)
      : ctx_(ctx),
        gamma_(static_cast<float>(ctx.options_or_default<GossipOptions>().gamma)),
        nodes_(ctx.nodes) {
    detail::RequireMixing(ctx, "beer", detail::Mixing::kDoublyStochastic,
                          "use metropolis_hastings (or a regular graph with uniform)");
    compressor_ = compress::MakeCompressor(ctx.compression == "none" ? "identity" : ctx.compression,
                                           ctx.compressor);
    for (int i = 0; i < ctx.nodes; ++i)
      if (ctx.hosts(i))
        nodes_[i].rng = Rng(ctx.seed, static_cast<uint64_t>(i), Stream::kCompression);
  }
  std::string_view name() const override { return "beer"; }
  int phases() const override { return 2; }
  std::vector<std::pair<std::string, double>> resolved_parameters() const override {
    return {{"gamma", gamma_}};
  }

  void send(int phase, uint32_t round, int node, std::span<float> x) override {
    State& s = nodes_[node];
    if (phase == 0) start_round(s, x);
    const comm::Bytes& payload = phase == 0 ? s.dh : s.dq;
    const uint32_t dim = static_cast<uint32_t>(x.size());
    detail::SendToOutPeers(ctx_, round, node, [&](comm::FrameHeader h) {
      h.phase = static_cast<uint8_t>(phase);
      return detail::EncodeCompressedFrame(h, dim, payload, std::nullopt);
    });
  }

  void receive(int phase, uint32_t round, int node, std::span<float> x) override {
    State& s = nodes_[node];
    const graph::Graph& g = ctx_.topology->at(round);
    std::vector<float>& sum = phase == 0 ? s.sh : s.sq;
    compress::DecompressAdd(phase == 0 ? s.dh : s.dq, static_cast<float>(g.w_self[node]), sum);
    for (size_t k = 0; k < g.in[node].size(); ++k) {
      const int from = g.in[node][k];
      auto m = detail::TryTakeMessage(*ctx_.transport, "beer", node, from, round,
                                      static_cast<uint8_t>(phase), comm::Codec::kCompressed,
                                      static_cast<uint32_t>(x.size()));
      if (m) compress::DecompressAdd(m->body, static_cast<float>(g.w_in[node][k]), sum);
    }
    if (phase == 0) std::copy(s.x.begin(), s.x.end(), x.begin());
  }

  void checkpoint(int node, StateIo& io) override {
    State& s = nodes_[node];
    for (std::vector<float>* v : {&s.x, &s.h, &s.q, &s.v, &s.u, &s.sh, &s.sq}) io.vector(*v);
    io.rng(s.rng);
  }

 private:
  struct State {
    // x: the model after the last round (the local steps start there); u: last round's update.
    std::vector<float> x, h, q, v, u, sh, sq;
    std::vector<float> diff;  // within a round
    comm::Bytes dh, dq;       // this round's compressed changes of h and q
    Rng rng{1};
  };

  // The local steps moved s.x to `local`: update the tracker and q, the model and h, and leave
  // the two payloads in s.dq and s.dh.
  void start_round(State& s, std::span<const float> local) {
    const size_t d = local.size();
    if (s.x.empty()) {
      s.x.assign(local.begin(), local.end());
      if (ctx_.initial_model.size() == d)
        s.x.assign(ctx_.initial_model.begin(), ctx_.initial_model.end());
      for (std::vector<float>* v : {&s.h, &s.q, &s.v, &s.u, &s.sh, &s.sq}) v->assign(d, 0.0f);
    }
    s.diff.resize(d);
    for (size_t k = 0; k < d; ++k) {
      const float u = local[k] - s.x[k];
      s.v[k] += gamma_ * (s.sq[k] - s.q[k]) + u - s.u[k];
      s.u[k] = u;
      s.diff[k] = s.v[k] - s.q[k];
    }
    s.dq.clear();
    compressor_->compress(s.diff, s.rng, s.dq);
    compress::DecompressAdd(s.dq, 1.0f, s.q);
    for (size_t k = 0; k < d; ++k) {
      s.x[k] += gamma_ * (s.sh[k] - s.h[k]) + s.v[k];
      s.diff[k] = s.x[k] - s.h[k];
    }
    s.dh.clear();
    compressor_->compress(s.diff, s.rng, s.dh);
    compress::DecompressAdd(s.dh, 1.0f, s.h);
  }

  AlgorithmContext ctx_;
  float gamma_;
  std::unique_ptr<compress::Compressor> compressor_;
  std::vector<State> nodes_;
};

}  // namespace

AlgorithmPlugin BeerPlugin() {
  AlgorithmPlugin p = ChocoPlugin();  // compressed, gamma (0 = tuned), the algorithm.* keys
  p.make = [](const AlgorithmContext& ctx) {
    return std::make_unique<Beer>(detail::WithTunedChocoGamma(ctx));
  };
  return p;
}

}  // namespace murmur::algo
