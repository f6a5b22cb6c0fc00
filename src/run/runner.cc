#include "murmur/run/runner.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "murmur/algo/algorithm.h"
#include "murmur/algo/kernels.h"
#include "murmur/comm/transport.h"
#include "murmur/core/log.h"
#include "murmur/core/thread_pool.h"
#include "murmur/data/partition.h"
#include "murmur/graph/topology.h"
#include "murmur/run/metrics.h"
#include "murmur/run/options.h"
#include "murmur/train/node_model.h"

namespace murmur::run {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Learning rate of a round: linear warm-up from lr/10, then step decay at the milestones.
double LearningRate(const Config& c, int64_t round) {
  double lr = c.get_double("train.lr");
  const int64_t warm = c.get_int("train.warmup_rounds");
  if (round < warm) return lr * (0.1 + 0.9 * static_cast<double>(round) / warm);
  for (int64_t m : c.get_int_list("train.lr_decay_rounds"))
    if (round >= m) lr *= c.get_double("train.lr_decay_factor");
  return lr;
}

std::string DefaultOutDir(const std::string& algorithm) {
  const std::time_t now = std::time(nullptr);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y%m%d-%H%M%S", std::localtime(&now));
  std::string base = std::string("runs/") + ts + "-" + algorithm;
  std::string dir = base;
  for (int k = 2; fs::exists(dir); ++k) dir = base + "-" + std::to_string(k);
  return dir;
}

void PrepareOutDir(const std::string& dir, bool overwrite) {
  std::error_code ec;
  if (fs::exists(dir)) {
    MURMUR_CHECK(IoError, fs::is_directory(dir), "--out '", dir, "' exists and is not a directory");
    const bool has_run =
        fs::exists(fs::path(dir) / "metrics.csv") || fs::exists(fs::path(dir) / "summary.json");
    MURMUR_CHECK(IoError, !has_run || overwrite, "--out '", dir,
                 "' already holds a run; pick another directory or pass --overwrite");
  }
  fs::create_directories(dir, ec);
  MURMUR_CHECK(IoError, !ec, "--out '", dir, "': cannot create (", ec.message(), ")");
}

void WriteFileAtomic(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    MURMUR_CHECK(IoError, out.good(), tmp.string(), ": cannot create");
    out << text;
    out.flush();
    MURMUR_CHECK(IoError, out.good(), tmp.string(), ": write failed");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  MURMUR_CHECK(IoError, !ec, path.string(), ": cannot rename into place (", ec.message(), ")");
}

struct NodeEval {
  double acc = 0.0, loss = 0.0;
};

}  // namespace

int64_t PeakRssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  return 0;
}

RunResult RunExperiment(const Config& c, const RunOptions& options) {
  const auto t_start = Clock::now();
  const int n = static_cast<int>(c.get_int("run.nodes"));
  const int64_t rounds = c.get_int("run.rounds");
  const uint64_t seed = static_cast<uint64_t>(c.get_int("run.seed"));
  const std::string algo_name = c.get_string("algorithm.name");

  // Build the topology first: its errors surface before the dataset is loaded.
  const data::DataOptions dopt = DataOptionsFrom(c);
  const graph::TopologyOptions topt = TopologyOptionsFrom(c);
  const auto topology = graph::MakeTopology(topt);
  const auto transport = comm::MakeInProcessTransport(n);

  const data::DataSplits splits = data::LoadData(dopt);
  const data::PartitionOptions popt = PartitionOptionsFrom(c);
  auto parts = data::Partition(splits.train, popt);

  const train::ModelOptions mopt = ModelOptionsFrom(c);
  const train::OptimizerOptions oopt = OptimizerOptionsFrom(c);
  const train::InputShape shape{splits.train.channels, splits.train.height, splits.train.width,
                                splits.train.num_classes};
  const std::vector<float> x0 = train::InitialParameters(mopt, shape, seed);
  const int64_t dim = static_cast<int64_t>(x0.size());

  const int threads = ThreadsFrom(c);
  ThreadPool pool(threads, train::ConfigureWorkerThread);
  train::ConfigureWorkerThread();

  std::vector<std::unique_ptr<train::NodeModel>> models(n);
  std::vector<std::unique_ptr<data::NodeLoader>> loaders(n);
  pool.parallel_for(n, [&](size_t i) {
    models[i] = train::MakeNodeModel(mopt, oopt, shape, x0);
    loaders[i] = std::make_unique<data::NodeLoader>(splits.train, std::move(parts[i]),
                                                    Rng(seed, i, Stream::kShuffle));
  });
  algo::AlgorithmContext actx;
  actx.nodes = n;
  actx.dim = dim;
  actx.seed = seed;
  actx.topology = topology.get();
  actx.transport = transport.get();
  actx.compression = c.get_string("compression.name");
  actx.compressor = CompressorOptionsFrom(c);
  actx.rounds = rounds;
  actx.gamma = c.get_double("algorithm.gamma");
  actx.average_every = c.get_int("algorithm.average_every");
  actx.final_average = c.get_bool("algorithm.final_average");
  actx.initial_model = x0;
  actx.copies_from_initial = c.get_string("algorithm.copy_start") == "initial_model";
  actx.relay = RelayOptionsFrom(c);
  actx.vote = VoteOptionsFrom(c);
  actx.jwins = JwinsOptionsFrom(c);
  actx.segments = models[0]->segments();
  auto algorithm = algo::MakeAlgorithm(algo_name, actx);

  bool has_gamma = false;
  std::string gamma_text;
  for (const auto& [key, value] : algorithm->resolved_parameters()) {
    if (key != "gamma") continue;
    has_gamma = true;
    gamma_text = std::to_string(value);
  }

  std::unique_ptr<train::NodeModel> avg_model;
  if (c.get_bool("output.eval_avg_model")) avg_model = train::MakeNodeModel(mopt, oopt, shape, x0);

  // Outputs.
  std::string out_dir = options.out_dir;
  if (out_dir.empty()) out_dir = c.get_string("output.dir");
  if (out_dir.empty()) out_dir = DefaultOutDir(algo_name);
  PrepareOutDir(out_dir, options.overwrite);
  const fs::path dir(out_dir);
  WriteFileAtomic(dir / "config.toml", c.to_toml());
  CsvWriter metrics((dir / "metrics.csv").string(),
                    {"round", "node", "train_loss", "bytes_sent", "bytes_received", "messages",
                     "header_bytes_sent", "messages_received", "lr"});
  CsvWriter evals((dir / "eval.csv").string(),
                  {"round", "node", "test_acc", "test_loss", "avg_model_acc", "avg_model_loss",
                   "consensus_distance"});
  const double setup_seconds = Seconds(t_start, Clock::now());
  if (!options.quiet)
    LogInfo(n, " nodes, ", algo_name, " on ", topology->name(), ", model ", mopt.name, " (", dim,
            " params), ", dopt.name, " ", splits.train.size, "/", splits.test.size, " samples, ",
            threads, " threads; setup ", Num(setup_seconds), " s; writing ", out_dir);

  const int steps = static_cast<int>(c.get_int("train.local_steps"));
  const int batch = static_cast<int>(c.get_int("train.batch_size"));
  const int64_t eval_every = c.get_int("output.eval_every");
  const int64_t eval_samples = c.get_int("output.eval_samples");

  std::vector<double> losses(n);
  std::vector<comm::ByteCounters> before(n);
  std::vector<NodeEval> node_eval(n);
  std::vector<float> mean(dim);
  double train_s = 0.0, comm_s = 0.0, eval_s = 0.0;
  double last_acc = -1.0, avg_acc = -1.0, avg_loss = 0.0, consensus = 0.0;
  uint64_t sent_total = 0;
  Progress progress(rounds, options.quiet);

  auto evaluate = [&](int64_t round, int64_t max_samples) {
    pool.parallel_for(n, [&](size_t i) {
      const train::EvalResult r = models[i]->evaluate(splits.test, max_samples);
      node_eval[i] = {r.accuracy, r.loss};
    });
    std::vector<std::span<const float>> xs;
    for (auto& m : models) xs.emplace_back(m->params());
    consensus = algo::ConsensusDistance(xs, mean);
    if (avg_model) {
      std::copy(mean.begin(), mean.end(), avg_model->params().begin());
      avg_model->copy_local_state_from(*models[0]);
      const train::EvalResult r = avg_model->evaluate(splits.test, max_samples);
      avg_acc = r.accuracy;
      avg_loss = r.loss;
    }
    double acc_sum = 0.0;
    for (int i = 0; i < n; ++i) {
      acc_sum += node_eval[i].acc;
      evals.row({std::to_string(round), std::to_string(i), Num(node_eval[i].acc),
                 Num(node_eval[i].loss), avg_model ? Num(avg_acc) : "",
                 avg_model ? Num(avg_loss) : "", Num(consensus)});
    }
    evals.flush();
    last_acc = acc_sum / n;
  };

  const auto t_loop = Clock::now();
  int64_t last_eval_round = -1;
  for (int64_t round = 0; round < rounds; ++round) {
    const uint32_t r32 = static_cast<uint32_t>(round);
    const double lr = LearningRate(c, round);
    auto t0 = Clock::now();
    pool.parallel_for(
        n, [&](size_t i) { losses[i] = models[i]->train_steps(steps, batch, lr, *loaders[i]); });
    auto t1 = Clock::now();
    for (int i = 0; i < n; ++i)
      MURMUR_CHECK(Error, std::isfinite(losses[i]), "training diverged: node ", i, " has loss ",
                   losses[i], " in round ", round, "; lower train.lr",
                   has_gamma ? " or algorithm.gamma (currently " + gamma_text + ")" : "");
    for (int phase = 0; phase < algorithm->phases(); ++phase) {
      pool.parallel_for(n, [&](size_t i) { algorithm->send(phase, r32, i, models[i]->params()); });
      pool.parallel_for(n,
                        [&](size_t i) { algorithm->receive(phase, r32, i, models[i]->params()); });
    }
    auto t2 = Clock::now();
    train_s += Seconds(t0, t1);
    comm_s += Seconds(t1, t2);

    double loss_mean = 0.0;
    for (int i = 0; i < n; ++i) {
      const comm::ByteCounters now = transport->counters(i);
      const comm::ByteCounters d = now - before[i];
      before[i] = now;
      sent_total += d.bytes_sent;
      loss_mean += losses[i] / n;
      metrics.row({std::to_string(round), std::to_string(i), Num(losses[i]),
                   std::to_string(d.bytes_sent), std::to_string(d.bytes_received),
                   std::to_string(d.messages_sent), std::to_string(d.header_bytes_sent),
                   std::to_string(d.messages_received), Num(lr)});
    }
    metrics.flush();
    const bool last = round + 1 == rounds;
    if (last || (eval_every > 0 && (round + 1) % eval_every == 0)) {
      auto te = Clock::now();
      evaluate(round, last ? 0 : eval_samples);
      last_eval_round = round;
      eval_s += Seconds(te, Clock::now());
    }
    progress.update(round, loss_mean, last_acc, static_cast<double>(sent_total) / n / 1e6,
                    Seconds(t_loop, Clock::now()));
  }
  progress.finish();
  MURMUR_ASSERT(last_eval_round == rounds - 1);
  const double loop_s = Seconds(t_loop, Clock::now()) - eval_s;

  const double wall = Seconds(t_start, Clock::now());
  double acc_min = 1.0, acc_max = 0.0, acc_mean = 0.0, loss_mean = 0.0;
  for (auto& e : node_eval) {
    acc_min = std::min(acc_min, e.acc);
    acc_max = std::max(acc_max, e.acc);
    acc_mean += e.acc / n;
    loss_mean += e.loss / n;
  }
  uint64_t header_total = 0, messages_total = 0;
  for (int i = 0; i < n; ++i) {
    header_total += transport->counters(i).header_bytes_sent;
    messages_total += transport->counters(i).messages_sent;
  }
  nlohmann::ordered_json s;
  s["algorithm"] = algo_name;
  s["topology"] = topology->name();
  s["model"] = mopt.name;
  s["dataset"] = dopt.name;
  s["partition"] = popt.name;
  s["nodes"] = n;
  s["rounds"] = rounds;
  s["seed"] = seed;
  s["params"] = dim;
  for (const auto& [key, value] : algorithm->resolved_parameters()) s[key] = value;
  s["final_acc_mean"] = acc_mean;
  s["final_acc_min"] = acc_min;
  s["final_acc_max"] = acc_max;
  s["final_loss_mean"] = loss_mean;
  s["final_acc_avg_model"] = avg_model ? nlohmann::ordered_json(avg_acc) : nlohmann::ordered_json();
  s["final_loss_avg_model"] =
      avg_model ? nlohmann::ordered_json(avg_loss) : nlohmann::ordered_json();
  s["final_consensus_distance"] = consensus;
  s["bytes_sent_per_node"] = static_cast<double>(sent_total) / n;
  s["bytes_sent_total"] = sent_total;
  s["header_bytes_sent_total"] = header_total;
  s["messages_total"] = messages_total;
  s["wall_seconds"] = wall;
  s["setup_seconds"] = setup_seconds;
  s["train_seconds"] = train_s;
  s["comm_seconds"] = comm_s;
  s["eval_seconds"] = eval_s;
  s["round_seconds_mean"] = loop_s / rounds;
  s["threads"] = threads;
  s["peak_rss_bytes"] = PeakRssBytes();
  // The algorithm's own files first: summary.json marks a finished run.
  for (const algo::OutputFile& f : algorithm->outputs()) WriteFileAtomic(dir / f.name, f.content);
  const std::string text = s.dump(2) + "\n";
  WriteFileAtomic(dir / "summary.json", text);
  if (!options.quiet)
    LogInfo("done in ", Num(wall), " s: final accuracy mean ", Num(acc_mean), ", min ",
            Num(acc_min), avg_model ? ", averaged model " + Num(avg_acc) : std::string(), "; sent ",
            Num(static_cast<double>(sent_total) / n / 1e6), " MB per node; ",
            (dir / "summary.json").string());

  RunResult res;
  res.out_dir = out_dir;
  res.summary_json = text;
  res.final_acc_mean = acc_mean;
  res.final_acc_min = acc_min;
  res.final_acc_avg_model = avg_acc;
  res.bytes_sent_per_node = static_cast<double>(sent_total) / n;
  return res;
}

}  // namespace murmur::run
