// Framework overhead: time per round of a murmur run against the time of the same local
// training steps alone, measured in one process.
//
//   murmur_bench_overhead [CONFIG] [ROUNDS] [REPEATS]
//
// The reference loop builds the same nodes (data, partition, initial model, loaders) through
// the public API and runs only `train_steps` on the same thread pool. The murmur run is
// RunExperiment with evaluation off. Runs alternate (reference, murmur, ...) REPEATS times;
// the best time of each is reported, with the ratio murmur / reference.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "murmur/core/log.h"
#include "murmur/core/thread_pool.h"
#include "murmur/data/partition.h"
#include "murmur/run/config.h"
#include "murmur/run/options.h"
#include "murmur/run/runner.h"
#include "murmur/train/node_model.h"

#include <nlohmann/json.hpp>

using namespace murmur;

namespace {

double ReferenceSecondsPerRound(const run::Config& c) {
  const int n = static_cast<int>(c.get_int("run.nodes"));
  const uint64_t seed = static_cast<uint64_t>(c.get_int("run.seed"));
  const data::DataSplits splits = data::LoadData(run::DataOptionsFrom(c));
  auto parts = data::Partition(splits.train, run::PartitionOptionsFrom(c));
  const train::ModelOptions mopt = run::ModelOptionsFrom(c);
  const train::OptimizerOptions oopt = run::OptimizerOptionsFrom(c);
  const train::InputShape shape{splits.train.channels, splits.train.height, splits.train.width,
                                splits.train.num_classes};
  const auto x0 = train::InitialParameters(mopt, shape, seed);
  ThreadPool pool(run::ThreadsFrom(c), train::ConfigureWorkerThread);
  std::vector<std::unique_ptr<train::NodeModel>> models(n);
  std::vector<std::unique_ptr<data::NodeLoader>> loaders(n);
  pool.parallel_for(n, [&](size_t i) {
    models[i] = train::MakeNodeModel(mopt, oopt, shape, x0);
    loaders[i] =
        std::make_unique<data::NodeLoader>(splits.train, parts[i], Rng(seed, i, Stream::kShuffle));
  });
  const int64_t rounds = c.get_int("run.rounds");
  const int steps = static_cast<int>(c.get_int("train.local_steps"));
  const int batch = static_cast<int>(c.get_int("train.batch_size"));
  const double lr = c.get_double("train.lr");
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t r = 0; r < rounds; ++r)
    pool.parallel_for(n, [&](size_t i) { models[i]->train_steps(steps, batch, lr, *loaders[i]); });
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / rounds;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string config = argc > 1 ? argv[1] : "configs/quickstart.toml";
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 100;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 3;
  SetLogLevel(LogLevel::kWarn);
  run::Config c = run::Config::FromFile(config);
  c.set("run.rounds=" + std::to_string(rounds));
  c.set("output.eval_every=0");
  c.set("output.eval_avg_model=false");
  c.set("train.lr_decay_rounds=[]");
  double best_ref = 1e300, best_run = 1e300, best_comm = 0;
  const std::string out = std::filesystem::temp_directory_path() / "murmur_bench_overhead";
  for (int rep = 0; rep < repeats; ++rep) {
    const double ref = ReferenceSecondsPerRound(c);
    run::RunOptions o;
    o.out_dir = out;
    o.quiet = true;
    o.overwrite = true;
    auto s = nlohmann::json::parse(run::RunExperiment(c, o).timing_json);
    const double per_round = s["round_seconds_mean"].get<double>();
    std::printf("repeat %d: reference %.4f s/round, murmur %.4f s/round (exchange %.4f s/round)\n",
                rep, ref, per_round, s["comm_seconds"].get<double>() / rounds);
    best_ref = std::min(best_ref, ref);
    if (per_round < best_run) {
      best_run = per_round;
      best_comm = s["comm_seconds"].get<double>() / rounds;
    }
  }
  std::filesystem::remove_all(out);
  std::printf("config %s, %d rounds, best of %d\n", config.c_str(), rounds, repeats);
  std::printf("local steps alone: %.4f s/round\n", best_ref);
  std::printf("murmur round:      %.4f s/round (of which exchange %.4f s)\n", best_run, best_comm);
  std::printf("overhead ratio:    %.3f\n", best_run / best_ref);
  return 0;
}
