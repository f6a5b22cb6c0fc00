// D-PSGD: Lian, Zhang, Zhang, Hsieh, Zhang, Liu, "Can Decentralized Algorithms Outperform
// Centralized Algorithms? A Case Study for Decentralized Parallel Stochastic Gradient
// Descent", NeurIPS 2017.
//
// After its local steps, node i sends x_i in full precision to its out-neighbours and sets
// x_i <- sum_j w_ij x_j over itself and its in-neighbours, in node-id order. W must be doubly
// stochastic (checked for every graph of the topology's period) so the network average is
// preserved. If a message is missing (an injected fault), the weights of the vectors that
// did arrive are renormalised to sum to 1, the usual safe choice for gossip.
//
// Frames: dense f32 (kDenseF32), or with a lossless compression.value_codec (zstd, auto) a
// dense compress:: payload of the same values (kCompressed), encoded once per round.
#include <algorithm>
#include <cmath>
#include <vector>

#include "internal.h"
#include "messages.h"
#include "murmur/algo/algorithm.h"
#include "murmur/algo/kernels.h"
#include "murmur/compress/codecs.h"
#include "murmur/compress/compressor.h"

namespace murmur::algo {
namespace {

class Dpsgd final : public Algorithm {
 public:
  explicit Dpsgd(const AlgorithmContext& ctx)
      : ctx_(ctx), scratch_(ctx.nodes), coded_(ctx.compressor.value_codec != ValueCodec::kF32) {
    detail::RequireNoCompression(ctx, "dpsgd", " or use choco");
    detail::RequireMixing(ctx, "dpsgd", detail::Mixing::kDoublyStochastic,
                          "use metropolis_hastings (or a regular graph with uniform)");
    MURMUR_CHECK(ConfigError, compress::LosslessValueCodec(ctx.compressor.value_codec),
                 "compression.value_codec: dpsgd sends full precision; use f32, zstd or auto "
                 "(got '",
                 compress::ValueCodecName(ctx.compressor.value_codec), "')");
  }
  std::string_view name() const override { return "dpsgd"; }

  void send(int phase, uint32_t round, int node, std::span<float> x) override {
    if (!coded_) {
      detail::SendToOutPeers(ctx_, round, node, [&](const comm::FrameHeader& h) {
        return comm::EncodeDenseF32(h, x);
      });
      return;
    }
    thread_local comm::Bytes payload;
    payload.clear();
    compress::EncodeDensePayload(x, {ctx_.compressor.value_codec}, nullptr, payload);
    detail::SendToOutPeers(ctx_, round, node, [&](const comm::FrameHeader& h) {
      return detail::EncodeCompressedFrame(h, static_cast<uint32_t>(x.size()), payload,
                                           std::nullopt);
    });
  }

  void receive(int phase, uint32_t round, int node, std::span<float> x) override {
    const graph::Graph& g = ctx_.topology->at(round);
    std::vector<comm::Bytes> frames;
    std::vector<WeightedSource> sources;
    frames.reserve(g.in[node].size());
    thread_local std::vector<std::vector<float>> decoded;  // coded frames' values
    decoded.resize(std::max(decoded.size(), g.in[node].size()));
    double total = 0.0;
    bool self_added = false, missing = false;
    auto add_self = [&] {
      sources.push_back({static_cast<float>(g.w_self[node]), x.data(), nullptr});
      total += g.w_self[node];
      self_added = true;
    };
    for (size_t k = 0; k < g.in[node].size(); ++k) {
      const int from = g.in[node][k];
      if (!self_added && from > node) add_self();
      auto frame = ctx_.transport->receive(node, from, round, 0);
      if (!frame) {
        missing = true;
        continue;
      }
      total += g.w_in[node][k];
      if (coded_) {
        const detail::Message m =
            detail::ParseMessage(std::move(*frame), "dpsgd", node, from, round, 0,
                                 comm::Codec::kCompressed, static_cast<uint32_t>(x.size()));
        decoded[k].resize(x.size());
        compress::Decompress(m.body, decoded[k]);
        sources.push_back({static_cast<float>(g.w_in[node][k]), decoded[k].data(), nullptr});
        continue;
      }
      frames.push_back(std::move(*frame));
      const comm::FrameView f = comm::DecodeFrame(frames.back());
      MURMUR_CHECK(ProtocolError,
                   f.header.sender == static_cast<uint32_t>(from) && f.header.round == round,
                   "node ", node, " expected round ", round, " from node ", from, ", got round ",
                   f.header.round, " from node ", f.header.sender);
      sources.push_back({static_cast<float>(g.w_in[node][k]), nullptr,
                         comm::DenseF32Payload(f, x.size()).data()});
    }
    if (!self_added) add_self();
    if (missing)
      for (auto& s : sources) s.weight = static_cast<float>(s.weight / total);
    std::vector<float>& out = scratch_[node];
    out.resize(x.size());
    WeightedSum(out, sources);
    std::copy(out.begin(), out.end(), x.begin());
  }

 private:
  using ValueCodec = compress::ValueCodec;
  AlgorithmContext ctx_;
  std::vector<std::vector<float>> scratch_;
  bool coded_;  // frames carry compress:: payloads through the lossless value codec
};

}  // namespace

AlgorithmPlugin DpsgdPlugin() {
  AlgorithmPlugin p;
  p.make = [](const AlgorithmContext& ctx) { return std::make_unique<Dpsgd>(ctx); };
  p.traits.full_sharing = true;
  p.traits.codes_values = true;  // dense frames through a lossless compression.value_codec
  return p;
}

}  // namespace murmur::algo
