// Epidemic Learning: de Vos, Farhadkhani, Guerraoui, Kermarrec, Pires, Sharma, "Epidemic
// Learning: Boosting Decentralized Learning with Randomized Communication", NeurIPS 2023; its
// code is in decentralizepy (EL-Oracle, EL-Local).
//
// Every round, after its local steps, every node sends its model to s peers (epidemic.peers)
// drawn afresh, and every node sets its model to the uniform average of its own and all the
// models it received: x_i <- (x_i + sum_{j -> i} x_j) / (1 + #received), in node-id order.
//   oracle  the round's communication graph is a random s-regular undirected graph on all
//           nodes (EL-Oracle: a topology oracle draws it); n * s must be even.
//   local   every node draws its s receivers independently and uniformly among its
//           out-neighbours in the topology (EL-Local; topology.name = "complete" is the paper's
//           setting), so in-degrees vary.
// Draws come from (run.seed, round): every process knows every node's receivers, so a receiver
// knows whom to expect, and a resumed run draws the same graphs (the algorithm keeps no state).
// With s = n - 1 every node averages all n models every round: all-reduce averaging
// (tests/algo/tracking_test.cc). A message lost to a fault is left out of the average.
#include <algorithm>
#include <mutex>
#include <vector>

#include "internal.h"
#include "messages.h"
#include "murmur/algo/algorithm.h"
#include "murmur/algo/epidemic.h"
#include "murmur/algo/kernels.h"
#include "murmur/core/enum_names.h"

namespace murmur::algo {
namespace {

constexpr EnumNames<EpidemicOptions::Variant, 2> kVariantNames = {
    {{EpidemicOptions::Variant::kOracle, "oracle"}, {EpidemicOptions::Variant::kLocal, "local"}}};

class Epidemic final : public Algorithm {
 public:
  explicit Epidemic(const AlgorithmContext& ctx)
      : ctx_(ctx), o_(ctx.options_or_default<EpidemicOptions>()), scratch_(ctx.nodes) {
    detail::RequireNoCompression(ctx, "epidemic", "");
    const int n = ctx.nodes, s = o_.peers;
    MURMUR_CHECK(ConfigError, s >= 1 && s < n, "epidemic.peers: must be in [1, ", n - 1, "] for ",
                 n, " nodes, got ", s);
    if (o_.variant == EpidemicOptions::Variant::kOracle) {
      MURMUR_CHECK(ConfigError, (static_cast<int64_t>(n) * s) % 2 == 0,
                   "epidemic.peers: the oracle draws an s-regular graph, so nodes * peers must be "
                   "even, got ",
                   n, " * ", s);
      return;
    }
    for (int r = 0; r < ctx.topology->period(); ++r)
      for (int i = 0; i < n; ++i) {
        const size_t out = ctx.topology->at(static_cast<uint64_t>(r)).out[i].size();
        MURMUR_CHECK(ConfigError, out >= static_cast<size_t>(s), "epidemic.peers: node ", i,
                     " has ", out, " out-neighbours in topology '", ctx.topology->name(),
                     "', fewer than the ", s, " it must draw (use topology.name = \"complete\")");
      }
  }
  std::string_view name() const override { return "epidemic"; }

  void send(int phase, uint32_t round, int node, std::span<float> x) override {
    const Round& g = graph(round);
    comm::FrameHeader h;
    h.round = round;
    h.sender = static_cast<uint32_t>(node);
    for (int to : g.out[node]) {
      h.receiver = static_cast<uint32_t>(to);
      ctx_.transport->send(comm::EncodeDenseF32(h, x));
    }
  }

  void receive(int phase, uint32_t round, int node, std::span<float> x) override {
    const Round& g = graph(round);
    std::vector<detail::Message> messages;
    std::vector<int> senders;
    messages.reserve(g.in[node].size());
    for (int from : g.in[node])
      if (auto m =
              detail::TryTakeMessage(*ctx_.transport, "epidemic", node, from, round, 0,
                                     comm::Codec::kDenseF32, static_cast<uint32_t>(x.size()))) {
        messages.push_back(std::move(*m));
        senders.push_back(from);
      }
    const float w = 1.0f / static_cast<float>(1 + messages.size());
    std::vector<WeightedSource> sources;
    bool self_added = false;
    for (size_t k = 0; k < messages.size(); ++k) {
      if (!self_added && senders[k] > node) {
        sources.push_back({w, x.data(), nullptr});
        self_added = true;
      }
      sources.push_back({w, nullptr, messages[k].body.data()});
    }
    if (!self_added) sources.push_back({w, x.data(), nullptr});
    std::vector<float>& out = scratch_[node];
    out.resize(x.size());
    WeightedSum(out, sources);
    std::copy(out.begin(), out.end(), x.begin());
  }

 private:
  // The receivers (out) and senders (in, increasing) of every node in one round.
  struct Round {
    int64_t round = -1;
    std::vector<std::vector<int>> out, in;
  };

  // The round's graph, drawn once per round (calls for different nodes share it).
  const Round& graph(uint32_t round) {
    std::lock_guard<std::mutex> lock(mu_);
    if (round_.round == round) return round_;
    const int n = ctx_.nodes, s = o_.peers;
    Round g;
    g.round = round;
    g.out.assign(n, {});
    g.in.assign(n, {});
    Rng rng(DeriveSeed(ctx_.seed, round, Stream::kAlgorithm), 0, Stream::kTopology);
    if (o_.variant == EpidemicOptions::Variant::kOracle) {
      std::optional<graph::Graph> r =
          s == n - 1 ? std::nullopt : graph::RandomRegularGraph(n, s, rng, false);
      MURMUR_CHECK(Error, s == n - 1 || r.has_value(), "epidemic: could not draw a ", s,
                   "-regular graph on ", n, " nodes for round ", round);
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j)
          if (j != i && (s == n - 1 || std::binary_search(r->out[i].begin(), r->out[i].end(), j)))
            g.out[i].push_back(j);
    } else {
      const graph::Graph& t = ctx_.topology->at(round);
      for (int i = 0; i < n; ++i) {
        std::vector<int> pool = t.out[i];  // a partial Fisher-Yates shuffle draws s of them
        Rng node_rng(DeriveSeed(ctx_.seed, round, Stream::kAlgorithm), i, Stream::kAlgorithm);
        for (int k = 0; k < s; ++k)
          std::swap(pool[k], pool[k + node_rng.uniform_int(pool.size() - k)]);
        g.out[i].assign(pool.begin(), pool.begin() + s);
        std::sort(g.out[i].begin(), g.out[i].end());
      }
    }
    for (int i = 0; i < n; ++i)
      for (int j : g.out[i]) g.in[j].push_back(i);  // i increasing: in-lists come sorted
    round_ = std::move(g);
    return round_;
  }

  AlgorithmContext ctx_;
  EpidemicOptions o_;
  std::vector<std::vector<float>> scratch_;
  std::mutex mu_;
  Round round_;
};

std::vector<OptionSpec> EpidemicKeys() {
  const EpidemicOptions d;
  return {
      EnumOption("epidemic.variant", d.variant, kVariantNames,
                 "epidemic: oracle (a random peers-regular graph each round, EL-Oracle) or local "
                 "(each node draws its receivers among its out-neighbours, EL-Local)"),
      IntOption("epidemic.peers", d.peers, 1, 1e6,
                "epidemic: s, the peers every node sends its model to each round"),
  };
}

std::any ParseEpidemicOptions(const OptionReader& c) {
  EpidemicOptions o;
  o.variant = c.get_enum("epidemic.variant", kVariantNames);
  o.peers = static_cast<int>(c.get_int("epidemic.peers"));
  return o;
}

}  // namespace

AlgorithmPlugin EpidemicPlugin() {
  AlgorithmPlugin p;
  p.make = [](const AlgorithmContext& ctx) { return std::make_unique<Epidemic>(ctx); };
  p.traits.full_sharing = true;
  p.traits.directed_graphs = true;  // it draws its own graphs (local: among out-neighbours)
  p.keys = EpidemicKeys();
  p.parse = ParseEpidemicOptions;
  return p;
}

}  // namespace murmur::algo
