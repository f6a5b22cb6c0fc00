// The experiment runner: config -> data, model, topology -> nodes -> rounds -> outputs.
//
// RunExperiment simulates run.nodes nodes on a thread pool: each round every node runs its
// local steps in parallel, then the algorithm's phases exchange real encoded messages over
// the transport. In-process (the default) every node lives in this process; under mpirun
// (comm.transport = auto or mpi) every rank runs the nodes comm.mapping gives it, frames
// between ranks travel over MPI, and rank 0 gathers the metrics and writes the outputs. It
// writes config.toml, metrics.csv, eval.csv, timing.json and summary.json to the run
// directory (see docs/output.md) and returns the summary (on rank 0). The same config and seed give
// identical metrics.csv, eval.csv and accuracy fields whatever the thread and rank count
// (with network.compute = model; measured compute times differ between runs).
#pragma once

#include <string>

#include "murmur/run/config.h"

namespace murmur::run {

struct RunOptions {
  // Run directory; empty = output.dir, or runs/<timestamp>-<algorithm> when that is empty.
  std::string out_dir;
  // No progress line on stderr.
  bool quiet = false;
  // Replace the outputs of an existing run directory instead of refusing.
  bool overwrite = false;
  // Continue the unfinished run in out_dir (its config is `config`) from its newest whole
  // checkpoint (output.checkpoint_every): the result is the one the run would have had
  // without the interruption.
  bool resume = false;
  // Set by the command line from the launcher's environment: the number of processes mpirun
  // or mpiexec started (0 = not started by one) and how many of them share this machine.
  int launcher_ranks = 0;
  int launcher_local_ranks = 0;
};

// Fills launcher_ranks and launcher_local_ranks from the environment mpirun (Open MPI) or
// mpiexec (MPICH/Hydra) gives the processes it starts; 0 where there is none.
void SetLauncherFromEnvironment(RunOptions& options);

struct RunResult {
  std::string out_dir;
  std::string summary_json;  // contents of summary.json
  std::string timing_json;   // contents of timing.json
  double final_acc_mean = 0.0;
  double final_acc_min = 0.0;
  double final_acc_avg_model = 0.0;
  double bytes_sent_per_node = 0.0;
};

RunResult RunExperiment(const Config& config, const RunOptions& options);

// A saved model (RUN_DIR/model.pt, models/node_<i>.pt, or any file of that format) evaluated
// on the dataset of `config` (its data.* and model.* keys): the test split, or the training
// split with train_split. The model is read as ExportedModelFormat says for model.name.
struct SavedModelEval {
  double loss = 0.0, accuracy = 0.0;
  int64_t samples = 0, params = 0;
};
SavedModelEval EvaluateSavedModel(const Config& config, const std::string& model_file,
                                  bool train_split);

// Peak resident set size of this process in bytes (VmHWM), 0 where unknown.
int64_t PeakRssBytes();
// Starts a new peak (RunExperiment calls it first, so its peak is its own in a sweep).
void ResetPeakRss();

}  // namespace murmur::run
