// RelaySum / RelaySGD: Vogels, He, Koloskova, Karimireddy, Lin, Stich, Jaggi, "RelaySum for
// Decentralized Deep Learning on Heterogeneous Data", NeurIPS 2021.
//
// Messages travel along the edges of a spanning tree. In round t node i sends every tree
// neighbour j
//   m_{i->j} = v_i + sum_{k in N(i), k != j} m_{k->i}   (the messages of round t-1)
//   c_{i->j} = 1   + sum_{k in N(i), k != j} c_{k->i}
// where v_i is its own contribution of this round. On a tree the message i sends j holds
// exactly one contribution of every node on i's side of the edge, each delayed by its hop
// distance to i, and c counts them; so node i's sum v_i + sum_j m_{j->i} holds one
// contribution of every node j, delayed by dist(i, j) - 1 rounds (own: 0), C_i = 1 + sum_j
// c_{j->i} of them, and none twice. The variants differ in v and in what fills the
// n - C_i contributions that have not arrived yet (the first rounds, lost messages):
//   model: v = x^{t+1/2};                  x <- (sum + (n - C) x0) / n
//   grad:  v = x^{t+1/2} - x^t (update);   x <- x^t + sum / n            (missing = 0)
//   mix:   v = beta x^t + update;          x <- (1 - beta) x^t + (sum + (n - C) beta x0) / n
// (model = mix with beta = 1). normalize = "counts" divides by C instead of n and fills
// nothing. x0 is the common initial model; the reference code fills mix with x0 itself, we
// fill with beta x0 so that a network that stays at x0 stays there.
//
// Double binary trees: with several trees, coordinate k travels on tree k mod T only (the
// parameters are interleaved between the trees, as in the reference code), and phase p of a
// round handles tree p. A message whose loss the transport reports (injected faults) is
// replaced by the last message from that neighbour, with its count: the subtree behind it
// contributes one round staler instead of vanishing (counting it as absent, m = 0 and c = 0,
// would fill n - C with x0 in the model variant and pull the nodes back to the start at every
// loss; measured in EXPERIMENTS.md, "Faults"). A neighbour that stays down keeps its last
// message standing in for its subtree.
#include <algorithm>
#include <cstring>
#include <vector>

#include "internal.h"
#include "messages.h"
#include "murmur/algo/algorithm.h"
#include "murmur/algo/relaysum.h"

namespace murmur::algo {
namespace {

using Variant = RelayOptions::Variant;

constexpr EnumNames<Variant, 3> kVariantNames = {
    {{Variant::kModel, "model"}, {Variant::kGrad, "grad"}, {Variant::kMix, "mix"}}};
constexpr EnumNames<RelayOptions::Normalize, 2> kNormalizeNames = {
    {{RelayOptions::Normalize::kNodes, "nodes"}, {RelayOptions::Normalize::kCounts, "counts"}}};
constexpr EnumNames<RelayOptions::Tree, 2> kTreeNames = {
    {{RelayOptions::Tree::kTopology, "topology"}, {RelayOptions::Tree::kBfs, "bfs"}}};

std::vector<OptionSpec> RelayKeys() {
  const RelayOptions d;
  return {
      EnumOption("relaysum.variant", d.variant, kVariantNames,
                 "relaysum: model (relay models, fill missing with the initial model), grad "
                 "(relay updates, missing = 0) or mix (relay beta x + update, keep (1 - beta) x)"),
      FloatOption("relaysum.beta", d.beta, 1e-9, 1,
                  "relaysum mix: consensus strength beta (1 = model)"),
      EnumOption("relaysum.normalize", d.normalize, kNormalizeNames,
                 "relaysum: divide the relayed sum by the number of nodes (nodes, filling "
                 "contributions not yet arrived) or by the number of contributions received "
                 "(counts)"),
      EnumOption("relaysum.spanning_tree", d.spanning_tree, kTreeNames,
                 "relaysum: relay over the topology itself (must be a tree; chain, binary_tree "
                 "and double_binary_tree are) or over the BFS spanning tree of any connected "
                 "topology (bfs)"),
      IntOption("relaysum.root", d.root, 0, 1e6,
                "relaysum with spanning_tree = bfs: root node of the tree"),
  };
}

std::any ParseRelayOptions(const OptionReader& c) {
  RelayOptions o;
  o.variant = c.get_enum("relaysum.variant", kVariantNames);
  o.beta = c.get_double("relaysum.beta");
  o.normalize = c.get_enum("relaysum.normalize", kNormalizeNames);
  o.spanning_tree = c.get_enum("relaysum.spanning_tree", kTreeNames);
  o.root = static_cast<int>(c.get_int("relaysum.root"));
  return o;
}

std::vector<graph::Graph> RelayTrees(const AlgorithmContext& ctx) {
  const graph::Topology& t = *ctx.topology;
  const RelayOptions o = ctx.options_or_default<RelayOptions>();
  MURMUR_CHECK(ConfigError, !t.time_varying(),
               "topology.name: relaysum relays along a fixed tree; '", t.name(),
               "' changes every round");
  if (o.spanning_tree == RelayOptions::Tree::kBfs) return {graph::BfsSpanningTree(t.at(0), o.root)};
  if (!t.trees().empty()) return t.trees();
  const graph::Graph& g = t.at(0);
  MURMUR_CHECK(ConfigError, !g.directed, "topology.name: relaysum needs an undirected tree, '",
               t.name(),
               "' is directed; set relaysum.spanning_tree = \"bfs\" to relay over a "
               "spanning tree of its connectivity");
  MURMUR_CHECK(ConfigError, graph::IsTree(g), "topology.name: '", t.name(), "' on ", g.n,
               " nodes has a cycle (", g.directed_edges() / 2, " edges; a tree has ", g.n - 1,
               "): relaysum needs a tree. Use chain, binary_tree or double_binary_tree, or set "
               "relaysum.spanning_tree = \"bfs\"");
  return {g};
}

class RelaySum final : public Algorithm {
 public:
  explicit RelaySum(const AlgorithmContext& ctx)
      : ctx_(ctx), trees_(RelayTrees(ctx)), nodes_(ctx.nodes) {
    ctx_.initial_model = {};
    detail::RequireNoCompression(ctx, "relaysum", "");
    const RelayOptions o = ctx.options_or_default<RelayOptions>();
    variant_ = o.variant;
    by_count_ = o.normalize == RelayOptions::Normalize::kCounts;
    beta_ = variant_ == Variant::kModel ? 1.0f : static_cast<float>(o.beta);
    fill_ = variant_ == Variant::kGrad ? 0.0f : beta_;
    MURMUR_CHECK(ConfigError, variant_ != Variant::kMix || (o.beta > 0.0 && o.beta <= 1.0),
                 "relaysum.beta: must be in (0, 1], got ", o.beta);
    MURMUR_CHECK(ConfigError, static_cast<int64_t>(ctx.initial_model.size()) == ctx.dim,
                 "relaysum: needs the common initial model of all nodes (got ",
                 ctx.initial_model.size(), " values for a model of ", ctx.dim, ")");
    x0_.assign(ctx.initial_model.begin(), ctx.initial_model.end());
    const int T = static_cast<int>(trees_.size());
    for (int i = 0; i < ctx.nodes; ++i) {
      if (!ctx.hosts(i)) continue;  // another process runs it
      State& s = nodes_[i];
      if (variant_ != Variant::kModel) s.prev = x0_;
      s.trees.resize(T);
      for (int t = 0; t < T; ++t) {
        TreeState& ts = s.trees[t];
        ts.nbrs = trees_[t].out[i];
        ts.m.assign(ts.nbrs.size(), std::vector<float>(Len(t), 0.0f));
        ts.c.assign(ts.nbrs.size(), 0);
      }
    }
  }

  std::string_view name() const override { return "relaysum"; }
  int phases() const override { return static_cast<int>(trees_.size()); }
  void checkpoint(int node, StateIo& io) override {
    State& s = nodes_[node];
    io.vector(s.prev);
    for (TreeState& ts : s.trees) {
      for (auto& m : ts.m) io.fixed(std::span<float>(m), "a relayed message");
      io.fixed(std::span<uint32_t>(ts.c), "the relay counts");
    }
    MURMUR_CHECK(IoError, s.prev.size() == (variant_ == Variant::kModel ? 0 : x0_.size()),
                 io.what(), ": a previous model of ", s.prev.size(), " values");
  }

  void send(int phase, uint32_t round, int node, std::span<float> x) override {
    State& s = nodes_[node];
    TreeState& ts = s.trees[phase];
    const int T = phases();
    const size_t len = Len(phase);
    // Own contribution v on this tree's coordinates.
    ts.v.resize(len);
    for (size_t k = 0; k < len; ++k) {
      const size_t at = phase + k * T;
      switch (variant_) {
        case Variant::kModel:
          ts.v[k] = x[at];
          break;
        case Variant::kGrad:
          ts.v[k] = x[at] - s.prev[at];
          break;
        case Variant::kMix:
          ts.v[k] = beta_ * s.prev[at] + (x[at] - s.prev[at]);
          break;
      }
    }
    comm::FrameHeader h;
    h.round = round;
    h.sender = node;
    h.phase = static_cast<uint8_t>(phase);
    const size_t deg = ts.nbrs.size();
    // With many neighbours, relay = (v + all received) - the one from the receiver.
    const bool subtract = deg > kDirectSumDegree;
    if (subtract) Sum(ts, ts.nbrs.size(), ts.total);
    ts.msg.resize(len);
    for (size_t j = 0; j < deg; ++j) {
      uint32_t count = 1;
      for (size_t k = 0; k < deg; ++k)
        if (k != j) count += ts.c[k];
      if (subtract) {
        const float* mj = ts.m[j].data();
        for (size_t k = 0; k < len; ++k) ts.msg[k] = ts.total[k] - mj[k];
      } else {
        Sum(ts, j, ts.msg);
      }
      h.receiver = ts.nbrs[j];
      ctx_.transport->send(detail::EncodeRelayF32Frame(h, count, ts.msg));
    }
  }

  void receive(int phase, uint32_t round, int node, std::span<float> x) override {
    State& s = nodes_[node];
    TreeState& ts = s.trees[phase];
    const int T = phases(), n = ctx_.nodes;
    const size_t len = Len(phase);
    uint32_t count = 1;
    for (size_t j = 0; j < ts.nbrs.size(); ++j) {
      const int from = ts.nbrs[j];
      auto msg = detail::TryTakeMessage(*ctx_.transport, "relaysum", node, from, round,
                                        static_cast<uint8_t>(phase), comm::Codec::kRelayF32,
                                        static_cast<uint32_t>(len));
      if (!msg) {  // lost: that neighbour's previous message stands in, one round staler
        count += ts.c[j];
        continue;
      }
      MURMUR_CHECK(ProtocolError,
                   msg->relay_count >= 1 && msg->relay_count < static_cast<uint32_t>(n),
                   "relaysum: node ", node, " got relay count ", msg->relay_count, " from node ",
                   from, " in round ", round, " (must be in [1, ", n - 1, "])");
      ts.c[j] = msg->relay_count;
      count += ts.c[j];
      if (len) std::memcpy(ts.m[j].data(), msg->body.data(), 4 * len);
    }
    MURMUR_CHECK(ProtocolError, count <= static_cast<uint32_t>(n), "relaysum: node ", node,
                 " received ", count, " contributions in round ", round, " from ", n,
                 " nodes: some counted twice");
    Sum(ts, ts.nbrs.size(), ts.total);
    const float missing = by_count_ ? 0.0f : static_cast<float>(n - static_cast<int>(count));
    const float scale = 1.0f / static_cast<float>(by_count_ ? count : n);
    for (size_t k = 0; k < len; ++k) {
      const size_t at = phase + k * T;
      const float avg = (ts.total[k] + missing * fill_ * x0_[at]) * scale;
      switch (variant_) {
        case Variant::kModel:
          x[at] = avg;
          break;
        case Variant::kGrad:
          x[at] = s.prev[at] + avg;
          break;
        case Variant::kMix:
          x[at] = (1.0f - beta_) * s.prev[at] + avg;
          break;
      }
      if (variant_ != Variant::kModel) s.prev[at] = x[at];
    }
  }

 private:
  static constexpr size_t kDirectSumDegree = 4;

  struct TreeState {
    std::vector<int> nbrs;              // tree neighbours, ascending
    std::vector<std::vector<float>> m;  // last message from each neighbour
    std::vector<uint32_t> c;            // its count
    std::vector<float> v, msg, total;   // own contribution; scratch
  };
  struct State {
    std::vector<float> prev;  // grad / mix: the model after the last round
    std::vector<TreeState> trees;
  };

  // Coordinates carried by tree t: t, t + T, t + 2T, ...
  size_t Len(int t) const {
    const size_t T = trees_.size(), d = static_cast<size_t>(ctx_.dim);
    return d > static_cast<size_t>(t) ? (d - t + T - 1) / T : 0;
  }
  // out = v + sum of the received messages except the one from neighbour `skip`
  // (skip = deg: all of them), in neighbour order.
  static void Sum(const TreeState& ts, size_t skip, std::vector<float>& out) {
    out.assign(ts.v.begin(), ts.v.end());
    for (size_t j = 0; j < ts.m.size(); ++j) {
      if (j == skip) continue;
      const float* mj = ts.m[j].data();
      for (size_t k = 0; k < out.size(); ++k) out[k] += mj[k];
    }
  }

  AlgorithmContext ctx_;
  std::vector<graph::Graph> trees_;
  std::vector<float> x0_;
  std::vector<State> nodes_;
  Variant variant_ = Variant::kModel;
  bool by_count_ = false;
  float beta_ = 1.0f;
  float fill_ = 1.0f;  // missing contributions count as fill_ * x0
};

}  // namespace

AlgorithmPlugin RelaySumPlugin() {
  AlgorithmPlugin p;
  p.make = [](const AlgorithmContext& ctx) { return std::make_unique<RelaySum>(ctx); };
  p.keys = RelayKeys();
  p.parse = ParseRelayOptions;
  return p;
}

}  // namespace murmur::algo
