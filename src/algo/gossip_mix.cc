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

DenseInbox TakeDenseInbox(const AlgorithmContext& ctx, std::string_view algo, uint32_t round,
                          uint8_t phase, int node, uint32_t dim) {
  const graph::Graph& g = ctx.topology->at(round);
  DenseInbox in;
  in.messages.reserve(g.in[node].size());
  for (size_t k = 0; k < g.in[node].size(); ++k) {
    auto m = TryTakeMessage(*ctx.transport, algo, node, g.in[node][k], round, phase,
                            comm::Codec::kDenseF32, dim);
    if (!m) continue;
    in.messages.push_back(std::move(*m));
    in.weights.push_back(g.w_in[node][k]);
  }
  return in;
}

namespace {
template <typename Out>
void Move(std::span<const float> self, const DenseInbox& in, std::span<const double> coef,
          std::span<Out> out) {
  for (size_t k = 0; k < self.size(); ++k) {
    const double mine = self[k];
    double sum = 0.0;
    for (size_t j = 0; j < in.messages.size(); ++j)
      sum += coef[j] * (static_cast<double>(comm::DenseF32At(in.messages[j].body, k)) - mine);
    out[k] = static_cast<Out>(mine + sum);
  }
}

// The centred form self + sum_j w_j (v_j - self), accumulated in double: W's float weights do
// not sum to exactly 1 (1/3), and algorithms that integrate the mixing's output (D²'s
// correction) would otherwise drift by that excess every round.
template <typename Out>
void Mix(const AlgorithmContext& ctx, std::string_view algo, uint32_t round, uint8_t phase,
         int node, std::span<const float> self, std::span<Out> out) {
  DenseInbox in = TakeDenseInbox(ctx, algo, round, phase, node, static_cast<uint32_t>(self.size()));
  double total = ctx.topology->at(round).w_self[node];
  for (double w : in.weights) total += w;
  for (double& w : in.weights) w /= total;
  Move(self, in, in.weights, out);
}
}  // namespace

void CentredMove(std::span<const float> self, const DenseInbox& in, std::span<const double> coef,
                 std::span<float> out) {
  Move(self, in, coef, out);
}

void CentredMove(std::span<const float> self, const DenseInbox& in, std::span<const double> coef,
                 std::span<double> out) {
  Move(self, in, coef, out);
}

void GossipMix(const AlgorithmContext& ctx, std::string_view algo, uint32_t round, uint8_t phase,
               int node, std::span<const float> self, std::span<float> out) {
  Mix(ctx, algo, round, phase, node, self, out);
}

void GossipMix(const AlgorithmContext& ctx, std::string_view algo, uint32_t round, uint8_t phase,
               int node, std::span<const float> self, std::span<double> out) {
  Mix(ctx, algo, round, phase, node, self, out);
}

}  // namespace murmur::algo::detail
