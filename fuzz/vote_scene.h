// A majority-vote exchange for the vote fuzzer and its seeds: 3 nodes, d = 40, complete
// graph, K = K_v = 4. Round 0 runs in full; round 1 runs up to the chosen phase, whose frames
// are all sent but not yet received. The fuzzer swaps the frame `from` -> `to` for its input
// and lets `to` receive; make_seeds writes the genuine frame out; algo_test's
// MajorityVote.MalformedFramesAreProtocolErrors delivers edited ones.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "murmur/algo/algorithm.h"
#include "murmur/algo/majority_vote.h"
#include "murmur/comm/transport.h"
#include "murmur/core/rng.h"
#include "murmur/graph/topology.h"

namespace murmur::fuzz {

struct VoteCase {
  const char* what;
  compress::ValueCodec values;
  bool pipeline;
  int phase, from, to;
  bool mask;  // the frame carries the mask (exactly K indices)
};

// Every exchange of the plain (f32 and 4-bit values) and the pipelined (4-bit) protocol.
inline constexpr VoteCase kVoteCases[] = {
    {"vote, f32 run", compress::ValueCodec::kF32, false, 0, 1, 0, false},
    {"mask, f32 run", compress::ValueCodec::kF32, false, 1, 0, 1, true},
    {"values f32", compress::ValueCodec::kF32, false, 2, 1, 0, false},
    {"mean f32", compress::ValueCodec::kF32, false, 3, 0, 1, false},
    {"vote, 4-bit run", compress::ValueCodec::kQuant, false, 0, 1, 0, false},
    {"mask, 4-bit run", compress::ValueCodec::kQuant, false, 1, 0, 1, true},
    {"values 4-bit", compress::ValueCodec::kQuant, false, 2, 1, 0, false},
    {"mean 4-bit", compress::ValueCodec::kQuant, false, 3, 0, 1, false},
    {"values and vote, pipelined", compress::ValueCodec::kQuant, true, 0, 1, 0, false},
    {"mean and mask, pipelined", compress::ValueCodec::kQuant, true, 1, 0, 1, true},
};

class VoteScene {
 public:
  static constexpr int kNodes = 3;
  static constexpr int64_t kDim = 40;
  static constexpr uint32_t kRound = 1;

  explicit VoteScene(const VoteCase& c) : case_(c) {
    graph::TopologyOptions t;
    t.name = "complete";
    t.nodes = kNodes;
    topology_ = graph::MakeTopology(t);
    transport_ = comm::MakeInProcessTransport(kNodes);
    x_.assign(kNodes, std::vector<float>(kDim));
    Rng rng(5);
    for (float& v : x_[0]) v = static_cast<float>(rng.normal());
    for (auto& x : x_) x = x_[0];
    algo::AlgorithmContext ctx;
    ctx.nodes = kNodes;
    ctx.dim = kDim;
    ctx.topology = topology_.get();
    ctx.transport = transport_.get();
    ctx.initial_model = x_[0];
    algo::VoteOptions vote;
    vote.mask_ratio = 0.1;
    vote.value_codec = c.values;
    vote.value_bits = 4;
    vote.pipeline = c.pipeline;
    ctx.options = vote;
    algorithm_ = algo::MakeAlgorithm("majority_vote", ctx);
    for (uint32_t r = 0; r <= kRound; ++r) {
      for (int i = 0; i < kNodes; ++i) {  // local training
        Rng step(r, static_cast<uint64_t>(i), Stream::kData);
        for (float& v : x_[i]) v += 0.1f * static_cast<float>(step.normal());
      }
      for (int p = 0; p < algorithm_->phases(); ++p) {
        for (int i = 0; i < kNodes; ++i) algorithm_->send(p, r, i, x_[i]);
        if (r == kRound && p == c.phase) return;
        for (int i = 0; i < kNodes; ++i) algorithm_->receive(p, r, i, x_[i]);
      }
    }
  }

  // Takes the genuine frame out of the transport.
  comm::Bytes take() {
    return *transport_->receive(case_.to, case_.from, kRound, static_cast<uint8_t>(case_.phase));
  }
  // Puts `frame` in its place and lets the receiver read it.
  void deliver(comm::Bytes frame) {
    transport_->send(std::move(frame));
    algorithm_->receive(case_.phase, kRound, case_.to, x_[case_.to]);
  }

 private:
  VoteCase case_;
  std::unique_ptr<graph::Topology> topology_;
  std::unique_ptr<comm::Transport> transport_;
  std::unique_ptr<algo::Algorithm> algorithm_;
  std::vector<std::vector<float>> x_;
};

}  // namespace murmur::fuzz
