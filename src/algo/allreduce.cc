// All-reduce SGD: after the local steps every node holds the exact average of all models.
//
// The exchange is a bandwidth-optimal reduce-scatter + all-gather with direct sends: the
// vector is cut into n chunks, chunk c owned by node c (c*d/n .. (c+1)*d/n). Phase 0: every
// node sends chunk c of its vector to node c; node c averages the n chunks in node-id order.
// Phase 1: node c sends the averaged chunk to every other node. Each node thus sends
// 2(n-1) messages carrying 2(n-1)/n * d values in all: the same messages and bytes as a
// ring all-reduce (Patarasuk & Yuan 2009), while the sum order is the node-id order D-PSGD
// uses, so D-PSGD on a complete graph with uniform weights equals it bit for bit.
// Lost messages (injected faults, [faults]): the owner of a chunk averages the copies that
// arrived, and a node that misses an averaged chunk keeps its own values of it; the nodes'
// models then differ slightly until the next round's average.
#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include "internal.h"
#include "murmur/algo/algorithm.h"
#include "murmur/algo/kernels.h"

namespace murmur::algo {
namespace {

class AllReduce final : public Algorithm {
 public:
  AllReduce(const AlgorithmContext& ctx, int phase_base)
      : ctx_(ctx), phase_base_(phase_base), avg_(ctx.nodes) {
    detail::RequireNoCompression(ctx, "allreduce", "");
  }
  std::string_view name() const override { return "allreduce"; }
  int phases() const override { return 2; }

  void send(int phase, uint32_t round, int node, std::span<float> x) override {
    const int n = ctx_.nodes;
    comm::FrameHeader h;
    h.round = round;
    h.phase = static_cast<uint8_t>(phase_base_ + phase);
    h.sender = node;
    if (phase == 0) {
      for (int c = 0; c < n; ++c) {
        if (c == node) continue;
        h.receiver = c;
        ctx_.transport->send(comm::EncodeDenseF32(h, chunk(x, c)));
      }
    } else {
      std::span<float> mine = chunk(x, node);
      std::copy(avg_[node].begin(), avg_[node].end(), mine.begin());
      for (int to = 0; to < n; ++to) {
        if (to == node) continue;
        h.receiver = to;
        ctx_.transport->send(comm::EncodeDenseF32(h, mine));
      }
    }
  }

  void receive(int phase, uint32_t round, int node, std::span<float> x) override {
    const int n = ctx_.nodes;
    const float w = 1.0f / static_cast<float>(n);
    if (phase == 0) {
      std::span<float> mine = chunk(x, node);
      std::vector<comm::Bytes> frames(n);
      std::vector<WeightedSource> sources;
      for (int j = 0; j < n; ++j) {
        if (j == node) {
          sources.push_back({w, mine.data(), nullptr});
          continue;
        }
        auto frame = take(node, j, round, phase_base_);
        if (!frame) continue;
        frames[j] = std::move(*frame);
        sources.push_back({w, nullptr, payload(frames[j], j, mine.size()).data()});
      }
      // Lost chunks (injected faults): the mean of those that arrived.
      if (sources.size() < static_cast<size_t>(n))
        for (auto& src : sources) src.weight = 1.0f / static_cast<float>(sources.size());
      avg_[node].resize(mine.size());
      WeightedSum(avg_[node], sources);
    } else {
      for (int c = 0; c < n; ++c) {
        if (c == node) continue;
        std::span<float> dst = chunk(x, c);
        auto frame = take(node, c, round, phase_base_ + 1);
        if (!frame) continue;  // lost: this node keeps its own values of chunk c
        WeightedSource src{1.0f, nullptr, payload(*frame, c, dst.size()).data()};
        std::memcpy(dst.data(), src.bytes, dst.size() * 4);
      }
    }
  }

 private:
  std::span<float> chunk(std::span<float> x, int c) const {
    const int64_t n = ctx_.nodes, d = static_cast<int64_t>(x.size());
    const int64_t b = c * d / n, e = (c + 1) * d / n;
    return x.subspan(b, e - b);
  }
  std::optional<comm::Bytes> take(int node, int from, uint32_t round, int phase) {
    auto frame = ctx_.transport->receive(node, from, round, static_cast<uint8_t>(phase));
    MURMUR_CHECK(ProtocolError, frame.has_value() || ctx_.transport->faulty(), "allreduce: node ",
                 node, " got no phase-", phase, " message from node ", from, " in round ", round,
                 " (an exact average needs every message)");
    return frame;
  }
  std::span<const uint8_t> payload(const comm::Bytes& frame, int from, size_t len) {
    const comm::FrameView f = comm::DecodeFrame(frame);
    MURMUR_CHECK(ProtocolError, f.header.sender == static_cast<uint32_t>(from),
                 "allreduce: frame claims sender ", f.header.sender, ", expected ", from);
    return comm::DenseF32Payload(f, len);
  }

  AlgorithmContext ctx_;
  int phase_base_ = 0;  // frame phase of the reduce-scatter; the all-gather uses the next
  std::vector<std::vector<float>> avg_;
};

class Local final : public Algorithm {
 public:
  explicit Local(const AlgorithmContext&) {}
  std::string_view name() const override { return "local"; }
  int phases() const override { return 0; }
  void send(int, uint32_t, int, std::span<float>) override {}
  void receive(int, uint32_t, int, std::span<float>) override {}
};

}  // namespace

AlgorithmPlugin AllReducePlugin() {
  AlgorithmPlugin p;
  p.make = [](const AlgorithmContext& ctx) { return std::make_unique<AllReduce>(ctx, 0); };
  p.traits.full_sharing = true;
  return p;
}
std::unique_ptr<Algorithm> detail::MakeExactAverage(const AlgorithmContext& ctx, int phase_base) {
  AlgorithmContext c = ctx;
  c.compression = "none";
  return std::make_unique<AllReduce>(c, phase_base);
}
AlgorithmPlugin LocalPlugin() {
  AlgorithmPlugin p;
  p.make = [](const AlgorithmContext& ctx) { return std::make_unique<Local>(ctx); };
  p.traits.mixes_models = false;  // nothing is exchanged
  return p;
}

}  // namespace murmur::algo
