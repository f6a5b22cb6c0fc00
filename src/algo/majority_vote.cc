// Sparse SGD with majority voting: Ozfatura, Ozfatura, Gündüz, "Time-Correlated Sparsification
// for Communication-Efficient Federated Learning" / "Distributed Sparse SGD with Majority
// Voting" (2020). The paper's full text was not available to us; every choice below is an
// option or written down.
//
// All nodes hold the same model x (they start from the common initial model and apply the
// same update every round). Node i keeps an error-compensated accumulator a_i: after its
// local steps it adds the change they made, a_i += x_i - x, and forgets the change itself.
// With vote.momentum = m > 0 (momentum correction and factor masking, Lin et al. 2018) the
// change goes through a velocity first, u_i = m u_i + (x_i - x), a_i += u_i, and u_i is
// cleared with a_i where the mask sent it, so a coordinate's stale momentum does not keep
// pushing after its update went out.
// With vote.rescale_memory, a_i (and u_i, and the server's error memory e below) are multiplied
// by lr(t) / lr(t-1) at the start of a round t whose learning rate differs from the last one's:
// the memory then holds what is left at the current rate (as if it held gradients and the rate
// were applied when sent), instead of sending steps taken at the old rate after a decay.
// With vote.global_momentum = b > 0 the common update itself goes through a velocity: every
// node keeps w (the same on every node, as it is made of the same means) and applies
// w = b w + m (m the round's mean, on the mask), x += w on every coordinate — momentum SGD on
// the sparse common update, which costs no bytes (with K = d: all-reduce SGD with momentum b).
// On a voting round (every vote.mask_reuse rounds) each node votes for the K_v coordinates of
// largest |a_i| (per layer with vote.layerwise; never for a zero a_i) and the K most-voted
// coordinates become the common mask (ties broken by a per-round hash, identical everywhere); the
// other rounds reuse the last mask. Then every node sends a_i on the mask, values only, the mean of
// the n value vectors m is formed, and everyone sets x[mask] += m, a_i[mask] = 0: what was not sent
// stays in a_i.
//
//   vote.mode = server:     node vote.server tallies the votes (phase 0), sends the mask
//                           (phase 1), receives the n-1 value vectors (phase 2) and sends the
//                           mean back (phase 3). Its bytes_received is the uplink of all
//                           workers, its bytes_sent the downlink.
//   vote.mode = all_to_all: every node sends its vote to every other node and tallies all of
//                           them itself (phase 0); the mean of the values is one all-reduce of
//                           K floats (phases 1-2, reduce-scatter + all-gather).
//   vote.pipeline (server mode): two exchanges per round. Phase 0: each node adds its change,
//                           takes its values on the current mask out of the accumulator and
//                           votes; a worker sends [values][vote] to the server,
//                           which averages the values and tallies the votes into the next mask.
//                           The vote is cast on a_i plus this round's change (the accumulator
//                           as the next step will roughly leave it, when the mask is used).
//                           Phase 1: the server sends [mean][next mask]; every node applies the
//                           mean on the current mask and moves to the next. The first round
//                           only votes. A coordinate's accumulator is voted on one local step
//                           earlier than without pipelining.
// Votes and masks are sorted index sets written with compression.index_codec (auto = the
// smallest for the set); values carry no indices, f32 by default. With vote.value_codec =
// f16 / bf16 / quant (server mode) a worker keeps what rounding took from its values in its
// accumulator, a_i[mask] = a_i[mask] - decoded(sent), and the server adds its own error memory
// e to the mean before rounding it, e[mask] = (mean + e[mask]) - decoded; every node (the server
// too) applies the decoded mean, so the models stay identical.
// Lost messages (injected faults, [faults], server mode only): a lost vote is an absent
// voter; a worker whose mask is lost sits out (sends no values) until the next voting round;
// the server averages the value vectors that arrived; a worker that misses the mean keeps
// its accumulator and its model lags that round's update. all_to_all mode needs every vote
// (each node forms the mask itself) and is refused with faults. With K = d (mask_ratio = 1) every
// coordinate is sent every round and the algorithm is all-reduce SGD.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <optional>
#include <vector>

#include "internal.h"
#include "messages.h"
#include "murmur/algo/algorithm.h"
#include "murmur/algo/majority_vote.h"
#include "murmur/compress/codecs.h"
#include "murmur/compress/compressor.h"
#include "murmur/core/rng.h"

namespace murmur::algo {
namespace {

uint64_t Mix64(uint64_t z) { return MixBits(z + 0x9E3779B97F4A7C15ULL); }

constexpr EnumNames<VoteOptions::Mode, 2> kModeNames = {
    {{VoteOptions::Mode::kServer, "server"}, {VoteOptions::Mode::kAllToAll, "all_to_all"}}};

std::vector<OptionSpec> VoteKeys() {
  const VoteOptions d;
  return {
      EnumOption("vote.mode", d.mode, kModeNames,
                 "majority_vote: server (node vote.server tallies votes and averages; its bytes "
                 "received are the uplink, its bytes sent the downlink) or all_to_all (every node "
                 "tallies every vote; values averaged by an all-reduce)"),
      IntOption("vote.server", d.server, 0, 1e6, "majority_vote server mode: the aggregating node"),
      FloatOption("vote.mask_ratio", d.mask_ratio, 1e-9, 1,
                  "majority_vote: fraction K/d of the coordinates sent per round (per layer with "
                  "vote.layerwise; at least 1 per layer)"),
      FloatOption("vote.vote_ratio", d.vote_ratio, 0, 1,
                  "majority_vote: fraction K_v/d each node votes for; 0 = vote.mask_ratio"),
      IntOption("vote.mask_reuse", d.mask_reuse, 1, 1e9,
                "majority_vote: vote every N rounds and reuse the mask in between"),
      BoolOption("vote.layerwise", d.layerwise, "majority_vote: vote and pick the mask per tensor"),
      StringOption("vote.value_codec", "f32",
                   "majority_vote server mode: how the values on the mask are written, both "
                   "directions (f32 exact; f16, bf16; quant = vote.value_bits bits per value plus "
                   "one f32 scale); the rounding error is kept and sent later (worker "
                   "accumulators, server error memory)",
                   [] {
                     return std::vector<std::string>{"f32", "f16", "bf16", "quant"};
                   }),
      IntOption("vote.value_bits", d.value_bits, 2, 16,
                "majority_vote with vote.value_codec = quant: bits per value"),
      FloatOption("vote.momentum", d.momentum, 0, 0.999999,
                  "majority_vote: momentum correction with factor masking (Deep Gradient "
                  "Compression): the local change enters a velocity u = m u + change, u is added "
                  "to the accumulator, and both are cleared where sent; 0 = off. Needs "
                  "train.momentum = 0"),
      BoolOption("vote.pipeline", d.pipeline,
                 "majority_vote server mode: two exchanges per round instead of four (values "
                 "travel with the vote for the next mask, the mean with the next mask): half the "
                 "frame headers, the mask voted one round earlier; needs vote.mask_reuse = 1"),
      FloatOption("vote.global_momentum", d.global_momentum, 0, 0.999999,
                  "majority_vote: momentum on the common update: every node keeps the same "
                  "velocity w = b w + (the round's mean on the mask) and moves its model by w on "
                  "every coordinate (no extra bytes; with vote.mask_ratio = 1 it is all-reduce SGD "
                  "with momentum b); 0 = off. Needs train.momentum = 0 and vote.momentum = 0, not "
                  "with [faults]"),
      BoolOption("vote.rescale_memory", d.rescale_memory,
                 "majority_vote: when the learning rate changes (train.lr_decay_rounds, "
                 "train.warmup_rounds), multiply the error-feedback memory (accumulators, "
                 "velocities, the server's error memory) by new rate / old rate, so what is left "
                 "over is sent at the current rate; off = it is sent at the rate it was computed "
                 "with"),
  };
}

std::any ParseVoteOptions(const OptionReader& c) {
  VoteOptions o;
  o.mode = c.get_enum("vote.mode", kModeNames);
  o.server = static_cast<int>(c.get_int("vote.server"));
  o.mask_ratio = c.get_double("vote.mask_ratio");
  o.vote_ratio = c.get_double("vote.vote_ratio");
  o.mask_reuse = c.get_int("vote.mask_reuse");
  o.layerwise = c.get_bool("vote.layerwise");
  o.value_codec = compress::ParseValueCodec(c.get_string("vote.value_codec"), "vote.value_codec");
  o.value_bits = static_cast<int>(c.get_int("vote.value_bits"));
  o.momentum = c.get_double("vote.momentum");
  o.pipeline = c.get_bool("vote.pipeline");
  o.rescale_memory = c.get_bool("vote.rescale_memory");
  o.global_momentum = c.get_double("vote.global_momentum");
  // The vote's momentum (either kind) and the optimizer's would both apply momentum.
  for (const auto& [key, value] : {std::pair{"vote.momentum", o.momentum},
                                   std::pair{"vote.global_momentum", o.global_momentum}})
    MURMUR_CHECK(ConfigError, value == 0.0 || c.get_double("train.momentum") == 0.0, key, " = ",
                 value, " with train.momentum = ", c.get_double("train.momentum"),
                 ": the optimizer's momentum would be applied twice; set train.momentum = 0");
  return o;
}

// What the three protocols share: the options and their checks, every node's accumulator,
// vote, mask and model, and the steps of a round (accumulate, vote, tally, gather, round,
// step, release); the protocols below only say who sends what in which phase.
class VoteCore : public Algorithm {
 public:
  explicit VoteCore(const AlgorithmContext& ctx)
      : ctx_(ctx), o_(ctx.options_or_default<VoteOptions>()), nodes_(ctx.nodes) {
    ctx_.initial_model = {};
    const VoteOptions& o = o_;
    MURMUR_CHECK(ConfigError, ctx.compression == "none",
                 "compression.name: majority_vote sparsifies by its vote (vote.mask_ratio); set "
                 "compression.name = \"none\" (got '",
                 ctx.compression, "')");
    server_mode_ = o.mode == VoteOptions::Mode::kServer;
    MURMUR_CHECK(ConfigError, server_mode_ || !ctx.transport->faulty(),
                 "vote.mode = all_to_all: every node forms the mask from every vote, so a lost "
                 "vote splits the nodes; use vote.mode = server with [faults]");
    MURMUR_CHECK(ConfigError, !server_mode_ || (o.server >= 0 && o.server < ctx.nodes),
                 "vote.server: node ", o.server, " is outside [0, ", ctx.nodes, ")");
    MURMUR_CHECK(ConfigError, o.mask_ratio > 0.0 && o.mask_ratio <= 1.0,
                 "vote.mask_ratio: must be in (0, 1], got ", o.mask_ratio);
    MURMUR_CHECK(ConfigError, o.vote_ratio >= 0.0 && o.vote_ratio <= 1.0,
                 "vote.vote_ratio: must be in [0, 1] (0 = vote.mask_ratio), got ", o.vote_ratio);
    MURMUR_CHECK(ConfigError, o.mask_reuse >= 1, "vote.mask_reuse: must be >= 1, got ",
                 o.mask_reuse);
    MURMUR_CHECK(ConfigError, o.momentum >= 0.0 && o.momentum < 1.0,
                 "vote.momentum: must be in [0, 1), got ", o.momentum);
    MURMUR_CHECK(ConfigError, !o.rescale_memory || ctx.learning_rate,
                 "vote.rescale_memory: needs the run's learning-rate schedule");
    MURMUR_CHECK(ConfigError, o.global_momentum >= 0.0 && o.global_momentum < 1.0,
                 "vote.global_momentum: must be in [0, 1), got ", o.global_momentum);
    MURMUR_CHECK(ConfigError, o.global_momentum == 0.0 || o.momentum == 0.0,
                 "vote.global_momentum and vote.momentum: choose one (both would apply momentum "
                 "twice)");
    MURMUR_CHECK(ConfigError, o.global_momentum == 0.0 || !ctx.transport->faulty(),
                 "vote.global_momentum: a node that misses a mean would keep a different "
                 "velocity from then on; not with [faults]");
    pipeline_ = o.pipeline;
    MURMUR_CHECK(ConfigError, !pipeline_ || server_mode_,
                 "vote.pipeline: only server mode pipelines (all_to_all averages with its own "
                 "all-reduce); set vote.mode = \"server\"");
    MURMUR_CHECK(ConfigError, !pipeline_ || o.mask_reuse == 1,
                 "vote.pipeline: votes every round; needs vote.mask_reuse = 1, got ", o.mask_reuse);
    MURMUR_CHECK(ConfigError, !pipeline_ || !ctx.transport->faulty(),
                 "vote.pipeline: a lost message would split the masks of the next round; not with "
                 "[faults]");
    lossy_ = o.value_codec != compress::ValueCodec::kF32;
    values_.codec = o.value_codec;
    values_.bits = o.value_bits;
    MURMUR_CHECK(ConfigError, !lossy_ || server_mode_,
                 "vote.value_codec: only server mode rounds values (all_to_all averages them "
                 "exactly with an all-reduce); got '",
                 compress::ValueCodecName(o.value_codec), "' with vote.mode = all_to_all");
    MURMUR_CHECK(
        ConfigError,
        o.value_codec != compress::ValueCodec::kQuant || (o.value_bits >= 2 && o.value_bits <= 16),
        "vote.value_bits: must be in [2, 16], got ", o.value_bits);
    MURMUR_CHECK(ConfigError, static_cast<int64_t>(ctx.initial_model.size()) == ctx.dim,
                 "majority_vote: needs the common initial model of all nodes (got ",
                 ctx.initial_model.size(), " values for a model of ", ctx.dim, ")");
    MURMUR_CHECK(ConfigError, ctx.dim > 0 && ctx.dim < (int64_t{1} << 32),
                 "majority_vote: model size ", ctx.dim, " outside [1, 2^32)");
    // Layers: the model's tensors with vote.layerwise, else the whole vector.
    if (o.layerwise && !ctx.segments.empty()) {
      segments_ = ctx.segments;
      MURMUR_CHECK(ConfigError,
                   std::accumulate(segments_.begin(), segments_.end(), int64_t{0}) == ctx.dim,
                   "vote.layerwise: the model's layers hold ", segments_.size(),
                   " tensors that do not add up to its ", ctx.dim, " values");
    } else {
      segments_ = {ctx.dim};
    }
    vote_ratio_ = o.vote_ratio > 0.0 ? o.vote_ratio : o.mask_ratio;
    for (int64_t len : segments_) {
      k_ += compress::KeepCount(o.mask_ratio, static_cast<uint32_t>(len));
      kv_ += compress::KeepCount(vote_ratio_, static_cast<uint32_t>(len));
    }
    for (int i = 0; i < ctx.nodes; ++i) {
      if (!ctx.hosts(i)) continue;  // another process runs it
      State& s = nodes_[i];
      s.x.assign(ctx.initial_model.begin(), ctx.initial_model.end());
      s.a.assign(ctx.dim, 0.0f);
      s.vals.resize(k_);
      if (lossy_ || pipeline_) s.resid.resize(k_);
      if (o.momentum > 0.0) s.u.assign(ctx.dim, 0.0f);
      if (o.global_momentum > 0.0) s.w.assign(ctx.dim, 0.0f);
    }
    if (lossy_ && server_mode_ && ctx.hosts(o.server)) nodes_[o.server].err.assign(ctx.dim, 0.0f);
    if (!server_mode_) {
      AlgorithmContext c = ctx_;
      c.dim = k_;
      average_ = detail::MakeExactAverage(c, 1);
    }
  }

  std::string_view name() const override { return "majority_vote"; }
  void checkpoint(int node, StateIo& io) override {
    State& s = nodes_[node];
    io.vector(s.x);
    io.vector(s.a);
    io.vector(s.mask);  // reused until the next vote round (vote.mask_reuse)
    if (lossy_ && server_mode_ && node == o_.server) io.vector(s.err);
    if (o_.momentum > 0.0) io.vector(s.u);
    if (o_.global_momentum > 0.0) io.vector(s.w);
    if (!io.loading()) return;
    MURMUR_CHECK(IoError,
                 s.err.size() == (lossy_ && server_mode_ && node == o_.server ? Dim() : 0u),
                 io.what(), ": a server error memory of ", s.err.size(), " values");
    MURMUR_CHECK(IoError,
                 s.x.size() == Dim() && s.a.size() == Dim() &&
                     s.u.size() == (o_.momentum > 0.0 ? Dim() : 0u) &&
                     s.w.size() == (o_.global_momentum > 0.0 ? Dim() : 0u),
                 io.what(), ": models of ", s.x.size(), " values, expected ", Dim());
    MURMUR_CHECK(IoError, s.mask.empty() || s.mask.size() == k_, io.what(), ": a mask of ",
                 s.mask.size(), " indices, expected ", k_);
    for (uint32_t k : s.mask)
      MURMUR_CHECK(IoError, k < Dim(), io.what(), ": mask index ", k, " outside [0, ", Dim(), ")");
  }
  std::vector<std::pair<std::string, double>> resolved_parameters() const override {
    return {{"mask_size", static_cast<double>(k_)}, {"vote_size", static_cast<double>(kv_)}};
  }

 protected:
  struct State {
    std::vector<float> x;     // the common model after the last round
    std::vector<float> a;     // error-compensated accumulator
    std::vector<float> u;     // velocity (vote.momentum > 0)
    std::vector<float> w;     // global velocity (vote.global_momentum > 0), same on every node
    std::vector<float> vals;  // a on the mask, then the mean
    std::vector<uint32_t> vote, mask, idx, tally, order;
    std::vector<uint32_t> next;  // vote.pipeline: the next round's mask
    std::vector<float> ahead;    // vote.pipeline: a plus this round's change, voted on
    std::vector<uint64_t> keys;
    std::vector<double> sum;
    std::vector<float> resid;  // lossy values: decoded values, then what rounding left
    std::vector<float> err;    // the server's downlink error memory (lossy values)
    comm::Bytes bytes;
  };

  uint32_t Dim() const { return static_cast<uint32_t>(ctx_.dim); }

  // Top-K_v of |a| per layer (ties: lower index).
  void Vote(State& s) const { Vote(s, s.a); }
  // Top-K_v of |keys| per layer (ties: lower index), never where the key is zero.
  void Vote(State& s, std::span<const float> keys) const {
    s.vote.clear();
    uint32_t offset = 0;
    for (int64_t len : segments_) {
      const auto seg = keys.subspan(offset, len);
      compress::TopKIndices(seg, compress::KeepCount(vote_ratio_, static_cast<uint32_t>(len)),
                            offset, s.vote);
      offset += static_cast<uint32_t>(len);
    }
    // A zero accumulator has nothing to send: no vote for it (else a node with little left
    // would keep voting for the lowest indices and crowd out coordinates that need sending).
    std::erase_if(s.vote, [&](uint32_t k) { return keys[k] == 0.0f; });
  }

  // The K most-voted coordinates per layer; equal counts are ordered by a hash of (seed,
  // round, index), so every node that tallies the same votes picks the same mask.
  void SelectMask(State& s, uint32_t round, std::vector<uint32_t>& mask) const {
    mask.clear();
    const uint64_t salt = Mix64(ctx_.seed ^ (uint64_t{round} << 32));
    uint32_t offset = 0;
    for (int64_t len : segments_) {
      const uint32_t keep = compress::KeepCount(o_.mask_ratio, static_cast<uint32_t>(len));
      s.keys.resize(len);
      for (uint32_t k = 0; k < len; ++k) {
        const uint32_t at = offset + k;
        // Higher key wins: votes in the top 32 bits, the hash below.
        s.keys[k] = (uint64_t{s.tally[at]} << 32) | (Mix64(salt ^ at) >> 32);
      }
      s.order.resize(len);
      std::iota(s.order.begin(), s.order.end(), 0u);
      std::nth_element(s.order.begin(), s.order.begin() + (keep - 1), s.order.end(),
                       [&](uint32_t p, uint32_t q) { return s.keys[p] > s.keys[q]; });
      for (uint32_t k = 0; k < keep; ++k) mask.push_back(offset + s.order[k]);
      offset += static_cast<uint32_t>(len);
    }
    std::sort(mask.begin(), mask.end());
  }

  void Gather(State& s) const {
    for (uint32_t k = 0; k < k_; ++k) s.vals[k] = s.a[s.mask[k]];
  }

  // vote.rescale_memory: at a change of the learning rate, the memory follows it.
  void RescaleMemory(State& s, uint32_t round) const {
    if (!o_.rescale_memory || round == 0) return;
    const double before = ctx_.learning_rate(round - 1);
    const double now = ctx_.learning_rate(round);
    if (before == now || before <= 0.0) return;
    const auto f = static_cast<float>(now / before);
    for (float& v : s.a) v *= f;
    for (float& v : s.u) v *= f;
    for (float& v : s.err) v *= f;
  }

  // The local steps' change goes into the accumulator (through the velocity with
  // vote.momentum); x returns to the common model when the round's mean is applied.
  void Accumulate(State& s, std::span<const float> x) const {
    if (s.u.empty()) {
      for (size_t k = 0; k < x.size(); ++k) s.a[k] += x[k] - s.x[k];
    } else {
      const float m = static_cast<float>(o_.momentum);
      for (size_t k = 0; k < x.size(); ++k) {
        s.u[k] = m * s.u[k] + (x[k] - s.x[k]);
        s.a[k] += s.u[k];
      }
    }
  }

  // The sent part leaves the accumulator: a worker with rounded values keeps what rounding
  // took (s.resid); the server sent its exact values. Velocity cleared too (factor masking).
  void Release(State& s) const {
    const bool keep = lossy_ && &s != &nodes_[o_.server];
    for (uint32_t k = 0; k < k_; ++k) s.a[s.mask[k]] = keep ? s.resid[k] : 0.0f;
    if (!s.u.empty())
      for (uint32_t k = 0; k < k_; ++k) s.u[s.mask[k]] = 0.0f;
  }

  // The common model takes the round's mean on the mask (s.vals), through the global
  // velocity with vote.global_momentum. No mask (the first pipelined round): no mean.
  void Step(State& s) const {
    if (s.w.empty()) {
      for (uint32_t k = 0; k < s.mask.size(); ++k) s.x[s.mask[k]] += s.vals[k];
      return;
    }
    const auto b = static_cast<float>(o_.global_momentum);
    for (float& e : s.w) e *= b;
    for (uint32_t k = 0; k < s.mask.size(); ++k) s.w[s.mask[k]] += s.vals[k];
    for (size_t k = 0; k < s.x.size(); ++k) s.x[k] += s.w[k];
  }

  // x <- common model + mean on the mask; the sent part leaves the accumulator.
  void Apply(State& s, std::span<float> x) const {
    if (s.mask.size() != k_) return;  // no mask yet (a server back from a crash)
    Step(s);
    Release(s);
    std::copy(s.x.begin(), s.x.end(), x.begin());
  }

  comm::FrameHeader Header(uint32_t round, int node, int phase) const {
    comm::FrameHeader h;
    h.round = round;
    h.sender = node;
    h.phase = static_cast<uint8_t>(phase);
    return h;
  }
  // An index set (a vote or the mask) as a control frame's payload in s.bytes.
  void EncodeIndexSet(State& s, std::span<const uint32_t> set, comm::FrameHeader& h) const {
    s.bytes.clear();
    compress::EncodeIndices(set, Dim(), ctx_.compressor.index_codec, s.bytes);
    h.codec = static_cast<uint8_t>(comm::Codec::kControl);
    h.count = static_cast<uint32_t>(set.size());
    h.dimension = Dim();
  }
  // Sends encode(h) to every node but `from` (the server's downlink; all-to-all votes).
  template <typename Encode>
  void Broadcast(comm::FrameHeader h, int from, Encode encode) const {
    for (int to = 0; to < ctx_.nodes; ++to) {
      if (to == from) continue;
      h.receiver = to;
      ctx_.transport->send(encode(h));
    }
  }
  // The same with `payload` as every frame's payload.
  void BroadcastFrame(const comm::FrameHeader& h, int from,
                      std::span<const uint8_t> payload) const {
    Broadcast(h, from, [&](const comm::FrameHeader& g) { return comm::EncodeFrame(g, payload); });
  }
  // Tallies this node's own vote and every vote that arrived in phase 0 (a lost vote is an
  // absent voter), then picks the mask.
  void TallyVotes(State& s, int node, uint32_t round, std::vector<uint32_t>& mask) const {
    s.tally.assign(Dim(), 0);
    for (int from = 0; from < ctx_.nodes; ++from) {
      if (from == node) {
        for (uint32_t k : s.vote) ++s.tally[k];
        continue;
      }
      if (!TakeIndexSet(node, from, round, 0, kv_, /*exact=*/false, s.idx)) continue;
      for (uint32_t k : s.idx) ++s.tally[k];
    }
    SelectMask(s, round, mask);
  }
  bool VoteRound(uint32_t round) const { return round % o_.mask_reuse == 0; }

  // A vote (at most k indices) or the mask (exactly k) that `from` sent in this phase; false
  // when it was lost (injected faults).
  bool TakeIndexSet(int node, int from, uint32_t round, int phase, uint32_t k, bool exact,
                    std::vector<uint32_t>& out) const {
    auto taken = Take(node, from, round, phase, comm::Codec::kControl, Dim());
    if (!taken) return false;
    const detail::Message& m = *taken;
    ByteReader in(m.body, "majority_vote: index set");
    ReadIndexSet(in, from, round, m.count, k, exact, out);
    return true;
  }
  // The rest of `in`: an index set of `count` indices (exactly k, or at most k).
  void ReadIndexSet(ByteReader& in, int from, uint32_t round, uint32_t count, uint32_t k,
                    bool exact, std::vector<uint32_t>& out) const {
    MURMUR_CHECK(ProtocolError, exact ? count == k : count <= k,
                 "majority_vote: index set from node ", from, " in round ", round, " has ", count,
                 " indices; expected ", exact ? "" : "at most ", k);
    compress::DecodeIndices(in, Dim(), count, out);
    MURMUR_CHECK(ProtocolError, in.remaining() == 0, "majority_vote: index set from node ", from,
                 " has ", in.remaining(), " trailing bytes");
  }

  // The K values on the mask that `from` sent in this phase (nullopt: lost).
  std::optional<detail::Message> TakeValues(int node, int from, uint32_t round, int phase) const {
    return Take(node, from, round, phase, lossy_ ? comm::Codec::kControl : comm::Codec::kDenseF32,
                k_);
  }

  // `values` rounded by vote.value_codec into s.bytes (the payload of the frame h now
  // describes); s.resid gets the decoded values.
  void Round(std::span<const float> values, State& s, comm::FrameHeader& h) const {
    s.bytes.clear();
    AppendRounded(values, s);
    RoundedHeader(h);
  }
  void RoundedHeader(comm::FrameHeader& h) const {
    h.codec = static_cast<uint8_t>(comm::Codec::kControl);
    h.count = k_;
    h.dimension = k_;
  }
  // The server's mean, rounded with its error memory: it appends mean + e to s.bytes, e keeps
  // what rounding took, and s.vals becomes the decoded mean that every node applies.
  void AppendRoundedMean(State& s) const {
    for (uint32_t k = 0; k < k_; ++k) s.vals[k] += s.err[s.mask[k]];
    AppendRounded(s.vals, s);
    for (uint32_t k = 0; k < k_; ++k) {
      s.err[s.mask[k]] = s.vals[k] - s.resid[k];
      s.vals[k] = s.resid[k];
    }
  }
  // Appends `values` written by vote.value_codec to s.bytes; s.resid gets the decoded values.
  void AppendRounded(std::span<const float> values, State& s) const {
    const size_t at = s.bytes.size();
    compress::EncodeValues(values, values_, nullptr, s.bytes);
    ByteReader in(std::span<const uint8_t>(s.bytes).subspan(at), "majority_vote: own values");
    compress::DecodeValues(in, k_, s.resid);
  }
  void DecodeRounded(const detail::Message& m, int from, uint32_t round,
                     std::span<float> out) const {
    MURMUR_CHECK(ProtocolError, m.count == k_, "majority_vote: values from node ", from,
                 " in round ", round, " hold ", m.count, " values; expected ", k_);
    ByteReader in(m.body, "majority_vote: values");
    compress::DecodeValues(in, k_, out);
    MURMUR_CHECK(ProtocolError, in.remaining() == 0, "majority_vote: values from node ", from,
                 " have ", in.remaining(), " trailing bytes");
  }

  // Every message must arrive, unless faults are injected.
  std::optional<detail::Message> Take(int node, int from, uint32_t round, int phase,
                                      comm::Codec codec, uint32_t dim) const {
    if (!ctx_.transport->faulty())
      return detail::TakeMessage(*ctx_.transport, "majority_vote", node, from, round,
                                 static_cast<uint8_t>(phase), codec, dim);
    return detail::TryTakeMessage(*ctx_.transport, "majority_vote", node, from, round,
                                  static_cast<uint8_t>(phase), codec, dim);
  }

  AlgorithmContext ctx_;
  VoteOptions o_;
  std::vector<State> nodes_;
  std::vector<int64_t> segments_;
  uint32_t k_ = 0, kv_ = 0;
  double vote_ratio_ = 0.0;  // K_v / d (vote.vote_ratio, or vote.mask_ratio when 0)
  bool server_mode_ = true;
  bool lossy_ = false;  // vote.value_codec other than f32
  bool pipeline_ = false;
  compress::ValueOptions values_;
  std::unique_ptr<Algorithm> average_;
};

// vote.mode = server: phase 0 votes go to the server, 1 the server sends the mask, 2 workers
// send their values on it, 3 the server sends the mean back.
class ServerVote final : public VoteCore {
 public:
  using VoteCore::VoteCore;
  int phases() const override { return 4; }
  enum Phase { kVotes = 0, kMask = 1, kValues = 2, kMean = 3 };

  void send(int phase, uint32_t round, int node, std::span<float> x) override {
    State& s = nodes_[node];
    const int server = o_.server;
    comm::FrameHeader h = Header(round, node, phase);
    switch (phase) {
      case kVotes:
        RescaleMemory(s, round);
        Accumulate(s, x);
        if (!VoteRound(round)) return;
        Vote(s);
        if (node == server) return;
        EncodeIndexSet(s, s.vote, h);
        h.receiver = server;
        ctx_.transport->send(comm::EncodeFrame(h, s.bytes));
        return;
      case kMask:
        if (!VoteRound(round) || node != server) return;
        EncodeIndexSet(s, s.mask, h);
        BroadcastFrame(h, server, s.bytes);
        return;
      case kValues:
        if (s.mask.empty()) return;  // a worker that missed the mask sits out
        Gather(s);
        if (node == server) return;
        h.receiver = server;
        if (!lossy_) {
          ctx_.transport->send(comm::EncodeDenseF32(h, s.vals));
          return;
        }
        // What rounding takes from the values stays in the accumulator (Apply).
        Round(s.vals, s, h);
        ctx_.transport->send(comm::EncodeFrame(h, s.bytes));
        for (uint32_t k = 0; k < k_; ++k) s.resid[k] = s.vals[k] - s.resid[k];
        return;
      case kMean:
        if (node != server || s.mask.empty()) return;
        if (!lossy_) {
          Broadcast(h, server,
                    [&](const comm::FrameHeader& g) { return comm::EncodeDenseF32(g, s.vals); });
          return;
        }
        s.bytes.clear();
        AppendRoundedMean(s);
        RoundedHeader(h);
        BroadcastFrame(h, server, s.bytes);
        return;
    }
  }

  void receive(int phase, uint32_t round, int node, std::span<float> x) override {
    State& s = nodes_[node];
    const int server = o_.server;
    switch (phase) {
      case kVotes:
        if (VoteRound(round) && node == server) TallyVotes(s, node, round, s.mask);
        return;
      case kMask:
        if (!VoteRound(round) || node == server) return;
        // Without the mask a worker sits out until the next voting round.
        if (!TakeIndexSet(node, server, round, kMask, k_, /*exact=*/true, s.mask)) s.mask.clear();
        return;
      case kValues:
        if (node == server && !s.mask.empty()) Average(s, node, round);
        return;
      case kMean:
        if (node != server) {
          const auto m = TakeValues(node, server, round, kMean);
          // A worker that misses the mean keeps its accumulator: its model lags this round.
          if (!m || s.mask.empty()) return;
          if (lossy_) {
            DecodeRounded(*m, server, round, s.vals);
          } else if (k_) {
            std::memcpy(s.vals.data(), m->body.data(), 4ull * k_);
          }
        }
        Apply(s, x);
        return;
    }
  }

 private:
  // The server: the mean of the value vectors that arrived, in node order (its own in its place).
  void Average(State& s, int node, uint32_t round) const {
    std::vector<double>& sum = s.sum;
    sum.assign(k_, 0.0);
    int got = 0;
    for (int from = 0; from < ctx_.nodes; ++from) {
      if (from == node) {
        for (uint32_t k = 0; k < k_; ++k) sum[k] += s.vals[k];
        ++got;
        continue;
      }
      const auto m = TakeValues(node, from, round, kValues);
      if (!m) continue;
      if (lossy_) {
        DecodeRounded(*m, from, round, s.resid);
        for (uint32_t k = 0; k < k_; ++k) sum[k] += s.resid[k];
      } else {
        for (uint32_t k = 0; k < k_; ++k) sum[k] += comm::DenseF32At(m->body, k);
      }
      ++got;
    }
    for (uint32_t k = 0; k < k_; ++k) s.vals[k] = static_cast<float>(sum[k] / got);
  }
};

// vote.mode = all_to_all: phase 0 every node sends its vote to every other node and tallies
// them all; phases 1-2 are the exact all-reduce of the values on the mask.
class AllToAllVote final : public VoteCore {
 public:
  using VoteCore::VoteCore;
  int phases() const override { return 3; }

  void send(int phase, uint32_t round, int node, std::span<float> x) override {
    State& s = nodes_[node];
    if (phase > 0) {
      if (phase == 1) Gather(s);
      average_->send(phase - 1, round, node, s.vals);
      return;
    }
    RescaleMemory(s, round);
    Accumulate(s, x);
    if (!VoteRound(round)) return;
    Vote(s);
    comm::FrameHeader h = Header(round, node, phase);
    EncodeIndexSet(s, s.vote, h);
    BroadcastFrame(h, node, s.bytes);
  }

  void receive(int phase, uint32_t round, int node, std::span<float> x) override {
    State& s = nodes_[node];
    if (phase == 0) {
      if (VoteRound(round)) TallyVotes(s, node, round, s.mask);
      return;
    }
    average_->receive(phase - 1, round, node, s.vals);
    if (phase == 2) Apply(s, x);
  }
};

// vote.pipeline (server mode): two exchanges per round. Phase 0: a worker sends [values on the
// current mask][vote for the next]; phase 1: the server sends [mean][next mask].
class PipelinedVote final : public VoteCore {
 public:
  using VoteCore::VoteCore;
  int phases() const override { return 2; }
  // vote.pipeline, phase 0: values on the current mask, then the vote for the next one.
  // Phase 1 (server): the mean on the current mask, then the next mask.
  void send(int phase, uint32_t round, int node, std::span<float> x) override {
    State& s = nodes_[node];
    const int server = o_.server;
    comm::FrameHeader h = Header(round, node, phase);
    h.codec = static_cast<uint8_t>(comm::Codec::kControl);
    h.dimension = Dim();
    s.bytes.clear();
    if (phase == 0) {
      RescaleMemory(s, round);
      Accumulate(s, x);
      if (!s.mask.empty()) {
        Gather(s);
        if (node != server) {  // rounded values; what rounding took stays (Release)
          AppendRounded(s.vals, s);
          for (uint32_t k = 0; k < k_; ++k) s.resid[k] = s.vals[k] - s.resid[k];
        }
        Release(s);  // the values have left: the vote sees what remains
      }
      // The mask is used one local step later: vote on the accumulator as that step will
      // leave it, predicted by this round's change (which a coordinate just sent needs to
      // be chosen again at once).
      s.ahead.resize(Dim());
      for (size_t k = 0; k < x.size(); ++k)
        s.ahead[k] = s.a[k] + (s.u.empty() ? x[k] - s.x[k] : s.u[k]);
      Vote(s, s.ahead);
      if (node == server) return;
      compress::EncodeIndices(s.vote, Dim(), ctx_.compressor.index_codec, s.bytes);
      h.count = static_cast<uint32_t>(s.vote.size());
      h.receiver = server;
      ctx_.transport->send(comm::EncodeFrame(h, s.bytes));
      return;
    }
    if (node != server) return;
    if (!s.mask.empty()) {
      if (lossy_) {
        AppendRoundedMean(s);
      } else {
        compress::EncodeValues(s.vals, values_, nullptr, s.bytes);
      }
    }
    compress::EncodeIndices(s.next, Dim(), ctx_.compressor.index_codec, s.bytes);
    h.count = k_;
    BroadcastFrame(h, server, s.bytes);
  }

  void receive(int phase, uint32_t round, int node, std::span<float> x) override {
    State& s = nodes_[node];
    const int server = o_.server;
    if (phase == 0) {
      if (node != server) return;
      s.tally.assign(Dim(), 0);
      for (uint32_t k : s.vote) ++s.tally[k];
      std::vector<double>& sum = s.sum;
      sum.assign(s.mask.empty() ? 0 : k_, 0.0);
      for (uint32_t k = 0; k < sum.size(); ++k) sum[k] = s.vals[k];
      for (int from = 0; from < ctx_.nodes; ++from) {
        if (from == node) continue;
        const detail::Message m = *Take(node, from, round, 0, comm::Codec::kControl, Dim());
        ByteReader in(m.body, "majority_vote: values and vote");
        if (!s.mask.empty()) {
          compress::DecodeValues(in, k_, s.resid);
          for (uint32_t k = 0; k < k_; ++k) sum[k] += s.resid[k];
        }
        ReadIndexSet(in, from, round, m.count, kv_, /*exact=*/false, s.idx);
        for (uint32_t k : s.idx) ++s.tally[k];
      }
      for (uint32_t k = 0; k < sum.size(); ++k) s.vals[k] = static_cast<float>(sum[k] / ctx_.nodes);
      SelectMask(s, round, s.next);
      return;
    }
    if (node != server) {
      const detail::Message m = *Take(node, server, round, 1, comm::Codec::kControl, Dim());
      ByteReader in(m.body, "majority_vote: mean and mask");
      if (!s.mask.empty()) compress::DecodeValues(in, k_, s.vals);
      ReadIndexSet(in, server, round, m.count, k_, /*exact=*/true, s.next);
    }
    Step(s);
    s.mask.swap(s.next);
    std::copy(s.x.begin(), s.x.end(), x.begin());
  }
};

}  // namespace

AlgorithmPlugin MajorityVotePlugin() {
  AlgorithmPlugin p;
  p.make = [](const AlgorithmContext& ctx) -> std::unique_ptr<Algorithm> {
    const VoteOptions o = ctx.options_or_default<VoteOptions>();
    if (o.mode == VoteOptions::Mode::kAllToAll) return std::make_unique<AllToAllVote>(ctx);
    if (o.pipeline) return std::make_unique<PipelinedVote>(ctx);
    return std::make_unique<ServerVote>(ctx);
  };
  p.traits.mixes_models = false;  // its messages are the local steps' updates
  p.keys = VoteKeys();
  p.parse = ParseVoteOptions;
  return p;
}

}  // namespace murmur::algo
