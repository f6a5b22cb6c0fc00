// Runs one experiment from a TOML config with murmur as a library:
//   run_experiment CONFIG [OUT_DIR]
#include <cstdio>

#include "murmur/run/runner.h"

int main(int argc, char** argv) {
  if (argc < 2) return std::fprintf(stderr, "usage: run_experiment CONFIG [OUT_DIR]\n"), 2;
  murmur::run::Config config = murmur::run::Config::FromFile(argv[1]);
  config.set("run.rounds=10");
  murmur::run::RunOptions options;
  options.out_dir = argc > 2 ? argv[2] : "runs/example";
  options.overwrite = true;
  const murmur::run::RunResult r = murmur::run::RunExperiment(config, options);
  std::printf("final accuracy %.4f, %.0f bytes sent per node\n", r.final_acc_mean,
              r.bytes_sent_per_node);
}
