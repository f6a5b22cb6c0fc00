// Compressed gossip with public copies: CHOCO-SGD, Sparse-Push and Skew-Compensated
// Sparse-Push.
//
// CHOCO-SGD: Koloskova, Stich, Jaggi, "Decentralized Stochastic Optimization and Gossip
// Algorithms with Compressed Communication", ICML 2019; Koloskova, Lin, Stich, Jaggi,
// "Decentralized Deep Learning with Arbitrary Communication Compression", ICLR 2020.
// Sparse-Push / SCSP: Aketi, Singh, Rabaey, "Sparse-Push: Communication- & Energy-Efficient
// Decentralized Distributed Learning over Directed & Time-Varying Graphs with non-IID
// Datasets", 2021 (full text not available to us; every choice below is ours and is
// documented in docs/algorithms.md).
//
// One update covers all three. With receiver-side mixing weights W(t) of round t and a
// public copy x^_{i->k} of x_i per edge (its value as node k knows it):
//   send:    q_{i->k} = Q(x_i - x^_{i->k});  x^_{i->k} += q_{i->k}          (k in out_i(t))
//   receive: x^_{j->i} += q_{j->i}                                           (j in in_i(t))
//            x_i += gamma ( sum_{j in in_i(t)} W_ij x^_{j->i} - sum_{k in out_i(t)} W_ki x^_{i->k}
//            )
// The first sum is what node i pulls in, the second what it gives away. Summed over all
// nodes the two are the same sum over the edges of round t, so sum_i x_i is preserved
// exactly (up to float rounding) whatever Q, gamma and graph. With Q = identity the copies
// equal the senders' vectors and gamma = 1 gives x_i <- sum_j W_ij x_j (self included):
// D-PSGD for doubly stochastic W, push-sum (SGP) for column-stochastic W.
//
// Why the state stays consistent when the graph changes from round to round: the copy
// x^_{j->i} exists twice, at the sender j and at the receiver i, and both change it only
// when j sends to i, by the same decoded q. Rounds in which the edge is absent leave both
// untouched, so they agree forever, whichever neighbours a node has in between. Keeping a
// single copy per node (as on a static graph) would not work: a node that is not an
// out-peer in some round misses that round's q, and its copy drifts from the sender's.
//
// Static graphs (the topology's period is 1) need no per-edge state: every out-peer gets
// the same q, so one copy x^_i serves all out-edges, and the receiver keeps only the sum
// s_i = sum_j W_ij x^_{j->i}. That is CHOCO-SGD exactly: x^_i and s_i, 2 vectors besides
// x_i. Time-varying graphs keep one copy per edge of the period's union graph (the
// one-peer exponential graph on n nodes: log2 n out-copies and log2 n in-copies).
//
// Lost messages (injected faults, [faults]) use the per-edge copies too: the sender, which
// learns of the loss as acknowledgements would tell it, does not advance x^_{i->k}, the
// receiver does not advance its x^_{i->k} either, so both ends still agree and the edge still
// mixes with the old copy at both ends (W stays doubly stochastic for CHOCO: leaving the edge
// out at one end only would push mass one way and stall consensus). The edges of a crashed
// node sit the round out at the live ends, as the crashed node does nothing. A push-sum
// weight share that was lost is neither given nor received. sum_i x_i and sum_i w_i stay
// exact, and the next message on the edge carries Q(x_i - x^_{i->k}), with what was lost.
//
// Where the copies start: the papers start them at 0. When every node starts from the same
// model x0 (the runner's case) we start every copy at x0 instead (copies_from_initial):
// since mixing only sees differences of copies, that is the same algorithm run on x - x0,
// and it saves the first ~1/ratio rounds that zero copies spend transmitting x0 itself.
// Both ends of every edge know x0, so the copies agree as before. The static sum then
// starts at s_i = (sum_j W_ij) x0.
//
// Push-sum (sparse_push, scsp): node i also keeps a numerator x_i and weight w_i (starts
// 1) and trains on z_i = x_i / w_i; local-step changes of z_i are applied to x_i unscaled,
// as in SGP. The weight is sent uncompressed with every message (4 bytes) and mixed by the
// same rule: w_i += gamma (sum_j W_ij w_j - sum_k W_ki w_i), so sum_i w_i is preserved
// too and x and w see the same effective mixing matrix.
//
// SCSP adds skew compensation by exact global averaging (the options of AlgorithmContext:
// every average_every rounds and/or after the last round): after the gossip phase, an
// all-reduce (two more phases, bandwidth-optimal, 2 (n-1)/n * 4d payload bytes per node)
// sets every z_i to the exact mean. Then every node resets x_i to the mean, w_i to 1 and
// all its copies to the mean; all nodes hold the same mean bit for bit, so both ends of
// every edge reset to the same value and the copies stay consistent.
#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "internal.h"
#include "messages.h"
#include "murmur/algo/algorithm.h"
#include "murmur/algo/compressed_gossip.h"
#include "murmur/algo/kernels.h"
#include "murmur/algo/tune_gamma.h"
#include "murmur/core/log.h"

namespace murmur::algo {
namespace {

enum class Kind { kChoco, kSparsePush, kScsp };

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kChoco:
      return "choco";
    case Kind::kSparsePush:
      return "sparse_push";
    case Kind::kScsp:
      return "scsp";
  }
  return "?";
}

// A d-float scratch vector of the calling thread: the difference to compress and the mixing
// sum are needed only within one call, so nodes share their thread's (16 nodes of a 90k-
// parameter model save 11 MB against one pair per node).
std::vector<float>& Scratch(size_t d) {
  thread_local std::vector<float> v;
  v.resize(d);
  return v;
}

// Index of `peer` in the sorted `peers`.
size_t Slot(const std::vector<int>& peers, int peer) {
  auto it = std::lower_bound(peers.begin(), peers.end(), peer);
  MURMUR_ASSERT(it != peers.end() && *it == peer);
  return static_cast<size_t>(it - peers.begin());
}

class CompressedGossip final : public Algorithm {
 public:
  CompressedGossip(const AlgorithmContext& ctx, Kind kind)
      : ctx_(ctx),
        o_(ctx.options_or_default<GossipOptions>()),
        kind_(kind),
        push_sum_(kind != Kind::kChoco),
        per_edge_(ctx.topology->time_varying() || ctx.transport->faulty()),
        nodes_(ctx.nodes) {
    const char* name = KindName(kind);
    if (o_.copies_from_initial && !ctx.initial_model.empty()) {
      MURMUR_CHECK(ConfigError, static_cast<int64_t>(ctx.initial_model.size()) == ctx.dim, name,
                   ": initial model of ", ctx.initial_model.size(), " values for dimension ",
                   ctx.dim);
      origin_.assign(ctx.initial_model.begin(), ctx.initial_model.end());
    }
    ctx_.initial_model = {};  // the caller's vector need not outlive us: origin_ holds it
    compressor_ = compress::MakeCompressor(ctx.compression == "none" ? "identity" : ctx.compression,
                                           ctx.compressor);
    if (push_sum_) {
      detail::RequireMixing(ctx, name, detail::Mixing::kColumnStochastic,
                            "use column (the default on directed graphs)");
    } else {
      detail::RequireMixing(ctx, name, detail::Mixing::kDoublyStochastic,
                            "use metropolis_hastings on an undirected graph, or sparse_push for "
                            "directed ones");
    }
    if (kind == Kind::kScsp) {
      MURMUR_CHECK(ConfigError, o_.average_every > 0 || o_.final_average,
                   "algorithm.average_every / algorithm.final_average: scsp with no averaging "
                   "is sparse_push; set one of them");
      MURMUR_CHECK(ConfigError, !o_.final_average || ctx.rounds > 0,
                   "scsp: final averaging needs the number of rounds (run.rounds)");
      averager_ = detail::MakeExactAverage(ctx, 1);
    }
    // gamma = 0 ("tune it") was resolved by the plugin before construction.
    gamma_ = o_.gamma;
    MURMUR_CHECK(ConfigError, std::isfinite(gamma_) && gamma_ > 0.0 && gamma_ <= 1.0,
                 "algorithm.gamma: must be in (0, 1], got ", gamma_);
    // Union of out- and in-peers over the period: the edges that carry copies.
    for (int i = 0; i < ctx.nodes; ++i) {
      State& s = nodes_[i];
      s.rng = Rng(ctx.seed, static_cast<uint64_t>(i), Stream::kCompression);
      for (int r = 0; r < ctx.topology->period(); ++r) {
        const graph::Graph& g = ctx.topology->at(r);
        s.out_peers.insert(s.out_peers.end(), g.out[i].begin(), g.out[i].end());
        s.in_peers.insert(s.in_peers.end(), g.in[i].begin(), g.in[i].end());
      }
      for (auto* v : {&s.out_peers, &s.in_peers}) {
        std::sort(v->begin(), v->end());
        v->erase(std::unique(v->begin(), v->end()), v->end());
      }
    }
  }

  std::string_view name() const override { return KindName(kind_); }
  int phases() const override { return averager_ ? 3 : 1; }
  double push_sum_weight(int node) const override { return nodes_[node].w; }
  std::vector<std::pair<std::string, double>> resolved_parameters() const override {
    return {{"gamma", gamma_}};
  }
  void checkpoint(int node, StateIo& io) override {
    State& s = nodes_[node];
    io.vector(s.x);
    io.value(s.w);
    io.value(s.dim);
    io.vectors(s.out_copy);
    io.vectors(s.in_copy);
    io.vector(s.sum);
    io.rng(s.rng);
    if (!io.loading() || s.dim == 0) return;
    bool ok = s.out_copy.size() == (per_edge_ ? s.out_peers.size() : 1) &&
              s.in_copy.size() == (per_edge_ ? s.in_peers.size() : 0) &&
              (push_sum_ ? s.x.size() == s.dim : s.x.empty()) &&
              s.sum.size() == (per_edge_ ? 0 : s.dim);
    for (const auto* copies : {&s.out_copy, &s.in_copy})
      for (const auto& c : *copies) ok = ok && c.size() == s.dim;
    MURMUR_CHECK(IoError, ok, io.what(), ": copies that do not match the topology and model");
  }

  void send(int phase, uint32_t round, int node, std::span<float> xs) override {
    if (phase > 0) {
      if (averaging(round)) averager_->send(phase - 1, round, node, xs);
      return;
    }
    State& s = state(node, xs.size());
    std::span<float> v = xs;
    if (push_sum_) {
      detail::AbsorbLocalSteps(s.x, s.w, xs);
      v = s.x;
    }
    const std::optional<float> weight = push_sum_ ? std::optional<float>(s.w) : std::nullopt;
    const uint32_t dim = static_cast<uint32_t>(xs.size());
    // Static graphs: one q for every out-peer; time-varying ones: one per edge copy.
    if (!per_edge_) {
      if (ctx_.topology->at(round).out[node].empty()) return;
      encode(s, v, s.out_copy[0]);
    }
    detail::SendToOutPeers(ctx_, round, node, [&](const comm::FrameHeader& h) {
      if (per_edge_) {
        const int to = static_cast<int>(h.receiver);
        // A message that will be lost leaves the copy where the receiver's stays.
        encode(s, v, s.out_copy[Slot(s.out_peers, to)], !ctx_.transport->lost(node, to, round, 0));
      }
      return detail::EncodeCompressedFrame(h, dim, s.payload, weight);
    });
  }

  void receive(int phase, uint32_t round, int node, std::span<float> xs) override {
    if (phase > 0) {
      if (!averaging(round)) return;
      averager_->receive(phase - 1, round, node, xs);
      if (phase == 2) reset_to_mean(node, xs);
      return;
    }
    State& s = state(node, xs.size());
    const graph::Graph& g = ctx_.topology->at(round);
    const uint32_t dim = static_cast<uint32_t>(xs.size());
    const comm::Codec codec =
        push_sum_ ? comm::Codec::kPushSumCompressed : comm::Codec::kCompressed;
    std::span<float> v = push_sum_ ? std::span<float>(s.x) : xs;
    const float gamma = static_cast<float>(gamma_);
    // Weight node `node` has in its out-peers' mixing: sum_k W_k,node.
    // (Push-sum weight shares lost on the way stay with the sender: not given.)
    double given = 0.0;
    for (int to : g.out[node])
      if (!ctx_.transport->lost(node, to, round, 0)) given += g.weight(to, node);
    double w_in = 0.0;  // sum_j W_ij w_j
    if (!per_edge_) {
      for (size_t k = 0; k < g.in[node].size(); ++k) {
        const int from = g.in[node][k];
        detail::Message m =
            detail::TakeMessage(*ctx_.transport, name(), node, from, round, 0, codec, dim);
        compress::DecompressAdd(m.body, static_cast<float>(g.w_in[node][k]), s.sum);
        w_in += g.w_in[node][k] * m.weight;
      }
      const float* sum = s.sum.data();
      const float* copy = s.out_copy[0].data();
      const float out = static_cast<float>(given);
      float* x = v.data();
      for (size_t k = 0; k < v.size(); ++k) x[k] += gamma * (sum[k] - out * copy[k]);
    } else {
      std::vector<WeightedSource> sources;
      for (size_t k = 0; k < g.in[node].size(); ++k) {
        const int from = g.in[node][k];
        // A crashed sender gives nothing away, so its edges sit the round out. Lost: this copy
        // stays as it is, like the sender's, and the edge mixes with it.
        if (ctx_.transport->down(from, round)) continue;
        auto m = detail::TryTakeMessage(*ctx_.transport, name(), node, from, round, 0, codec, dim);
        std::vector<float>& copy = s.in_copy[Slot(s.in_peers, from)];
        if (m) {
          compress::DecompressAdd(m->body, 1.0f, copy);
          w_in += g.w_in[node][k] * m->weight;
        }
        sources.push_back({static_cast<float>(g.w_in[node][k]), copy.data(), nullptr});
      }
      for (int to : g.out[node])
        if (!ctx_.transport->down(to, round))
          sources.push_back({-static_cast<float>(g.weight(to, node)),
                             s.out_copy[Slot(s.out_peers, to)].data(), nullptr});
      if (!sources.empty()) {
        std::vector<float>& tmp = Scratch(v.size());
        WeightedSum(tmp, sources);
        for (size_t k = 0; k < v.size(); ++k) v[k] += gamma * tmp[k];
      }
    }
    if (push_sum_) {
      s.w = static_cast<float>(s.w + gamma_ * (w_in - given * s.w));
      MURMUR_CHECK(DivergenceError, std::isfinite(s.w) && s.w > 0.0f, name(), ": node ", node,
                   "'s push-sum weight became ", s.w, " in round ", round);
      detail::Debias(s.x, s.w, xs);
    }
  }

 private:
  struct State {
    std::vector<float> x;                      // push-sum numerator (push-sum kinds only)
    float w = 1.0f;                            // push-sum weight
    std::vector<int> out_peers, in_peers;      // union over the period, sorted
    std::vector<std::vector<float>> out_copy;  // per out-peer; static graphs: one, shared
    std::vector<std::vector<float>> in_copy;   // per in-peer (time-varying graphs only)
    std::vector<float> sum;                    // static graphs: sum_j W_ij x^_{j->i}
    size_t dim = 0;                            // 0 until the state is allocated
    compress::Bytes payload;
    Rng rng{1};
  };

  // Node state, allocated on first use: every copy starts at the common initial model, or
  // at 0 (as in the papers) when there is none.
  State& state(int node, size_t d) {
    State& s = nodes_[node];
    if (s.dim != d) {
      MURMUR_CHECK(ConfigError, origin_.empty() || origin_.size() == d, name(), ": vector of ", d,
                   " values, but the initial model has ", origin_.size());
      s.dim = d;
      s.out_copy.resize(per_edge_ ? s.out_peers.size() : 1);
      if (per_edge_) s.in_copy.resize(s.in_peers.size());
      set_copies(s, node, origin_.empty() ? std::vector<float>(d, 0.0f) : origin_);
    }
    return s;
  }

  // Sets every copy node i holds (both ends of all its edges) to v, and the static sum to
  // sum_j W_ij v. Consistent only when every node calls it with the same v.
  void set_copies(State& s, int node, std::span<const float> v) {
    for (auto& c : s.out_copy) c.assign(v.begin(), v.end());
    for (auto& c : s.in_copy) c.assign(v.begin(), v.end());
    if (!per_edge_) {
      double in = 0.0;
      for (double w : ctx_.topology->at(0).w_in[node]) in += w;
      s.sum.resize(v.size());
      for (size_t k = 0; k < v.size(); ++k) s.sum[k] = static_cast<float>(in) * v[k];
    }
  }

  // payload = Q(v - copy); copy += decoded payload (when `advance`).
  void encode(State& s, std::span<const float> v, std::vector<float>& copy, bool advance = true) {
    std::vector<float>& diff = Scratch(v.size());
    for (size_t k = 0; k < v.size(); ++k) diff[k] = v[k] - copy[k];
    s.payload.clear();
    compressor_->compress(diff, s.rng, s.payload);
    if (advance) compress::DecompressAdd(s.payload, 1.0f, copy);
  }

  bool averaging(uint32_t round) const {
    if (!averager_) return false;
    const int64_t r = static_cast<int64_t>(round) + 1;
    return (o_.average_every > 0 && r % o_.average_every == 0) ||
           (o_.final_average && r == ctx_.rounds);
  }

  // After an exact average: xs holds the mean (identical on every node).
  void reset_to_mean(int node, std::span<float> xs) {
    State& s = state(node, xs.size());
    if (push_sum_) {
      s.x.assign(xs.begin(), xs.end());
      s.w = 1.0f;
    }
    // With faults the means differ a little between nodes; the copies keep their values,
    // which both ends of every edge still agree on.
    if (!ctx_.transport->faulty()) set_copies(s, node, xs);
  }

  AlgorithmContext ctx_;
  GossipOptions o_;
  Kind kind_;
  bool push_sum_, per_edge_;
  double gamma_ = 1.0;
  std::unique_ptr<compress::Compressor> compressor_;
  std::unique_ptr<Algorithm> averager_;
  std::vector<float> origin_;  // where the copies start (empty = 0)
  std::vector<State> nodes_;
};

}  // namespace

namespace {

constexpr EnumNames<bool, 2> kCopyStartNames = {{{true, "initial_model"}, {false, "zero"}}};

std::vector<OptionSpec> GossipKeys() {
  const GossipOptions d;
  return {
      FloatOption("algorithm.gamma", d.gamma, 0, 1,
                  "choco/sparse_push/scsp: consensus step size; 0 = tune it automatically at "
                  "start (compressed gossip on Gaussian vectors, as `murmur tune-gamma`: the "
                  "largest gamma that stays stable for 2000 rounds among those near the smallest "
                  "200-round error)"),
      IntOption("algorithm.gamma_steps_per_octave", d.gamma_steps_per_octave, 1, 8,
                "choco/sparse_push/scsp with algorithm.gamma = 0: steps per octave of the tuner's "
                "log grid 1 ... 2^-10 (1: powers of 2; 2: also 2^-0.5, 2^-1.5, ..., which finds a "
                "stable gamma closer to the stability edge, at twice the tuning time)"),
      IntOption("algorithm.average_every", d.average_every, 0, 1e9,
                "scsp: exact global average (one all-reduce) every N rounds; 0 = never"),
      BoolOption("algorithm.final_average", d.final_average,
                 "scsp: exact global average after the last round"),
      EnumOption("algorithm.copy_start", d.copies_from_initial, kCopyStartNames,
                 "choco/sparse_push/scsp: where the public copies start: initial_model (the "
                 "common initial model; the same algorithm on x - x0) or zero (as in the papers)"),
  };
}

std::any ParseGossipOptions(const OptionReader& c) {
  GossipOptions o;
  o.gamma = c.get_double("algorithm.gamma");
  o.gamma_steps_per_octave = static_cast<int>(c.get_int("algorithm.gamma_steps_per_octave"));
  o.average_every = c.get_int("algorithm.average_every");
  o.final_average = c.get_bool("algorithm.final_average");
  o.copies_from_initial = c.get_enum("algorithm.copy_start", kCopyStartNames);
  return o;
}

// Set-up: gamma = 0 means "tune it" (tune_gamma.h); the algorithm is handed the result.
AlgorithmContext WithGamma(const AlgorithmContext& ctx, Kind kind) {
  GossipOptions o = ctx.options_or_default<GossipOptions>();
  MURMUR_CHECK(ConfigError, std::isfinite(o.gamma) && o.gamma >= 0.0 && o.gamma <= 1.0,
               "algorithm.gamma: must be in [0, 1] (0 = tune automatically), got ", o.gamma);
  if (o.gamma != 0.0) return ctx;
  TuneGammaOptions t;
  t.algorithm = kind == Kind::kChoco ? "choco" : "sparse_push";
  t.dim = std::min<int64_t>(ctx.dim, 4096);
  t.steps_per_octave = o.gamma_steps_per_octave;
  o.gamma = BestGamma(TuneGamma(ctx, t));
  LogInfo(KindName(kind), ": gamma tuned to ", o.gamma, " (compressed gossip on ", t.dim,
          "-dimensional Gaussian vectors: the largest gamma within ", kGammaErrorSlack,
          "x of the smallest error after ", t.rounds, " rounds that is still stable after ",
          t.stability_rounds, "; set algorithm.gamma to fix it)");
  AlgorithmContext tuned = ctx;
  tuned.options = o;
  return tuned;
}

AlgorithmPlugin CompressedGossipPlugin(Kind kind) {
  AlgorithmPlugin p;
  p.make = [kind](const AlgorithmContext& ctx) {
    return std::make_unique<CompressedGossip>(WithGamma(ctx, kind), kind);
  };
  p.traits.compressed = true;
  p.traits.tunes_gamma = true;
  p.traits.directed_graphs = kind != Kind::kChoco;  // push-sum
  p.keys = GossipKeys();
  p.parse = ParseGossipOptions;
  return p;
}

}  // namespace

AlgorithmPlugin ChocoPlugin() { return CompressedGossipPlugin(Kind::kChoco); }

AlgorithmContext detail::WithTunedChocoGamma(const AlgorithmContext& ctx) {
  return WithGamma(ctx, Kind::kChoco);
}
AlgorithmPlugin SparsePushPlugin() { return CompressedGossipPlugin(Kind::kSparsePush); }
AlgorithmPlugin ScspPlugin() { return CompressedGossipPlugin(Kind::kScsp); }

}  // namespace murmur::algo
