// The configuration schema: every key murmur reads, with default, range and help.
#include <algorithm>
#include <cmath>
#include <limits>

#include "murmur/algo/algorithm.h"
#include "murmur/compress/compressor.h"
#include "murmur/compress/wavelet.h"
#include "murmur/data/dataset.h"
#include "murmur/data/partition.h"
#include "murmur/graph/topology.h"
#include "murmur/run/config.h"
#include "murmur/train/node_model.h"

namespace murmur::run {
namespace {

constexpr double kInf = kOptionInf;
constexpr double kNoMax = kOptionNoMax;
using Names = std::function<std::vector<std::string>()>;

Names Fixed(std::vector<std::string> v) {
  return [v] { return v; };
}

std::vector<KeySpec> Build() {
  auto I = [](std::string k, int64_t d, double lo, double hi, std::string help) {
    return KeySpec{std::move(k), Type::kInt, d, std::move(help), lo, hi, {}};
  };
  auto F = [](std::string k, double d, double lo, double hi, std::string help) {
    return KeySpec{std::move(k), Type::kFloat, d, std::move(help), lo, hi, {}};
  };
  auto B = [](std::string k, bool d, std::string help) {
    return KeySpec{std::move(k), Type::kBool, d, std::move(help), 0, 0, {}};
  };
  auto S = [](std::string k, std::string d, std::string help, Names choices = {}) {
    return KeySpec{std::move(k),      Type::kString, std::move(d), std::move(help), 0, 0,
                   std::move(choices)};
  };
  auto FL = [](std::string k, std::vector<double> d, double lo, double hi, std::string help) {
    return KeySpec{std::move(k), Type::kFloatList, std::move(d), std::move(help), lo, hi, {}};
  };
  auto L = [](std::string k, std::string help) {
    return KeySpec{
        std::move(k), Type::kIntList, std::vector<int64_t>{}, std::move(help), 0, kNoMax, {}};
  };
  return {
      I("run.nodes", 16, 1, 1e6, "number of simulated nodes"),
      I("run.rounds", 100, 1, 1e9,
        "communication rounds (each: train.local_steps SGD steps, then one exchange)"),
      I("run.final_gossip_rounds", 0, 0, 1e9,
        "communication-only rounds after run.rounds: no local steps, only the algorithm's "
        "exchange, so the node models move toward their average before the final evaluation "
        "(their bytes, metrics and evaluations count like any round's); not for majority_vote "
        "(its messages are the local steps' updates) or local (no exchange)"),
      I("run.seed", 1, 0, 9.2e18,
        "seed of every random stream (data split, init, shuffling, random graphs)"),
      I("run.threads", 0, 0, 1024,
        "worker threads for node-parallel work; 0 = all hardware threads (under mpirun: shared "
        "by the ranks on a machine). Results do not depend on it"),

      S("data.name", "fashion_mnist", "dataset", [] { return data::DatasetRegistry().names(); }),
      S("data.path", "",
        "directory of the dataset files; empty = the dataset's default (Debian's "
        "/usr/share/datasets/fashion-mnist for fashion_mnist)"),
      I("data.train_subset", 0, 0, 1e12, "use only the first N training samples (0 = all)"),
      I("data.test_subset", 0, 0, 1e12, "use only the first N test samples (0 = all)"),
      I("data.synthetic_classes", 10, 2, 256, "synthetic: number of Gaussian clusters (classes)"),
      I("data.synthetic_side", 12, 1, 256, "synthetic: samples are 1 x side x side images"),
      I("data.synthetic_train", 4096, 1, 1e9, "synthetic: training samples"),
      I("data.synthetic_test", 1024, 1, 1e9, "synthetic: test samples"),
      F("data.synthetic_separation", 1.0, 0, kNoMax,
        "synthetic: std of the class means (larger = easier)"),
      S("data.task", "femnist",
        "leaf: the task of the JSON files: femnist (28x28 images, 62 classes) or shakespeare "
        "(80-character sequences, next-character prediction over LEAF's 80 letters)",
        Fixed({"femnist", "shakespeare"})),
      S("data.cifar100_labels", "fine", "cifar100: fine (100 classes) or coarse (20) labels",
        Fixed({"fine", "coarse"})),

      S("partition.name", "iid", "how training samples are split across nodes",
        [] { return data::PartitionerRegistry().names(); }),
      F("partition.alpha", 0.5, 1e-6, kInf,
        "dirichlet concentration: smaller = more label skew (1e-6: about one class per "
        "node; inf: every class split evenly)"),
      I("partition.shards_per_node", 2, 1, 1e6, "shards: label-sorted shards per node"),
      I("partition.min_samples", 10, 1, 1e9,
        "dirichlet: redraw until every node has at least this many samples"),

      S("model.name", "cnn", "network", [] { return train::ModelRegistry().names(); }),
      S("model.path", "",
        "torchscript: the module file, saved in Python with torch.jit.script(model).save(path) "
        "(or torch.jit.trace); forward(x) takes a batch as the dataset gives it and returns "
        "[batch, classes] logits. Every node starts from the weights in the file"),
      B("model.include_buffers", true,
        "built-in models: average BatchNorm running statistics along with the parameters "
        "(false: each node keeps its own; the averaged model uses node 0's)"),
      S("model.script_buffers", "local",
        "torchscript: the module's buffers (BatchNorm running statistics) stay local to each "
        "node (checkpointed; the averaged model uses node 0's), or are averaged with the "
        "parameters like model.include_buffers",
        Fixed({"local", "average"})),
      I("model.mlp_hidden", 200, 1, 1e6, "mlp: width of both hidden layers"),
      I("model.embedding_dim", 8, 1, 1e6, "char_lstm: width of the character embedding"),
      I("model.lstm_hidden", 256, 1, 1e6, "char_lstm: hidden width of each LSTM layer"),
      I("model.lstm_layers", 2, 1, 64, "char_lstm: stacked LSTM layers"),

      F("train.lr", 0.05, 0, kNoMax, "learning rate"),
      I("train.batch_size", 32, 1, 1e6, "samples per local SGD step"),
      I("train.local_steps", 1, 0, 1e6, "local SGD steps per round (H)"),
      F("train.momentum", 0.0, 0, 0.999999, "heavy-ball momentum (0 = plain SGD)"),
      B("train.nesterov", false, "Nesterov momentum (needs train.momentum > 0)"),
      B("train.quasi_global_momentum", false,
        "quasi-global momentum (QG-DSGDm, Lin et al. 2021): after every round the momentum "
        "buffer becomes m = b m + (1 - b) (x before the round - x after it) / (lr * "
        "local_steps), b = train.momentum, so it follows the model's move including the "
        "averaging, not the node's own gradients; for label skew. Needs train.momentum > 0"),
      F("train.weight_decay", 0.0, 0, kNoMax, "L2 weight decay"),
      I("train.warmup_rounds", 0, 0, 1e9,
        "linear learning-rate warm-up from lr/10 over this many rounds"),
      L("train.lr_decay_rounds",
        "rounds at which the learning rate is multiplied by train.lr_decay_factor"),
      F("train.lr_decay_factor", 0.1, 0, 1, "step-decay factor"),
      S("train.device", "cpu", "cpu, or cuda / cuda:N where LibTorch has CUDA"),

      S("topology.name", "ring", "communication graph",
        [] { return graph::TopologyRegistry().names(); }),
      S("topology.weights", "auto",
        "mixing weights; auto = metropolis_hastings on undirected graphs, column on directed ones",
        Fixed({"auto", "metropolis_hastings", "uniform", "max_degree", "column"})),
      I("topology.degree", 4, 1, 1e6, "regular: degree of every node"),
      F("topology.edge_prob", 0.0, 0, 1, "erdos_renyi: edge probability (0 = 2 ln(n)/n)"),
      I("topology.peers", 2, 1, 64,
        "k_peer_exponential: out-peers per round (at most ceil(log2 nodes))"),
      S("topology.file", "",
        "file: edge list, one 'u v' per line (0-based ids, '#' comments); duplicates and self "
        "loops are errors"),
      B("topology.directed", false, "file: 'u v' is the one-way edge u -> v (else both ways)"),

      S("algorithm.name", "dpsgd", "decentralized algorithm",
        [] { return algo::AlgorithmRegistry().names(); }),

      S("compression.name", "none",
        "message compressor for algorithms that compress (none = full precision)",
        [] {
          std::vector<std::string> v{"none"};
          for (auto& n : compress::CompressorRegistry().names()) v.push_back(n);
          return v;
        }),
      F("compression.ratio", 0.01, 1e-9, 1,
        "topk/randomk/topk_quant: fraction of coordinates kept per segment"),
      F("compression.threshold", 1e-3, 0, kNoMax, "threshold: keep coordinates with |x| >= this"),
      I("compression.levels", 16, 1, 1 << 20, "qsgd: quantisation levels s"),
      I("compression.bits", 8, 1, 16, "topk_quant: bits per kept value"),
      B("compression.unbiased", false,
        "randomk: scale by n/k; qsgd: unbiased instead of CHOCO's 1/tau scaling"),
      S("compression.index_codec", "auto", "how sparse index sets are written (auto = smallest)",
        Fixed({"auto", "raw", "varint", "gamma", "rice", "bitmap"})),
      S("compression.value_codec", "f32",
        "how kept values of topk/randomk/threshold, JWINS' coefficients and (lossless codecs "
        "only) dpsgd's dense frames are written: f32; "
        "zstd (lossless, the values' byte planes through zstd: 8-15% smaller on JWINS' "
        "wavelet coefficients, slower); auto (lossless: zstd where it is smaller than f32); "
        "f16, bf16 (rounded)",
        Fixed({"f32", "zstd", "auto", "f16", "bf16"})),
      I("compression.chunk", 0, 0, 4e9,
        "compress in chunks of this many values (0 = the whole vector at once)"),
      B("compression.per_tensor", false,
        "compress each tensor of the model on its own (top-k keeps ratio of every tensor, "
        "sign and QSGD scale per tensor) instead of the whole flat vector; overrides "
        "compression.chunk; an error when compression.name = none"),

      S("comm.transport", "auto",
        "how the nodes talk: inproc (every node in this process), mpi (the nodes spread over the "
        "ranks of mpirun -np P; same results), auto (mpi when started by mpirun/mpiexec)",
        Fixed({"auto", "inproc", "mpi"})),
      S("comm.mapping", "block",
        "mpi: nodes to ranks, block (contiguous ranges, the first nodes % P ranks one more) or "
        "cyclic (node i on rank i % P)",
        Fixed({"block", "cyclic"})),
      F("comm.timeout_s", 120, 1e-3, kNoMax,
        "mpi: longest wait for another rank (a phase's messages or a gather of metrics); then "
        "the run ends with an error naming the rank and round"),

      F("network.latency_ms", 1.0, 0, kNoMax,
        "network model: per-link latency in milliseconds (sim_seconds in metrics.csv)"),
      F("network.bandwidth_mbps", 100.0, 1e-9, kNoMax,
        "network model: per-link bandwidth in Mbit/s (10^6 bit/s)"),
      S("network.heterogeneity", "none",
        "network model: none (all links equal), uniform (each link's latency and bandwidth "
        "times an independent factor uniform in [1 - spread, 1 + spread]) or lognormal (factor "
        "exp(spread N(0,1))); drawn from run.seed",
        Fixed({"none", "uniform", "lognormal"})),
      F("network.spread", 0.5, 0, kNoMax, "network model: spread of the per-link factors"),
      I("network.stragglers", 0, 0, 1e6,
        "network model: number of nodes (drawn from run.seed) whose compute is slowed down"),
      F("network.straggler_slowdown", 4.0, 1e-9, kNoMax,
        "network model: compute-time multiplier of the stragglers"),
      S("network.compute", "model",
        "network model: local compute time per round, model (train.local_steps x "
        "train.batch_size x network.seconds_per_sample; deterministic, so metrics.csv is "
        "reproducible) or measured (each node's own steps on this machine; varies run to run)",
        Fixed({"model", "measured"})),
      F("network.seconds_per_sample", 0.0, 0, kNoMax,
        "network model with compute = model: seconds of one training sample (forward + "
        "backward); the default 0 makes sim_seconds the communication time alone"),

      F("faults.loss", 0.0, 0, 0.999999,
        "injected faults: probability that a message is lost (seeded per message; lost "
        "messages count as sent and in metrics.csv messages_dropped, and never arrive)"),
      S("faults.link_down", "",
        "injected faults: links down for a range of rounds, comma-separated A-B@R0:R1 (both "
        "directions) or A>B@R0:R1 (A to B only), rounds [R0, R1); e.g. \"0-1@100:200\""),
      S("faults.crash", "",
        "injected faults: nodes that crash, comma-separated NODE@ROUND (down for good) or "
        "NODE@ROUND:REJOIN (back with the state it had); a down node neither trains nor "
        "communicates; e.g. \"3@150, 7@150:300\""),
      F("faults.delay_prob", 0.0, 0, 1,
        "injected faults: probability that a message is a straggler, faults.delay_ms late in "
        "the network model (sim_seconds); it still arrives in its round"),
      F("faults.delay_ms", 0.0, 0, kNoMax, "injected faults: extra latency of a straggler message"),
      S("faults.byzantine", "",
        "malicious nodes, comma-separated ids (e.g. \"3, 11\"): from round faults.attack_from "
        "they send faults.attack instead of their model; summary.json then reports the honest "
        "nodes' accuracy (final_acc_honest_mean / _min)"),
      S("faults.attack", "sign_flip",
        "what malicious nodes send: sign_flip (-scale x their model), gaussian (their model + "
        "N(0, scale^2) per coordinate), alie (honest mean - scale x honest std per coordinate; "
        "Baruch et al. 2019) or ipm (-scale x honest mean; Xie et al. 2020); alie and ipm read "
        "every honest model, so they run in one process only",
        Fixed({"sign_flip", "gaussian", "alie", "ipm"})),
      I("faults.attack_from", 0, 0, 1e12, "the first round in which malicious nodes attack"),
      F("faults.attack_scale", 1.0, 0, kNoMax,
        "strength of faults.attack: the sign flip's factor, the Gaussian's standard deviation, "
        "ALIE's z, IPM's epsilon"),

      S("sim.mode", "rounds",
        "how simulated time runs: rounds (synchronous rounds, priced afterwards by the network "
        "model) or event (event-driven: every node's local steps take its device's time, frames "
        "queue on their sender's uplink, nodes come and go (churn.*), energy.* is counted; "
        "asynchronous algorithms need it; one process only; docs/simulation.md)",
        Fixed({"rounds", "event"})),
      F("sim.window_s", 1.0, 1e-9, kNoMax,
        "event mode, asynchronous algorithms: simulated seconds per round of metrics.csv (the "
        "run lasts run.rounds windows; train.* schedules and output.eval_every count windows)"),
      F("device.seconds_per_step", 0.0, 0, kNoMax,
        "event mode: seconds of one SGD step on a device (a local-steps round takes "
        "train.local_steps of them); 0 = train.batch_size x network.seconds_per_sample"),
      F("device.node_spread", 0.0, 0, kNoMax,
        "event mode: each node's step time is multiplied by exp(spread N(0,1)), drawn once per "
        "node from run.seed (heterogeneous devices; network.stragglers slows some further)"),
      F("device.step_jitter", 0.0, 0, kNoMax,
        "event mode: every local-steps round's time is multiplied by exp(jitter N(0,1)), drawn "
        "per node and step"),
      S("device.trace", "",
        "event mode: CSV file with columns node,seconds, one row per local-steps round of a "
        "node, in order (cycled); these nodes take these times instead of the formula"),
      F("churn.offline_fraction", 0.0, 0, 0.99,
        "event mode: nodes alternate online and offline periods (exponential, seeded) so that "
        "this fraction is offline at any time; offline nodes neither train nor receive "
        "(messages to them are lost) and come back with their state"),
      F("churn.period_s", 10.0, 1e-9, kNoMax,
        "event mode: mean length of one online + offline cycle, in simulated seconds"),
      S("churn.schedule", "",
        "event mode: given offline periods, comma-separated NODE@T0:T1 (simulated seconds) or "
        "NODE@T0 (gone for good); e.g. \"3@10:50, 7@100\""),
      F("energy.compute_watts", 0.0, 0, kNoMax,
        "energy: a device's power while computing (joules = watts x busy seconds)"),
      F("energy.compute_j_per_step", 0.0, 0, kNoMax,
        "energy: joules of one local-steps round (train.local_steps steps); > 0 replaces "
        "compute_watts"),
      F("energy.tx_nj_per_bit", 0.0, 0, kNoMax,
        "energy: radio nanojoules per bit sent (frame headers included)"),
      F("energy.rx_nj_per_bit", 0.0, 0, kNoMax, "energy: radio nanojoules per bit received"),
      F("energy.idle_watts", 0.0, 0, kNoMax,
        "energy: a device's power while online and not computing"),
      S("energy.classes", "",
        "energy: CSV file with columns node,compute_watts,compute_j_per_step,tx_nj_per_bit,"
        "rx_nj_per_bit,idle_watts giving nodes their own device class (the others keep "
        "energy.*); any non-zero energy parameter adds energy columns to metrics.csv and "
        "summary.json"),

      S("output.dir", "", "run directory; empty = runs/<timestamp>-<algorithm> (--out overrides)"),
      I("output.eval_every", 10, 0, 1e9, "evaluate every N rounds (0 = only after the last round)"),
      I("output.eval_samples", 0, 0, 1e12,
        "test samples used by intermediate evaluations (0 = all); the final evaluation uses the "
        "whole test set"),
      B("output.eval_avg_model", true, "also evaluate the average of all node models"),
      B("output.save_model", true,
        "after the last round write the average of the node models to RUN_DIR/model.pt, in a "
        "form PyTorch loads: a TorchScript archive for model.name = torchscript "
        "(torch.jit.load), else a state_dict (torch.load; see docs/models.md)"),
      B("output.save_node_models", false,
        "also write every node's final model to RUN_DIR/models/node_<i>.pt (same format)"),
      FL("output.acc_targets", std::vector<double>{}, 0, 1,
         "mean test accuracies for which summary.json reports time_to_acc (the first evaluation "
         "reaching each: round, simulated seconds, bytes sent per node)"),
      I("output.checkpoint_every", 0, 0, 1e12,
        "write a checkpoint (every node's model, optimizer, data position and algorithm state, "
        "and the metrics so far) to RUN_DIR/checkpoints every N rounds, for murmur run --resume "
        "RUN_DIR (0 = never)"),
      I("output.checkpoint_keep", 2, 1, 1e6,
        "checkpoints kept (the newest); with 2 or more a corrupt newest one falls back to the "
        "one before"),
  };
}

}  // namespace

const std::vector<KeySpec>& Schema() {
  static const std::vector<KeySpec> schema = [] {
    std::vector<KeySpec> keys = Build();
    // Every algorithm's own section, before the compression keys.
    auto at = std::find_if(keys.begin(), keys.end(),
                           [](const KeySpec& k) { return k.key == "compression.name"; });
    // (once each: choco, sparse_push and scsp share theirs), the algorithm.* keys among them
    // first: a section must be one block of config.toml.
    std::vector<KeySpec> own;
    for (const auto* entry : algo::AlgorithmRegistry().entries())
      for (const KeySpec& spec : entry->value.keys)
        if (std::none_of(own.begin(), own.end(),
                         [&](const KeySpec& k) { return k.key == spec.key; }) &&
            std::none_of(keys.begin(), keys.end(),
                         [&](const KeySpec& k) { return k.key == spec.key; }))
          own.push_back(spec);
    std::stable_partition(own.begin(), own.end(),
                          [](const KeySpec& k) { return k.key.starts_with("algorithm."); });
    keys.insert(at, own.begin(), own.end());
    return keys;
  }();
  return schema;
}

const KeySpec* FindKey(std::string_view key) {
  for (const KeySpec& k : Schema())
    if (k.key == key) return &k;
  return nullptr;
}

}  // namespace murmur::run
