// The murmur command line. The only place that reads the environment or exits.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

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
