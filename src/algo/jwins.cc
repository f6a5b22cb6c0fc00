// JWINS: Dhasade, Kermarrec, Pires, Sharma, Vujasinovic, "Decentralized Learning Made Easy
// with DecentralizePy" / "Get More for Less in Decentralized Learning Systems", ICDCS 2023
// (reference code: decentralizepy, sharing/JWINS).
//
// Node i works on the wavelet coefficients c_i = DWT(x_i) of its whole flat model (one 1-D
// multilevel transform, jwins.wavelet / jwins.level, symmetric boundary; L >= d
// coefficients). It keeps an accumulator A_i of coefficient changes and `last`, the
// coefficients of its model after the previous round's averaging (initially DWT(x0)).
// Per round, after the local steps:
//   A += c - last                                 (training change)
//   draw alpha uniformly from jwins.alpha_list (the node's own stream)
//   alpha >= metadata_cap: send all of c, A = 0
//   otherwise:             send c at the round(alpha L) positions of largest |A|
//                          (at least 1; ties to the lower index), A = 0 there
// to every neighbour. Receiver i fills what a neighbour j did not send with its own
// coefficients and averages with the topology's weights (Metropolis-Hastings by default):
//   t_i = c_i + sum_j w_ij (fill_j - c_i),   fill_j = c_i with j's sent coefficients,
// then x_i = IDWT(t_i), last = DWT(x_i), and with jwins.accumulate_averaging
// A += last - c_i (the averaging change). A lost message counts as "nothing sent" (fill_j =
// c_i): its weight stays with the node's own coefficients.
//
// Messages are compress:: payloads: sorted indices through compression.index_codec (auto:
// the smallest of raw, varint, Elias-gamma, Rice, bitmap for the set) and values through
// compression.value_codec (f32, lossless, by default); a full share is a dense payload.
// Every node counts how often it sent each coefficient (full shares included); the counts
// go to jwins_share_counts.csv at the end of the run.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <sstream>
#include <vector>

#include "internal.h"
#include "messages.h"
#include "murmur/algo/algorithm.h"
#include "murmur/algo/jwins.h"
#include "murmur/compress/compressor.h"
#include "murmur/compress/wavelet.h"

namespace murmur::algo {
namespace {

constexpr EnumNames<JwinsOptions::ShareCounts, 2> kShareCountNames = {
    {{JwinsOptions::ShareCounts::kTotal, "total"},
     {JwinsOptions::ShareCounts::kPerNode, "per_node"}}};

std::vector<OptionSpec> JwinsKeys() {
  const JwinsOptions d;
  return {
      StringOption("jwins.wavelet", d.wavelet, "jwins: wavelet of the whole-model transform",
                   [] { return compress::WaveletNames(); }),
      IntOption("jwins.level", d.level, 0, 30, "jwins: levels of the wavelet transform"),
      FloatListOption("jwins.alpha_list", d.alpha_list, 1e-9, 1,
                      "jwins: cut-offs; each node draws one per round, uniformly (fraction of the "
                      "coefficients it sends)"),
      FloatOption("jwins.metadata_cap", d.metadata_cap, 0, 1,
                  "jwins: a drawn alpha >= this sends every coefficient (no indices) and resets "
                  "the accumulator"),
      BoolOption("jwins.accumulate_averaging", d.accumulate_averaging,
                 "jwins: the accumulator also takes the changes averaging makes (else training "
                 "only)"),
      EnumOption("jwins.share_counts", d.share_counts, kShareCountNames,
                 "jwins: jwins_share_counts.csv holds per coefficient the count summed over nodes "
                 "with min/max over nodes (total), or also one column per node (per_node)"),
      BoolOption("jwins.save_accumulator", d.save_accumulator,
                 "jwins: also write every node's final accumulator (jwins_accumulator.csv)"),
  };
}

std::any ParseJwinsOptions(const OptionReader& c) {
  JwinsOptions o;
  o.wavelet = c.get_string("jwins.wavelet");
  o.level = static_cast<int>(c.get_int("jwins.level"));
  o.alpha_list = c.get_double_list("jwins.alpha_list");
  o.metadata_cap = c.get_double("jwins.metadata_cap");
  o.accumulate_averaging = c.get_bool("jwins.accumulate_averaging");
  o.share_counts = c.get_enum("jwins.share_counts", kShareCountNames);
  o.save_accumulator = c.get_bool("jwins.save_accumulator");
  return o;
}

class Jwins final : public Algorithm {
 public:
  explicit Jwins(const AlgorithmContext& ctx)
      : ctx_(ctx),
        o_(ctx.options_or_default<JwinsOptions>()),
        wt_(o_.wavelet, static_cast<size_t>(std::max<int64_t>(ctx.dim, 1)), o_.level),
        nodes_(ctx.nodes) {
    const JwinsOptions& o = o_;
    MURMUR_CHECK(ConfigError, ctx.compression == "none",
                 "compression.name: jwins selects wavelet coefficients itself (jwins.alpha_list); "
                 "set compression.name = \"none\" (got '",
                 ctx.compression, "')");
    detail::RequireMixing(ctx, "jwins", detail::Mixing::kDoublyStochastic,
                          "use metropolis_hastings (the paper's weights)");
    MURMUR_CHECK(ConfigError, !o.alpha_list.empty(), "jwins.alpha_list: must not be empty");
    for (double a : o.alpha_list)
      MURMUR_CHECK(ConfigError, a > 0.0 && a <= 1.0, "jwins.alpha_list: every alpha must be in ",
                   "(0, 1], got ", a);
    MURMUR_CHECK(ConfigError, wt_.coefficient_count() < (size_t{1} << 32),
                 "jwins: too many wavelet coefficients");
    values_.codec = ctx.compressor.value_codec;
    const size_t L = wt_.coefficient_count();
    std::vector<float> last0;
    if (static_cast<int64_t>(ctx.initial_model.size()) == ctx.dim) {
      last0.resize(L);
      wt_.forward(ctx.initial_model, last0);
    }
    ctx_.initial_model = {};
    for (int i = 0; i < ctx.nodes; ++i) {
      if (!ctx.hosts(i)) continue;
      State& s = nodes_[i];
      s.last = last0;
      s.acc.assign(L, 0.0f);
      s.count.assign(L, 0);
      s.rng = Rng(ctx.seed, i, Stream::kAlgorithm);
    }
  }

  std::string_view name() const override { return "jwins"; }

  void send(int, uint32_t round, int node, std::span<float> x) override {
    State& s = nodes_[node];
    const size_t L = wt_.coefficient_count();
    s.c.resize(L);
    wt_.forward(x, s.c);
    if (s.last.empty()) s.last = s.c;  // no common initial model: start counting now
    for (size_t k = 0; k < L; ++k) s.acc[k] += s.c[k] - s.last[k];
    const auto& alphas = o_.alpha_list;
    const double alpha = alphas[s.rng.uniform_int(alphas.size())];
    s.payload.clear();
    if (alpha >= o_.metadata_cap) {
      compress::EncodeDensePayload(s.c, values_, nullptr, s.payload);
      std::fill(s.acc.begin(), s.acc.end(), 0.0f);
      for (uint32_t& c : s.count) ++c;
    } else {
      const auto k = static_cast<uint32_t>(
          std::clamp<double>(std::round(alpha * static_cast<double>(L)), 1.0, double(L)));
      s.idx.clear();
      compress::TopKIndices(s.acc, k, 0, s.idx);
      s.vals.resize(s.idx.size());
      for (size_t j = 0; j < s.idx.size(); ++j) {
        s.vals[j] = s.c[s.idx[j]];
        s.acc[s.idx[j]] = 0.0f;
        ++s.count[s.idx[j]];
      }
      compress::EncodeSparsePayload(s.idx, s.vals, static_cast<uint32_t>(L),
                                    ctx_.compressor.index_codec, values_, nullptr, s.payload);
    }
    detail::SendToOutPeers(ctx_, round, node, [&](const comm::FrameHeader& h) {
      return detail::EncodeCompressedFrame(h, static_cast<uint32_t>(L), s.payload, std::nullopt);
    });
  }

  void receive(int, uint32_t round, int node, std::span<float> x) override {
    State& s = nodes_[node];
    const size_t L = wt_.coefficient_count();
    const graph::Graph& g = ctx_.topology->at(round);
    s.total.assign(s.c.begin(), s.c.end());
    for (size_t j = 0; j < g.in[node].size(); ++j) {
      const int from = g.in[node][j];
      auto msg = detail::TryTakeMessage(*ctx_.transport, "jwins", node, from, round, 0,
                                        comm::Codec::kCompressed, static_cast<uint32_t>(L));
      if (!msg) continue;  // lost: as if nothing was sent
      // t += w (fill_j - c), where fill_j differs from c only at the coordinates j sent.
      compress::DecompressAddDifference(msg->body, static_cast<float>(g.w_in[node][j]), s.c,
                                        s.total);
    }
    wt_.inverse(s.total, x);
    wt_.forward(x, s.last);
    if (o_.accumulate_averaging)
      for (size_t k = 0; k < L; ++k) s.acc[k] += s.last[k] - s.c[k];
  }

  void checkpoint(int node, StateIo& io) override {
    State& s = nodes_[node];
    io.vector(s.last);
    io.vector(s.acc);
    io.vector(s.count);
    io.rng(s.rng);
    const size_t L = wt_.coefficient_count();
    MURMUR_CHECK(IoError,
                 !io.loading() || (s.acc.size() == L && s.count.size() == L &&
                                   (s.last.empty() || s.last.size() == L)),
                 io.what(), ": wavelet state that does not match the model's ", L, " coefficients");
  }

  comm::Bytes output_state(int node) const override {
    const State& s = nodes_[node];
    const size_t L = s.count.size();
    const bool acc = o_.save_accumulator;
    comm::Bytes b(L * 4 * (acc ? 2 : 1));
    std::memcpy(b.data(), s.count.data(), L * 4);
    if (acc) std::memcpy(b.data() + L * 4, s.acc.data(), L * 4);
    return b;
  }
  // Rank 0 folds the other ranks' nodes into the share-count tally as they arrive: it never
  // holds every node's counters (only the columns the options ask to write per node).
  void set_output_state(int node, std::span<const uint8_t> b) override {
    const size_t L = wt_.coefficient_count();
    const bool acc = o_.save_accumulator;
    MURMUR_CHECK(ProtocolError, b.size() == L * 4 * (acc ? 2 : 1), "jwins: output state of node ",
                 node, " has ", b.size(), " bytes");
    std::vector<uint32_t> count(L);
    std::memcpy(count.data(), b.data(), L * 4);
    tally_.add(count);
    if (o_.share_counts == JwinsOptions::ShareCounts::kPerNode)
      remote_counts_[node] = std::move(count);
    if (acc) {
      std::vector<float>& a = remote_acc_[node];
      a.resize(L);
      std::memcpy(a.data(), b.data() + L * 4, L * 4);
    }
  }

  std::vector<OutputFile> outputs() const override {
    const size_t L = wt_.coefficient_count();
    const bool per_node = o_.share_counts == JwinsOptions::ShareCounts::kPerNode;
    ShareTally tally = tally_;  // the other ranks' nodes, then this process's
    std::map<int, const std::vector<uint32_t>*> columns;  // per_node: every node's counts
    std::map<int, const std::vector<float>*> accs;
    for (const auto& [i, c] : remote_counts_) columns[i] = &c;
    for (const auto& [i, a] : remote_acc_) accs[i] = &a;
    for (int i = 0; i < ctx_.nodes; ++i)
      if (ctx_.hosts(i)) {
        tally.add(nodes_[i].count);
        if (per_node) columns[i] = &nodes_[i].count;
        accs[i] = &nodes_[i].acc;
      }
    MURMUR_ASSERT(tally.nodes == ctx_.nodes, "jwins: share counts of ", tally.nodes, " of ",
                  ctx_.nodes, " nodes");
    // Band of every coefficient: cA<L>, cD<L>, ..., cD1.
    std::vector<std::string> band;
    const auto& blocks = wt_.block_lengths();
    for (size_t b = 0; b < blocks.size(); ++b) {
      const std::string name = b == 0
                                   ? "cA" + std::to_string(wt_.level())
                                   : "cD" + std::to_string(wt_.level() - static_cast<int>(b) + 1);
      band.insert(band.end(), blocks[b], name);
    }
    std::ostringstream os;
    os << "coefficient,band,total,min_node,max_node";
    for (const auto& [i, _] : columns) os << ",node_" << i;
    os << "\n";
    for (size_t k = 0; k < L; ++k) {
      os << k << "," << band[k] << "," << tally.total[k] << "," << tally.lo[k] << ","
         << tally.hi[k];
      for (const auto& [_, c] : columns) os << "," << (*c)[k];
      os << "\n";
    }
    std::vector<OutputFile> files;
    files.push_back({"jwins_share_counts.csv", os.str()});
    if (o_.save_accumulator) {
      std::ostringstream a;
      a.precision(9);
      a << "coefficient";
      for (const auto& [i, _] : accs) a << ",node_" << i;
      a << "\n";
      for (size_t k = 0; k < L; ++k) {
        a << k;
        for (const auto& [_, acc] : accs) a << "," << (*acc)[k];
        a << "\n";
      }
      files.push_back({"jwins_accumulator.csv", a.str()});
    }
    return files;
  }

 private:
  struct State {
    std::vector<float> c, last, acc, total, vals;
    std::vector<uint32_t> count, idx;
    compress::Bytes payload;
    Rng rng{1};
  };

  // How often each coefficient was shared: summed, smallest and largest over the nodes.
  struct ShareTally {
    int nodes = 0;
    std::vector<uint64_t> total;
    std::vector<uint32_t> lo, hi;
    void add(std::span<const uint32_t> count) {
      if (nodes++ == 0) {
        total.assign(count.size(), 0);
        lo.assign(count.size(), UINT32_MAX);
        hi.assign(count.size(), 0);
      }
      for (size_t k = 0; k < count.size(); ++k) {
        total[k] += count[k];
        lo[k] = std::min(lo[k], count[k]);
        hi[k] = std::max(hi[k], count[k]);
      }
    }
  };

  AlgorithmContext ctx_;
  JwinsOptions o_;
  compress::WaveletTransform wt_;
  compress::ValueOptions values_;
  std::vector<State> nodes_;
  // Rank 0: the other ranks' nodes' share counts (tallied; per node only for per_node) and
  // accumulators (when saved).
  ShareTally tally_;
  std::map<int, std::vector<uint32_t>> remote_counts_;
  std::map<int, std::vector<float>> remote_acc_;
};

}  // namespace

AlgorithmPlugin JwinsPlugin() {
  AlgorithmPlugin p;
  p.make = [](const AlgorithmContext& ctx) { return std::make_unique<Jwins>(ctx); };
  p.traits.codes_values = true;  // its coefficients go through compression.value_codec
  p.keys = JwinsKeys();
  p.parse = ParseJwinsOptions;
  return p;
}

}  // namespace murmur::algo
