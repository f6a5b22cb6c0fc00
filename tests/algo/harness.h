// Test harness: N nodes as threads over the in-process transport, no torch.
#pragma once

#include <algorithm>
#include <cmath>
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

// f_i(x) = 1/2 ||x - b_i||^2 with a different b_i ~ N(0, 9) per node (heterogeneous data):
// the optimum of sum_i f_i is the mean of the b_i.
struct Quadratics {
  std::vector<std::vector<float>> b;
  std::vector<double> opt;
  Quadratics(int n, int64_t d, uint64_t seed) : b(n, std::vector<float>(d)), opt(d, 0.0) {
    Rng rng(seed);
    for (auto& v : b)
      for (float& e : v) e = static_cast<float>(3.0 * rng.normal());
    for (auto& v : b)
      for (int64_t k = 0; k < d; ++k) opt[k] += v[k] / n;
  }
  // One exact gradient step on every node: x_i -= lr (x_i - b_i).
  void step(std::vector<std::vector<float>>& x, float lr) const {
    for (size_t i = 0; i < x.size(); ++i)
      for (size_t k = 0; k < x[i].size(); ++k) x[i][k] -= lr * (x[i][k] - b[i][k]);
  }
  // The worst node's distance to the optimum, relative to the optimum's norm.
  double worst_error(const std::vector<std::vector<float>>& x) const {
    double opt_norm = 0.0, worst = 0.0;
    for (double v : opt) opt_norm += v * v;
    for (auto& v : x) {
      double e = 0.0;
      for (size_t k = 0; k < v.size(); ++k) e += (v[k] - opt[k]) * (v[k] - opt[k]);
      worst = std::max(worst, e);
    }
    return std::sqrt(worst / opt_norm);
  }
};

// Largest |a - b| / (1 + |b|) over every node's every coordinate.
inline double MaxRelDiff(const std::vector<std::vector<float>>& a,
                         const std::vector<std::vector<float>>& b) {
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t k = 0; k < a[i].size(); ++k)
      worst = std::max(worst, std::abs(a[i][k] - b[i][k]) / (1.0 + std::abs(b[i][k])));
  return worst;
}

}  // namespace murmur::algo::testing
