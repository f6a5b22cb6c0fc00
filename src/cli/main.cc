// The murmur command line. The only place that reads the environment or exits.
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
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

// The user's line: the message, and with --verbose the source location that raised it.
void Report(const char* kind, const murmur::Error& e, bool verbose) {
  std::string text(verbose ? std::string_view(e.what()) : e.message());
  // "training diverged: ..." already says what kind of error it is.
  const std::string prefix = std::string(kind) + ": ";
  if (text.rfind(prefix, 0) == 0) text = text.substr(prefix.size());
  std::fprintf(stderr, "murmur: %s: %s\n", kind, text.c_str());
  std::fflush(stderr);
}

// One subcommand: add() declares its options, run() does its work and gives the exit code.
struct RunCommand {
  CLI::App* app = nullptr;
  std::string config_path, out_dir, resume_dir;
  std::vector<std::string> sets;
  bool quiet = false, overwrite = false;

  void add(CLI::App& parent) {
    app = parent.add_subcommand("run", "run one experiment from a TOML config");
    auto* config_opt =
        app->add_option("config", config_path, "experiment config (TOML); see docs/config.md");
    auto* set_opt =
        app->add_option("--set", sets, "override a key: --set train.lr=0.1 (repeatable)");
    auto* out_opt = app->add_option("--out", out_dir,
                                    "run directory (default: output.dir or runs/<time>-<algo>)");
    auto* resume_opt =
        app->add_option("--resume", resume_dir,
                        "continue the unfinished run in RUN_DIR from its newest checkpoint "
                        "(output.checkpoint_every), with the config saved there");
    resume_opt->excludes(config_opt)->excludes(set_opt)->excludes(out_opt);
    app->add_flag("--quiet,-q", quiet, "no progress line or log messages");
    app->add_flag("--overwrite", overwrite, "replace the outputs of an existing run directory");
  }

  int run() {
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
    murmur::run::SetLauncherFromEnvironment(ro);
    murmur::run::RunExperiment(cfg, ro);
    return 0;
  }
};

struct EvaluateCommand {
  CLI::App* app = nullptr;
  std::string model_path, config_path, split = "test";
  std::vector<std::string> sets;
  bool json = false;

  void add(CLI::App& parent) {
    app = parent.add_subcommand("evaluate",
                                "evaluate a saved model (RUN_DIR/model.pt, models/node_<i>.pt) "
                                "on a dataset");
    app->add_option("model", model_path, "the model file")->required();
    app->add_option("--config,-c", config_path,
                    "config giving the data and model keys (default: the config.toml of the "
                    "run directory the model file is in)");
    app->add_option("--set", sets, "override a key: --set data.name=mnist (repeatable)");
    app->add_option("--split", split, "test or train")->check(CLI::IsMember({"test", "train"}));
    app->add_flag("--json", json, "print the result as JSON");
  }

  int run() {
    namespace fs = std::filesystem;
    if (config_path.empty()) {
      // RUN_DIR/model.pt or RUN_DIR/models/node_<i>.pt.
      const fs::path dir = fs::path(model_path).parent_path();
      for (const fs::path& c : {dir / "config.toml", dir.parent_path() / "config.toml"})
        if (fs::is_regular_file(c)) {
          config_path = c.string();
          break;
        }
      if (config_path.empty())
        throw murmur::ConfigError("murmur evaluate: " + model_path +
                                  " is not in a run directory; give its config with --config");
    }
    murmur::run::Config cfg = murmur::run::Config::FromFile(config_path);
    for (const auto& s : sets) cfg.set(s);
    const murmur::run::SavedModelEval r =
        murmur::run::EvaluateSavedModel(cfg, model_path, split == "train");
    if (json)
      std::printf(
          "{\"model\": \"%s\", \"split\": \"%s\", \"samples\": %lld, \"params\": %lld, "
          "\"loss\": %.9g, \"accuracy\": %.9g}\n",
          model_path.c_str(), split.c_str(), static_cast<long long>(r.samples),
          static_cast<long long>(r.params), r.loss, r.accuracy);
    else
      std::printf("%s on the %s split of %s (%lld samples): loss %.6g, accuracy %.6g\n",
                  model_path.c_str(), split.c_str(), cfg.get_string("data.name").c_str(),
                  static_cast<long long>(r.samples), r.loss, r.accuracy);
    return 0;
  }
};

struct SweepCommand {
  CLI::App* app = nullptr;
  std::string path;
  bool quiet = false, dry_run = false;
  std::vector<std::string> only;

  void add(CLI::App& parent) {
    app = parent.add_subcommand(
        "sweep", "run every point of a grid of configs, each into its own directory (resumable)");
    app->add_option("sweep", path, "sweep file (TOML); see docs/workflow.md")->required();
    app->add_flag("--quiet,-q", quiet, "no progress lines");
    app->add_flag("--dry-run", dry_run, "check every point's config and list the points");
    app->add_option("--only", only,
                    "run only this point (its directory name, as --dry-run lists it; repeatable)");
  }

  int run() {
    murmur::run::RunOptions launcher;
    murmur::run::SetLauncherFromEnvironment(launcher);
    if (launcher.launcher_ranks > 1)
      throw murmur::ConfigError(
          "murmur sweep runs its points in one process; start it without mpirun (each rank "
          "would run every point into the same directories)");
    if (quiet) murmur::SetLogLevel(murmur::LogLevel::kWarn);
    murmur::run::SweepOptions so;
    so.quiet = quiet;
    so.dry_run = dry_run;
    so.only = only;
    const auto r = murmur::run::RunSweep(path, so);
    if (dry_run) {
      for (const auto& name : r.point_names) std::cout << r.out_dir << "/" << name << "\n";
      std::fprintf(stderr, "murmur sweep: %d points, every config valid (dry run)\n", r.points);
      return 0;
    }
    std::fprintf(stderr,
                 "murmur sweep: %d points: %d run, %d complete before, %d diverged, %d failed; "
                 "%s/sweep.csv\n",
                 r.points, r.ran, r.skipped, r.diverged, r.failed, r.out_dir.c_str());
    return r.failed ? 1 : r.diverged ? 3 : 0;
  }
};

std::vector<murmur::run::RunRecord> LoadRuns(const std::vector<std::string>& dirs) {
  std::vector<murmur::run::RunRecord> runs;
  for (const auto& d : murmur::run::ExpandRunDirs(dirs)) runs.push_back(murmur::run::LoadRun(d));
  return runs;
}

struct PlotCommand {
  CLI::App* app = nullptr;
  std::vector<std::string> dirs;
  murmur::run::PlotOptions opt;

  void add(CLI::App& parent) {
    app = parent.add_subcommand(
        "plot", "plot test accuracy (min-max band over nodes) and consensus distance of runs");
    app->add_option("runs", dirs, "run directories (or directories of runs, e.g. a sweep's)")
        ->required();
    app->add_option("--x", opt.x, "x axis: round, bytes (MB sent per node) or sim_time")
        ->capture_default_str();
    app->add_option("--out,-o", opt.out, "image to write: FILE.png or FILE.svg")
        ->capture_default_str();
    app->add_option("--title", opt.title, "title of the figure");
  }

  int run() {
    const auto runs = LoadRuns(dirs);
    murmur::run::Plot(runs, opt);
    std::fprintf(stderr, "murmur plot: %zu run(s) -> %s (script: %s.gp)\n", runs.size(),
                 opt.out.c_str(), opt.out.c_str());
    return 0;
  }
};

struct CompareCommand {
  CLI::App* app = nullptr;
  std::vector<std::string> dirs;
  murmur::run::CompareOptions opt;
  std::string out;

  void add(CLI::App& parent) {
    app = parent.add_subcommand(
        "compare",
        "Markdown table of runs: accuracy (± std over seeds), bytes, compression ratio, "
        "rounds and simulated time to a target accuracy");
    app->add_option("runs", dirs, "run directories (or directories of runs)")->required();
    app->add_option("--target", opt.target,
                    "accuracy target (default: the reference's final mean accuracy - 0.01)");
    app->add_option("--reference", opt.reference,
                    "run directory of the full-sharing reference (default: the first dpsgd, "
                    "allreduce or sgp run without compression)");
    app->add_option("--out,-o", out, "also write the table to this file");
  }

  int run() {
    const std::string table = murmur::run::CompareMarkdown(LoadRuns(dirs), opt);
    std::cout << table;
    if (!out.empty()) {
      std::ofstream f(out);
      if (!(f << table))
        throw murmur::IoError(out + ": cannot write (" + std::strerror(errno) + ")");
    }
    return 0;
  }
};

struct TopologyCommand {
  CLI::App* app = nullptr;
  murmur::graph::TopologyOptions topt;
  std::string weights = "auto";
  bool no_edges = false;

  void add(CLI::App& parent) {
    app = parent.add_subcommand("topology",
                                "describe a topology: degrees, diameter, spectral gap, edges");
    app->add_option("name", topt.name, "topology name (murmur list)")->required();
    app->add_option("--nodes,-n", topt.nodes, "number of nodes")->required();
    app->add_option("--degree", topt.degree, "degree of `regular`")->capture_default_str();
    app->add_option("--edge-prob", topt.edge_prob,
                    "edge probability of `erdos_renyi` (0: 2 ln n / n)");
    app->add_option("--weights", weights,
                    "mixing weights: auto, metropolis_hastings, uniform, max_degree, column")
        ->capture_default_str();
    app->add_option("--seed", topt.seed, "seed of random graphs")->capture_default_str();
    app->add_option("--peers", topt.peers, "out-peers per round of `k_peer_exponential`")
        ->capture_default_str();
    app->add_option("--file", topt.file, "edge list of `file` (one 'u v' per line)");
    app->add_flag("--directed", topt.directed, "`file`: 'u v' is the one-way edge u -> v");
    app->add_flag("--no-edges", no_edges, "omit the edge list");
  }

  int run() {
    topt.weights = weights == "auto" ? "" : weights;
    auto t = murmur::graph::MakeTopology(topt);
    std::cout << murmur::graph::DescribeTopology(*t, !no_edges);
    return 0;
  }
};

struct TuneGammaCli {
  CLI::App* app = nullptr;
  murmur::graph::TopologyOptions topo;
  std::string weights = "auto", compressor = "topk";
  murmur::compress::CompressorOptions copt;
  murmur::algo::TuneGammaOptions opt;
  uint64_t seed = 1;
  std::vector<double> grid;

  void add(CLI::App& parent) {
    app = parent.add_subcommand(
        "tune-gamma",
        "pick the consensus step gamma of choco / sparse_push: compressed gossip on Gaussian "
        "vectors over a log grid of gamma, smallest final consensus error wins");
    app->add_option("--topology", topo.name, "topology name (murmur list)")->required();
    app->add_option("--nodes,-n", topo.nodes, "number of nodes")->capture_default_str();
    app->add_option("--compressor", compressor, "compressor (murmur list; none = identity)")
        ->capture_default_str();
    app->add_option("--ratio", copt.ratio, "topk/randomk/topk_quant: fraction kept")
        ->capture_default_str();
    app->add_option("--levels", copt.levels, "qsgd: levels")->capture_default_str();
    app->add_option("--bits", copt.bits, "topk_quant: bits per value")->capture_default_str();
    app->add_option("--algorithm", opt.algorithm, "choco, sparse_push or scsp")
        ->capture_default_str();
    app->add_option("--dim", opt.dim, "length of the test vectors")->capture_default_str();
    app->add_option("--rounds", opt.rounds, "gossip rounds after which errors are compared")
        ->capture_default_str();
    app->add_option("--stability-rounds", opt.stability_rounds,
                    "every gamma runs on to this many rounds; one whose error does not shrink by "
                    "10% over the second half is unstable (0 = no check)")
        ->capture_default_str();
    app->add_option("--gamma", grid, "gammas to try (repeatable; default 2^0 .. 2^-10)");
    app->add_option("--steps-per-octave", opt.steps_per_octave,
                    "steps per octave of the default grid (2: 2^0, 2^-0.5, 2^-1, ...)")
        ->capture_default_str();
    app->add_option("--seed", seed, "seed of the vectors and stochastic compressors")
        ->capture_default_str();
    app->add_option("--weights", weights, "mixing weights (as topology.weights)")
        ->capture_default_str();
    app->add_option("--degree", topo.degree, "degree of `regular`")->capture_default_str();
    app->add_option("--peers", topo.peers, "out-peers per round of `k_peer_exponential`")
        ->capture_default_str();
    app->add_option("--file", topo.file, "edge list of `file`");
    app->add_flag("--directed", topo.directed, "`file`: one-way edges");
  }

  int run() {
    topo.weights = weights == "auto" ? "" : weights;
    topo.seed = seed;
    opt.grid = grid;
    return murmur::cli::TuneGammaCommand(topo, compressor, copt, opt, seed);
  }
};

struct BenchCli {
  CLI::App* app = nullptr;
  CLI::App* compress = nullptr;
  std::vector<size_t> sizes;
  bool json = false;
  double min_time = 0.2;

  void add(CLI::App& parent) {
    app = parent.add_subcommand("bench", "benchmarks on this machine");
    app->require_subcommand(1);
    compress = app->add_subcommand(
        "compress", "every compressor, the wavelet transform and index codecs against memcpy");
    compress->add_option("--n", sizes, "vector lengths (repeatable; default 1e5 1e6 1e7)");
    compress->add_flag("--json", json, "print JSON instead of tables");
    compress->add_option("--min-time", min_time, "seconds per measurement")->capture_default_str();
  }

  int run() {
    if (sizes.empty()) sizes = {100000, 1000000, 10000000};
    for (size_t n : sizes)
      if (n < 10 || n > 1000000000)
        throw murmur::ConfigError("--n: must be in [10, 1e9], got " + std::to_string(n));
    return murmur::cli::BenchCompress(sizes, json, min_time);
  }
};

// Runs `command`, turning murmur's errors into a line on stderr and the documented exit code
// (2 config, 3 diverged, 1 anything else).
int Guarded(const std::function<int()>& command, bool verbose) {
  try {
    return command();
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
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"murmur: communication-efficient decentralized deep learning"};
  app.require_subcommand(1);
  app.fallthrough();  // --verbose also after the subcommand
  bool verbose = false;
  app.add_flag("--verbose,-v", verbose,
               "errors also name the source location that raised them (for bug reports)");
  RunCommand run;
  EvaluateCommand evaluate;
  SweepCommand sweep;
  PlotCommand plot;
  CompareCommand compare;
  TopologyCommand topology;
  TuneGammaCli tune;
  BenchCli bench;
  run.add(app);
  evaluate.add(app);
  sweep.add(app);
  plot.add(app);
  compare.add(app);
  auto* list = app.add_subcommand("list", "list algorithms, topologies, models, datasets, ...");
  topology.add(app);
  tune.add(app);
  auto* doc =
      app.add_subcommand("doc-config", "print the configuration reference (docs/config.md)");
  bench.add(app);
  CLI11_PARSE(app, argc, argv);
  return Guarded(
      [&] {
        if (*run.app) return run.run();
        if (*evaluate.app) return evaluate.run();
        if (*sweep.app) return sweep.run();
        if (*plot.app) return plot.run();
        if (*compare.app) return compare.run();
        if (*list) std::cout << murmur::run::ListComponents();
        if (*topology.app) return topology.run();
        if (*tune.app) return tune.run();
        if (*doc) std::cout << murmur::run::SchemaMarkdown();
        if (*bench.compress) return bench.run();
        return 0;
      },
      verbose);
}
