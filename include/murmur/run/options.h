// Translation of a Config into the option structs of each module, in one place, so the
// runner, benchmarks and tools read the keys the same way.
#pragma once

#include "murmur/algo/algorithm.h"
#include "murmur/comm/devices.h"
#include "murmur/comm/faults.h"
#include "murmur/comm/network_model.h"
#include "murmur/compress/compressor.h"
#include "murmur/data/dataset.h"
#include "murmur/data/partition.h"
#include "murmur/graph/topology.h"
#include "murmur/run/config.h"
#include "murmur/train/node_model.h"

namespace murmur::run {

data::DataOptions DataOptionsFrom(const Config& c);
data::PartitionOptions PartitionOptionsFrom(const Config& c);
graph::TopologyOptions TopologyOptionsFrom(const Config& c);
train::ModelOptions ModelOptionsFrom(const Config& c);
train::OptimizerOptions OptimizerOptionsFrom(const Config& c);
compress::CompressorOptions CompressorOptionsFrom(const Config& c);
comm::NetworkOptions NetworkOptionsFrom(const Config& c);
comm::FaultOptions FaultOptionsFrom(const Config& c);  // [faults]
// The event-driven simulation: sim.*, device.*, churn.*, energy.*.
struct SimOptions {
  bool event = false;     // sim.mode = "event"
  double window_s = 1.0;  // asynchronous algorithms: simulated seconds per round of metrics.csv
};
SimOptions SimOptionsFrom(const Config& c);
comm::DeviceOptions DeviceOptionsFrom(const Config& c);
comm::ChurnOptions ChurnOptionsFrom(const Config& c);
comm::EnergyOptions EnergyOptionsFrom(const Config& c);

// Malicious nodes (faults.byzantine, faults.attack*): which nodes, what they send instead of
// their model, from which round.
struct ByzantineOptions {
  enum class Attack { kSignFlip, kGaussian, kAlie, kIpm };
  std::vector<int> nodes;  // sorted, distinct, < run.nodes, fewer than run.nodes
  Attack attack = Attack::kSignFlip;
  int64_t from = 0;
  double scale = 1.0;
  bool active() const { return !nodes.empty(); }
  // alie and ipm read every honest node's model.
  bool needs_honest_models() const { return attack == Attack::kAlie || attack == Attack::kIpm; }
};
ByzantineOptions ByzantineOptionsFrom(const Config& c, int nodes);
// run.threads, with 0 resolved to the hardware threads shared by the `processes_here`
// murmur processes on this machine (MPI ranks), capped at the nodes this process runs
// (`local_nodes`; 0 = run.nodes); at least 1.
int ThreadsFrom(const Config& c, int processes_here = 1, int local_nodes = 0);

// train.lr, train.warmup_rounds, train.lr_decay_rounds, train.lr_decay_factor.
struct LearningRateSchedule {
  double lr = 0.1;
  int64_t warmup_rounds = 0;  // linear warm-up from lr / 10 over these rounds
  std::vector<int64_t> decay_rounds;
  double decay_factor = 0.1;  // applied at each of decay_rounds
  double at(int64_t round) const;
};
LearningRateSchedule LearningRateScheduleFrom(const Config& c);

// The keys of the round loop itself: run.*, output.*, the training loop's train.* keys,
// network.compute and comm.*.
struct RunSettings {
  int nodes = 0;
  int64_t rounds = 0;               // training rounds
  int64_t final_gossip_rounds = 0;  // then rounds of communication alone
  uint64_t seed = 1;
  std::string algorithm;
  int local_steps = 1;
  int batch_size = 32;
  LearningRateSchedule lr;
  bool model_compute = true;  // network.compute = "model": compute time from the formula
  double seconds_per_sample = 0.0;
  int64_t eval_every = 0;
  int64_t eval_samples = 0;
  bool eval_avg_model = false;
  bool save_model = true, save_node_models = false;
  std::vector<double> acc_targets;
  int64_t checkpoint_every = 0;
  int checkpoint_keep = 2;
  std::string out_dir;  // output.dir
  std::string transport, mapping;
  double comm_timeout_s = 0.0;
  int64_t total_rounds() const { return rounds + final_gossip_rounds; }
};
RunSettings RunSettingsFrom(const Config& c);

// The config's part of an algorithm's context (algorithm.*, compression.*, relaysum.*, vote.*,
// jwins.*), for a model whose tensors have the lengths `segments`; the caller adds what the
// run builds (topology, transport, dimension, initial model). Checks the combinations of
// these keys that no single algorithm sees.
algo::AlgorithmContext AlgorithmContextFrom(const Config& c, std::vector<int64_t> segments);

}  // namespace murmur::run
