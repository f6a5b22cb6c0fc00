// One experiment as an object: set up by the constructor, then driven a round at a time.
//
// RunExperiment (runner.h) is `Experiment e(config, options); while (!e.done()) e.run_round();
// return e.finish();`. The steps, in the order they happen (docs/architecture.md has the
// whole round protocol):
//   constructor  cluster and node map, topology, transport, network and fault models, data
//                and partition, models and loaders of this process's nodes, the algorithm,
//                the run directory (new, overwritten or resumed from its newest checkpoint)
//   run_round()  local steps of every hosted node (thread pool), divergence guard, the
//                algorithm's communication phases (algo::CommunicationRound), divergence
//                guard, the round's metrics gathered to rank 0 and written, an evaluation
//                when due, a checkpoint when due
//   finish()     every rank's own numbers and the algorithm's output state gathered to rank
//                0; the algorithm's files, timing.json and summary.json written
// Under MPI every rank builds its own Experiment and calls the same methods in the same order.
// A round whose models diverge throws DivergenceError after summary.json says so.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "murmur/run/config.h"
#include "murmur/run/runner.h"

namespace murmur::run {

// What a round left, for a caller that drives the run (the Python package's progress
// callback). Rank 0's figures; on other ranks only `round` is set.
struct RoundFigures {
  int64_t round = -1;             // the round just run
  double lr = 0.0;                // its learning rate (0 in gossip-only rounds)
  double loss_mean = 0.0;         // mean training loss of the nodes that trained (NaN: none did)
  double mb_sent_per_node = 0.0;  // cumulative
  double sim_seconds = 0.0;       // cumulative simulated time
  bool evaluated = false;         // this round ended with an evaluation; then:
  double acc_mean = 0.0, acc_min = 0.0, acc_max = 0.0;
  double acc_avg_model = -1.0;  // < 0 without an averaged model (run.eval_avg_model)
  double consensus = 0.0;
};

class Experiment {
 public:
  Experiment(const Config& config, const RunOptions& options);
  ~Experiment();
  Experiment(const Experiment&) = delete;
  Experiment& operator=(const Experiment&) = delete;

  // The next round run_round() runs (> 0 after a resume) and the run's length, gossip-only
  // rounds included.
  int64_t next_round() const;
  int64_t total_rounds() const;
  bool done() const { return next_round() >= total_rounds(); }

  void run_round();
  // True in the process that writes the run directory (rank 0; the only one in process).
  bool writes_outputs() const;
  // The run directory (options.out_dir, else output.dir, else the runs/<time>-<algorithm> made).
  const std::string& out_dir() const;
  // The figures of the round run_round() ran last.
  const RoundFigures& last_round() const;
  // After the last round; the summary is filled on rank 0 only.
  RunResult finish();

  // Stopping early, cleanly: any_rank() tells every rank whether any wants to stop (collective;
  // an in-process run just returns `flag`); then every rank calls stop() instead of further
  // rounds and finish(). stop() writes a checkpoint of the rounds done (unless the last round
  // wrote one) and returns its path on rank 0: `murmur run --resume` continues from it and gives
  // what the uninterrupted run would have. metrics.csv and eval.csv hold the rounds done; no
  // summary.json is written (the run is unfinished).
  bool any_rank(bool flag);
  std::string stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace murmur::run
