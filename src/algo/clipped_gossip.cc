// ClippedGossip (self-centred clipping): He, Karimireddy, Jaggi, "Byzantine-robust
// decentralized learning via ClippedGossip" (arXiv 2202.01545, 2022); reference code
// epfml/byzantine-robust-decentralized-optimizer.
//
// After its local steps node i sends x_i to its out-neighbours (as dpsgd does) and sets
//     x_i <- x_i + sum_j w_ij CLIP(x_j - x_i, tau_i),   CLIP(z, tau) = min(1, tau / ||z||) z,
// over the models that arrived, in node-id order: a neighbour can move x_i by at most
// w_ij tau_i however far away its message is, so a few malicious neighbours cannot drag an
// honest node arbitrarily. tau_i is clipped_gossip.radius when it is > 0 (inf: no clipping,
// which is D-PSGD); 0 (the default) picks it adaptively every round as the reference code does:
// the (k + 1)-th largest of the distances ||x_j - x_i|| to the neighbours that sent this round,
// k = clipped_gossip.clip_count (default 1: the farthest neighbour is clipped to the distance of
// the second farthest), or the only distance when fewer arrived. A message lost to a fault is
// left out (its weight is not renormalised: the node keeps it on itself). Undirected graphs with
// doubly stochastic W. No state between rounds.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "internal.h"
#include "messages.h"
#include "murmur/algo/algorithm.h"
#include "murmur/algo/clipped_gossip.h"

namespace murmur::algo {
namespace {

class ClippedGossip final : public Algorithm {
 public:
  explicit ClippedGossip(const AlgorithmContext& ctx)
      : ctx_(ctx), o_(ctx.options_or_default<ClippedGossipOptions>()) {
    detail::RequireNoCompression(ctx, "clipped_gossip", "");
    detail::RequireMixing(ctx, "clipped_gossip", detail::Mixing::kDoublyStochastic,
                          "use metropolis_hastings (or a regular graph with uniform)");
    MURMUR_CHECK(ConfigError, !(o_.radius < 0.0) && !std::isnan(o_.radius),
                 "clipped_gossip.radius: must be >= 0 (0 = adaptive, inf = no clipping), got ",
                 o_.radius);
    MURMUR_CHECK(ConfigError, o_.clip_count >= 0, "clipped_gossip.clip_count: must be >= 0, got ",
                 o_.clip_count);
  }
  std::string_view name() const override { return "clipped_gossip"; }

  void send(int phase, uint32_t round, int node, std::span<float> x) override {
    detail::SendDense(ctx_, round, 0, node, x);
  }

  void receive(int phase, uint32_t round, int node, std::span<float> x) override {
    const size_t d = x.size();
    const detail::DenseInbox in =
        detail::TakeDenseInbox(ctx_, "clipped_gossip", round, 0, node, static_cast<uint32_t>(d));
    if (in.messages.empty()) return;
    std::vector<double> distances;
    for (const detail::Message& m : in.messages) {
      double sq = 0.0;
      for (size_t c = 0; c < d; ++c) {
        const double z = static_cast<double>(comm::DenseF32At(m.body, c)) - x[c];
        sq += z * z;
      }
      distances.push_back(std::sqrt(sq));
    }
    const double tau = radius(distances);
    std::vector<double> scale(in.messages.size());
    for (size_t j = 0; j < scale.size(); ++j)  // a non-finite message moves nothing
      scale[j] = !std::isfinite(distances[j])
                     ? 0.0
                     : in.weights[j] * (distances[j] > tau ? tau / distances[j] : 1.0);
    detail::CentredMove(x, in, scale, x);
  }

 private:
  double radius(std::vector<double> distances) const {
    if (o_.radius > 0.0) return o_.radius;
    std::erase_if(distances, [](double v) { return !std::isfinite(v); });
    if (distances.empty()) return 0.0;
    std::sort(distances.begin(), distances.end(), std::greater<>());
    const size_t k = std::min(static_cast<size_t>(o_.clip_count), distances.size() - 1);
    return distances[k];
  }

  AlgorithmContext ctx_;
  ClippedGossipOptions o_;
};

std::vector<OptionSpec> ClippedGossipKeys() {
  const ClippedGossipOptions d;
  return {
      FloatOption("clipped_gossip.radius", d.radius, 0, std::numeric_limits<double>::infinity(),
                  "clipped_gossip: clipping radius tau; 0 = adaptive each round (the (clip_count "
                  "+ 1)-th largest distance to the neighbours), inf = no clipping (D-PSGD)"),
      IntOption("clipped_gossip.clip_count", d.clip_count, 0, 1e6,
                "clipped_gossip with radius 0: how many of the farthest neighbours are clipped"),
  };
}

std::any ParseClippedGossipOptions(const OptionReader& c) {
  ClippedGossipOptions o;
  o.radius = c.get_double("clipped_gossip.radius");
  o.clip_count = static_cast<int>(c.get_int("clipped_gossip.clip_count"));
  return o;
}

}  // namespace

AlgorithmPlugin ClippedGossipPlugin() {
  AlgorithmPlugin p;
  p.make = [](const AlgorithmContext& ctx) { return std::make_unique<ClippedGossip>(ctx); };
  p.traits.full_sharing = true;
  p.keys = ClippedGossipKeys();
  p.parse = ParseClippedGossipOptions;
  return p;
}

}  // namespace murmur::algo
