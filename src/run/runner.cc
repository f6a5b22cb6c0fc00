#include "murmur/run/runner.h"

#include <nlohmann/json.hpp>

#include <bit>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <optional>

#include "murmur/algo/algorithm.h"
#include "murmur/algo/kernels.h"
#include "murmur/comm/cluster.h"
#include "murmur/comm/network_model.h"
#include "murmur/comm/transport.h"
#include "murmur/compress/codecs.h"
#include "murmur/core/log.h"
#include "murmur/core/state_io.h"
#include "murmur/core/thread_pool.h"
#include "murmur/data/partition.h"
#include "murmur/graph/topology.h"
#include "murmur/run/checkpoint.h"
#include "murmur/run/metrics.h"
#include "murmur/run/options.h"
#include "murmur/run/run_dir.h"
#include "murmur/train/blas.h"
#include "murmur/train/node_model.h"
#include "murmur/train/quasi_global.h"

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

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  MURMUR_CHECK(IoError, in.good(), path.string(), ": cannot open (", std::strerror(errno), ")");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Index of the first NaN or infinity in v, or -1. The common case (none) is one vectorisable
// pass over the exponent bits.
int64_t FirstNonFinite(std::span<const float> v) {
  uint32_t any = 0;
  for (float f : v) any |= (std::bit_cast<uint32_t>(f) & 0x7f800000u) == 0x7f800000u;
  if (!any) return -1;
  for (size_t k = 0; k < v.size(); ++k)
    if (!std::isfinite(v[k])) return static_cast<int64_t>(k);
  return -1;
}

// A link fault on nodes that never talk in its rounds would silently change nothing.
void CheckLinkFaults(const comm::FaultOptions& f, const graph::Topology& t) {
  for (const comm::LinkDown& l : f.link_down) {
    bool linked = false;
    const int64_t span = std::min<int64_t>(l.to - l.from, t.period());
    for (int64_t r = l.from; r < l.from + span && !linked; ++r) {
      const graph::Graph& g = t.at(static_cast<uint32_t>(r));
      auto has = [&](int a, int b) {
        return std::find(g.out[a].begin(), g.out[a].end(), b) != g.out[a].end();
      };
      linked = has(l.a, l.b) || (l.both_ways && has(l.b, l.a));
    }
    MURMUR_CHECK(ConfigError, linked, "faults.link_down: ", l.a, l.both_ways ? "-" : ">", l.b, "@",
                 l.from, ":", l.to, ": node ", l.a, " does not send to node ", l.b,
                 l.both_ways ? " nor back" : "", " in those rounds on topology '", t.name(),
                 "', so the fault would change nothing");
  }
}

// Settings that are valid but most likely not what the user meant: warned about, not refused.
void WarnAboutSchedule(const Config& c, const std::vector<std::vector<int64_t>>& parts) {
  const int64_t rounds = c.get_int("run.rounds");
  for (int64_t m : c.get_int_list("train.lr_decay_rounds"))
    if (m >= rounds)
      LogWarn("train.lr_decay_rounds: the milestone ", m, " is not before run.rounds = ", rounds,
              ", so the learning rate never decays there");
  if (c.get_int("train.warmup_rounds") > rounds)
    LogWarn("train.warmup_rounds = ", c.get_int("train.warmup_rounds"),
            " exceeds run.rounds = ", rounds, ": the run ends before the warm-up does");
  size_t smallest = 0;
  for (size_t i = 1; i < parts.size(); ++i)
    if (parts[i].size() < parts[smallest].size()) smallest = i;
  const int64_t batch = c.get_int("train.batch_size");
  if (!parts.empty() && batch > static_cast<int64_t>(parts[smallest].size()))
    LogWarn("train.batch_size = ", batch, " exceeds the ", parts[smallest].size(),
            " training samples of node ", smallest,
            ": its batches repeat samples within a step (lower train.batch_size, or give the "
            "nodes more data)");
}

struct NodeEval {
  double acc = 0.0, loss = 0.0;
};

// Plain-old-data packing for what ranks send rank 0 (same machine type on every rank).
class Packer {
 public:
  template <typename T>
  void put(const T& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes.insert(bytes.end(), p, p + sizeof(T));
  }
  void put_floats(std::span<const float> v) {
    const auto* p = reinterpret_cast<const uint8_t*>(v.data());
    bytes.insert(bytes.end(), p, p + v.size_bytes());
  }
  comm::Bytes bytes;
};

class Unpacker {
 public:
  explicit Unpacker(std::span<const uint8_t> b) : b_(b) {}
  template <typename T>
  T get() {
    T v;
    need(sizeof(T));
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  void get_floats(std::span<float> out) {
    need(out.size_bytes());
    std::memcpy(out.data(), b_.data() + pos_, out.size_bytes());
    pos_ += out.size_bytes();
  }
  std::span<const uint8_t> get_bytes(size_t n) {
    need(n);
    auto s = b_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  bool done() const { return pos_ == b_.size(); }

 private:
  void need(size_t n) {
    MURMUR_CHECK(ProtocolError, pos_ + n <= b_.size(), "run: gathered block of ", b_.size(),
                 " bytes ends early");
  }
  std::span<const uint8_t> b_;
  size_t pos_ = 0;
};

std::unique_ptr<comm::Cluster> MakeCluster(const Config& c, const RunOptions& options) {
  std::string transport = c.get_string("comm.transport");
  if (transport == "auto") transport = options.launcher_ranks > 0 ? "mpi" : "inproc";
  if (transport == "inproc") {
    MURMUR_CHECK(ConfigError, options.launcher_ranks <= 1, "comm.transport = \"inproc\" under ",
                 "mpirun with ", options.launcher_ranks,
                 " processes: each would run the whole experiment into the same directory; "
                 "use comm.transport = \"auto\" or \"mpi\", or start one process");
    return comm::MakeLocalCluster();
  }
  return comm::MakeMpiCluster(c.get_double("comm.timeout_s"));
}

}  // namespace

int64_t PeakRssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  return 0;
}

void ResetPeakRss() {
  // Linux >= 4.0: "5" resets VmHWM to the current RSS, so a run's peak_rss_bytes is its own
  // even when one process runs several (murmur sweep). Where it is not allowed, the peak
  // stays the process's.
  std::ofstream("/proc/self/clear_refs") << "5";
}

RunResult RunExperiment(const Config& c, const RunOptions& options) {
  ResetPeakRss();
  const auto t_start = Clock::now();
  const int n = static_cast<int>(c.get_int("run.nodes"));
  const int64_t rounds = c.get_int("run.rounds");  // training rounds
  // run.final_gossip_rounds: then rounds of communication alone, up to total_rounds.
  const int64_t total_rounds = rounds + c.get_int("run.final_gossip_rounds");
  const uint64_t seed = static_cast<uint64_t>(c.get_int("run.seed"));
  const std::string algo_name = c.get_string("algorithm.name");

  // Where the nodes live: this process, or the ranks of an MPI job.
  const auto cluster = MakeCluster(c, options);
  const comm::NodeMap map(n, cluster->size(), c.get_string("comm.mapping"));
  const int rank = cluster->rank(), ranks = cluster->size();
  const bool root = rank == 0;
  const std::vector<int>& local = map.local(rank);
  const int n_local = static_cast<int>(local.size());
  const bool quiet = options.quiet || !root;
  if (!root) SetLogLevel(LogLevel::kWarn);

  // Build the topology first: its errors surface before the dataset is loaded.
  const data::DataOptions dopt = DataOptionsFrom(c);
  const graph::TopologyOptions topt = TopologyOptionsFrom(c);
  const auto topology = graph::MakeTopology(topt);
  const auto transport = cluster->make_transport(map);
  transport->record_links(true);  // the network model needs every frame of every round
  const comm::NetworkModel network(NetworkOptionsFrom(c), n, seed);
  const comm::FaultOptions fault_options = FaultOptionsFrom(c);
  const comm::FaultModel faults(fault_options, n, seed);  // checks the node ids first
  CheckLinkFaults(fault_options, *topology);
  transport->set_faults(&faults);
  const bool model_compute = c.get_string("network.compute") == "model";
  std::vector<double> acc_targets = c.get_double_list("output.acc_targets");

  const data::DataSplits splits = data::LoadData(dopt);
  const data::PartitionOptions popt = PartitionOptionsFrom(c);
  auto parts = data::Partition(splits.train, popt);
  if (root) WarnAboutSchedule(c, parts);

  const train::ModelOptions mopt = ModelOptionsFrom(c);
  const train::OptimizerOptions oopt = OptimizerOptionsFrom(c);
  const train::InputShape shape{splits.train.channels, splits.train.height, splits.train.width,
                                splits.train.num_classes};
  const std::vector<float> x0 = train::InitialParameters(mopt, shape, seed);
  const int64_t dim = static_cast<int64_t>(x0.size());

  // Worker threads: run.threads, or this machine's cores shared by the ranks on it.
  const int threads = ThreadsFrom(c, options.launcher_local_ranks, n_local);
  const train::BlasInfo blas = train::ConfigureBlas();
  if (root && threads > 1 && !blas.thread_safe)
    LogWarn("BLAS ", blas.library, " (", blas.config,
            ") is OpenBLAS's single-threaded flavour, which is not safe to call from several "
            "threads: results may differ between runs. Install libopenblas0-pthread (murmur runs "
            "it with one BLAS thread) or set run.threads = 1");
  ThreadPool pool(threads, train::ConfigureWorkerThread);
  train::ConfigureWorkerThread();

  // Models and loaders of this rank's nodes only.
  std::vector<std::unique_ptr<train::NodeModel>> models(n);
  std::vector<std::unique_ptr<data::NodeLoader>> loaders(n);
  pool.parallel_for(n_local, [&](size_t k) {
    const int i = local[k];
    models[i] = train::MakeNodeModel(mopt, oopt, shape, x0);
    loaders[i] = std::make_unique<data::NodeLoader>(splits.train, std::move(parts[i]),
                                                    Rng(seed, i, Stream::kShuffle));
  });
  parts.clear();
  // train.quasi_global_momentum: the momentum buffers are rebuilt from every round's move.
  std::vector<train::QuasiGlobalMomentum> quasi_global;
  if (oopt.quasi_global) quasi_global.assign(n, train::QuasiGlobalMomentum(oopt.momentum));
  algo::AlgorithmContext actx;
  actx.nodes = n;
  actx.dim = dim;
  actx.seed = seed;
  actx.topology = topology.get();
  actx.transport = transport.get();
  actx.compression = c.get_string("compression.name");
  actx.compressor = CompressorOptionsFrom(c);
  actx.rounds = total_rounds;  // scsp's final average comes after the gossip-only rounds
  actx.learning_rate = [&c](int64_t round) { return LearningRate(c, round); };
  actx.gamma = c.get_double("algorithm.gamma");
  actx.gamma_steps_per_octave = static_cast<int>(c.get_int("algorithm.gamma_steps_per_octave"));
  actx.average_every = c.get_int("algorithm.average_every");
  actx.final_average = c.get_bool("algorithm.final_average");
  actx.initial_model = x0;
  actx.copies_from_initial = c.get_string("algorithm.copy_start") == "initial_model";
  actx.relay = RelayOptionsFrom(c);
  actx.vote = VoteOptionsFrom(c);
  actx.jwins = JwinsOptionsFrom(c);
  actx.segments = models[local[0]]->segments();
  if (c.get_bool("compression.per_tensor")) {
    MURMUR_CHECK(ConfigError, actx.compression != "none",
                 "compression.per_tensor = true: there is no compressor to apply per tensor "
                 "(compression.name = \"none\"; ",
                 algo_name, " sends what it sends on its own)");
    actx.compressor.segments.assign(actx.segments.begin(), actx.segments.end());
  }
  // A value codec that nothing uses would be silently ignored.
  const bool values_coded =
      actx.compression == "topk" || actx.compression == "randomk" ||
      actx.compression == "threshold" ||
      ((algo_name == "jwins" || algo_name == "dpsgd") && actx.compression == "none");
  MURMUR_CHECK(
      ConfigError, actx.compressor.value_codec == compress::ValueCodec::kF32 || values_coded,
      "compression.value_codec = \"", compress::ValueCodecName(actx.compressor.value_codec),
      "\": nothing in this run writes values through it (", algo_name,
      " with compression.name = \"", actx.compression,
      "\"); it applies to the kept values of topk, randomk and threshold, to jwins, and "
      "(lossless codecs) to dpsgd's dense frames");
  auto algorithm = algo::MakeAlgorithm(algo_name, actx);
  MURMUR_CHECK(ConfigError, total_rounds == rounds || algorithm->mixes_models(),
               "run.final_gossip_rounds = ", total_rounds - rounds, ": ", algo_name,
               " does not exchange models, so rounds without local steps have nothing to "
               "send; set it to 0");
#ifdef __GLIBC__
  // Set-up (data loading, gamma tuning) frees much more than it keeps; hand the free heap back
  // before the rounds so it does not stay resident for the whole run (W16: 24 MB).
  malloc_trim(0);
#endif

  bool has_gamma = false;
  std::string gamma_text;
  for (const auto& [key, value] : algorithm->resolved_parameters()) {
    if (key != "gamma") continue;
    has_gamma = true;
    gamma_text = std::to_string(value);
  }

  std::unique_ptr<train::NodeModel> avg_model;
  if (root && c.get_bool("output.eval_avg_model"))
    avg_model = train::MakeNodeModel(mopt, oopt, shape, x0);

  // Outputs: written by rank 0 alone.
  std::string out_dir = options.out_dir;
  if (out_dir.empty()) out_dir = c.get_string("output.dir");
  if (out_dir.empty()) out_dir = DefaultOutDir(algo_name);
  const fs::path dir(out_dir);
  // A resumed run continues from the newest whole checkpoint; every rank reads it.
  std::optional<Checkpoint> resume_from;
  if (options.resume) {
    MURMUR_CHECK(IoError, !fs::exists(dir / "summary.json"), "--resume ", out_dir, ": holds ",
                 DescribeRun(dir), "; nothing to resume");
    resume_from = LoadLatestCheckpoint(dir, root);
    MURMUR_CHECK(IoError, resume_from.has_value(), "--resume ", out_dir,
                 ": no usable checkpoint in ", (dir / "checkpoints").string(),
                 " (checkpoints are written with output.checkpoint_every > 0)");
  }
  std::string resume_metrics, resume_evals;  // the CSV files as the checkpoint saw them
  std::optional<CsvWriter> metrics, evals;
  const std::vector<std::string> metric_columns{"round",
                                                "node",
                                                "train_loss",
                                                "bytes_sent",
                                                "bytes_received",
                                                "messages",
                                                "header_bytes_sent",
                                                "messages_received",
                                                "lr",
                                                "sim_seconds",
                                                "messages_dropped"};
  const std::vector<std::string> eval_columns{
      "round",         "node",           "test_acc",          "test_loss",
      "avg_model_acc", "avg_model_loss", "consensus_distance"};
  // Rank 0 owns the run directory (and its lock) until the run ends.
  std::optional<RunDir> run_dir;
  if (root)
    run_dir.emplace(dir, options.resume      ? RunDir::Mode::kResume
                         : options.overwrite ? RunDir::Mode::kOverwrite
                                             : RunDir::Mode::kNew);
  if (root && !options.resume) {
    run_dir->write_file("config.toml", c.to_toml());
    metrics.emplace(run_dir->claim("metrics.csv").string(), metric_columns);
    evals.emplace(run_dir->claim("eval.csv").string(), eval_columns);
  }
  const double setup_seconds = Seconds(t_start, Clock::now());
  if (!quiet)
    LogInfo(n, " nodes, ", algo_name, " on ", topology->name(), ", model ", mopt.name, " (", dim,
            " params), ", dopt.name, " ", splits.train.size, "/", splits.test.size, " samples, ",
            ranks > 1 ? std::to_string(ranks) + " MPI ranks x " : std::string(), threads,
            " threads; setup ", Num(setup_seconds), " s; writing ", out_dir);

  const int steps = static_cast<int>(c.get_int("train.local_steps"));
  const int batch = static_cast<int>(c.get_int("train.batch_size"));
  const int64_t eval_every = c.get_int("output.eval_every");
  const int64_t eval_samples = c.get_int("output.eval_samples");
  const double model_compute_s = steps * batch * c.get_double("network.seconds_per_sample");

  std::vector<double> losses(n), compute_s(n);
  std::vector<int64_t> bad(n, -1);  // first non-finite coordinate of each model, per round
  std::vector<comm::ByteCounters> before(n);
  std::vector<NodeEval> node_eval(n);
  std::vector<std::vector<float>> remote_params(root && ranks > 1 ? n : 0);
  std::vector<float> mean(dim);
  std::vector<comm::LinkRecord> links;
  double train_s = 0.0, comm_s = 0.0, eval_s = 0.0, sim_total = 0.0;
  double last_acc = -1.0, avg_acc = -1.0, avg_loss = 0.0, consensus = 0.0;
  uint64_t sent_total = 0;
  std::map<double, nlohmann::ordered_json> reached;  // accuracy target -> when

  // Rank 0 learns every other rank's per-round numbers: loss, compute time, cumulative
  // counters and link records of each of its nodes.
  auto gather_round = [&](int64_t round) {
    Packer p;
    for (int i : local) {
      p.put<int32_t>(i);
      p.put(losses[i]);
      p.put(compute_s[i]);
      p.put(transport->counters(i));
      const std::vector<comm::LinkRecord> l = transport->take_links(i);
      p.put<uint64_t>(l.size());
      for (const comm::LinkRecord& r : l) p.put(r);
    }
    const std::vector<comm::Bytes> all =
        cluster->gather(std::move(p.bytes), "metrics of round " + std::to_string(round));
    links.clear();
    for (const comm::Bytes& b : all) {
      Unpacker u(b);
      while (!u.done()) {
        const int i = u.get<int32_t>();
        MURMUR_CHECK(ProtocolError, i >= 0 && i < n, "run: gathered metrics name node ", i);
        losses[i] = u.get<double>();
        compute_s[i] = u.get<double>();
        transport->set_counters(i, u.get<comm::ByteCounters>());
        const uint64_t count = u.get<uint64_t>();
        for (uint64_t k = 0; k < count; ++k) links.push_back(u.get<comm::LinkRecord>());
      }
    }
  };

  auto evaluate = [&](int64_t round, int64_t max_samples) {
    pool.parallel_for(n_local, [&](size_t k) {
      const int i = local[k];
      const train::EvalResult r = models[i]->evaluate(splits.test, max_samples);
      node_eval[i] = {r.accuracy, r.loss};
    });
    Packer p;
    for (int i : local) {
      p.put<int32_t>(i);
      p.put(node_eval[i]);
      if (!root) p.put_floats(models[i]->params());
    }
    const std::vector<comm::Bytes> all =
        cluster->gather(std::move(p.bytes), "evaluation of round " + std::to_string(round));
    if (!root) return;
    std::vector<std::span<const float>> xs(n);
    for (size_t q = 0; q < all.size(); ++q) {
      Unpacker u(all[q]);
      while (!u.done()) {
        const int i = u.get<int32_t>();
        MURMUR_CHECK(ProtocolError, i >= 0 && i < n, "run: gathered evaluation names node ", i);
        node_eval[i] = u.get<NodeEval>();
        if (q == 0) {
          xs[i] = models[i]->params();
        } else {
          remote_params[i].resize(dim);
          u.get_floats(remote_params[i]);
          xs[i] = remote_params[i];
        }
      }
    }
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
      evals->row({std::to_string(round), std::to_string(i), Num(node_eval[i].acc),
                  Num(node_eval[i].loss), avg_model ? Num(avg_acc) : "",
                  avg_model ? Num(avg_loss) : "", Num(consensus)});
    }
    evals->flush();
    last_acc = acc_sum / n;
    for (double target : acc_targets)
      if (!reached.count(target) && last_acc >= target)
        reached[target] = {{"round", round},
                           {"sim_seconds", sim_total},
                           {"bytes_sent_per_node", static_cast<double>(sent_total) / n}};
  };

  int64_t last_eval_round = -1;
  const int64_t checkpoint_every = c.get_int("output.checkpoint_every");
  const int checkpoint_keep = static_cast<int>(c.get_int("output.checkpoint_keep"));
  std::string last_checkpoint;  // path of the newest checkpoint written or resumed from

  // Loop seconds (without evaluations) and evaluation seconds of the rounds a resumed run
  // did before its checkpoint; t_loop starts this process's rounds.
  double loop_before = 0.0, eval_before = 0.0;
  auto t_loop = Clock::now();
  // A checkpoint's payload: the config, the runner's totals, the CSV files so far, then one
  // block per node (model, optimizer, data position, algorithm state).
  auto runner_state = [&](StateIo& io) {
    // Measured times of the rounds before the checkpoint: a resumed run reports them all.
    double loop_done = loop_before + Seconds(t_loop, Clock::now()) - (eval_s - eval_before);
    for (double* v : {&sim_total, &last_acc, &avg_acc, &avg_loss, &consensus, &train_s, &comm_s,
                      &eval_s, &loop_done})
      io.value(*v);
    io.value(sent_total);
    io.value(last_eval_round);
    std::vector<NodeEval> evals_now(node_eval);
    io.vector(evals_now);
    std::vector<comm::ByteCounters> counters(n);
    for (int i = 0; i < n; ++i) counters[i] = transport->counters(i);
    io.vector(counters);
    nlohmann::ordered_json when = nlohmann::ordered_json::array();
    for (const auto& [target, at] : reached) when.push_back({target, at});
    std::string when_text = when.dump();
    io.text(when_text);
    if (!io.loading()) return;
    loop_before = loop_done;
    eval_before = eval_s;
    MURMUR_CHECK(
        IoError,
        evals_now.size() == static_cast<size_t>(n) && counters.size() == static_cast<size_t>(n),
        io.what(), ": totals of ", counters.size(), " nodes, expected ", n);
    node_eval = evals_now;
    for (int i = 0; i < n; ++i) {
      transport->set_counters(i, counters[i]);
      before[i] = counters[i];
    }
    reached.clear();
    for (const auto& e : nlohmann::ordered_json::parse(when_text))
      reached[e[0].get<double>()] = e[1];
  };
  auto node_state = [&](int i, StateIo& io) {
    models[i]->checkpoint(io);
    loaders[i]->checkpoint(io);
    algorithm->checkpoint(i, io);
  };
  const std::string config_text = c.to_toml();
  auto write_checkpoint = [&](int64_t rounds_done) {
    Packer p;
    for (int i : local) {
      StateIo io;
      node_state(i, io);
      p.put<int32_t>(i);
      p.put<uint64_t>(io.bytes().size());
      p.bytes.insert(p.bytes.end(), io.bytes().begin(), io.bytes().end());
    }
    const std::vector<comm::Bytes> all = cluster->gather(
        std::move(p.bytes), "checkpoint after round " + std::to_string(rounds_done));
    last_checkpoint = CheckpointPath(dir, rounds_done).string();
    if (!root) return;
    StateIo io;
    std::string text = config_text;
    io.text(text);
    int64_t rd = rounds_done;
    io.value(rd);
    runner_state(io);
    std::string m = ReadText(dir / "metrics.csv"), e = ReadText(dir / "eval.csv");
    io.text(m);
    io.text(e);
    for (const comm::Bytes& b : all) io.bytes().insert(io.bytes().end(), b.begin(), b.end());
    run_dir->claim("checkpoints");
    WriteCheckpoint(dir, rounds_done, io.bytes(), checkpoint_keep);
  };
  int64_t start_round = 0;
  if (resume_from) {
    StateIo io(resume_from->payload, "checkpoint " + resume_from->path);
    std::string text;
    io.text(text);
    MURMUR_CHECK(IoError, text == config_text, io.what(), " was written with another config than ",
                 (dir / "config.toml").string(), "; a run resumes with the config it started with");
    io.value(start_round);
    MURMUR_CHECK(IoError, start_round == resume_from->rounds_done && start_round < total_rounds,
                 io.what(), ": holds round ", start_round, " of ", total_rounds);
    runner_state(io);
    io.text(resume_metrics);
    io.text(resume_evals);
    std::vector<bool> seen(n, false), here(n, false);
    for (int i : local) here[i] = true;
    std::vector<uint8_t> block;
    for (int count = 0; count < n; ++count) {
      int32_t i = -1;
      io.value(i);
      MURMUR_CHECK(IoError, i >= 0 && i < n && !seen[i], io.what(), ": names node ", i,
                   " twice or outside [0, ", n, ")");
      seen[i] = true;
      io.vector(block);  // as written: a u64 length, then the bytes
      if (!here[i]) continue;
      StateIo nio(block, io.what() + ": node " + std::to_string(i));
      node_state(i, nio);
      nio.expect_end();
    }
    io.expect_end();
    last_checkpoint = resume_from->path;
    if (root) {
      metrics.emplace((dir / "metrics.csv").string(), metric_columns, resume_metrics);
      evals.emplace((dir / "eval.csv").string(), eval_columns, resume_evals);
    }
    // The loaded state now lives in the nodes: free its copies for the rest of the run.
    std::vector<uint8_t>().swap(resume_from->payload);
    std::string().swap(resume_metrics);
    std::string().swap(resume_evals);
    if (!quiet)
      LogInfo("resuming from ", resume_from->path, " after round ", start_round, " of ",
              total_rounds);
  }
  auto checkpoint_note = [&] {
    return last_checkpoint.empty() ? std::string()
                                   : "; the last good checkpoint is kept: " + last_checkpoint;
  };

  // What summary.json says of the run whatever its end.
  auto summary_head = [&] {
    nlohmann::ordered_json s;
    s["algorithm"] = algo_name;
    s["topology"] = topology->name();
    s["model"] = mopt.name;
    s["dataset"] = dopt.name;
    s["partition"] = popt.name;
    s["nodes"] = n;
    s["rounds"] = rounds;
    s["final_gossip_rounds"] = total_rounds - rounds;
    s["seed"] = seed;
    s["params"] = dim;
    for (const auto& [key, value] : algorithm->resolved_parameters()) s[key] = value;
    return s;
  };

  Progress progress(total_rounds, quiet, start_round);
  auto run_round = [&](int64_t round) {
    const uint32_t r32 = static_cast<uint32_t>(round);
    const bool training = round < rounds;  // else a gossip-only round: no steps, lr 0
    const double lr = training ? LearningRate(c, round) : 0.0;
    auto t0 = Clock::now();
    pool.parallel_for(n_local, [&](size_t k) {
      const int i = local[k];
      if (!training || faults.down(i, r32)) {  // gossip-only round or crashed node: no steps
        losses[i] = 0.0;
        compute_s[i] = 0.0;
        return;
      }
      const auto ts = Clock::now();
      if (!quasi_global.empty())
        quasi_global[i].begin_round(models[i]->params(), models[i]->optimizer_state());
      losses[i] = models[i]->train_steps(steps, batch, lr, *loaders[i]);
      compute_s[i] = model_compute ? model_compute_s : Seconds(ts, Clock::now());
      // A finite loss can still leave an infinity in the model (the last step's update):
      // caught here, before a compressor is handed it.
      bad[i] = FirstNonFinite(models[i]->params());
    });
    auto t1 = Clock::now();
    auto advice = [&] {  // built only for an error message
      const std::string g = "algorithm.gamma (currently " + gamma_text + ")";
      if (!training) return has_gamma ? "; lower " + g : std::string();  // the gossip alone
      return "; lower train.lr" + (has_gamma ? " or " + g : std::string());
    };
    // Divergence guard: a NaN or infinity in any model (bad[i], set by the caller) stops the
    // run before it is compressed or saved.
    auto check_models = [&](const char* when) {
      for (int i : local)
        MURMUR_CHECK(DivergenceError, bad[i] < 0, "training diverged: node ", i, "'s model holds ",
                     models[i]->params()[bad[i]], " at coordinate ", bad[i], " after ", when, round,
                     advice(), checkpoint_note());
    };
    for (int i : local)
      MURMUR_CHECK(DivergenceError, std::isfinite(losses[i]), "training diverged: node ", i,
                   " has loss ", losses[i], " in round ", round, advice(), checkpoint_note());
    check_models("the local steps of round ");
    for (int phase = 0; phase < algorithm->phases(); ++phase) {
      pool.parallel_for(n_local, [&](size_t k) {
        const int i = local[k];
        if (!faults.down(i, r32)) algorithm->send(phase, r32, i, models[i]->params());
      });
      transport->exchange(r32, static_cast<uint8_t>(phase));
      pool.parallel_for(n_local, [&](size_t k) {
        const int i = local[k];
        if (!faults.down(i, r32)) algorithm->receive(phase, r32, i, models[i]->params());
      });
    }
    pool.parallel_for(n_local, [&](size_t k) {
      const int i = local[k];
      bad[i] = FirstNonFinite(models[i]->params());
      if (!quasi_global.empty() && training && !faults.down(i, r32))
        models[i]->set_optimizer_state(quasi_global[i].end_round(models[i]->params(), lr, steps));
    });
    check_models(training ? "round " : "gossip-only round ");
    auto t2 = Clock::now();
    train_s += Seconds(t0, t1);
    comm_s += Seconds(t1, t2);

    gather_round(round);
    // The mean training loss of the nodes that trained this round (NaN in gossip-only rounds).
    double loss_mean = training ? 0.0 : std::nan("");
    int n_up = 0;
    for (int i = 0; i < n; ++i) n_up += faults.down(i, r32) ? 0 : 1;
    if (root) {
      sim_total += network.round_seconds(compute_s, links);
      MURMUR_CHECK(ConfigError, std::isfinite(sim_total), "network: the simulated time is not ",
                   "finite after round ", round, " (", sim_total,
                   "); network.latency_ms, bandwidth_mbps, spread or straggler_slowdown are too "
                   "extreme");
      for (int i = 0; i < n; ++i) {
        const comm::ByteCounters now = transport->counters(i);
        const comm::ByteCounters d = now - before[i];
        before[i] = now;
        sent_total += d.bytes_sent;
        const bool up = !faults.down(i, r32);
        if (up && training) loss_mean += losses[i] / n_up;
        metrics->row({std::to_string(round), std::to_string(i),
                      up && training ? Num(losses[i]) : "", std::to_string(d.bytes_sent),
                      std::to_string(d.bytes_received), std::to_string(d.messages_sent),
                      std::to_string(d.header_bytes_sent), std::to_string(d.messages_received),
                      Num(lr), Num(sim_total), std::to_string(d.messages_dropped)});
      }
      metrics->flush();
    }
    const bool last = round + 1 == total_rounds;
    if (last || (eval_every > 0 && (round + 1) % eval_every == 0)) {
      auto te = Clock::now();
      evaluate(round, last ? 0 : eval_samples);
      last_eval_round = round;
      eval_s += Seconds(te, Clock::now());
    }
    progress.update(round, loss_mean, last_acc, static_cast<double>(sent_total) / n / 1e6,
                    Seconds(t_loop, Clock::now()));
    if (checkpoint_every > 0 && (round + 1) % checkpoint_every == 0 && round + 1 < total_rounds)
      write_checkpoint(round + 1);
  };

  t_loop = Clock::now();
  int64_t round = start_round;
  try {
    for (; round < total_rounds; ++round) run_round(round);
  } catch (const DivergenceError& e) {
    // A diverged run ended with a result: summary.json says so (sweeps and compare show it),
    // and the error still ends the command.
    if (root) {
      progress.finish();
      nlohmann::ordered_json s = summary_head();
      s["status"] = "diverged";
      s["diverged_round"] = round;
      s["error"] = std::string(e.message());
      s["bytes_sent_per_node"] = static_cast<double>(sent_total) / n;
      s["sim_seconds"] = sim_total;
      run_dir->write_file("summary.json", s.dump(2) + "\n");
    }
    throw;
  }
  progress.finish();
  MURMUR_ASSERT(last_eval_round == total_rounds - 1);
  const double loop_s = loop_before + Seconds(t_loop, Clock::now()) - (eval_s - eval_before);

  nlohmann::ordered_json rank_stats;
  // Every rank's own numbers, and the node state the algorithm's output files need.
  {
    Packer p;
    p.put(transport->wait_seconds());
    p.put(train_s);
    p.put(comm_s);
    p.put(static_cast<double>(PeakRssBytes()));
    if (ranks > 1 && !root)
      for (int i : local) {
        const comm::Bytes b = algorithm->output_state(i);
        p.put<int32_t>(i);
        p.put<uint64_t>(b.size());
        p.bytes.insert(p.bytes.end(), b.begin(), b.end());
      }
    const std::vector<comm::Bytes> all = cluster->gather(std::move(p.bytes), "final state");
    if (!root) {
      RunResult res;
      res.out_dir = out_dir;
      return res;
    }
    nlohmann::ordered_json per_rank = nlohmann::ordered_json::array();
    for (size_t q = 0; q < all.size(); ++q) {
      Unpacker u(all[q]);
      nlohmann::ordered_json r;
      r["rank"] = q;
      r["nodes"] = map.describe(static_cast<int>(q));
      r["wait_seconds"] = u.get<double>();
      r["train_seconds"] = u.get<double>();
      r["comm_seconds"] = u.get<double>();
      r["peak_rss_bytes"] = static_cast<int64_t>(u.get<double>());
      per_rank.push_back(r);
      while (!u.done()) {
        const int i = u.get<int32_t>();
        MURMUR_CHECK(ProtocolError, i >= 0 && i < n, "run: gathered state names node ", i);
        algorithm->set_output_state(i, u.get_bytes(u.get<uint64_t>()));
      }
    }
    if (ranks > 1) rank_stats = per_rank;
  }

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
  nlohmann::ordered_json s = summary_head();
  s["status"] = "finished";
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
  s["sim_seconds"] = sim_total;
  nlohmann::ordered_json tta = nlohmann::ordered_json::object();
  for (double target : acc_targets)
    tta[Num(target)] = reached.count(target) ? reached[target] : nlohmann::ordered_json();
  s["time_to_acc"] = tta;
  s["transport"] = std::string(cluster->name());
  s["ranks"] = ranks;
  // What this process measured (differs between any two runs) goes to timing.json, so that
  // summary.json depends on the config, seed and launch alone.
  nlohmann::ordered_json t;
  t["wall_seconds"] = wall;
  t["setup_seconds"] = setup_seconds;
  t["train_seconds"] = train_s;
  t["comm_seconds"] = comm_s;
  t["eval_seconds"] = eval_s;
  t["round_seconds_mean"] = loop_s / total_rounds;
  t["threads"] = threads;
  t["blas"] = {{"library", blas.library}, {"config", blas.config}};
  t["peak_rss_bytes"] = PeakRssBytes();
  t["resumed_from"] =
      resume_from ? nlohmann::ordered_json(resume_from->path) : nlohmann::ordered_json();
  if (ranks > 1) t["per_rank"] = rank_stats;
  // The algorithm's own files and timing.json first: summary.json marks a finished run.
  for (const algo::OutputFile& f : algorithm->outputs()) run_dir->write_file(f.name, f.content);
  const std::string timing = t.dump(2) + "\n";
  run_dir->write_file("timing.json", timing);
  const std::string text = s.dump(2) + "\n";
  run_dir->write_file("summary.json", text);
  if (!quiet)
    LogInfo("done in ", Num(wall), " s: final accuracy mean ", Num(acc_mean), ", min ",
            Num(acc_min), avg_model ? ", averaged model " + Num(avg_acc) : std::string(), "; sent ",
            Num(static_cast<double>(sent_total) / n / 1e6), " MB per node; ",
            (dir / "summary.json").string());

  RunResult res;
  res.out_dir = out_dir;
  res.summary_json = text;
  res.timing_json = timing;
  res.final_acc_mean = acc_mean;
  res.final_acc_min = acc_min;
  res.final_acc_avg_model = avg_acc;
  res.bytes_sent_per_node = static_cast<double>(sent_total) / n;
  return res;
}

}  // namespace murmur::run
