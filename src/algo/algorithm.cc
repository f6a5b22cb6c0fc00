#include "murmur/algo/algorithm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "internal.h"
#include "murmur/algo/kernels.h"
#include "murmur/comm/faults.h"
#include "murmur/core/thread_pool.h"

namespace murmur::algo {

namespace {
// out[k] (=|+=) w * v[k]; restrict lets the compiler vectorise.
void Scale(float* __restrict o, const float* __restrict v, float w, size_t len) {
  for (size_t k = 0; k < len; ++k) o[k] = w * v[k];
}
void Axpy(float* __restrict o, const float* __restrict v, float w, size_t len) {
  for (size_t k = 0; k < len; ++k) o[k] += w * v[k];
}
}  // namespace

void WeightedSum(std::span<float> out, std::span<const WeightedSource> sources) {
  MURMUR_ASSERT(!sources.empty());
  constexpr size_t kChunk = 2048;
  alignas(64) float tmp[kChunk];
  const size_t n = out.size();
  for (size_t begin = 0; begin < n; begin += kChunk) {
    const size_t len = std::min(kChunk, n - begin);
    float* o = out.data() + begin;
    for (size_t s = 0; s < sources.size(); ++s) {
      const WeightedSource& src = sources[s];
      const float* v = src.values ? src.values + begin : tmp;
      if (!src.values) std::memcpy(tmp, src.bytes + 4 * begin, 4 * len);
      if (s == 0) {
        Scale(o, v, src.weight, len);
      } else {
        Axpy(o, v, src.weight, len);
      }
    }
  }
}

void ConsensusAccumulator::add(std::span<const std::span<const float>> xs,
                               std::span<float> mean_out) {
  const size_t n = xs.size(), d = mean_out.size();
  MURMUR_ASSERT(n == squares_.size());
  sum_.assign(d, 0.0);
  for (auto x : xs)
    for (size_t k = 0; k < d; ++k) sum_[k] += x[k];
  for (size_t k = 0; k < d; ++k) mean_out[k] = static_cast<float>(sum_[k] / n);
  for (size_t i = 0; i < n; ++i) {
    double s = squares_[i];
    for (size_t k = 0; k < d; ++k) {
      const double diff = static_cast<double>(xs[i][k]) - sum_[k] / n;
      s += diff * diff;
    }
    squares_[i] = s;
  }
}

double ConsensusAccumulator::result() const {
  const size_t n = squares_.size();
  if (n == 0) return 0.0;
  double total = 0.0;
  for (double s : squares_) total += s;
  return total / n;
}

double ConsensusDistance(std::span<const std::span<const float>> xs, std::span<float> mean) {
  ConsensusAccumulator acc(xs.size());
  if (!xs.empty()) acc.add(xs, mean);
  return acc.result();
}

void detail::RequireMixing(const AlgorithmContext& ctx, std::string_view algo, Mixing need,
                           std::string_view hint) {
  for (int r = 0; r < ctx.topology->period(); ++r) {
    const graph::Graph& g = ctx.topology->at(r);
    const double col = graph::ColumnStochasticError(g);
    if (need == Mixing::kColumnStochastic) {
      MURMUR_CHECK(ConfigError, col < 1e-9, "topology.weights: ", algo,
                   " needs column-stochastic mixing weights, but on '", ctx.topology->name(),
                   "' columns are off by ", col, "; ", hint);
    } else {
      const double row = graph::RowStochasticError(g);
      // On a directed graph the weights that make undirected ones doubly stochastic are refused,
      // so the advice is what works there.
      MURMUR_CHECK(ConfigError, row < 1e-9 && col < 1e-9, "topology.weights: ", algo,
                   " needs doubly stochastic mixing weights, but on '", ctx.topology->name(),
                   "' rows are off by ", row, " and columns by ", col, "; ",
                   g.directed ? "on a directed graph only 'column' and 'uniform' weights exist, "
                                "and they are doubly stochastic only where every node receives "
                                "from as many nodes as it sends to: use sgp (push-sum) or "
                                "sparse_push there, or an undirected topology"
                              : hint);
    }
  }
}

void detail::RequireNoCompression(const AlgorithmContext& ctx, std::string_view algo,
                                  std::string_view hint) {
  MURMUR_CHECK(ConfigError, ctx.compression == "none", "compression.name: ", algo,
               " sends full precision; set compression.name = \"none\"", hint, " (got '",
               ctx.compression, "')");
}

bool AlgorithmContext::hosts(int node) const {
  return hosted.empty() || std::binary_search(hosted.begin(), hosted.end(), node);
}

void CommunicationRound(Algorithm& algorithm, comm::Transport& transport, uint32_t round,
                        std::span<const int> nodes,
                        const std::function<std::span<float>(int node)>& x, ThreadPool* pool,
                        const comm::FaultModel* faults) {
  auto for_each_up = [&](const std::function<void(int)>& fn) {
    auto one = [&](size_t k) {
      if (!faults || !faults->down(nodes[k], round)) fn(nodes[k]);
    };
    if (pool) {
      pool->parallel_for(nodes.size(), one);
    } else {
      for (size_t k = 0; k < nodes.size(); ++k) one(k);
    }
  };
  for (int phase = 0; phase < algorithm.phases(); ++phase) {
    for_each_up([&](int i) { algorithm.send(phase, round, i, x(i)); });
    transport.exchange(round, static_cast<uint8_t>(phase));
    for_each_up([&](int i) { algorithm.receive(phase, round, i, x(i)); });
  }
}

namespace {
Registry<AlgorithmPlugin>& MutableRegistry() {
  static Registry<AlgorithmPlugin> registry = [] {
    Registry<AlgorithmPlugin> r("algorithm");
    r.add("dpsgd", "D-PSGD (Lian et al. 2017): full-precision gossip averaging with W",
          DpsgdPlugin());
    r.add("allreduce",
          "all-reduce SGD: exact average every round, bytes of a bandwidth-optimal all-reduce",
          AllReducePlugin());
    r.add("choco",
          "CHOCO-SGD (Koloskova et al. 2019/2020): gossip of compressed differences to public "
          "copies, consensus step algorithm.gamma; doubly stochastic W",
          ChocoPlugin());
    r.add("sgp",
          "SGP / push-sum (Assran et al. 2019): full-precision push-sum on directed, time-varying "
          "graphs; column-stochastic W",
          SgpPlugin());
    r.add("sparse_push",
          "Sparse-Push (Aketi et al. 2021): push-sum with compressed, error-compensated "
          "differences on directed, time-varying graphs",
          SparsePushPlugin());
    r.add("scsp",
          "Skew-Compensated Sparse-Push: sparse_push plus exact global averaging every "
          "algorithm.average_every rounds and/or after the last round",
          ScspPlugin());
    r.add("relaysum",
          "RelaySum / RelaySGD (Vogels et al. 2021): relays sums of models (or updates) along a "
          "spanning tree so every node gets the exact average, delayed by tree distance; "
          "relaysum.* options",
          RelaySumPlugin());
    r.add("majority_vote",
          "sparse SGD with majority voting (Ozfatura et al. 2020): error-compensated updates "
          "sent on a common mask of the most-voted coordinates, values only; vote.* options",
          MajorityVotePlugin());
    r.add("jwins",
          "JWINS (Dhasade et al. 2023): wavelet-domain sparsification of the whole model with a "
          "randomized cut-off and accumulated changes; jwins.* options",
          JwinsPlugin());
    r.add("gradient_tracking",
          "gradient tracking / DSGT (Pu & Nedic 2020; as in the RelaySGD paper): models and a "
          "tracker of the average update mixed with W, one frame of two vectors per round",
          GradientTrackingPlugin());
    r.add("d2",
          "D² (Tang et al. 2018): gossip with a correction by the previous iterate that removes "
          "the bias of heterogeneous data; W's smallest eigenvalue must exceed -1/3",
          D2Plugin());
    r.add("exact_diffusion",
          "Exact Diffusion (Yuan et al. 2019): D² mixing with (I + W)/2 (any doubly stochastic W)",
          ExactDiffusionPlugin());
    r.add("beer",
          "BEER (Zhao et al. 2022): gradient tracking with compressed changes of public copies "
          "of the model and the tracker (any compressor), consensus step algorithm.gamma",
          BeerPlugin());
    r.add("clipped_gossip",
          "ClippedGossip (He, Karimireddy, Jaggi 2022): D-PSGD whose neighbours' pulls are "
          "clipped at a radius (adaptive by default), robust to a few malicious neighbours; "
          "clipped_gossip.* options",
          ClippedGossipPlugin());
    r.add("adpsgd",
          "AD-PSGD (Lian et al. 2018), asynchronous: after its local steps a node averages "
          "atomically with one random neighbour; sim.mode = \"event\" only",
          AdPsgdPlugin());
    r.add("async_push_sum",
          "Asynchronous gradient push (Assran & Rabbat 2020): push-sum without rounds, a node "
          "mixes in whatever has arrived; async_push_sum.* options; sim.mode = \"event\" only",
          AsyncPushSumPlugin());
    r.add("epidemic",
          "Epidemic Learning (de Vos et al. 2023): each round every node sends its model to "
          "epidemic.peers random peers and averages what it received uniformly; epidemic.* "
          "options",
          EpidemicPlugin());
    r.add("local", "no communication: every node trains alone (baseline, overhead benchmark)",
          LocalPlugin());
    return r;
  }();
  return registry;
}
}  // namespace

const Registry<AlgorithmPlugin>& AlgorithmRegistry() { return MutableRegistry(); }

void RegisterAlgorithm(std::string name, std::string help, AlgorithmPlugin plugin) {
  MURMUR_CHECK(ConfigError, !MutableRegistry().contains(name), "RegisterAlgorithm: '", name,
               "' is already an algorithm");
  MURMUR_CHECK(ConfigError, static_cast<bool>(plugin.make), "RegisterAlgorithm: '", name,
               "' has no factory (AlgorithmPlugin::make)");
  MutableRegistry().add(std::move(name), std::move(help), std::move(plugin));
}

const AlgorithmPlugin& GetAlgorithm(const std::string& name) {
  return AlgorithmRegistry().get(name, "algorithm.name").value;
}

std::unique_ptr<Algorithm> MakeAlgorithm(const std::string& name, const AlgorithmContext& ctx) {
  const AlgorithmPlugin& plugin = GetAlgorithm(name);
  MURMUR_ASSERT(ctx.topology && ctx.transport && ctx.nodes == ctx.topology->nodes());
  return plugin.make(ctx);
}

}  // namespace murmur::algo
