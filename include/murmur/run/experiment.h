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

#include "murmur/run/config.h"
#include "murmur/run/runner.h"

namespace murmur::run {

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
  // After the last round; the summary is filled on rank 0 only.
  RunResult finish();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace murmur::run
