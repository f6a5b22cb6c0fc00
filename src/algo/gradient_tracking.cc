// Gradient tracking (DSGT): Pu & Nedić, "Distributed stochastic gradient tracking methods",
// Math. Programming 2021 (arXiv 2018/2020), as the RelaySGD paper (Vogels et al. 2021) runs it
// as a baseline — in epfml/relaysgd's form, which takes any local optimizer and any number of
// local steps.
//
// Each node keeps its model after the last communication p_i and a correction c_i (the tracker
// minus the local update; c_i = 0 at the start). After the local steps moved p_i to x_i, the
// local update is u_i = x_i - p_i and the node sends [x_i + c_i, c_i + u_i] (two vectors, one
// frame) to its out-neighbours; then
//     x_i <- sum_j w_ij (x_j + c_j)            (the model, corrected, mixed)
//     c_i <- sum_j w_ij (c_j + u_j) - u_i      (the tracker of the average update, less u_i)
//     p_i <- x_i.
// With one plain SGD step per round u_i = -eta g_i(p_i), and y_i = -(c_i + u_i) / eta is the
// tracker of the network-average gradient: x⁺ = W(x - eta y), y⁺ = W y + g(x⁺) - g(x), DSGT in
// its adapt-then-combine form. sum_i c_i = 0 is invariant (W doubly stochastic), so the correction
// cancels the drift between heterogeneous nodes: with a constant step, GT reaches the exact
// optimum of sum_i f_i where D-PSGD keeps a bias (tests/algo/tracking_test.cc).
//
// gradient_tracking.form = "cta" runs the combine-then-adapt form instead: node i sends
// [p_i, y_i] (y_i the tracker of the average update, 0 at the start) and sets
//     y_i <- sum_j w_ij y_j + u_i - u_i(previous round),   x_i <- sum_j w_ij p_j + y_i,
// i.e. x⁺ = W x - eta y, y⁺ = W y + g(x⁺) - g(x) with one SGD step: Pu & Nedić's DSGT as written,
// and what BEER with the identity compressor and gamma = 1 reduces to.
//
// The first round takes p_i from the common initial model when there is one (the runner's), else
// from x_i itself (an update of 0). A message lost to a fault: the weights of what arrived are
// renormalised (as dpsgd does); the invariant then holds only approximately. Undirected graphs
// with doubly stochastic W. State per node: p, c (checkpointed).
#include <algorithm>
#include <vector>

#include "internal.h"
#include "murmur/algo/algorithm.h"
#include "murmur/algo/tracking.h"
#include "murmur/core/enum_names.h"

namespace murmur::algo {
namespace {

using Form = GradientTrackingOptions::Form;
constexpr EnumNames<Form, 2> kFormNames = {{{Form::kAtc, "atc"}, {Form::kCta, "cta"}}};

class GradientTracking final : public Algorithm {
 public:
  explicit GradientTracking(const AlgorithmContext& ctx)
      : ctx_(ctx),
        cta_(ctx.options_or_default<GradientTrackingOptions>().form == Form::kCta),
        nodes_(ctx.nodes) {
    detail::RequireNoCompression(ctx, "gradient_tracking", "");
    detail::RequireMixing(ctx, "gradient_tracking", detail::Mixing::kDoublyStochastic,
                          "use metropolis_hastings (or a regular graph with uniform)");
  }
  std::string_view name() const override { return "gradient_tracking"; }

  void send(int phase, uint32_t round, int node, std::span<float> x) override {
    State& s = nodes_[node];
    const size_t d = x.size();
    if (s.p.empty()) {
      s.p.assign(x.begin(), x.end());
      if (ctx_.initial_model.size() == d)
        s.p.assign(ctx_.initial_model.begin(), ctx_.initial_model.end());
      s.c.assign(d, 0.0f);  // cta: the tracker y
      s.u_prev.assign(d, 0.0f);
    }
    s.u.resize(d);
    s.out.resize(2 * d);
    for (size_t k = 0; k < d; ++k) {
      s.u[k] = x[k] - s.p[k];
      s.out[k] = cta_ ? s.p[k] : x[k] + s.c[k];
      s.out[d + k] = cta_ ? s.c[k] : s.c[k] + s.u[k];
    }
    detail::SendDense(ctx_, round, 0, node, s.out);
  }

  void receive(int phase, uint32_t round, int node, std::span<float> x) override {
    State& s = nodes_[node];
    const size_t d = x.size();
    s.mixed.resize(2 * d);
    detail::GossipMix(ctx_, "gradient_tracking", round, 0, node, s.out, s.mixed);
    for (size_t k = 0; k < d; ++k) {
      if (cta_) {
        s.c[k] = s.mixed[d + k] + s.u[k] - s.u_prev[k];
        x[k] = s.mixed[k] + s.c[k];
      } else {
        x[k] = s.mixed[k];
        s.c[k] = s.mixed[d + k] - s.u[k];
      }
    }
    s.u_prev.swap(s.u);
    s.p.assign(x.begin(), x.end());
  }

  void checkpoint(int node, StateIo& io) override {
    State& s = nodes_[node];
    io.vector(s.p);
    io.vector(s.c);
    if (cta_) io.vector(s.u_prev);
  }

 private:
  struct State {
    std::vector<float> p, c, u_prev;   // kept between rounds (u_prev: cta only)
    std::vector<float> u, out, mixed;  // within a round
  };
  AlgorithmContext ctx_;
  bool cta_;
  std::vector<State> nodes_;
};

}  // namespace

AlgorithmPlugin GradientTrackingPlugin() {
  AlgorithmPlugin p;
  p.make = [](const AlgorithmContext& ctx) { return std::make_unique<GradientTracking>(ctx); };
  p.traits.full_sharing = true;
  p.keys = {EnumOption("gradient_tracking.form", GradientTrackingOptions{}.form, kFormNames,
                       "gradient_tracking: atc (x⁺ = W(x + u + c), epfml/relaysgd's form) or cta "
                       "(x⁺ = W x + y, DSGT as Pu & Nedic write it)")};
  p.parse = [](const OptionReader& c) -> std::any {
    return GradientTrackingOptions{c.get_enum("gradient_tracking.form", kFormNames)};
  };
  return p;
}

}  // namespace murmur::algo
