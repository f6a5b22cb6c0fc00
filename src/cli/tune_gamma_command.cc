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
  std::printf("%12s  %s\n", "gamma", "final consensus error / initial");
  for (const auto& r : results)
    std::printf("%12.6g  %.6g%s\n", r.gamma, r.error, r.gamma == best ? "  <- best" : "");
  std::printf("best gamma: %.6g (set algorithm.gamma = %.6g)\n", best, best);
  return 0;
}

}  // namespace murmur::cli
