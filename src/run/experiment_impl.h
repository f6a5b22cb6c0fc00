// Experiment::Impl, shared by the files that implement it: experiment.cc (set-up, rounds,
// evaluation, checkpoints, the end) and experiment_event.cc (the event-driven simulation:
// churn, device step times, energy, the asynchronous engine).
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "event_sim.h"
#include "murmur/algo/algorithm.h"
#include "murmur/algo/async.h"
#include "murmur/comm/cluster.h"
#include "murmur/comm/devices.h"
#include "murmur/comm/faults.h"
#include "murmur/comm/network_model.h"
#include "murmur/comm/transport.h"
#include "murmur/core/state_io.h"
#include "murmur/core/thread_pool.h"
#include "murmur/data/dataset.h"
#include "murmur/data/partition.h"
#include "murmur/graph/topology.h"
#include "murmur/run/checkpoint.h"
#include "murmur/run/experiment.h"
#include "murmur/run/metrics.h"
#include "murmur/run/options.h"
#include "murmur/run/run_dir.h"
#include "murmur/train/blas.h"
#include "murmur/train/node_model.h"
#include "murmur/train/quasi_global.h"

namespace murmur::run {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

inline double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

struct NodeEval {
  double acc = 0.0, loss = 0.0;
};

// metrics.csv's columns (the simulation adds its own, Impl::metric_columns).
const std::vector<std::string>& kMetricColumns();
// The first non-finite coordinate of v, or -1.
int64_t FirstNonFiniteIn(std::span<const float> v);

class Experiment::Impl {
 public:
  Impl(const Config& config, const RunOptions& options);
  int64_t next_round() const { return next_round_; }
  int64_t total_rounds() const { return s_.total_rounds(); }
  void run_round();
  RunResult finish();
  const RoundFigures& last_round() const { return figures_; }
  bool writes_outputs() const { return root_; }
  const std::string& out_dir() const { return out_dir_; }
  bool any_rank(bool flag) {
    return cluster_->any(flag, "stop request after round " + std::to_string(next_round_ - 1));
  }
  std::string stop();

 private:
  // Set-up, in this order.
  void place_nodes();
  void build_nodes();
  void build_algorithm();
  void open_run_dir();
  void resume();
  // The event-driven simulation (experiment_event.cc).
  void build_simulation();
  void check_async_config() const;
  void build_async(const algo::AlgorithmContext& actx);
  void set_churn(int64_t round);
  void async_round(int64_t round);
  void publish_async_models();
  void sync_usage(int64_t round, double seconds, bool training);
  void add_energy(std::vector<std::string>& row, int i);
  void energy_summary(nlohmann::ordered_json& s) const;
  std::vector<std::string> metric_columns() const;
  double model_compute_base() const;  // seconds of one node's local steps (network.*)
  // One round.
  void one_round(int64_t round);
  void end_round(int64_t round, double lr, double loss_mean);
  void attack(int64_t round);
  void restore_attackers();
  void record_figures(int64_t round, double lr, double loss_mean, bool evaluated);
  void local_steps(int64_t round, double lr, bool training);
  void check_models(int64_t round, const char* when, bool training) const;
  std::string advice(bool training) const;
  std::string checkpoint_note() const;
  void gather_round(int64_t round);
  // `window` > 0: the round is a window of the asynchronous simulation of that many seconds.
  double record_metrics(int64_t round, double lr, bool training, double window = 0.0);
  void evaluate(int64_t round, int64_t max_samples);
  double consensus_distance(int64_t round);
  // Checkpoints.
  void write_checkpoint(int64_t rounds_done);
  void runner_state(StateIo& io);
  void node_state(int i, StateIo& io);
  // The end.
  nlohmann::ordered_json summary_head() const;
  void write_diverged_summary(int64_t round, const DivergenceError& e);
  nlohmann::ordered_json gather_final();
  void save_models();
  nlohmann::ordered_json timing(double loop_s, double wall) const;

  const Config config_;
  const RunOptions options_;
  const RunSettings s_;
  const Clock::time_point t_start_ = Clock::now();
  const int n_;

  // Where the nodes live: this process, or the ranks of an MPI job.
  std::unique_ptr<comm::Cluster> cluster_;
  std::optional<comm::NodeMap> map_;
  int rank_ = 0, ranks_ = 1;
  bool root_ = true, quiet_ = false;
  std::vector<int> local_;  // the nodes this process hosts
  std::unique_ptr<graph::Topology> topology_;
  std::unique_ptr<comm::Transport> transport_;
  std::optional<comm::NetworkModel> network_;
  std::optional<comm::FaultModel> faults_;
  ByzantineOptions byzantine_;
  std::vector<bool> malicious_;                      // per node
  std::vector<std::vector<float>> attacker_models_;  // their own models while they attack

  // The nodes: data, models, loaders (hosted nodes only), the algorithm.
  data::DataOptions dopt_;
  data::PartitionOptions popt_;
  data::DataSplits splits_;
  train::ModelOptions mopt_;
  train::OptimizerOptions oopt_;
  train::InputShape shape_;
  std::vector<float> x0_;
  int64_t dim_ = 0;
  int threads_ = 1;
  train::BlasInfo blas_;
  std::optional<ThreadPool> pool_;
  std::vector<std::unique_ptr<train::NodeModel>> models_;
  std::vector<std::unique_ptr<data::NodeLoader>> loaders_;
  // train.quasi_global_momentum: the momentum buffers are rebuilt from every round's move.
  std::vector<train::QuasiGlobalMomentum> quasi_global_;
  std::unique_ptr<algo::Algorithm> algorithm_;
  std::string gamma_text_;  // the gamma in use, empty for algorithms without one
  std::string users_csv_;   // natural partitions: which node has which user
  std::unique_ptr<train::NodeModel> avg_model_;

  // The event-driven simulation (sim.mode = "event") and energy.
  SimOptions sim_;
  std::optional<comm::DeviceModel> device_;
  std::optional<comm::ChurnModel> churn_;
  std::optional<comm::EnergyModel> energy_;
  std::unique_ptr<algo::AsyncAlgorithm> async_;  // an asynchronous algorithm (then no algorithm_)
  std::unique_ptr<AsyncEngine> engine_;
  bool extended_ = false;  // metrics.csv and summary.json carry the simulation's columns
  std::vector<comm::NodeUsage> usage_round_, usage_total_;
  std::vector<double> energy_before_;  // each node's joules before this round
  std::vector<algo::AsyncAlgorithm::Staleness> stale_round_;
  algo::AsyncAlgorithm::Staleness stale_total_;
  std::vector<uint8_t> trained_;  // per node: a loss in this round's row

  // Outputs: written by rank 0 alone.
  std::string out_dir_;
  fs::path dir_;
  std::string config_text_;
  std::optional<Checkpoint> resume_from_;  // a resumed run continues from it
  std::optional<RunDir> run_dir_;          // rank 0 owns the directory (and its lock)
  std::optional<CsvWriter> metrics_, evals_;
  double setup_seconds_ = 0.0;
  std::optional<Progress> progress_;

  // The rounds' numbers.
  int64_t next_round_ = 0;
  double model_compute_s_ = 0.0;
  std::vector<double> losses_, compute_s_;
  std::vector<int64_t> bad_;  // first non-finite coordinate of each model, per round
  std::vector<comm::ByteCounters> before_;
  std::vector<NodeEval> node_eval_;
  std::vector<std::vector<float>> remote_params_;  // rank 0: a block of other ranks' models
  std::vector<float> mean_;
  std::vector<comm::LinkRecord> links_;
  double train_s_ = 0.0, comm_s_ = 0.0, eval_s_ = 0.0, sim_total_ = 0.0;
  double last_acc_ = -1.0, avg_acc_ = -1.0, avg_loss_ = 0.0, consensus_ = 0.0;
  uint64_t sent_total_ = 0;
  std::map<double, nlohmann::ordered_json> reached_;  // accuracy target -> when
  int64_t last_eval_round_ = -1;
  std::string last_checkpoint_;         // path of the newest checkpoint written or resumed from
  int64_t last_checkpoint_round_ = -1;  // the rounds it holds (-1: none)
  RoundFigures figures_;
  // Loop seconds (without evaluations) and evaluation seconds of the rounds a resumed run did
  // before its checkpoint; t_loop_ starts this process's rounds.
  double loop_before_ = 0.0, eval_before_ = 0.0;
  Clock::time_point t_loop_;
};

}  // namespace murmur::run
