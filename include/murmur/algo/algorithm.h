// The decentralized-algorithm interface.
//
// A round is: every node runs its local steps (the runner), then the algorithm's
// communication phases. For each phase p the runner calls send(p, round, i, x_i) for every
// node (in parallel), waits until all sends are done, then calls receive(p, round, i, x_i)
// for every node (in parallel). x_i is node i's flat model vector; an algorithm may rewrite
// it in receive (and in send, for its own copy). Algorithms keep per-node state indexed by
// node id; a call for node i touches only node i's state, so calls for different nodes may
// run concurrently. Incoming messages are always combined in sender-id order, so results do
// not depend on thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "murmur/comm/transport.h"
#include "murmur/compress/compressor.h"
#include "murmur/core/registry.h"
#include "murmur/core/state_io.h"
#include "murmur/graph/topology.h"

namespace murmur {
class ThreadPool;
namespace comm {
class FaultModel;
}
}  // namespace murmur

namespace murmur::algo {

// relaysum (Vogels et al. 2021): what is relayed, how it is normalised, and over which tree.
struct RelayOptions {
  // model: relay models, fill missing contributions with the initial model (RelaySGD);
  // grad: relay local updates, missing ones count as 0 (RelaySum/Grad);
  // mix: relay beta * x + update and keep (1 - beta) of the own model (RelaySum/Mix).
  std::string variant = "model";
  double beta = 0.5;  // mix: consensus strength in (0, 1]; 1 is the model variant
  // Divide by the number of nodes n (the papers' choice) or by the count of contributions
  // received so far ("counts").
  std::string normalize = "nodes";
  // topology: relay over the topology itself (a tree topology, or any graph that is a tree);
  // bfs: over the breadth-first spanning tree of the topology from `root`.
  std::string spanning_tree = "topology";
  int root = 0;
};

// majority_vote (sparse SGD with majority voting, Ozfatura et al. 2020).
struct VoteOptions {
  std::string mode = "server";  // server (node `server` aggregates) or all_to_all
  int server = 0;
  double mask_ratio = 0.01;  // K = ceil(mask_ratio * d) coordinates sent per round (per layer)
  double vote_ratio = 0.0;   // K_v = ceil(vote_ratio * d) votes per node; 0 = mask_ratio
  int64_t mask_reuse = 1;    // vote every R rounds, reuse the mask in between
  bool layerwise = false;    // vote and select per tensor (AlgorithmContext::segments)
  // How the values on the mask are written, both directions (server mode): f32 (exact), f16,
  // bf16, or quant (value_bits bits per value and one f32 scale per message). What the rounding
  // leaves behind stays in the worker's accumulator (uplink) or in the server's error memory
  // (downlink), so it is sent later rather than lost.
  compress::ValueCodec value_codec = compress::ValueCodec::kF32;
  int value_bits = 8;
  // Momentum correction with momentum factor masking (Lin et al., Deep Gradient Compression,
  // 2018): u = momentum * u + (the local steps' change), a += u, and both a and u are cleared
  // on the mask once sent. 0 = off (the change goes into a directly).
  double momentum = 0.0;
  // The accumulators hold the local steps' changes, which carry the learning rate. With
  // rescale_memory, when the rate changes from one round to the next (train.lr_decay_rounds,
  // train.warmup_rounds) every node's accumulator (and velocity, and the server's error
  // memory) is multiplied by new rate / old rate, so what was left at the old rate is sent at
  // the new one, as if the memory held gradients and the rate were applied when it is sent.
  // Needs AlgorithmContext::learning_rate.
  bool rescale_memory = false;
  // Global momentum (heavy ball on the common update): every node keeps the same velocity
  // w = global_momentum * w + (the round's mean on the mask) and moves its model by w, on
  // every coordinate. With mask_ratio = 1 this is all-reduce SGD with momentum; 0 = off.
  double global_momentum = 0.0;
  // Server mode: two exchanges per round instead of four. A worker's values on this round's
  // mask travel with its vote for the next mask; the server's mean travels with the next
  // mask. Half the frame headers; the mask is voted one round earlier.
  bool pipeline = false;
};

// jwins (Dhasade et al. 2023): wavelet-domain sparsification with randomized cut-off.
struct JwinsOptions {
  std::string wavelet = "sym2";  // see compress::WaveletNames()
  int level = 4;
  // Cut-offs alpha, one drawn uniformly per node and round (the paper's list).
  std::vector<double> alpha_list = {0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 1.0};
  double metadata_cap = 0.5;  // alpha >= cap: send every coefficient and reset the accumulator
  bool accumulate_averaging = true;  // the accumulator also takes the changes averaging makes
  // Share counter file: "total" (per coefficient, summed over nodes) or "per_node".
  std::string share_counts = "total";
  bool save_accumulator = false;  // also write every node's accumulator at the end
};

// A file an algorithm leaves in the run directory at the end of a run.
struct OutputFile {
  std::string name;
  std::string content;
};

struct AlgorithmContext {
  int nodes = 0;
  int64_t dim = 0;  // length of every x_i
  uint64_t seed = 1;
  const graph::Topology* topology = nullptr;  // outlives the algorithm
  comm::Transport* transport = nullptr;       // outlives the algorithm
  // Compression settings (compression.*); algorithms without compression require "none".
  std::string compression = "none";
  compress::CompressorOptions compressor;
  // Total rounds of the run, run.final_gossip_rounds included (algorithms that act after the
  // last round need it).
  int64_t rounds = 0;
  // The learning rate of a round (train.*), for algorithms whose state carries it; empty when
  // the caller has no schedule.
  std::function<double(int64_t round)> learning_rate;
  // Consensus step size of choco / sparse_push / scsp, in (0, 1]. 0 = tune it at
  // construction by compressed gossip on Gaussian vectors (see tune_gamma.h).
  double gamma = 0.0;
  // Steps per octave of the tuner's log grid of gamma (algorithm.gamma_steps_per_octave).
  int gamma_steps_per_octave = 1;
  // scsp: exact global average of the models every N rounds (0 = never) and after the last
  // round. Each average costs one all-reduce: 2 (n-1)/n * 4d payload bytes per node.
  int64_t average_every = 0;
  bool final_average = true;
  // The vector every node starts from, when they all start from the same one (the runner's
  // common initial model); empty otherwise. choco / sparse_push / scsp start their public
  // copies from it when copies_from_initial is set (else from 0, as in the papers).
  std::span<const float> initial_model;
  bool copies_from_initial = true;
  RelayOptions relay;
  VoteOptions vote;
  JwinsOptions jwins;
  // Length of each tensor of the flat model vector, in order (empty: one segment).
  std::vector<int64_t> segments;
  // The nodes this process runs, in increasing order; empty = every node. send, receive,
  // checkpoint and output_state are called for these only, and an algorithm allocates its
  // per-node state for these only (under MPI every rank hosts its share of the nodes).
  std::vector<int> hosted;
  bool hosts(int node) const;
};

class Algorithm {
 public:
  virtual ~Algorithm() = default;
  virtual std::string_view name() const = 0;
  // Number of communication phases per round.
  virtual int phases() const { return 1; }
  virtual void send(int phase, uint32_t round, int node, std::span<float> x) = 0;
  virtual void receive(int phase, uint32_t round, int node, std::span<float> x) = 0;
  // Whether a round without local steps still means something: the algorithm mixes the
  // models themselves (run.final_gossip_rounds runs such rounds after the training). False
  // where the messages are the local steps' updates (majority_vote) or there are none (local).
  virtual bool mixes_models() const { return true; }
  // Push-sum weight w_i of a node (x = w z); 1 for algorithms without push-sum. Call it
  // between rounds, not concurrently with receive(node).
  virtual double push_sum_weight(int node) const { return 1.0; }
  // Parameters the algorithm chose itself (e.g. an auto-tuned gamma), for the run summary.
  virtual std::vector<std::pair<std::string, double>> resolved_parameters() const { return {}; }
  // Files for the run directory, asked for once after the last round.
  virtual std::vector<OutputFile> outputs() const { return {}; }
  // The part of a node's state that outputs() reads, as bytes, and its inverse. When the
  // nodes are spread over processes (MPI), the writing process loads every other node's
  // state this way before calling outputs().
  virtual comm::Bytes output_state(int node) const { return {}; }
  virtual void set_output_state(int node, std::span<const uint8_t> bytes) {}
  // Saves, or loads when io.loading(), every part of a node's state that lives from one round
  // to the next (buffers, copies, accumulators, relay messages, RNG states), for checkpoints.
  // Called between rounds only, for one node at a time. Algorithms whose nodes keep nothing
  // between rounds (dpsgd, allreduce, local) keep this default.
  virtual void checkpoint(int node, StateIo& io) {}
};

// The communication of one round, the one loop that the runner, the gamma tuner and the tests
// share: for every phase, send() for each of `nodes` that is up in this round, the
// transport's exchange(), then receive() likewise. `x(i)` is node i's model. With a pool the
// nodes of a step run in parallel; without one, in the order given. `faults` may be null (every
// node is up).
void CommunicationRound(Algorithm& algorithm, comm::Transport& transport, uint32_t round,
                        std::span<const int> nodes,
                        const std::function<std::span<float>(int node)>& x,
                        ThreadPool* pool = nullptr, const comm::FaultModel* faults = nullptr);

using AlgorithmFactory = std::function<std::unique_ptr<Algorithm>(const AlgorithmContext&)>;
const Registry<AlgorithmFactory>& AlgorithmRegistry();
std::unique_ptr<Algorithm> MakeAlgorithm(const std::string& name, const AlgorithmContext& ctx);

// Factories of the built-ins (also reachable through the registry).
std::unique_ptr<Algorithm> MakeDpsgd(const AlgorithmContext& ctx);
std::unique_ptr<Algorithm> MakeAllReduce(const AlgorithmContext& ctx);
std::unique_ptr<Algorithm> MakeLocal(const AlgorithmContext& ctx);
std::unique_ptr<Algorithm> MakeChoco(const AlgorithmContext& ctx);
std::unique_ptr<Algorithm> MakeSgp(const AlgorithmContext& ctx);
std::unique_ptr<Algorithm> MakeSparsePush(const AlgorithmContext& ctx);
std::unique_ptr<Algorithm> MakeScsp(const AlgorithmContext& ctx);
std::unique_ptr<Algorithm> MakeRelaySum(const AlgorithmContext& ctx);
std::unique_ptr<Algorithm> MakeMajorityVote(const AlgorithmContext& ctx);
std::unique_ptr<Algorithm> MakeJwins(const AlgorithmContext& ctx);

}  // namespace murmur::algo
