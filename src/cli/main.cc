// The murmur command line. The only place that reads the environment or exits.
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iostream>

#include "bench_command.h"
#include "murmur/comm/cluster.h"
#include "murmur/core/check.h"
#include "murmur/core/log.h"
#include "murmur/graph/spectral.h"
#include "murmur/graph/topology.h"
#include "murmur/run/config.h"
#include "murmur/run/registry.h"
#include "murmur/run/report.h"
#include "murmur/run/runner.h"
#include "tune_gamma_command.h"

namespace {

// The number in the first of `names` that is set in the environment, 0 when none is.
int EnvInt(std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (const char* v = std::getenv(name)) return std::atoi(v);
  return 0;
}

// The user's line: the message, and with --verbose the source location that raised it.
void Report(const char* kind, const murmur::Error& e, bool verbose) {
  std::string text(verbose ? std::string_view(e.what()) : e.message());
  // "training diverged: ..." already says what kind of error it is.
  const std::string prefix = std::string(kind) + ": ";
  if (text.rfind(prefix, 0) == 0) text = text.substr(prefix.size());
  std::fprintf(stderr, "murmur: %s: %s\n", kind, text.c_str());
  std::fflush(stderr);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"murmur: communication-efficient decentralized deep learning"};
  app.require_subcommand(1);
  app.fallthrough();  // --verbose also after the subcommand
  bool verbose = false;
  app.add_flag("--verbose,-v", verbose,
               "errors also name the source location that raised them (for bug reports)");

  auto* run = app.add_subcommand("run", "run one experiment from a TOML config");
  std::string config_path, out_dir, resume_dir;
  std::vector<std::string> sets;
  bool quiet = false, overwrite = false;
  auto* config_opt =
      run->add_option("config", config_path, "experiment config (TOML); see docs/config.md");
  auto* set_opt = run->add_option("--set", sets, "override a key: --set train.lr=0.1 (repeatable)");
  auto* out_opt = run->add_option("--out", out_dir,
                                  "run directory (default: output.dir or runs/<time>-<algo>)");
  auto* resume_opt =
      run->add_option("--resume", resume_dir,
                      "continue the unfinished run in RUN_DIR from its newest checkpoint "
                      "(output.checkpoint_every), with the config saved there");
  resume_opt->excludes(config_opt)->excludes(set_opt)->excludes(out_opt);
  run->add_flag("--quiet,-q", quiet, "no progress line or log messages");
  run->add_flag("--overwrite", overwrite, "replace the outputs of an existing run directory");

  auto* sweep = app.add_subcommand(
      "sweep", "run every point of a grid of configs, each into its own directory (resumable)");
  std::string sweep_path;
  sweep->add_option("sweep", sweep_path, "sweep file (TOML); see docs/workflow.md")->required();
  sweep->add_flag("--quiet,-q", quiet, "no progress lines");
  bool sweep_dry = false;
  sweep->add_flag("--dry-run", sweep_dry, "check every point's config and list the points");
  std::vector<std::string> sweep_only;
  sweep->add_option("--only", sweep_only,
                    "run only this point (its directory name, as --dry-run lists it; repeatable)");

  auto* plot = app.add_subcommand(
      "plot", "plot test accuracy (min-max band over nodes) and consensus distance of runs");
  std::vector<std::string> plot_dirs;
  murmur::run::PlotOptions plot_opt;
  plot->add_option("runs", plot_dirs, "run directories (or directories of runs, e.g. a sweep's)")
      ->required();
  plot->add_option("--x", plot_opt.x, "x axis: round, bytes (MB sent per node) or sim_time")
      ->capture_default_str();
  plot->add_option("--out,-o", plot_opt.out, "image to write: FILE.png or FILE.svg")
      ->capture_default_str();
  plot->add_option("--title", plot_opt.title, "title of the figure");

  auto* compare = app.add_subcommand(
      "compare",
      "Markdown table of runs: accuracy (± std over seeds), bytes, compression ratio, "
      "rounds and simulated time to a target accuracy");
  std::vector<std::string> compare_dirs;
  murmur::run::CompareOptions compare_opt;
  std::string compare_out;
  compare->add_option("runs", compare_dirs, "run directories (or directories of runs)")->required();
  compare->add_option("--target", compare_opt.target,
                      "accuracy target (default: the reference's final mean accuracy - 0.01)");
  compare->add_option("--reference", compare_opt.reference,
                      "run directory of the full-sharing reference (default: the first dpsgd, "
                      "allreduce or sgp run without compression)");
  compare->add_option("--out,-o", compare_out, "also write the table to this file");

  auto* list = app.add_subcommand("list", "list algorithms, topologies, models, datasets, ...");

  auto* topo =
      app.add_subcommand("topology", "describe a topology: degrees, diameter, spectral gap, edges");
  murmur::graph::TopologyOptions topt;
  std::string weights = "auto";
  bool no_edges = false;
  topo->add_option("name", topt.name, "topology name (murmur list)")->required();
  topo->add_option("--nodes,-n", topt.nodes, "number of nodes")->required();
  topo->add_option("--degree", topt.degree, "degree of `regular`")->capture_default_str();
  topo->add_option("--edge-prob", topt.edge_prob,
                   "edge probability of `erdos_renyi` (0: 2 ln n / n)");
  topo->add_option("--weights", weights,
                   "mixing weights: auto, metropolis_hastings, uniform, max_degree, column")
      ->capture_default_str();
  topo->add_option("--seed", topt.seed, "seed of random graphs")->capture_default_str();
  topo->add_option("--peers", topt.peers, "out-peers per round of `k_peer_exponential`")
      ->capture_default_str();
  topo->add_option("--file", topt.file, "edge list of `file` (one 'u v' per line)");
  topo->add_flag("--directed", topt.directed, "`file`: 'u v' is the one-way edge u -> v");
  topo->add_flag("--no-edges", no_edges, "omit the edge list");

  auto* tune = app.add_subcommand(
      "tune-gamma",
      "pick the consensus step gamma of choco / sparse_push: compressed gossip on Gaussian "
      "vectors over a log grid of gamma, smallest final consensus error wins");
  murmur::graph::TopologyOptions tune_topo;
  std::string tune_weights = "auto", tune_compressor = "topk";
  murmur::compress::CompressorOptions tune_copt;
  murmur::algo::TuneGammaOptions tune_opt;
  uint64_t tune_seed = 1;
  std::vector<double> tune_grid;
  tune->add_option("--topology", tune_topo.name, "topology name (murmur list)")->required();
  tune->add_option("--nodes,-n", tune_topo.nodes, "number of nodes")->capture_default_str();
  tune->add_option("--compressor", tune_compressor, "compressor (murmur list; none = identity)")
      ->capture_default_str();
  tune->add_option("--ratio", tune_copt.ratio, "topk/randomk/topk_quant: fraction kept")
      ->capture_default_str();
  tune->add_option("--levels", tune_copt.levels, "qsgd: levels")->capture_default_str();
  tune->add_option("--bits", tune_copt.bits, "topk_quant: bits per value")->capture_default_str();
  tune->add_option("--algorithm", tune_opt.algorithm, "choco, sparse_push or scsp")
      ->capture_default_str();
  tune->add_option("--dim", tune_opt.dim, "length of the test vectors")->capture_default_str();
  tune->add_option("--rounds", tune_opt.rounds, "gossip rounds after which errors are compared")
      ->capture_default_str();
  tune->add_option("--stability-rounds", tune_opt.stability_rounds,
                   "every gamma runs on to this many rounds; one whose error does not shrink by "
                   "10% over the second half is unstable (0 = no check)")
      ->capture_default_str();
  tune->add_option("--gamma", tune_grid, "gammas to try (repeatable; default 2^0 .. 2^-10)");
  tune->add_option("--steps-per-octave", tune_opt.steps_per_octave,
                   "steps per octave of the default grid (2: 2^0, 2^-0.5, 2^-1, ...)")
      ->capture_default_str();
  tune->add_option("--seed", tune_seed, "seed of the vectors and stochastic compressors")
      ->capture_default_str();
  tune->add_option("--weights", tune_weights, "mixing weights (as topology.weights)")
      ->capture_default_str();
  tune->add_option("--degree", tune_topo.degree, "degree of `regular`")->capture_default_str();
  tune->add_option("--peers", tune_topo.peers, "out-peers per round of `k_peer_exponential`")
      ->capture_default_str();
  tune->add_option("--file", tune_topo.file, "edge list of `file`");
  tune->add_flag("--directed", tune_topo.directed, "`file`: one-way edges");

  auto* doc =
      app.add_subcommand("doc-config", "print the configuration reference (docs/config.md)");

  auto* bench = app.add_subcommand("bench", "benchmarks on this machine");
  bench->require_subcommand(1);
  auto* bench_compress = bench->add_subcommand(
      "compress", "every compressor, the wavelet transform and index codecs against memcpy");
  std::vector<size_t> bench_sizes;
  bool bench_json = false;
  double bench_min_time = 0.2;
  bench_compress->add_option("--n", bench_sizes,
                             "vector lengths (repeatable; default 1e5 1e6 1e7)");
  bench_compress->add_flag("--json", bench_json, "print JSON instead of tables");
  bench_compress->add_option("--min-time", bench_min_time, "seconds per measurement")
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  try {
    if (*run) {
      if (quiet) murmur::SetLogLevel(murmur::LogLevel::kWarn);
      murmur::run::RunOptions ro;
      if (!resume_dir.empty()) {
        config_path = (std::filesystem::path(resume_dir) / "config.toml").string();
        out_dir = resume_dir;
        ro.resume = true;
      } else if (config_path.empty()) {
        throw murmur::ConfigError("murmur run: give a config file, or --resume RUN_DIR");
      }
      murmur::run::Config cfg = murmur::run::Config::FromFile(config_path);
      for (const auto& s : sets) cfg.set(s);
      ro.out_dir = out_dir;
      ro.quiet = quiet;
      ro.overwrite = overwrite;
      // Open MPI's mpirun, then MPICH/Hydra's mpiexec.
      ro.launcher_ranks = EnvInt({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"});
      ro.launcher_local_ranks = EnvInt({"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"});
      murmur::run::RunExperiment(cfg, ro);
    } else if (*sweep) {
      if (EnvInt({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) > 1)
        throw murmur::ConfigError(
            "murmur sweep runs its points in one process; start it without mpirun (each rank "
            "would run every point into the same directories)");
      if (quiet) murmur::SetLogLevel(murmur::LogLevel::kWarn);
      murmur::run::SweepOptions so;
      so.quiet = quiet;
      so.dry_run = sweep_dry;
      so.only = sweep_only;
      const auto r = murmur::run::RunSweep(sweep_path, so);
      if (sweep_dry) {
        for (const auto& name : r.point_names) std::cout << r.out_dir << "/" << name << "\n";
        std::fprintf(stderr, "murmur sweep: %d points, every config valid (dry run)\n", r.points);
        return 0;
      }
      std::fprintf(stderr,
                   "murmur sweep: %d points: %d run, %d complete before, %d diverged, %d failed; "
                   "%s/sweep.csv\n",
                   r.points, r.ran, r.skipped, r.diverged, r.failed, r.out_dir.c_str());
      return r.failed ? 1 : r.diverged ? 3 : 0;
    } else if (*plot) {
      std::vector<murmur::run::RunRecord> runs;
      for (const auto& d : murmur::run::ExpandRunDirs(plot_dirs))
        runs.push_back(murmur::run::LoadRun(d));
      murmur::run::Plot(runs, plot_opt);
      std::fprintf(stderr, "murmur plot: %zu run(s) -> %s (script: %s.gp)\n", runs.size(),
                   plot_opt.out.c_str(), plot_opt.out.c_str());
    } else if (*compare) {
      std::vector<murmur::run::RunRecord> runs;
      for (const auto& d : murmur::run::ExpandRunDirs(compare_dirs))
        runs.push_back(murmur::run::LoadRun(d));
      const std::string table = murmur::run::CompareMarkdown(runs, compare_opt);
      std::cout << table;
      if (!compare_out.empty()) {
        std::ofstream f(compare_out);
        if (!(f << table))
          throw murmur::IoError(compare_out + ": cannot write (" + std::strerror(errno) + ")");
      }
    } else if (*list) {
      std::cout << murmur::run::ListComponents();
    } else if (*topo) {
      topt.weights = weights == "auto" ? "" : weights;
      auto t = murmur::graph::MakeTopology(topt);
      std::cout << murmur::graph::DescribeTopology(*t, !no_edges);
    } else if (*tune) {
      tune_topo.weights = tune_weights == "auto" ? "" : tune_weights;
      tune_topo.seed = tune_seed;
      tune_opt.grid = tune_grid;
      return murmur::cli::TuneGammaCommand(tune_topo, tune_compressor, tune_copt, tune_opt,
                                           tune_seed);
    } else if (*doc) {
      std::cout << murmur::run::SchemaMarkdown();
    } else if (*bench_compress) {
      if (bench_sizes.empty()) bench_sizes = {100000, 1000000, 10000000};
      for (size_t n : bench_sizes)
        if (n < 10 || n > 1000000000)
          throw murmur::ConfigError("--n: must be in [10, 1e9], got " + std::to_string(n));
      return murmur::cli::BenchCompress(bench_sizes, bench_json, bench_min_time);
    }
  } catch (const murmur::ConfigError& e) {
    Report("config error", e, verbose);
    murmur::comm::AbortMpiIfRunning(2);  // under mpirun: end every rank, not just this one
    return 2;
  } catch (const murmur::DivergenceError& e) {
    Report("training diverged", e, verbose);
    murmur::comm::AbortMpiIfRunning(3);
    return 3;
  } catch (const murmur::Error& e) {
    Report("error", e, verbose);
    murmur::comm::AbortMpiIfRunning(1);
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "murmur: error: %s\n", e.what());
    std::fflush(stderr);
    murmur::comm::AbortMpiIfRunning(1);
    return 1;
  }
  return 0;
}
