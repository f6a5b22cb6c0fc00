#include "murmur/run/experiment.h"

#include "experiment_impl.h"

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
#include "murmur/core/coding.h"
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
void WarnAboutSchedule(const RunSettings& s, const std::vector<std::vector<int64_t>>& parts) {
  for (int64_t m : s.lr.decay_rounds)
    if (m >= s.rounds)
      LogWarn("train.lr_decay_rounds: the milestone ", m, " is not before run.rounds = ", s.rounds,
              ", so the learning rate never decays there");
  if (s.lr.warmup_rounds > s.rounds)
    LogWarn("train.warmup_rounds = ", s.lr.warmup_rounds, " exceeds run.rounds = ", s.rounds,
            ": the run ends before the warm-up does");
  size_t smallest = 0;
  for (size_t i = 1; i < parts.size(); ++i)
    if (parts[i].size() < parts[smallest].size()) smallest = i;
  if (!parts.empty() && s.batch_size > static_cast<int64_t>(parts[smallest].size()))
    LogWarn("train.batch_size = ", s.batch_size, " exceeds the ", parts[smallest].size(),
            " training samples of node ", smallest,
            ": its batches repeat samples within a step (lower train.batch_size, or give the "
            "nodes more data)");
}

// What ranks send rank 0, field by field (core/coding.h).
void PutEval(Bytes& b, const NodeEval& e) {
  Put(b, e.acc);
  Put(b, e.loss);
}
NodeEval GetEval(ByteReader& r) {
  NodeEval e;
  e.acc = r.get<double>();
  e.loss = r.get<double>();
  return e;
}
void PutCounters(Bytes& b, const comm::ByteCounters& c) {
  for (uint64_t v : {c.bytes_sent, c.header_bytes_sent, c.messages_sent, c.bytes_received,
                     c.header_bytes_received, c.messages_received, c.messages_dropped})
    Put(b, v);
}
comm::ByteCounters GetCounters(ByteReader& r) {
  comm::ByteCounters c;
  for (uint64_t* v : {&c.bytes_sent, &c.header_bytes_sent, &c.messages_sent, &c.bytes_received,
                      &c.header_bytes_received, &c.messages_received, &c.messages_dropped})
    *v = r.u64();
  return c;
}
void PutLink(Bytes& b, const comm::LinkRecord& l) {
  Put<int32_t>(b, l.from);
  Put<int32_t>(b, l.to);
  PutU8(b, l.phase);
  Put(b, l.bytes);
  Put(b, l.delay);
}
comm::LinkRecord GetLink(ByteReader& r) {
  comm::LinkRecord l;
  l.from = r.get<int32_t>();
  l.to = r.get<int32_t>();
  l.phase = r.u8();
  l.bytes = r.u64();
  l.delay = r.get<double>();
  return l;
}
// A gathered node id, checked.
int GetNode(ByteReader& r, int n) {
  const int i = r.get<int32_t>();
  MURMUR_CHECK(ProtocolError, i >= 0 && i < n, r.what(), ": names node ", i, " of ", n);
  return i;
}
// A block of node i's bytes: id, length, bytes.
void PutBlock(Bytes& b, int i, std::span<const uint8_t> block) {
  Put<int32_t>(b, i);
  PutU64(b, block.size());
  PutBytes(b, block);
}

std::unique_ptr<comm::Cluster> MakeCluster(const RunSettings& s, const RunOptions& options) {
  std::string transport = s.transport;
  if (transport == "auto") transport = options.launcher_ranks > 0 ? "mpi" : "inproc";
  if (transport == "inproc") {
    MURMUR_CHECK(ConfigError, options.launcher_ranks <= 1, "comm.transport = \"inproc\" under ",
                 "mpirun with ", options.launcher_ranks,
                 " processes: each would run the whole experiment into the same directory; "
                 "use comm.transport = \"auto\" or \"mpi\", or start one process");
    return comm::MakeLocalCluster();
  }
  return comm::MakeMpiCluster(s.comm_timeout_s);
}

const std::vector<std::string> kEvalColumns{
    "round",         "node",           "test_acc",          "test_loss",
    "avg_model_acc", "avg_model_loss", "consensus_distance"};

}  // namespace

int64_t FirstNonFiniteIn(std::span<const float> v) {
  uint32_t any = 0;
  for (float f : v) any |= (std::bit_cast<uint32_t>(f) & 0x7f800000u) == 0x7f800000u;
  if (!any) return -1;
  for (size_t k = 0; k < v.size(); ++k)
    if (!std::isfinite(v[k])) return static_cast<int64_t>(k);
  return -1;
}

const std::vector<std::string>& kMetricColumns() {
  static const std::vector<std::string> columns{"round",
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
  return columns;
}

Experiment::Impl::Impl(const Config& config, const RunOptions& options)
    : config_(config), options_(options), s_(RunSettingsFrom(config)), n_(s_.nodes) {
  ResetPeakRss();
  place_nodes();
  build_nodes();
  build_algorithm();
  open_run_dir();
  model_compute_s_ = model_compute_base();
  losses_.assign(n_, 0.0);
  usage_round_.assign(n_, {});
  usage_total_.assign(n_, {});
  energy_before_.assign(n_, 0.0);
  stale_round_.assign(n_, {});
  trained_.assign(n_, 0);
  compute_s_.assign(n_, 0.0);
  bad_.assign(n_, -1);
  before_.assign(n_, {});
  node_eval_.assign(n_, {});
  remote_params_.resize(root_ && ranks_ > 1 ? n_ : 0);
  mean_.assign(dim_, 0.0f);
  if (resume_from_) resume();
  progress_.emplace(total_rounds(), quiet_, next_round_);
  t_loop_ = Clock::now();
}

void Experiment::Impl::place_nodes() {
  cluster_ = MakeCluster(s_, options_);
  map_.emplace(n_, cluster_->size(), s_.mapping);
  rank_ = cluster_->rank();
  ranks_ = cluster_->size();
  root_ = rank_ == 0;
  local_ = map_->local(rank_);
  quiet_ = options_.quiet || !root_;
  if (!root_) SetLogLevel(LogLevel::kWarn);
  // The topology first: its errors surface before the dataset is loaded.
  topology_ = graph::MakeTopology(TopologyOptionsFrom(config_));
  transport_ = cluster_->make_transport(*map_);
  transport_->record_links(true);  // the network model needs every frame of every round
  sim_ = SimOptionsFrom(config_);
  comm::NetworkOptions network_options = NetworkOptionsFrom(config_);
  network_options.shared_uplink = sim_.event;
  network_.emplace(network_options, n_, s_.seed);
  const comm::FaultOptions fault_options = FaultOptionsFrom(config_);
  faults_.emplace(fault_options, n_, s_.seed);  // checks the node ids first
  build_simulation();
  CheckLinkFaults(fault_options, *topology_);
  transport_->set_faults(&*faults_);
  byzantine_ = ByzantineOptionsFrom(config_, n_);
  malicious_.assign(n_, false);
  for (int i : byzantine_.nodes) malicious_[i] = true;
  MURMUR_CHECK(ConfigError,
               !byzantine_.needs_honest_models() || !byzantine_.active() || ranks_ == 1,
               "faults.attack = \"", config_.get_string("faults.attack"), "\" reads every honest ",
               "node's model, which are spread over ", ranks_,
               " MPI ranks here; run it in one process (sign_flip and gaussian run anywhere)");
}

void Experiment::Impl::build_nodes() {
  dopt_ = DataOptionsFrom(config_);
  splits_ = data::LoadData(dopt_);
  popt_ = PartitionOptionsFrom(config_);
  auto parts = data::Partition(splits_.train, popt_);
  if (root_) WarnAboutSchedule(s_, parts);
  mopt_ = ModelOptionsFrom(config_);
  oopt_ = OptimizerOptionsFrom(config_);
  shape_ = train::InputShapeOf(splits_.train);
  if (!splits_.train.owners.empty() && popt_.name == "natural")
    users_csv_ = data::UserMappingCsv(splits_.train, parts);
  x0_ = train::InitialParameters(mopt_, shape_, s_.seed);
  dim_ = static_cast<int64_t>(x0_.size());
  // Worker threads: run.threads, or this machine's cores shared by the ranks on it.
  const int n_local = static_cast<int>(local_.size());
  threads_ = ThreadsFrom(config_, options_.launcher_local_ranks, n_local);
  blas_ = train::ConfigureBlas();
  if (root_ && threads_ > 1 && !blas_.thread_safe)
    LogWarn("BLAS ", blas_.library, " (", blas_.config,
            ") is OpenBLAS's single-threaded flavour, which is not safe to call from several "
            "threads: results may differ between runs. Install libopenblas0-pthread (murmur runs "
            "it with one BLAS thread) or set run.threads = 1");
  pool_.emplace(threads_, train::ConfigureWorkerThread);
  train::ConfigureWorkerThread();
  // Models and loaders of this process's nodes only.
  models_.resize(n_);
  loaders_.resize(n_);
  pool_->parallel_for(local_.size(), [&](size_t k) {
    const int i = local_[k];
    models_[i] = train::MakeNodeModel(mopt_, oopt_, shape_, x0_);
    loaders_[i] = std::make_unique<data::NodeLoader>(splits_.train, std::move(parts[i]),
                                                     Rng(s_.seed, i, Stream::kShuffle));
  });
  if (oopt_.quasi_global) quasi_global_.assign(n_, train::QuasiGlobalMomentum(oopt_.momentum));
  if (root_ && s_.eval_avg_model) avg_model_ = train::MakeNodeModel(mopt_, oopt_, shape_, x0_);
}

void Experiment::Impl::build_algorithm() {
  algo::AlgorithmContext actx = AlgorithmContextFrom(config_, models_[local_[0]]->segments());
  actx.nodes = n_;
  actx.dim = dim_;
  actx.topology = topology_.get();
  actx.transport = transport_.get();
  actx.initial_model = x0_;
  actx.hosted = local_;
  std::sort(actx.hosted.begin(), actx.hosted.end());
  MURMUR_CHECK(ConfigError,
               s_.final_gossip_rounds == 0 || algo::GetAlgorithm(s_.algorithm).traits.mixes_models,
               "run.final_gossip_rounds = ", s_.final_gossip_rounds, ": ", s_.algorithm,
               " does not exchange models, so rounds without local steps have nothing to "
               "send; set it to 0");
  if (algo::GetAlgorithm(s_.algorithm).traits.asynchronous) {
    build_async(actx);
    return;
  }
  algorithm_ = algo::MakeAlgorithm(s_.algorithm, actx);
#ifdef __GLIBC__
  // Set-up (data loading, gamma tuning) frees much more than it keeps; hand the free heap back
  // before the rounds so it does not stay resident for the whole run (W16: 24 MB).
  malloc_trim(0);
#endif
  for (const auto& [key, value] : algorithm_->resolved_parameters())
    if (key == "gamma") gamma_text_ = std::to_string(value);
}

void Experiment::Impl::open_run_dir() {
  out_dir_ = options_.out_dir;
  if (out_dir_.empty()) out_dir_ = s_.out_dir;
  if (out_dir_.empty()) out_dir_ = DefaultOutDir(s_.algorithm);
  dir_ = fs::path(out_dir_);
  config_text_ = config_.to_toml();
  // A resumed run continues from the newest whole checkpoint; every rank reads it.
  if (options_.resume) {
    MURMUR_CHECK(IoError, !fs::exists(dir_ / "summary.json"), "--resume ", out_dir_, ": holds ",
                 DescribeRun(dir_), "; nothing to resume");
    resume_from_ = LoadLatestCheckpoint(dir_, root_);
    MURMUR_CHECK(IoError, resume_from_.has_value(), "--resume ", out_dir_,
                 ": no usable checkpoint in ", (dir_ / "checkpoints").string(),
                 " (checkpoints are written with output.checkpoint_every > 0)");
  }
  if (root_)
    run_dir_.emplace(dir_, options_.resume      ? RunDir::Mode::kResume
                           : options_.overwrite ? RunDir::Mode::kOverwrite
                                                : RunDir::Mode::kNew);
  if (root_ && !options_.resume) {
    run_dir_->write_file("config.toml", config_text_);
    if (!users_csv_.empty()) run_dir_->write_file("users.csv", users_csv_);
    metrics_.emplace(run_dir_->claim("metrics.csv").string(), metric_columns());
    evals_.emplace(run_dir_->claim("eval.csv").string(), kEvalColumns);
  }
  setup_seconds_ = Seconds(t_start_, Clock::now());
  if (!quiet_)
    LogInfo(n_, " nodes, ", s_.algorithm, " on ", topology_->name(), ", model ", mopt_.name, " (",
            dim_, " params), ", dopt_.name, " ", splits_.train.size, "/", splits_.test.size,
            " samples, ", ranks_ > 1 ? std::to_string(ranks_) + " MPI ranks x " : std::string(),
            threads_, " threads; setup ", Num(setup_seconds_), " s; writing ", out_dir_);
}

// A checkpoint's payload: the config, the runner's totals, the CSV files so far, then one
// block per node (model, optimizer, data position, algorithm state).
void Experiment::Impl::resume() {
  StateIo io(resume_from_->payload, "checkpoint " + resume_from_->path);
  std::string text;
  io.text(text);
  MURMUR_CHECK(IoError, text == config_text_, io.what(), " was written with another config than ",
               (dir_ / "config.toml").string(), "; a run resumes with the config it started with");
  io.value(next_round_);
  MURMUR_CHECK(IoError, next_round_ == resume_from_->rounds_done && next_round_ < total_rounds(),
               io.what(), ": holds round ", next_round_, " of ", total_rounds());
  runner_state(io);
  std::string resume_metrics, resume_evals;  // the CSV files as the checkpoint saw them
  io.text(resume_metrics);
  io.text(resume_evals);
  std::vector<bool> seen(n_, false), here(n_, false);
  for (int i : local_) here[i] = true;
  std::vector<uint8_t> block;
  for (int count = 0; count < n_; ++count) {
    int32_t i = -1;
    io.value(i);
    MURMUR_CHECK(IoError, i >= 0 && i < n_ && !seen[i], io.what(), ": names node ", i,
                 " twice or outside [0, ", n_, ")");
    seen[i] = true;
    io.vector(block);  // as written: a u64 length, then the bytes
    if (!here[i]) continue;
    StateIo nio(block, io.what() + ": node " + std::to_string(i));
    node_state(i, nio);
    nio.expect_end();
  }
  io.expect_end();
  last_checkpoint_ = resume_from_->path;
  last_checkpoint_round_ = next_round_;
  if (root_) {
    metrics_.emplace((dir_ / "metrics.csv").string(), metric_columns(), resume_metrics);
    evals_.emplace((dir_ / "eval.csv").string(), kEvalColumns, resume_evals);
  }
  // The loaded state now lives in the nodes: free its copy for the rest of the run.
  std::vector<uint8_t>().swap(resume_from_->payload);
  if (!quiet_)
    LogInfo("resuming from ", resume_from_->path, " after round ", next_round_, " of ",
            total_rounds());
}

void Experiment::Impl::runner_state(StateIo& io) {
  // Measured times of the rounds before the checkpoint: a resumed run reports them all.
  double loop_done = loop_before_ + Seconds(t_loop_, Clock::now()) - (eval_s_ - eval_before_);
  for (double* v : {&sim_total_, &last_acc_, &avg_acc_, &avg_loss_, &consensus_, &train_s_,
                    &comm_s_, &eval_s_, &loop_done})
    io.value(*v);
  io.value(sent_total_);
  io.value(last_eval_round_);
  if (extended_) {  // only then: the checkpoints of other runs keep their layout
    io.vector(usage_total_);
    io.vector(energy_before_);
  }
  if (engine_) {
    engine_->checkpoint(io);
    io.value(stale_total_);
  }
  std::vector<NodeEval> evals_now(node_eval_);
  io.vector(evals_now);
  std::vector<comm::ByteCounters> counters(n_);
  for (int i = 0; i < n_; ++i) counters[i] = transport_->counters(i);
  io.vector(counters);
  nlohmann::ordered_json when = nlohmann::ordered_json::array();
  for (const auto& [target, at] : reached_) when.push_back({target, at});
  std::string when_text = when.dump();
  io.text(when_text);
  if (!io.loading()) return;
  loop_before_ = loop_done;
  eval_before_ = eval_s_;
  MURMUR_CHECK(
      IoError,
      evals_now.size() == static_cast<size_t>(n_) && counters.size() == static_cast<size_t>(n_),
      io.what(), ": totals of ", counters.size(), " nodes, expected ", n_);
  node_eval_ = evals_now;
  for (int i = 0; i < n_; ++i) {
    transport_->set_counters(i, counters[i]);
    before_[i] = counters[i];
  }
  reached_.clear();
  for (const auto& e : nlohmann::ordered_json::parse(when_text))
    reached_[e[0].get<double>()] = e[1];
}

void Experiment::Impl::node_state(int i, StateIo& io) {
  models_[i]->checkpoint(io);
  loaders_[i]->checkpoint(io);
  if (algorithm_) algorithm_->checkpoint(i, io);
  if (engine_) {
    async_->checkpoint(i, io);
    engine_->checkpoint_node(i, io);
  }
}

void Experiment::Impl::write_checkpoint(int64_t rounds_done) {
  if (engine_) engine_->flush();  // local steps that have started are computed and saved
  Bytes p;
  for (int i : local_) {
    StateIo io;
    node_state(i, io);
    PutBlock(p, i, io.bytes());
  }
  const std::vector<comm::Bytes> all =
      cluster_->gather(std::move(p), "checkpoint after round " + std::to_string(rounds_done));
  last_checkpoint_ = CheckpointPath(dir_, rounds_done).string();
  last_checkpoint_round_ = rounds_done;
  if (!root_) return;
  StateIo io;
  std::string text = config_text_;
  io.text(text);
  int64_t rd = rounds_done;
  io.value(rd);
  runner_state(io);
  std::string m = ReadText(dir_ / "metrics.csv"), e = ReadText(dir_ / "eval.csv");
  io.text(m);
  io.text(e);
  for (const comm::Bytes& b : all) io.bytes().insert(io.bytes().end(), b.begin(), b.end());
  run_dir_->claim("checkpoints");
  WriteCheckpoint(dir_, rounds_done, io.bytes(), s_.checkpoint_keep);
}

std::string Experiment::Impl::checkpoint_note() const {
  return last_checkpoint_.empty() ? std::string()
                                  : "; the last good checkpoint is kept: " + last_checkpoint_;
}

// What to change after a divergence (built only for the error message).
std::string Experiment::Impl::advice(bool training) const {
  const std::string g = "algorithm.gamma (currently " + gamma_text_ + ")";
  const bool has_gamma = !gamma_text_.empty();
  if (!training) return has_gamma ? "; lower " + g : std::string();  // the gossip alone
  return "; lower train.lr" + (has_gamma ? " or " + g : std::string());
}

// Divergence guard: a NaN or infinity in any model (bad_[i]) stops the run before it is
// compressed or saved.
void Experiment::Impl::check_models(int64_t round, const char* when, bool training) const {
  for (int i : local_)
    MURMUR_CHECK(DivergenceError, bad_[i] < 0 || malicious_[i], "training diverged: node ", i,
                 "'s model holds ", models_[i]->params()[bad_[i]], " at coordinate ", bad_[i],
                 " after ", when, round, advice(training), checkpoint_note());
}

void Experiment::Impl::local_steps(int64_t round, double lr, bool training) {
  const uint32_t r32 = static_cast<uint32_t>(round);
  pool_->parallel_for(local_.size(), [&](size_t k) {
    const int i = local_[k];
    if (!training || faults_->down(i, r32)) {  // gossip-only round or crashed node: no steps
      losses_[i] = 0.0;
      compute_s_[i] = 0.0;
      return;
    }
    const auto ts = Clock::now();
    if (!quasi_global_.empty())
      quasi_global_[i].begin_round(models_[i]->params(), models_[i]->optimizer_state());
    losses_[i] = models_[i]->train_steps(s_.local_steps, s_.batch_size, lr, *loaders_[i]);
    compute_s_[i] = device_  // event mode: the device's time (NetworkModel applies slowdown)
                        ? device_->step_seconds(i, round) / network_->slowdown(i)
                        : s_.model_compute ? model_compute_s_ : Seconds(ts, Clock::now());
    // A finite loss can still leave an infinity in the model (the last step's update):
    // caught here, before a compressor is handed it.
    bad_[i] = FirstNonFiniteIn(models_[i]->params());
  });
  for (int i : local_)
    MURMUR_CHECK(DivergenceError, std::isfinite(losses_[i]) || malicious_[i],
                 "training diverged: node ", i, " has loss ", losses_[i], " in round ", round,
                 advice(training), checkpoint_note());
  check_models(round, "the local steps of round ", training);
}

void Experiment::Impl::one_round(int64_t round) {
  if (engine_) return async_round(round);
  set_churn(round);
  const uint32_t r32 = static_cast<uint32_t>(round);
  const bool training = round < s_.rounds;  // else a gossip-only round: no steps, lr 0
  const double lr = training ? s_.lr.at(round) : 0.0;
  const auto t0 = Clock::now();
  local_steps(round, lr, training);
  const bool attacking = byzantine_.active() && round >= byzantine_.from;
  if (attacking) attack(round);
  const auto t1 = Clock::now();
  algo::CommunicationRound(
      *algorithm_, *transport_, r32, local_, [&](int i) { return models_[i]->params(); }, &*pool_,
      &*faults_);
  if (attacking) restore_attackers();
  pool_->parallel_for(local_.size(), [&](size_t k) {
    const int i = local_[k];
    bad_[i] = FirstNonFiniteIn(models_[i]->params());
    if (!quasi_global_.empty() && training && !faults_->down(i, r32))
      models_[i]->set_optimizer_state(
          quasi_global_[i].end_round(models_[i]->params(), lr, s_.local_steps));
  });
  check_models(round, training ? "round " : "gossip-only round ", training);
  train_s_ += Seconds(t0, t1);
  comm_s_ += Seconds(t1, Clock::now());

  gather_round(round);
  end_round(round, lr, record_metrics(round, lr, training));
}

// After a round's (or window's) metrics: an evaluation when due, the progress line, the figures
// for a driver, a checkpoint when due.
void Experiment::Impl::end_round(int64_t round, double lr, double loss_mean) {
  const bool last = round + 1 == total_rounds();
  if (last || (s_.eval_every > 0 && (round + 1) % s_.eval_every == 0)) {
    const auto te = Clock::now();
    if (engine_) publish_async_models();
    evaluate(round, last ? 0 : s_.eval_samples);
    last_eval_round_ = round;
    eval_s_ += Seconds(te, Clock::now());
  }
  progress_->update(round, loss_mean, last_acc_, static_cast<double>(sent_total_) / n_ / 1e6,
                    Seconds(t_loop_, Clock::now()));
  record_figures(round, lr, loss_mean, last_eval_round_ == round);
  if (s_.checkpoint_every > 0 && (round + 1) % s_.checkpoint_every == 0 &&
      round + 1 < total_rounds())
    write_checkpoint(round + 1);
}

// Malicious nodes replace their model, after the local steps, by what faults.attack sends; the
// algorithm then sends it through the transport like any model. ALIE and IPM read the honest
// nodes' models (in process: every node is here).
void Experiment::Impl::attack(int64_t round) {
  using A = ByzantineOptions::Attack;
  const uint32_t r32 = static_cast<uint32_t>(round);
  std::vector<double> mean, sq;
  if (byzantine_.needs_honest_models()) {
    mean.assign(dim_, 0.0);
    sq.assign(dim_, 0.0);
    int honest = 0;
    for (int i = 0; i < n_; ++i) {
      if (malicious_[i] || faults_->down(i, r32)) continue;
      const std::span<float> x = models_[i]->params();
      for (int64_t k = 0; k < dim_; ++k) {
        mean[k] += x[k];
        sq[k] += static_cast<double>(x[k]) * x[k];
      }
      ++honest;
    }
    for (int64_t k = 0; k < dim_; ++k) {
      mean[k] /= std::max(honest, 1);
      sq[k] = std::sqrt(std::max(0.0, sq[k] / std::max(honest, 1) - mean[k] * mean[k]));
    }
  }
  const double s = byzantine_.scale;
  attacker_models_.resize(n_);
  for (int i : local_) {
    if (!malicious_[i] || faults_->down(i, r32)) continue;
    const std::span<float> x = models_[i]->params();
    attacker_models_[i].assign(x.begin(), x.end());
    Rng rng(DeriveSeed(s_.seed, static_cast<uint64_t>(round), Stream::kFaults),
            static_cast<uint64_t>(i), Stream::kFaults);
    for (int64_t k = 0; k < dim_; ++k) {
      switch (byzantine_.attack) {
        case A::kSignFlip:
          x[k] = static_cast<float>(-s * x[k]);
          break;
        case A::kGaussian:
          x[k] = static_cast<float>(x[k] + s * rng.normal());
          break;
        case A::kAlie:
          x[k] = static_cast<float>(mean[k] - s * sq[k]);
          break;
        case A::kIpm:
          x[k] = static_cast<float>(-s * mean[k]);
          break;
      }
    }
  }
}

// A malicious node keeps its own model (it trains; it never takes in the others'): what the
// algorithm did to it this round is undone.
void Experiment::Impl::restore_attackers() {
  for (int i : local_) {
    std::vector<float>& own = attacker_models_[i];
    if (own.empty()) continue;
    std::copy(own.begin(), own.end(), models_[i]->params().begin());
    own.clear();
  }
}

void Experiment::Impl::record_figures(int64_t round, double lr, double loss_mean, bool evaluated) {
  RoundFigures& f = figures_;
  f = RoundFigures{};
  f.round = round;
  if (!root_) return;
  f.lr = lr;
  f.loss_mean = loss_mean;
  f.mb_sent_per_node = static_cast<double>(sent_total_) / n_ / 1e6;
  f.sim_seconds = sim_total_;
  f.evaluated = evaluated;
  if (!evaluated) return;
  f.acc_mean = last_acc_;
  f.acc_min = 1.0;
  for (const NodeEval& e : node_eval_) {
    f.acc_min = std::min(f.acc_min, e.acc);
    f.acc_max = std::max(f.acc_max, e.acc);
  }
  f.acc_avg_model = avg_model_ ? avg_acc_ : -1.0;
  f.consensus = consensus_;
}

std::string Experiment::Impl::stop() {
  progress_->finish();
  if (last_checkpoint_round_ != next_round_) write_checkpoint(next_round_);
  if (root_ && !quiet_)
    LogInfo("stopped after ", next_round_, " of ", total_rounds(), " rounds; checkpoint ",
            last_checkpoint_, " (murmur run --resume ", out_dir_, " continues)");
  return root_ ? last_checkpoint_ : std::string();
}

void Experiment::Impl::run_round() {
  MURMUR_ASSERT(next_round_ < total_rounds());
  try {
    one_round(next_round_);
  } catch (const DivergenceError& e) {
    write_diverged_summary(next_round_, e);
    throw;
  }
  ++next_round_;
}

// Rank 0 learns every other rank's per-round numbers: loss, compute time, cumulative counters
// and link records of each of its nodes.
void Experiment::Impl::gather_round(int64_t round) {
  Bytes p;
  for (int i : local_) {
    Put<int32_t>(p, i);
    Put(p, losses_[i]);
    Put(p, compute_s_[i]);
    PutCounters(p, transport_->counters(i));
    const std::vector<comm::LinkRecord> l = transport_->take_links(i);
    PutU64(p, l.size());
    for (const comm::LinkRecord& r : l) PutLink(p, r);
  }
  const std::vector<comm::Bytes> all =
      cluster_->gather(std::move(p), "metrics of round " + std::to_string(round));
  links_.clear();
  for (const comm::Bytes& b : all) {
    ByteReader u(b, "run: gathered metrics");
    while (!u.done()) {
      const int i = GetNode(u, n_);
      losses_[i] = u.get<double>();
      compute_s_[i] = u.get<double>();
      transport_->set_counters(i, GetCounters(u));
      const uint64_t count = u.u64();
      for (uint64_t k = 0; k < count; ++k) links_.push_back(GetLink(u));
    }
  }
}

// Rank 0 writes the round's rows of metrics.csv; returns the mean training loss of the nodes
// that trained this round (NaN in gossip-only rounds).
double Experiment::Impl::record_metrics(int64_t round, double lr, bool training, double window) {
  const uint32_t r32 = static_cast<uint32_t>(round);
  if (!engine_)  // asynchronous windows: async_round says which nodes applied local steps
    for (int i = 0; i < n_; ++i) trained_[i] = training && !faults_->down(i, r32);
  int n_up = 0;
  for (int i = 0; i < n_; ++i) n_up += trained_[i];
  double loss_mean = training && (n_up > 0 || !engine_) ? 0.0 : std::nan("");
  if (!root_) return loss_mean;
  const double seconds = window > 0 ? window : network_->round_seconds(compute_s_, links_);
  sim_total_ += seconds;
  MURMUR_CHECK(ConfigError, std::isfinite(sim_total_), "network: the simulated time is not ",
               "finite after round ", round, " (", sim_total_,
               "); network.latency_ms, bandwidth_mbps, spread or straggler_slowdown are too "
               "extreme");
  if (extended_ && !engine_) sync_usage(round, seconds, training);
  for (int i = 0; i < n_; ++i) {
    const comm::ByteCounters now = transport_->counters(i);
    const comm::ByteCounters d = now - before_[i];
    before_[i] = now;
    sent_total_ += d.bytes_sent;
    if (trained_[i]) loss_mean += losses_[i] / n_up;
    std::vector<std::string> row{std::to_string(round),
                                 std::to_string(i),
                                 trained_[i] ? Num(losses_[i]) : "",
                                 std::to_string(d.bytes_sent),
                                 std::to_string(d.bytes_received),
                                 std::to_string(d.messages_sent),
                                 std::to_string(d.header_bytes_sent),
                                 std::to_string(d.messages_received),
                                 Num(lr),
                                 Num(sim_total_),
                                 std::to_string(d.messages_dropped)};
    if (extended_) add_energy(row, i);
    metrics_->row(row);
  }
  metrics_->flush();
  return loss_mean;
}

void Experiment::Impl::evaluate(int64_t round, int64_t max_samples) {
  pool_->parallel_for(local_.size(), [&](size_t k) {
    const int i = local_[k];
    const train::EvalResult r = models_[i]->evaluate(splits_.test, max_samples);
    node_eval_[i] = {r.accuracy, r.loss};
  });
  Bytes p;
  for (int i : local_) {
    Put<int32_t>(p, i);
    PutEval(p, node_eval_[i]);
  }
  const std::vector<comm::Bytes> all =
      cluster_->gather(std::move(p), "evaluation of round " + std::to_string(round));
  for (const comm::Bytes& b : all) {
    ByteReader u(b, "run: gathered evaluation");
    while (!u.done()) {
      const int i = GetNode(u, n_);
      node_eval_[i] = GetEval(u);
    }
  }
  consensus_ = consensus_distance(round);
  if (!root_) return;
  if (avg_model_) {
    std::copy(mean_.begin(), mean_.end(), avg_model_->params().begin());
    avg_model_->copy_local_state_from(*models_[0]);
    const train::EvalResult r = avg_model_->evaluate(splits_.test, max_samples);
    avg_acc_ = r.accuracy;
    avg_loss_ = r.loss;
  }
  double acc_sum = 0.0;
  for (int i = 0; i < n_; ++i) {
    acc_sum += node_eval_[i].acc;
    evals_->row({std::to_string(round), std::to_string(i), Num(node_eval_[i].acc),
                 Num(node_eval_[i].loss), avg_model_ ? Num(avg_acc_) : "",
                 avg_model_ ? Num(avg_loss_) : "", Num(consensus_)});
  }
  evals_->flush();
  last_acc_ = acc_sum / n_;
  for (double target : s_.acc_targets)
    if (!reached_.count(target) && last_acc_ >= target) {
      reached_[target] = {{"round", round},
                          {"sim_seconds", sim_total_},
                          {"bytes_sent_per_node", static_cast<double>(sent_total_) / n_}};
      if (extended_) {
        double joules = 0.0;
        for (double j : energy_before_) joules += j;
        reached_[target]["energy_j_per_node"] = joules / n_;
      }
    }
}

// The consensus distance of the models and their mean (mean_), on rank 0. Under MPI the
// models travel to rank 0 a block of coordinates at a time, so rank 0 never holds every
// node's model (ConsensusAccumulator gives the same bits as one pass over whole vectors).
double Experiment::Impl::consensus_distance(int64_t round) {
  std::vector<std::span<const float>> xs(n_);
  if (ranks_ == 1) {
    for (int i = 0; i < n_; ++i) xs[i] = models_[i]->params();
    return algo::ConsensusDistance(xs, mean_);
  }
  constexpr int64_t kBlock = int64_t{1} << 16;  // coordinates per gather
  algo::ConsensusAccumulator acc(n_);
  for (int64_t begin = 0; begin < dim_; begin += kBlock) {
    const size_t len = static_cast<size_t>(std::min(kBlock, dim_ - begin));
    Bytes p;
    if (!root_)
      for (int i : local_) {
        Put<int32_t>(p, i);
        PutFloats(p, models_[i]->params().subspan(begin, len));
      }
    const std::vector<comm::Bytes> all = cluster_->gather(
        std::move(p), "models for the consensus distance of round " + std::to_string(round));
    if (!root_) continue;
    for (int i : local_) xs[i] = models_[i]->params().subspan(begin, len);
    for (size_t q = 1; q < all.size(); ++q) {
      ByteReader u(all[q], "run: gathered models");
      while (!u.done()) {
        const int i = GetNode(u, n_);
        remote_params_[i].resize(len);
        u.floats(remote_params_[i]);
        xs[i] = remote_params_[i];
      }
    }
    acc.add(xs, std::span(mean_).subspan(begin, len));
  }
  return acc.result();
}

// What summary.json says of the run whatever its end.
nlohmann::ordered_json Experiment::Impl::summary_head() const {
  nlohmann::ordered_json s;
  s["algorithm"] = s_.algorithm;
  s["topology"] = topology_->name();
  s["model"] = mopt_.name;
  s["dataset"] = dopt_.name;
  s["partition"] = popt_.name;
  s["nodes"] = n_;
  s["rounds"] = s_.rounds;
  s["final_gossip_rounds"] = s_.final_gossip_rounds;
  s["seed"] = s_.seed;
  s["params"] = dim_;
  if (algorithm_)
    for (const auto& [key, value] : algorithm_->resolved_parameters()) s[key] = value;
  return s;
}

// A diverged run ended with a result: summary.json says so (sweeps and compare show it), and
// the error still ends the command.
void Experiment::Impl::write_diverged_summary(int64_t round, const DivergenceError& e) {
  if (!root_) return;
  progress_->finish();
  nlohmann::ordered_json s = summary_head();
  s["status"] = "diverged";
  s["diverged_round"] = round;
  s["error"] = std::string(e.message());
  s["bytes_sent_per_node"] = static_cast<double>(sent_total_) / n_;
  s["sim_seconds"] = sim_total_;
  run_dir_->write_file("summary.json", s.dump(2) + "\n");
}

// Every rank's own numbers, and the node state the algorithm's output files need, gathered to
// rank 0; the per-rank table (rank 0 only).
nlohmann::ordered_json Experiment::Impl::gather_final() {
  Bytes p;
  Put(p, transport_->wait_seconds());
  Put(p, train_s_);
  Put(p, comm_s_);
  Put<int64_t>(p, PeakRssBytes());
  if (ranks_ > 1 && !root_ && algorithm_)
    for (int i : local_) PutBlock(p, i, algorithm_->output_state(i));
  const std::vector<comm::Bytes> all = cluster_->gather(std::move(p), "final state");
  nlohmann::ordered_json per_rank = nlohmann::ordered_json::array();
  if (!root_) return per_rank;
  for (size_t q = 0; q < all.size(); ++q) {
    ByteReader u(all[q], "run: gathered final state");
    nlohmann::ordered_json r;
    r["rank"] = q;
    r["nodes"] = map_->describe(static_cast<int>(q));
    r["wait_seconds"] = u.get<double>();
    r["train_seconds"] = u.get<double>();
    r["comm_seconds"] = u.get<double>();
    r["peak_rss_bytes"] = u.get<int64_t>();
    per_rank.push_back(r);
    while (!u.done()) {
      const int i = GetNode(u, n_);
      algorithm_->set_output_state(i, u.take(u.u64()));
    }
  }
  return per_rank;
}

// output.save_model / output.save_node_models: the final models as files PyTorch loads. Node
// models travel to rank 0 one at a time, as the files they become.
void Experiment::Impl::save_models() {
  if (s_.save_node_models) {
    if (root_) fs::create_directories(run_dir_->claim("models"));
    std::vector<bool> here(n_, false);
    for (int i : local_) here[i] = true;
    for (int i = 0; i < n_; ++i) {
      Bytes p;
      if (here[i]) {
        const std::vector<char> file = models_[i]->export_model();
        p.assign(file.begin(), file.end());
      }
      std::vector<comm::Bytes> all =
          cluster_->gather(std::move(p), "final model of node " + std::to_string(i));
      if (!root_) continue;
      char name[32];
      std::snprintf(name, sizeof name, "node_%03d.pt", i);
      for (const comm::Bytes& b : all)
        if (!b.empty()) WriteFileAtomic(dir_ / "models" / name, std::string(b.begin(), b.end()));
    }
  }
  if (!root_ || !s_.save_model) return;
  // The averaged model: mean_ holds it after the final evaluation.
  std::unique_ptr<train::NodeModel> avg =
      avg_model_ ? nullptr : train::MakeNodeModel(mopt_, oopt_, shape_, x0_);
  train::NodeModel& m = avg_model_ ? *avg_model_ : *avg;
  std::copy(mean_.begin(), mean_.end(), m.params().begin());
  m.copy_local_state_from(*models_[0]);
  const std::vector<char> file = m.export_model();
  run_dir_->write_file("model.pt", std::string(file.begin(), file.end()));
}

// What this process measured (differs between any two runs) goes to timing.json, so that
// summary.json depends on the config, seed and launch alone.
nlohmann::ordered_json Experiment::Impl::timing(double loop_s, double wall) const {
  nlohmann::ordered_json t;
  t["wall_seconds"] = wall;
  t["setup_seconds"] = setup_seconds_;
  t["train_seconds"] = train_s_;
  t["comm_seconds"] = comm_s_;
  t["eval_seconds"] = eval_s_;
  t["round_seconds_mean"] = loop_s / total_rounds();
  t["threads"] = threads_;
  t["blas"] = {{"library", blas_.library}, {"config", blas_.config}};
  t["peak_rss_bytes"] = PeakRssBytes();
  t["resumed_from"] =
      resume_from_ ? nlohmann::ordered_json(resume_from_->path) : nlohmann::ordered_json();
  return t;
}

RunResult Experiment::Impl::finish() {
  MURMUR_ASSERT(next_round_ == total_rounds() && last_eval_round_ == total_rounds() - 1);
  progress_->finish();
  // The rounds' time without evaluations, before the final gathers.
  const double loop_s = loop_before_ + Seconds(t_loop_, Clock::now()) - (eval_s_ - eval_before_);
  const nlohmann::ordered_json per_rank = gather_final();
  save_models();
  RunResult res;
  res.out_dir = out_dir_;
  if (!root_) return res;
  const double wall = Seconds(t_start_, Clock::now());
  nlohmann::ordered_json t = timing(loop_s, wall);
  if (ranks_ > 1) t["per_rank"] = per_rank;
  double acc_min = 1.0, acc_max = 0.0, acc_mean = 0.0, loss_mean = 0.0;
  for (const NodeEval& e : node_eval_) {
    acc_min = std::min(acc_min, e.acc);
    acc_max = std::max(acc_max, e.acc);
    acc_mean += e.acc / n_;
    loss_mean += e.loss / n_;
  }
  uint64_t header_total = 0, messages_total = 0;
  for (int i = 0; i < n_; ++i) {
    header_total += transport_->counters(i).header_bytes_sent;
    messages_total += transport_->counters(i).messages_sent;
  }
  using Json = nlohmann::ordered_json;
  Json s = summary_head();
  s["status"] = "finished";
  s["final_acc_mean"] = acc_mean;
  s["final_acc_min"] = acc_min;
  s["final_acc_max"] = acc_max;
  s["final_loss_mean"] = loss_mean;
  if (byzantine_.active()) {
    double h_min = 1.0, h_sum = 0.0;
    for (int i = 0; i < n_; ++i)
      if (!malicious_[i]) {
        h_min = std::min(h_min, node_eval_[i].acc);
        h_sum += node_eval_[i].acc;
      }
    s["byzantine_nodes"] = byzantine_.nodes;
    s["final_acc_honest_mean"] = h_sum / static_cast<double>(n_ - byzantine_.nodes.size());
    s["final_acc_honest_min"] = h_min;
  }
  s["final_acc_avg_model"] = avg_model_ ? Json(avg_acc_) : Json();
  s["final_loss_avg_model"] = avg_model_ ? Json(avg_loss_) : Json();
  s["final_consensus_distance"] = consensus_;
  s["bytes_sent_per_node"] = static_cast<double>(sent_total_) / n_;
  s["bytes_sent_total"] = sent_total_;
  s["header_bytes_sent_total"] = header_total;
  s["messages_total"] = messages_total;
  s["sim_seconds"] = sim_total_;
  Json tta = Json::object();
  for (double target : s_.acc_targets)
    tta[Num(target)] = reached_.count(target) ? reached_.at(target) : Json();
  s["time_to_acc"] = tta;
  energy_summary(s);
  s["transport"] = std::string(cluster_->name());
  s["ranks"] = ranks_;
  // The algorithm's own files and timing.json first: summary.json marks a finished run.
  if (algorithm_)
    for (const algo::OutputFile& f : algorithm_->outputs()) run_dir_->write_file(f.name, f.content);
  res.timing_json = t.dump(2) + "\n";
  run_dir_->write_file("timing.json", res.timing_json);
  res.summary_json = s.dump(2) + "\n";
  run_dir_->write_file("summary.json", res.summary_json);
  if (!quiet_)
    LogInfo("done in ", Num(wall), " s: final accuracy mean ", Num(acc_mean), ", min ",
            Num(acc_min), avg_model_ ? ", averaged model " + Num(avg_acc_) : std::string(),
            "; sent ", Num(static_cast<double>(sent_total_) / n_ / 1e6), " MB per node; ",
            (dir_ / "summary.json").string());
  res.final_acc_mean = acc_mean;
  res.final_acc_min = acc_min;
  res.final_acc_avg_model = avg_acc_;
  res.bytes_sent_per_node = static_cast<double>(sent_total_) / n_;
  return res;
}

Experiment::Experiment(const Config& config, const RunOptions& options)
    : impl_(std::make_unique<Impl>(config, options)) {}
Experiment::~Experiment() = default;
int64_t Experiment::next_round() const { return impl_->next_round(); }
int64_t Experiment::total_rounds() const { return impl_->total_rounds(); }
void Experiment::run_round() { impl_->run_round(); }
RunResult Experiment::finish() { return impl_->finish(); }
const RoundFigures& Experiment::last_round() const { return impl_->last_round(); }
bool Experiment::writes_outputs() const { return impl_->writes_outputs(); }
const std::string& Experiment::out_dir() const { return impl_->out_dir(); }
bool Experiment::any_rank(bool flag) { return impl_->any_rank(flag); }
std::string Experiment::stop() { return impl_->stop(); }

}  // namespace murmur::run
