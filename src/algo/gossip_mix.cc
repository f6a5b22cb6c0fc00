// Full-precision gossip of a vector (internal.h): the building block of gradient tracking and
// D², which mix their own vectors (models plus corrections) with W.
#include <vector>

#include "internal.h"
#include "messages.h"

namespace murmur::algo::detail {

void SendDense(const AlgorithmContext& ctx, uint32_t round, uint8_t phase, int node,
               std::span<const float> v) {
  SendToOutPeers(ctx, round, node, [&](comm::FrameHeader h) {
    h.phase = phase;
    return comm::EncodeDenseF32(h, v);
  });
}

namespace {
template <typename Out>
void Mix(const AlgorithmContext& ctx, std::string_view algo, uint32_t round, uint8_t phase,
         int node, std::span<const float> self, std::span<Out> out) {
  const graph::Graph& g = ctx.topology->at(round);
  const uint32_t dim = static_cast<uint32_t>(self.size());
  std::vector<Message> messages;
  std::vector<double> weights;
  messages.reserve(g.in[node].size());
  double total = g.w_self[node];
  for (size_t k = 0; k < g.in[node].size(); ++k) {
    auto m = TryTakeMessage(*ctx.transport, algo, node, g.in[node][k], round, phase,
                            comm::Codec::kDenseF32, dim);
    if (!m) continue;
    messages.push_back(std::move(*m));
    weights.push_back(g.w_in[node][k]);
    total += g.w_in[node][k];
  }
  // The centred form self + sum_j w_j (v_j - self), accumulated in double: W's float weights
  // do not sum to exactly 1 (1/3), and algorithms that integrate the mixing's output (D²'s
  // correction) would otherwise drift by that excess every round.
  for (double& w : weights) w /= total;
  for (size_t k = 0; k < self.size(); ++k) {
    const double mine = self[k];
    double sum = 0.0;
    for (size_t j = 0; j < messages.size(); ++j)
      sum += weights[j] * (static_cast<double>(comm::DenseF32At(messages[j].body, k)) - mine);
    out[k] = static_cast<Out>(mine + sum);
  }
}
}  // namespace

void GossipMix(const AlgorithmContext& ctx, std::string_view algo, uint32_t round, uint8_t phase,
               int node, std::span<const float> self, std::span<float> out) {
  Mix(ctx, algo, round, phase, node, self, out);
}

void GossipMix(const AlgorithmContext& ctx, std::string_view algo, uint32_t round, uint8_t phase,
               int node, std::span<const float> self, std::span<double> out) {
  Mix(ctx, algo, round, phase, node, self, out);
}

}  // namespace murmur::algo::detail
