// A compressor and an algorithm of your own, registered from outside murmur's tree, then used
// by name in a config like the built-in ones:
//   own_plugins CONFIG [OUT_DIR]
//
// - compressor "block": keeps one random contiguous block of ceil(ratio * n) coordinates and
//   sends it as murmur's sparse payload (any receiver decodes it); used here by CHOCO-SGD.
// - algorithm "uniform_gossip": each node sends its model to its out-neighbours and replaces it
//   by the plain mean of itself and what arrived (a D-PSGD with uniform weights).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <numeric>

#include "murmur/algo/algorithm.h"
#include "murmur/comm/frame.h"
#include "murmur/compress/compressor.h"
#include "murmur/core/coding.h"
#include "murmur/graph/topology.h"
#include "murmur/run/runner.h"

using namespace murmur;

class BlockCompressor final : public compress::Compressor {
 public:
  explicit BlockCompressor(const compress::CompressorOptions& o) : o_(o) {}
  std::string_view name() const override { return "block"; }
  void compress(std::span<const float> x, Rng& rng, Bytes& out) const override {
    const auto n = static_cast<uint32_t>(x.size());
    const uint32_t k = compress::KeepCount(o_.ratio, n);
    const auto start = static_cast<uint32_t>(rng.next() % (n - k + 1));
    std::vector<uint32_t> idx(k);
    std::iota(idx.begin(), idx.end(), start);
    compress::EncodeSparsePayload(idx, x.subspan(start, k), n, o_.index_codec, {o_.value_codec},
                                  &rng, out);
  }

 private:
  compress::CompressorOptions o_;
};

class UniformGossip final : public algo::Algorithm {
 public:
  explicit UniformGossip(const algo::AlgorithmContext& ctx) : ctx_(ctx) {}
  std::string_view name() const override { return "uniform_gossip"; }
  void send(int, uint32_t round, int node, std::span<float> x) override {
    comm::FrameHeader h;
    h.round = round;
    h.sender = static_cast<uint32_t>(node);
    for (int to : ctx_.topology->at(round).out[node]) {
      h.receiver = static_cast<uint32_t>(to);
      ctx_.transport->send(comm::EncodeDenseF32(h, x));
    }
  }
  void receive(int, uint32_t round, int node, std::span<float> x) override {
    std::vector<float> sum(x.begin(), x.end());
    int count = 1;
    for (int from : ctx_.topology->at(round).in[node]) {
      const auto frame = ctx_.transport->receive(node, from, round, 0);
      if (!frame) continue;  // lost (faults): average what arrived
      const comm::FrameView view = comm::DecodeFrame(*frame);
      ByteReader in(comm::DenseF32Payload(view, x.size()), "uniform_gossip frame");
      std::vector<float> y(x.size());
      in.floats(y);
      for (size_t i = 0; i < x.size(); ++i) sum[i] += y[i];
      ++count;
    }
    for (size_t i = 0; i < x.size(); ++i) x[i] = sum[i] / static_cast<float>(count);
  }

 private:
  algo::AlgorithmContext ctx_;
};

int main(int argc, char** argv) {
  if (argc < 2) return std::fprintf(stderr, "usage: own_plugins CONFIG [OUT_DIR]\n"), 2;
  compress::RegisterCompressor(
      "block", "one random contiguous block of compression.ratio",
      [](const compress::CompressorOptions& o) { return std::make_unique<BlockCompressor>(o); });
  algo::AlgorithmPlugin plugin;
  plugin.make = [](const algo::AlgorithmContext& ctx) {
    return std::make_unique<UniformGossip>(ctx);
  };
  plugin.traits.full_sharing = true;
  algo::RegisterAlgorithm("uniform_gossip", "gossip with uniform weights", plugin);

  const std::string out = argc > 2 ? argv[2] : "runs/own_plugins";
  for (const char* algorithm : {"choco", "uniform_gossip"}) {
    run::Config config = run::Config::FromFile(argv[1]);
    config.set(std::string("algorithm.name=") + algorithm);
    if (std::string(algorithm) == "choco") {
      config.set("compression.name=block");
      config.set("compression.ratio=0.1");
      config.set("algorithm.gamma=0.3");
    }
    run::RunOptions options;
    options.out_dir = out + "/" + algorithm;
    options.overwrite = true;
    options.quiet = true;
    const run::RunResult r = run::RunExperiment(config, options);
    std::printf("%s: final accuracy %.4f, %.0f bytes sent per node\n", algorithm, r.final_acc_mean,
                r.bytes_sent_per_node);
  }
}
