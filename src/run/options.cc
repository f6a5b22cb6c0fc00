#include "murmur/run/options.h"

#include <algorithm>
#include <utility>

#include "murmur/compress/codecs.h"
#include "murmur/core/thread_pool.h"

namespace murmur::run {

data::DataOptions DataOptionsFrom(const Config& c) {
  data::DataOptions o;
  o.name = c.get_string("data.name");
  o.path = c.get_string("data.path");
  o.train_subset = c.get_int("data.train_subset");
  o.test_subset = c.get_int("data.test_subset");
  o.synthetic_classes = static_cast<int>(c.get_int("data.synthetic_classes"));
  o.synthetic_side = static_cast<int>(c.get_int("data.synthetic_side"));
  o.synthetic_train = c.get_int("data.synthetic_train");
  o.synthetic_test = c.get_int("data.synthetic_test");
  o.synthetic_separation = c.get_double("data.synthetic_separation");
  o.task = c.get_string("data.task");
  o.cifar100_labels = c.get_string("data.cifar100_labels");
  o.seed = static_cast<uint64_t>(c.get_int("run.seed"));
  return o;
}

data::PartitionOptions PartitionOptionsFrom(const Config& c) {
  data::PartitionOptions o;
  o.name = c.get_string("partition.name");
  o.nodes = static_cast<int>(c.get_int("run.nodes"));
  o.alpha = c.get_double("partition.alpha");
  o.shards_per_node = static_cast<int>(c.get_int("partition.shards_per_node"));
  o.min_samples = c.get_int("partition.min_samples");
  o.seed = static_cast<uint64_t>(c.get_int("run.seed"));
  return o;
}

graph::TopologyOptions TopologyOptionsFrom(const Config& c) {
  graph::TopologyOptions o;
  o.name = c.get_string("topology.name");
  o.nodes = static_cast<int>(c.get_int("run.nodes"));
  o.degree = static_cast<int>(c.get_int("topology.degree"));
  o.edge_prob = c.get_double("topology.edge_prob");
  o.peers = static_cast<int>(c.get_int("topology.peers"));
  o.file = c.get_string("topology.file");
  o.directed = c.get_bool("topology.directed");
  const std::string& w = c.get_string("topology.weights");
  o.weights = w == "auto" ? "" : w;
  o.seed = static_cast<uint64_t>(c.get_int("run.seed"));
  return o;
}

train::ModelOptions ModelOptionsFrom(const Config& c) {
  train::ModelOptions o;
  o.name = c.get_string("model.name");
  o.path = c.get_string("model.path");
  o.include_buffers = o.name == "torchscript" ? c.get_string("model.script_buffers") == "average"
                                              : c.get_bool("model.include_buffers");
  o.mlp_hidden = static_cast<int>(c.get_int("model.mlp_hidden"));
  o.embedding_dim = static_cast<int>(c.get_int("model.embedding_dim"));
  o.lstm_hidden = static_cast<int>(c.get_int("model.lstm_hidden"));
  o.lstm_layers = static_cast<int>(c.get_int("model.lstm_layers"));
  o.device = c.get_string("train.device");
  return o;
}

train::OptimizerOptions OptimizerOptionsFrom(const Config& c) {
  train::OptimizerOptions o;
  o.momentum = c.get_double("train.momentum");
  o.nesterov = c.get_bool("train.nesterov");
  o.weight_decay = c.get_double("train.weight_decay");
  o.quasi_global = c.get_bool("train.quasi_global_momentum");
  return o;
}

compress::CompressorOptions CompressorOptionsFrom(const Config& c) {
  compress::CompressorOptions o;
  o.ratio = c.get_double("compression.ratio");
  o.threshold = c.get_double("compression.threshold");
  o.levels = static_cast<int>(c.get_int("compression.levels"));
  o.bits = static_cast<int>(c.get_int("compression.bits"));
  o.unbiased = c.get_bool("compression.unbiased");
  o.index_codec =
      compress::ParseIndexCodec(c.get_string("compression.index_codec"), "compression.index_codec");
  o.value_codec =
      compress::ParseValueCodec(c.get_string("compression.value_codec"), "compression.value_codec");
  o.chunk = static_cast<uint32_t>(c.get_int("compression.chunk"));
  return o;
}

comm::NetworkOptions NetworkOptionsFrom(const Config& c) {
  comm::NetworkOptions o;
  o.latency_s = c.get_double("network.latency_ms") * 1e-3;
  o.bandwidth_bytes_s = c.get_double("network.bandwidth_mbps") * 1e6 / 8.0;
  o.heterogeneity = c.get_string("network.heterogeneity");
  o.spread = c.get_double("network.spread");
  o.stragglers = static_cast<int>(c.get_int("network.stragglers"));
  o.straggler_slowdown = c.get_double("network.straggler_slowdown");
  return o;
}

namespace {
// The comma-separated entries of a string key, spaces removed.
std::vector<std::string> Entries(const Config& c, const char* key) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : c.get_string(key) + ",") {
    if (ch == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (ch != ' ') {
      cur += ch;
    }
  }
  return out;
}
}  // namespace

comm::FaultOptions FaultOptionsFrom(const Config& c) {
  comm::FaultOptions o;
  o.loss = c.get_double("faults.loss");
  o.delay_prob = c.get_double("faults.delay_prob");
  o.delay_seconds = c.get_double("faults.delay_ms") * 1e-3;
  for (const std::string& e : Entries(c, "faults.link_down"))
    o.link_down.push_back(comm::FaultOptions::ParseLinkDown(e, "faults.link_down"));
  for (const std::string& e : Entries(c, "faults.crash"))
    o.crashes.push_back(comm::FaultOptions::ParseCrash(e, "faults.crash"));
  return o;
}

SimOptions SimOptionsFrom(const Config& c) {
  SimOptions o;
  o.event = c.get_string("sim.mode") == "event";
  o.window_s = c.get_double("sim.window_s");
  return o;
}

comm::DeviceOptions DeviceOptionsFrom(const Config& c) {
  comm::DeviceOptions o;
  o.seconds_per_step = c.get_double("device.seconds_per_step");
  o.node_spread = c.get_double("device.node_spread");
  o.step_jitter = c.get_double("device.step_jitter");
  o.trace = c.get_string("device.trace");
  return o;
}

comm::ChurnOptions ChurnOptionsFrom(const Config& c) {
  comm::ChurnOptions o;
  o.offline_fraction = c.get_double("churn.offline_fraction");
  o.period_s = c.get_double("churn.period_s");
  for (const std::string& e : Entries(c, "churn.schedule"))
    o.schedule.push_back(comm::OfflinePeriod::Parse(e, "churn.schedule"));
  return o;
}

comm::EnergyOptions EnergyOptionsFrom(const Config& c) {
  comm::EnergyOptions o;
  o.all.compute_watts = c.get_double("energy.compute_watts");
  o.all.compute_j_per_step = c.get_double("energy.compute_j_per_step");
  o.all.tx_nj_per_bit = c.get_double("energy.tx_nj_per_bit");
  o.all.rx_nj_per_bit = c.get_double("energy.rx_nj_per_bit");
  o.all.idle_watts = c.get_double("energy.idle_watts");
  o.classes = c.get_string("energy.classes");
  return o;
}

ByzantineOptions ByzantineOptionsFrom(const Config& c, int nodes) {
  ByzantineOptions o;
  for (const std::string& e : Entries(c, "faults.byzantine")) {
    const bool digits = !e.empty() && e.size() < 10 && std::all_of(e.begin(), e.end(), [](char ch) {
      return ch >= '0' && ch <= '9';
    });
    MURMUR_CHECK(ConfigError, digits && std::stoi(e) < nodes, "faults.byzantine: '", e,
                 "' is not a node id in [0, ", nodes, ")");
    o.nodes.push_back(std::stoi(e));
  }
  std::sort(o.nodes.begin(), o.nodes.end());
  MURMUR_CHECK(ConfigError, std::adjacent_find(o.nodes.begin(), o.nodes.end()) == o.nodes.end(),
               "faults.byzantine: a node is named twice");
  MURMUR_CHECK(ConfigError, static_cast<int>(o.nodes.size()) < nodes || o.nodes.empty(),
               "faults.byzantine: every node is malicious; at least one must be honest");
  const std::string& a = c.get_string("faults.attack");
  using A = ByzantineOptions::Attack;
  o.attack = a == "gaussian" ? A::kGaussian
             : a == "alie"   ? A::kAlie
             : a == "ipm"    ? A::kIpm
                             : A::kSignFlip;
  o.from = c.get_int("faults.attack_from");
  o.scale = c.get_double("faults.attack_scale");
  return o;
}

double LearningRateSchedule::at(int64_t round) const {
  double v = lr;
  if (round < warmup_rounds) return v * (0.1 + 0.9 * static_cast<double>(round) / warmup_rounds);
  for (int64_t m : decay_rounds)
    if (round >= m) v *= decay_factor;
  return v;
}

LearningRateSchedule LearningRateScheduleFrom(const Config& c) {
  LearningRateSchedule s;
  s.lr = c.get_double("train.lr");
  s.warmup_rounds = c.get_int("train.warmup_rounds");
  s.decay_rounds = c.get_int_list("train.lr_decay_rounds");
  s.decay_factor = c.get_double("train.lr_decay_factor");
  return s;
}

RunSettings RunSettingsFrom(const Config& c) {
  RunSettings s;
  s.nodes = static_cast<int>(c.get_int("run.nodes"));
  s.rounds = c.get_int("run.rounds");
  s.final_gossip_rounds = c.get_int("run.final_gossip_rounds");
  s.seed = static_cast<uint64_t>(c.get_int("run.seed"));
  s.algorithm = c.get_string("algorithm.name");
  s.local_steps = static_cast<int>(c.get_int("train.local_steps"));
  s.batch_size = static_cast<int>(c.get_int("train.batch_size"));
  s.lr = LearningRateScheduleFrom(c);
  s.model_compute = c.get_string("network.compute") == "model";
  s.seconds_per_sample = c.get_double("network.seconds_per_sample");
  s.eval_every = c.get_int("output.eval_every");
  s.eval_samples = c.get_int("output.eval_samples");
  s.eval_avg_model = c.get_bool("output.eval_avg_model");
  s.save_model = c.get_bool("output.save_model");
  s.save_node_models = c.get_bool("output.save_node_models");
  s.acc_targets = c.get_double_list("output.acc_targets");
  s.checkpoint_every = c.get_int("output.checkpoint_every");
  s.checkpoint_keep = static_cast<int>(c.get_int("output.checkpoint_keep"));
  s.out_dir = c.get_string("output.dir");
  s.transport = c.get_string("comm.transport");
  s.mapping = c.get_string("comm.mapping");
  s.comm_timeout_s = c.get_double("comm.timeout_s");
  return s;
}

algo::AlgorithmContext AlgorithmContextFrom(const Config& c, std::vector<int64_t> segments) {
  const std::string algo_name = c.get_string("algorithm.name");
  algo::AlgorithmContext a;
  a.seed = static_cast<uint64_t>(c.get_int("run.seed"));
  a.compression = c.get_string("compression.name");
  a.compressor = CompressorOptionsFrom(c);
  // scsp's final average comes after the gossip-only rounds.
  a.rounds = c.get_int("run.rounds") + c.get_int("run.final_gossip_rounds");
  a.learning_rate = [schedule = LearningRateScheduleFrom(c)](int64_t round) {
    return schedule.at(round);
  };
  const algo::AlgorithmPlugin& plugin = algo::GetAlgorithm(algo_name);
  if (plugin.parse) a.options = plugin.parse(c);
  a.segments = std::move(segments);
  if (c.get_bool("compression.per_tensor")) {
    MURMUR_CHECK(ConfigError, a.compression != "none",
                 "compression.per_tensor = true: there is no compressor to apply per tensor "
                 "(compression.name = \"none\"; ",
                 algo_name, " sends what it sends on its own)");
    a.compressor.segments.assign(a.segments.begin(), a.segments.end());
  }
  // A value codec that nothing uses would be silently ignored.
  const bool values_coded = a.compression == "topk" || a.compression == "randomk" ||
                            a.compression == "threshold" ||
                            (plugin.traits.codes_values && a.compression == "none");
  MURMUR_CHECK(ConfigError, a.compressor.value_codec == compress::ValueCodec::kF32 || values_coded,
               "compression.value_codec = \"", compress::ValueCodecName(a.compressor.value_codec),
               "\": nothing in this run writes values through it (", algo_name,
               " with compression.name = \"", a.compression,
               "\"); it applies to the kept values of topk, randomk and threshold, to jwins, and "
               "(lossless codecs) to dpsgd's dense frames");
  return a;
}

int ThreadsFrom(const Config& c, int processes_here, int local_nodes) {
  int threads = static_cast<int>(c.get_int("run.threads"));
  if (threads <= 0) threads = ThreadPool::hardware_threads() / std::max(1, processes_here);
  if (local_nodes <= 0) local_nodes = static_cast<int>(c.get_int("run.nodes"));
  return std::max(1, std::min(threads, local_nodes));
}

}  // namespace murmur::run
