// D² (Tang, Lian, Yan, Zhang, Liu, "D²: Decentralized Training over Decentralized Data", ICML
// 2018) and Exact Diffusion (Yuan, Ying, Zhao, Sayed, "Exact Diffusion for Distributed
// Optimization and Learning", IEEE TSP 2019), in epfml/relaysgd's form (any local optimizer,
// any number of local steps).
//
// D²: x¹ = W(x⁰ - eta g⁰); x^{t+1} = W(2x^t - x^{t-1} - eta g^t + eta g^{t-1}). Each node keeps a
// correction c_i = x_i^t - (x_i^{t-1} + u_i^{t-1}) (0 at the start), where u is what the local
// steps did; after the local steps moved x_i to x_i + u_i it sends h_i = x_i + u_i + c_i and sets
//     x_i <- sum_j w_ij h_j,      c_i <- x_i(new) - (the model after the local steps).
// With one SGD step per round this is the recursion above (c^t = x^t - x^{t-1} + eta g^{t-1}).
// One vector per round. D² needs the smallest eigenvalue of W above -1/3 (checked at start-up
// for every graph of the topology's period). Exact Diffusion is the same with W̄ = (I + W)/2,
// whose eigenvalues are all >= 0: x_i <- (h_i + sum_j w_ij h_j) / 2.
//
// The correction removes the bias data heterogeneity puts into D-PSGD's fixed point: with a
// constant step, both reach the exact optimum of sum_i f_i (tests/algo/tracking_test.cc). A
// message lost to a fault: the weights of what arrived are renormalised (as dpsgd does).
// Undirected graphs with doubly stochastic W. State per node: c, in double (checkpointed).
#include <vector>

#include "internal.h"
#include "murmur/algo/algorithm.h"
#include "murmur/graph/spectral.h"

namespace murmur::algo {
namespace {

class D2 final : public Algorithm {
 public:
  D2(const AlgorithmContext& ctx, bool exact_diffusion)
      : ctx_(ctx), exact_diffusion_(exact_diffusion), nodes_(ctx.nodes) {
    const char* me = exact_diffusion ? "exact_diffusion" : "d2";
    detail::RequireNoCompression(ctx, me, "");
    detail::RequireMixing(ctx, me, detail::Mixing::kDoublyStochastic,
                          "use metropolis_hastings (or a regular graph with uniform)");
    if (exact_diffusion) return;
    for (int r = 0; r < ctx.topology->period(); ++r) {
      const graph::Graph& g = ctx.topology->at(static_cast<uint64_t>(r));
      const double lmin = graph::SmallestEigenvalue(g);
      MURMUR_CHECK(ConfigError, lmin > -1.0 / 3.0 + 1e-6, "algorithm.name: d2 needs the smallest ",
                   "eigenvalue of W above -1/3; topology '", ctx.topology->name(), "' with ",
                   "topology.weights gives ", lmin,
                   r > 0 ? " (graph " + std::to_string(r) + " of its period)" : std::string(),
                   ". Use exact_diffusion (D² with (I + W)/2, always admissible) or a topology "
                   "whose W has more weight on the node itself");
    }
  }
  std::string_view name() const override { return exact_diffusion_ ? "exact_diffusion" : "d2"; }

  void send(int phase, uint32_t round, int node, std::span<float> x) override {
    State& s = nodes_[node];
    const size_t d = x.size();
    if (s.c.empty()) s.c.assign(d, 0.0);
    s.h.resize(d);
    for (size_t k = 0; k < d; ++k) s.h[k] = static_cast<float>(x[k] + s.c[k]);
    detail::SendDense(ctx_, round, 0, node, s.h);
  }

  // c <- x(new) - (h - c): the model after the local steps as the message carried it, so that
  // sum_i c_i stays what it was up to double rounding. (With float state and the float model,
  // the rounding at D²'s fixed point repeats every round and the correction drifts linearly.)
  void receive(int phase, uint32_t round, int node, std::span<float> x) override {
    State& s = nodes_[node];
    const size_t d = x.size();
    s.mixed.resize(d);
    detail::GossipMix(ctx_, name(), round, 0, node, s.h, std::span<double>(s.mixed));
    for (size_t k = 0; k < d; ++k) {
      const double next = exact_diffusion_ ? 0.5 * (s.mixed[k] + s.h[k]) : s.mixed[k];
      s.c[k] = next - (static_cast<double>(s.h[k]) - s.c[k]);
      x[k] = static_cast<float>(next);
    }
  }

  void checkpoint(int node, StateIo& io) override { io.vector(nodes_[node].c); }

 private:
  struct State {
    std::vector<double> c;      // kept between rounds
    std::vector<float> h;       // within a round: the message
    std::vector<double> mixed;  // sum_j w_ij h_j
  };
  AlgorithmContext ctx_;
  bool exact_diffusion_;
  std::vector<State> nodes_;
};

}  // namespace

AlgorithmPlugin D2Plugin() {
  AlgorithmPlugin p;
  p.make = [](const AlgorithmContext& ctx) { return std::make_unique<D2>(ctx, false); };
  p.traits.full_sharing = true;
  return p;
}

AlgorithmPlugin ExactDiffusionPlugin() {
  AlgorithmPlugin p;
  p.make = [](const AlgorithmContext& ctx) { return std::make_unique<D2>(ctx, true); };
  p.traits.full_sharing = true;
  return p;
}

}  // namespace murmur::algo
