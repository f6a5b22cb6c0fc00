#include "murmur/algo/tune_gamma.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "murmur/algo/compressed_gossip.h"
#include "murmur/algo/kernels.h"
#include "murmur/compress/codecs.h"
#include "murmur/core/check.h"
#include "murmur/core/rng.h"

namespace murmur::algo {

namespace {
double ConsensusError(const std::vector<std::vector<float>>& x, std::vector<float>& mean) {
  std::vector<std::span<const float>> views(x.begin(), x.end());
  return ConsensusDistance(views, mean);
}
}  // namespace

std::vector<GammaResult> TuneGamma(const AlgorithmContext& ctx, const TuneGammaOptions& o) {
  MURMUR_CHECK(ConfigError,
               o.algorithm == "choco" || o.algorithm == "sparse_push" || o.algorithm == "scsp",
               "tune-gamma: algorithm must be choco, sparse_push or scsp, got '", o.algorithm, "'");
  MURMUR_CHECK(ConfigError, o.dim >= 1, "tune-gamma: dimension must be >= 1, got ", o.dim);
  MURMUR_CHECK(ConfigError, o.rounds >= 1, "tune-gamma: rounds must be >= 1, got ", o.rounds);
  MURMUR_CHECK(ConfigError, o.stability_rounds >= 0,
               "tune-gamma: stability rounds must be >= 0 (0 = no check), got ",
               o.stability_rounds);
  MURMUR_CHECK(ConfigError, o.steps_per_octave >= 1 && o.steps_per_octave <= 8,
               "tune-gamma: steps per octave must be in [1, 8], got ", o.steps_per_octave);
  std::vector<double> grid = o.grid;
  if (grid.empty())
    for (int k = 0; k <= 10 * o.steps_per_octave; ++k)
      grid.push_back(k % o.steps_per_octave == 0
                         ? std::ldexp(1.0, -k / o.steps_per_octave)  // exact powers of 2
                         : std::exp2(-static_cast<double>(k) / o.steps_per_octave));
  for (double g : grid)
    MURMUR_CHECK(ConfigError, g > 0.0 && g <= 1.0,
                 "tune-gamma: every gamma must be in (0, 1], got ", g);
  const int n = ctx.nodes;
  std::vector<std::vector<float>> x0(n, std::vector<float>(o.dim));
  for (int i = 0; i < n; ++i) {
    Rng rng(ctx.seed, static_cast<uint64_t>(i), Stream::kAlgorithm);
    for (float& v : x0[i]) v = static_cast<float>(rng.normal());
  }
  std::vector<int> all(n);
  for (int i = 0; i < n; ++i) all[i] = i;
  std::vector<float> mean(o.dim);
  const double e0 = ConsensusError(x0, mean);
  std::vector<GammaResult> out;
  for (double gamma : grid) {
    AlgorithmContext c = ctx;
    c.dim = o.dim;
    GossipOptions g = ctx.options_or_default<GossipOptions>();
    g.gamma = gamma;
    c.options = g;
    c.compressor.segments.clear();
    // A lossless value codec changes bytes, not values: the gossip is the f32 one, faster.
    if (compress::LosslessValueCodec(c.compressor.value_codec))
      c.compressor.value_codec = compress::ValueCodec::kF32;
    c.initial_model = {};  // the test vectors differ per node: copies start at 0
    auto transport = comm::MakeInProcessTransport(n);
    c.transport = transport.get();
    auto algo = MakeAlgorithm(o.algorithm == "choco" ? "choco" : "sparse_push", c);
    auto x = x0;
    // Infinite until reached: a run cut short (diverging, or a push-sum weight leaving
    // (0, inf)) keeps them so.
    const double inf = std::numeric_limits<double>::infinity();
    GammaResult res{gamma, inf, inf, true};
    const int total = std::max(o.rounds, o.stability_rounds);
    const int half = o.stability_rounds > o.rounds ? o.stability_rounds / 2 : -1;
    double half_error = 0.0;
    auto error = [&] {
      const double e = ConsensusError(x, mean) / std::max(e0, 1e-300);
      return std::isfinite(e) ? e : inf;
    };
    try {
      for (int r = 1; r <= total; ++r) {
        const uint32_t r32 = static_cast<uint32_t>(r - 1);
        CommunicationRound(*algo, *transport, r32, all, [&](int i) { return std::span(x[i]); });
        if (r == o.rounds) res.error = error();
        if (r == half) half_error = error();
        // Far past where it started: diverging, no need to watch it any longer.
        if (r % 100 == 0 && r > o.rounds && error() > 1e6) break;
        if (r == total) res.long_error = error();
      }
    } catch (const DivergenceError&) {
      // A push-sum weight left (0, inf): the errors not reached stay infinite.
    }
    if (half > 0)
      res.stable =
          std::isfinite(res.long_error) &&
          (res.long_error <= kGammaErrorFloor || res.long_error <= kGammaStableShrink * half_error);
    else
      res.stable = std::isfinite(res.error);
    out.push_back(res);
  }
  return out;
}

double BestGamma(const std::vector<GammaResult>& results) {
  MURMUR_ASSERT(!results.empty());
  double min_error = std::numeric_limits<double>::infinity();
  for (const auto& r : results)
    if (r.stable) min_error = std::min(min_error, r.error);
  double best = 0.0;
  if (std::isfinite(min_error))
    for (const auto& r : results)
      if (r.stable && r.error <= kGammaErrorSlack * min_error) best = std::max(best, r.gamma);
  if (best == 0.0) {  // no gamma is stable: the smallest is the safest
    best = results.front().gamma;
    for (const auto& r : results) best = std::min(best, r.gamma);
  }
  return best;
}

}  // namespace murmur::algo
