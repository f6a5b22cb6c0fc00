// The murmur command line. The only place that reads the environment or exits.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "bench_command.h"
#include "murmur/core/check.h"
#include "murmur/core/log.h"
#include "murmur/graph/spectral.h"
#include "murmur/graph/topology.h"
#include "murmur/run/config.h"
#include "murmur/run/registry.h"
#include "murmur/run/runner.h"

int main(int argc, char** argv) {
  CLI::App app{"murmur: communication-efficient decentralized deep learning"};
  app.require_subcommand(1);

  auto* run = app.add_subcommand("run", "run one experiment from a TOML config");
  std::string config_path, out_dir;
  std::vector<std::string> sets;
  bool quiet = false, overwrite = false;
  run->add_option("config", config_path, "experiment config (TOML); see docs/config.md")
      ->required();
  run->add_option("--set", sets, "override a key: --set train.lr=0.1 (repeatable)");
  run->add_option("--out", out_dir, "run directory (default: output.dir or runs/<time>-<algo>)");
  run->add_flag("--quiet,-q", quiet, "no progress line or log messages");
  run->add_flag("--overwrite", overwrite, "replace the outputs of an existing run directory");

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
  topo->add_flag("--no-edges", no_edges, "omit the edge list");

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
      murmur::run::Config cfg = murmur::run::Config::FromFile(config_path);
      for (const auto& s : sets) cfg.set(s);
      murmur::run::RunOptions ro;
      ro.out_dir = out_dir;
      ro.quiet = quiet;
      ro.overwrite = overwrite;
      murmur::run::RunExperiment(cfg, ro);
    } else if (*list) {
      std::cout << murmur::run::ListComponents();
    } else if (*topo) {
      topt.weights = weights == "auto" ? "" : weights;
      auto t = murmur::graph::MakeTopology(topt);
      std::cout << murmur::graph::DescribeTopology(*t, !no_edges);
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
    std::fprintf(stderr, "murmur: config error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "murmur: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
