// Reading run directories back, and what researchers make of them: comparison tables
// (murmur compare), plots (murmur plot, through gnuplot) and sweeps over a grid of configs
// (murmur sweep).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "murmur/run/config.h"

namespace murmur::run {

// One evaluation of a run: accuracy over the nodes, consensus, and where the run was then.
struct CurvePoint {
  int64_t round = 0;
  double acc_mean = 0, acc_min = 0, acc_max = 0, consensus = 0;
  double bytes_per_node = 0;  // cumulative bytes sent per node up to this round
  double sim_seconds = 0;     // simulated time at the end of this round
};

// A run directory: config.toml, eval.csv and metrics.csv; summary.json when it finished.
struct RunRecord {
  std::string dir;
  Config config;
  bool finished = false;
  bool diverged = false;        // ended because training diverged (summary.json's status)
  int64_t diverged_round = -1;  // the round it diverged in
  // Final accuracy over the nodes, the honest ones only when the run had malicious nodes.
  double final_acc_mean = 0, final_acc_min = 0, bytes_per_node = 0, sim_seconds = 0;
  std::vector<CurvePoint> curve;
};

// Loads one run directory; throws IoError/DataError naming the file on anything missing or
// malformed.
RunRecord LoadRun(const std::string& dir);
// Run directories named on a command line: a directory with config.toml is a run; any other
// directory stands for the run directories directly inside it (a sweep's output), sorted.
std::vector<std::string> ExpandRunDirs(const std::vector<std::string>& args);

// What tells the runs apart: "key=value, ..." over the config keys whose values differ
// (output.*, comm.* and run.threads never count; run.seed only with with_seed), keys shortened
// where unambiguous (algorithm.name -> algorithm, compression.ratio -> ratio), and keys that do
// not concern a run left out of its label (jwins.* unless it runs jwins, compression
// parameters when it compresses nothing). A run that differs in nothing is labelled by its
// directory name.
std::vector<std::string> RunLabels(const std::vector<RunRecord>& runs, bool with_seed);

struct CompareOptions {
  // Accuracy for "rounds / simulated seconds to target"; < 0 = the reference's final mean
  // accuracy minus 0.01.
  double target = -1;
  // Run directory of the full-sharing reference; empty = the first group whose algorithm
  // sends full-precision models (dpsgd, allreduce, sgp) with compression.name = none.
  std::string reference;
};

// The Markdown comparison: one row per group of runs that differ only in run.seed. Runs of
// different problems (data.*, partition.*, model.*, run.nodes differ, e.g. a sweep over
// partition.alpha) are compared within their problem: one table each, under a heading naming
// it, with its own reference and target. A diverged run shows as "diverged (round R)".
std::string CompareMarkdown(const std::vector<RunRecord>& runs, const CompareOptions& options);

struct PlotOptions {
  std::string x = "round";       // round, bytes (MB sent per node) or sim_time (seconds)
  std::string out = "plot.png";  // .png or .svg
  std::string title;
};

// The gnuplot script that draws `runs`: one curve per setting (runs that differ only in
// run.seed are one setting). Accuracy: the mean over nodes with its min-max band over nodes
// for one run; for several seeds the mean over seeds with the min-max band of the seeds'
// means. Consensus distance on a log axis (exact averaging's 0 is left out). Colours, then
// dash patterns, tell up to 40 settings apart.
std::string PlotScript(const std::vector<RunRecord>& runs, const PlotOptions& options);
// Writes options.out (and the script next to it, options.out + ".gp") by running gnuplot.
void Plot(const std::vector<RunRecord>& runs, const PlotOptions& options);

struct SweepOptions {
  bool quiet = false;
  bool dry_run = false;  // check every point's config and name the points; run nothing
  // Run only these points (directory names, as --dry-run lists them); empty = all.
  std::vector<std::string> only;
};
struct SweepResult {
  // ran: points run now (diverged ones included); skipped: complete before (diverged ones
  // included); diverged: points whose training diverged, now or before.
  int points = 0, ran = 0, skipped = 0, diverged = 0, failed = 0;
  std::string out_dir;                   // where the points and sweep.csv are
  std::vector<std::string> point_names;  // directory names, in run order
};
// Runs every point of SWEEP.toml's grid into its own directory (see docs/workflow.md),
// skipping complete points and rerunning interrupted ones; writes sweep.csv.
SweepResult RunSweep(const std::string& sweep_file, const SweepOptions& options);

}  // namespace murmur::run
