// Test harness: N nodes as threads over the in-process transport, no torch.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "murmur/algo/algorithm.h"
#include "murmur/core/rng.h"
#include "murmur/core/thread_pool.h"

namespace murmur::algo::testing {

// Options of the named built-in topology on n nodes.
inline graph::TopologyOptions Topo(const std::string& name, int n, int peers = 2) {
  graph::TopologyOptions t;
  t.name = name;
  t.nodes = n;
  t.peers = peers;
  return t;
}

struct Sim {
  std::unique_ptr<graph::Topology> topology;
  std::unique_ptr<comm::Transport> transport;
  std::unique_ptr<Algorithm> algorithm;
  std::vector<std::vector<float>> x;
  // Injected faults (set on the transport in `configure`): crashed nodes skip their rounds.
  const comm::FaultModel* faults = nullptr;

  Sim(const std::string& algo, const std::string& topo, int n, int64_t d,
      const std::string& weights = "", uint64_t seed = 1)
      : Sim(algo, TopologyFor(topo, n, weights), d, seed, [](AlgorithmContext&) {}) {}

  // Full control: `configure` may set compression, gamma and the other context options.
  Sim(const std::string& algo, const graph::TopologyOptions& t, int64_t d, uint64_t seed,
      const std::function<void(AlgorithmContext&)>& configure) {
    const int n = t.nodes;
    topology = graph::MakeTopology(t);
    transport = comm::MakeInProcessTransport(n);
    AlgorithmContext ctx;
    ctx.nodes = n;
    ctx.dim = d;
    ctx.seed = seed;
    ctx.topology = topology.get();
    ctx.transport = transport.get();
    configure(ctx);
    algorithm = MakeAlgorithm(algo, ctx);
    Rng rng(seed);
    x.assign(n, std::vector<float>(d));
    for (auto& v : x)
      for (float& e : v) e = static_cast<float>(rng.normal());
  }

  static graph::TopologyOptions TopologyFor(const std::string& topo, int n,
                                            const std::string& weights) {
    graph::TopologyOptions t;
    t.name = topo;
    t.nodes = n;
    t.weights = weights;
    return t;
  }

  // One communication round (all phases); `perturb` mimics local training.
  void round(uint32_t r, ThreadPool& pool, bool perturb = false) {
    if (perturb) {
      pool.parallel_for(x.size(), [&](size_t i) {
        Rng rng(99 + r, i, Stream::kData);
        for (float& e : x[i]) e += 0.1f * static_cast<float>(rng.normal());
      });
    }
    std::vector<int> nodes(x.size());
    for (size_t i = 0; i < x.size(); ++i) nodes[i] = static_cast<int>(i);
    CommunicationRound(
        *algorithm, *transport, r, nodes, [&](int i) { return std::span(x[i]); }, &pool, faults);
  }

  std::vector<double> mean() const {
    std::vector<double> m(x[0].size(), 0.0);
    for (auto& v : x)
      for (size_t k = 0; k < v.size(); ++k) m[k] += v[k] / x.size();
    return m;
  }
};

}  // namespace murmur::algo::testing
