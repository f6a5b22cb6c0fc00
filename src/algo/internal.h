// Building blocks shared by the algorithm implementations (not part of the public API).
#pragma once

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "murmur/algo/algorithm.h"

namespace murmur::algo::detail {

// The exact average of all nodes' vectors as a two-phase algorithm (reduce-scatter, then
// all-gather; see allreduce.cc) whose frames carry phases phase_base and phase_base + 1.
// Algorithms embed it for periodic exact averaging; it ignores ctx.compression.
std::unique_ptr<Algorithm> MakeExactAverage(const AlgorithmContext& ctx, int phase_base);

// Sends encode(h) to every out-neighbour of `node` in `round`'s graph, h carrying the round,
// the sender and each receiver (encode fills in codec and payload).
template <typename Encode>
void SendToOutPeers(const AlgorithmContext& ctx, uint32_t round, int node, Encode encode) {
  comm::FrameHeader h;
  h.round = round;
  h.sender = static_cast<uint32_t>(node);
  for (int to : ctx.topology->at(round).out[node]) {
    h.receiver = static_cast<uint32_t>(to);
    ctx.transport->send(encode(h));
  }
}

// What an algorithm needs of the mixing weights of every graph of the topology's period.
enum class Mixing {
  kDoublyStochastic,  // gossip averaging (dpsgd, choco): preserves the average
  kColumnStochastic,  // push-sum (sgp, sparse_push, scsp): preserves the sum
};
// Throws ConfigError naming topology.weights and `algo` when a graph's weights fall short;
// `hint` is appended to the message.
void RequireMixing(const AlgorithmContext& ctx, std::string_view algo, Mixing need,
                   std::string_view hint);
// Push-sum: the runner trains on z = x / w. Adds the change the local steps made to z to the
// numerator x unscaled, as SGP does (x += z' - x / w, written so that w == 1 gives x == z'
// exactly); on the first call x is empty and becomes z' (w starts at 1).
inline void AbsorbLocalSteps(std::vector<float>& x, float w, std::span<const float> z) {
  if (x.empty()) {
    x.assign(z.begin(), z.end());
    return;
  }
  const float keep = 1.0f - 1.0f / w;
  for (size_t k = 0; k < z.size(); ++k) x[k] = z[k] + x[k] * keep;
}
// z = x / w.
inline void Debias(std::span<const float> x, float w, std::span<float> z) {
  const float inv = 1.0f / w;
  for (size_t k = 0; k < z.size(); ++k) z[k] = x[k] * inv;
}

// Full-precision gossip of one vector per round and phase (gradient tracking, D²): sends v to
// every out-neighbour of `node` in `round`'s graph as a dense f32 frame of `phase`.
void SendDense(const AlgorithmContext& ctx, uint32_t round, uint8_t phase, int node,
               std::span<const float> v);
// out = sum_j w_ij v_j over `node` itself (v = self) and its in-neighbours' dense frames of
// (round, phase), computed as self + sum_j w_ij (v_j - self) in double, in node-id order, so
// that weights which do not sum to exactly 1 in float do not scale the vector. When messages
// are lost (injected faults) the weights of what arrived are renormalised to sum to 1, as dpsgd
// does. out may not alias self.
void GossipMix(const AlgorithmContext& ctx, std::string_view algo, uint32_t round, uint8_t phase,
               int node, std::span<const float> self, std::span<float> out);
// The same, in double (for state that integrates the mixing's output).
void GossipMix(const AlgorithmContext& ctx, std::string_view algo, uint32_t round, uint8_t phase,
               int node, std::span<const float> self, std::span<double> out);

// The dense f32 frames `node`'s in-neighbours sent it in (round, phase), in node-id order, with
// their mixing weights w_ij; messages lost to faults are left out (GossipMix, clipped_gossip).
struct DenseInbox;
DenseInbox TakeDenseInbox(const AlgorithmContext& ctx, std::string_view algo, uint32_t round,
                          uint8_t phase, int node, uint32_t dim);
// out[k] = self[k] + sum_j coef[j] (v_j[k] - self[k]) over the inbox's messages v_j, in double,
// coordinate by coordinate (out may be self).
void CentredMove(std::span<const float> self, const DenseInbox& in, std::span<const double> coef,
                 std::span<float> out);
void CentredMove(std::span<const float> self, const DenseInbox& in, std::span<const double> coef,
                 std::span<double> out);

// ctx with algorithm.gamma (GossipOptions) tuned as for choco when it is 0 (tune_gamma.h);
// BEER's consensus steps are CHOCO's.
AlgorithmContext WithTunedChocoGamma(const AlgorithmContext& ctx);

// Throws ConfigError naming compression.name when ctx.compression is not "none".
void RequireNoCompression(const AlgorithmContext& ctx, std::string_view algo,
                          std::string_view hint);

}  // namespace murmur::algo::detail
