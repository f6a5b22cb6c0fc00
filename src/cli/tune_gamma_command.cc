#include "tune_gamma_command.h"

#include <cstdio>

#include "murmur/comm/transport.h"

namespace murmur::cli {

int TuneGammaCommand(const graph::TopologyOptions& topology, const std::string& compressor,
                     const compress::CompressorOptions& copt, const algo::TuneGammaOptions& options,
                     uint64_t seed) {
  const auto topo = graph::MakeTopology(topology);
  const auto transport = comm::MakeInProcessTransport(topology.nodes);  // unused by the tuner
  algo::AlgorithmContext ctx;
  ctx.nodes = topology.nodes;
  ctx.seed = seed;
  ctx.topology = topo.get();
  ctx.transport = transport.get();
  ctx.compression = compressor;
  ctx.compressor = copt;
  const auto results = algo::TuneGamma(ctx, options);
  const double best = algo::BestGamma(results);
  std::printf("%s on %s (%d nodes), compressor %s, %lld-dim Gaussian vectors, %d rounds\n",
              options.algorithm.c_str(), topo->name().c_str(), topology.nodes, compressor.c_str(),
              static_cast<long long>(options.dim), options.rounds);
  const bool check = options.stability_rounds > options.rounds;
  if (check) {
    std::printf("%12s  %14s  %14s  %s\n", "gamma", "error", "after", "stable");
    std::printf("%12s  %14s  %14d\n", "", "", options.stability_rounds);
  } else {
    std::printf("%12s  %14s\n", "gamma", "error");
  }
  for (const auto& r : results) {
    std::printf("%12.6g  %14.6g", r.gamma, r.error);
    if (check) std::printf("  %14.6g  %-6s", r.long_error, r.stable ? "yes" : "no");
    std::printf("%s\n", r.gamma == best ? "  <- best" : "");
  }
  std::printf(
      "(error: consensus error / initial after %d rounds; best: the largest stable gamma "
      "within %gx of the smallest error)\n",
      options.rounds, algo::kGammaErrorSlack);
  std::printf("best gamma: %.6g (set algorithm.gamma = %.6g)\n", best, best);
  return 0;
}

}  // namespace murmur::cli
