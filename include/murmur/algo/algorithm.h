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

#include <any>
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
#include "murmur/core/options.h"
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
  // The vector every node starts from, when they all start from the same one (the runner's
  // common initial model); empty otherwise.
  std::span<const float> initial_model;
  // The algorithm's own options (its registry entry's parse() made them from its keys): a
  // RelayOptions for relaysum, a VoteOptions for majority_vote, a GossipOptions for choco,
  // sparse_push and scsp, ...; empty = its defaults.
  std::any options;
  template <typename T>
  T options_or_default() const;
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

template <typename T>
T AlgorithmContext::options_or_default() const {
  if (!options.has_value()) return T{};
  const T* o = std::any_cast<T>(&options);
  MURMUR_ASSERT(o, "the algorithm was handed another algorithm's options");
  return *o;
}

// What the runner, the config checks and the reports need to know of an algorithm, so that they
// ask these and never its name.
struct AlgorithmTraits {
  // Its messages go through a compressor (compression.name); the others require "none".
  bool compressed = false;
  // It writes values through compression.value_codec while compression.name = "none" (its
  // own sparsification, or dense frames with a lossless codec).
  bool codes_values = false;
  // Without compression it exchanges exact models: a full-sharing reference for `compare`.
  bool full_sharing = false;
  // It runs on directed and time-varying graphs (push-sum, column-stochastic weights).
  bool directed_graphs = false;
  // A round without local steps still means something: it mixes the models themselves
  // (run.final_gossip_rounds). False where the messages are the local steps' updates
  // (majority_vote) or there are none (local, or all-reduce's models are already equal).
  bool mixes_models = true;
  // It has the consensus step algorithm.gamma, and 0 means "tune it".
  bool tunes_gamma = false;
  // It runs without rounds, in the event-driven simulation (sim.mode = "event"): the plugin's
  // make_async builds it, and make refuses.
  bool asynchronous = false;
};

using AlgorithmFactory = std::function<std::unique_ptr<Algorithm>(const AlgorithmContext&)>;
class AsyncAlgorithm;  // algo/async.h
using AsyncAlgorithmFactory =
    std::function<std::unique_ptr<AsyncAlgorithm>(const AlgorithmContext&)>;

// A registry entry's value: everything murmur knows of an algorithm besides its name and help.
struct AlgorithmPlugin {
  AlgorithmFactory make;
  AsyncAlgorithmFactory make_async;  // asynchronous algorithms only (traits.asynchronous)
  AlgorithmTraits traits;
  // Its own keys (one config section, e.g. vote.*): the config schema and docs/config.md
  // include them; empty for algorithms without options.
  std::vector<OptionSpec> keys;
  // Reads those keys (and any other it checks against) into its options struct, for
  // AlgorithmContext::options; empty for algorithms without options.
  std::function<std::any(const OptionReader&)> parse;
};

const Registry<AlgorithmPlugin>& AlgorithmRegistry();
// Adds an algorithm from outside murmur (a program linking murmur::murmur, examples/cpp/):
// algorithm.name then accepts `name`. Call it at start-up, from one thread, before the first
// run::Config is made: the config schema takes the algorithms' own keys (plugin.keys) when it
// is first built. A taken name is a ConfigError.
void RegisterAlgorithm(std::string name, std::string help, AlgorithmPlugin plugin);
const AlgorithmPlugin& GetAlgorithm(const std::string& name);
// Builds the named algorithm with its plugin's factory (which runs the algorithm's set-up
// steps first: choco / sparse_push / scsp tune gamma when it is 0).
std::unique_ptr<Algorithm> MakeAlgorithm(const std::string& name, const AlgorithmContext& ctx);

// The built-ins (each in its own .cc; registered in algorithm.cc).
AlgorithmPlugin DpsgdPlugin();
AlgorithmPlugin AllReducePlugin();
AlgorithmPlugin LocalPlugin();
AlgorithmPlugin ChocoPlugin();
AlgorithmPlugin SgpPlugin();
AlgorithmPlugin SparsePushPlugin();
AlgorithmPlugin ScspPlugin();
AlgorithmPlugin RelaySumPlugin();
AlgorithmPlugin MajorityVotePlugin();
AlgorithmPlugin JwinsPlugin();
AlgorithmPlugin GradientTrackingPlugin();
AlgorithmPlugin D2Plugin();
AlgorithmPlugin ExactDiffusionPlugin();
AlgorithmPlugin EpidemicPlugin();
AlgorithmPlugin BeerPlugin();
AlgorithmPlugin ClippedGossipPlugin();
AlgorithmPlugin AdPsgdPlugin();        // asynchronous (algo/async.h)
AlgorithmPlugin AsyncPushSumPlugin();  // asynchronous (algo/async.h)

}  // namespace murmur::algo
