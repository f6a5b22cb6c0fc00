#include "murmur/run/runner.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "data_files.h"
#include "error_text.h"
#include "murmur/algo/algorithm.h"
#include "murmur/core/check.h"
#include "murmur/core/log.h"
#include "murmur/run/experiment.h"
#include "run/temp_dir_test.h"

namespace murmur::run {
namespace {

namespace fs = std::filesystem;

using testing::Slurp;

std::vector<std::vector<std::string>> Csv(const fs::path& p) { return testing::ReadCsv(p); }

class RunnerTest : public testing::TempDirTest {
 protected:
  static Config Small() {
    Config c;
    for (const char* s :
         {"run.nodes=6", "run.rounds=6", "data.name=synthetic", "data.synthetic_train=600",
          "data.synthetic_test=200", "data.synthetic_side=4", "data.synthetic_separation=3",
          "model.name=mlp", "model.mlp_hidden=16", "train.batch_size=8", "train.local_steps=2",
          "train.lr=0.1", "train.momentum=0.5", "partition.name=dirichlet", "partition.alpha=0.5",
          "output.eval_every=2"})
      c.set(s);
    return c;
  }
  RunResult Run(const Config& c, const std::string& name) {
    RunOptions o;
    o.out_dir = (root_ / name).string();
    o.quiet = true;
    return RunExperiment(c, o);
  }
};

// An Experiment driven a round at a time (as a Python driver or an asynchronous scheduler
// will) writes what RunExperiment writes: the loop is the class's, not the caller's.
TEST_F(RunnerTest, ExperimentDrivenRoundByRoundIsRunExperiment) {
  const Config c = Small();
  const RunResult whole = Run(c, "whole");
  RunOptions o;
  o.out_dir = (root_ / "stepped").string();
  o.quiet = true;
  Experiment e(c, o);
  EXPECT_EQ(e.next_round(), 0);
  EXPECT_EQ(e.total_rounds(), 6);
  int rounds = 0;
  while (!e.done()) {
    e.run_round();
    ++rounds;
    EXPECT_EQ(e.next_round(), rounds);
    // Each round's rows are on disk before the next round starts.
    EXPECT_EQ(Csv(root_ / "stepped" / "metrics.csv").size(), 1u + 6 * rounds);
  }
  EXPECT_EQ(rounds, 6);
  const RunResult stepped = e.finish();
  EXPECT_EQ(stepped.summary_json, whole.summary_json);
  for (const char* f : {"metrics.csv", "eval.csv"})
    EXPECT_EQ(Slurp(root_ / "stepped" / f), Slurp(fs::path(whole.out_dir) / f)) << f;
}

TEST_F(RunnerTest, WritesAllOutputs) {
  Config c = Small();
  RunResult r = Run(c, "a");
  const fs::path dir = r.out_dir;
  // config.toml is the resolved config and loads back to the same values.
  EXPECT_TRUE(Config::FromFile((dir / "config.toml").string()) == c);
  auto metrics = Csv(dir / "metrics.csv");
  ASSERT_EQ(metrics.size(), 1u + 6 * 6);
  EXPECT_EQ(metrics[0][0], "round");
  EXPECT_EQ(metrics[0][2], "train_loss");
  EXPECT_EQ(metrics[0][5], "messages");
  auto evals = Csv(dir / "eval.csv");
  ASSERT_EQ(evals.size(), 1u + 3 * 6);  // rounds 1, 3, 5
  EXPECT_EQ(evals[1][0], "1");
  auto s = nlohmann::json::parse(Slurp(dir / "summary.json"));
  for (const char* k : {"final_acc_mean", "final_acc_min", "final_acc_avg_model",
                        "bytes_sent_per_node", "rounds", "algorithm", "nodes"})
    EXPECT_TRUE(s.contains(k)) << k;
  // Measurements live in timing.json, so summary.json depends on the config and seed alone.
  auto t = nlohmann::json::parse(Slurp(dir / "timing.json"));
  for (const char* k : {"wall_seconds", "setup_seconds", "train_seconds", "comm_seconds",
                        "eval_seconds", "round_seconds_mean", "threads", "peak_rss_bytes"}) {
    EXPECT_TRUE(t.contains(k)) << k;
    EXPECT_FALSE(s.contains(k)) << k;
  }
  EXPECT_TRUE(t["resumed_from"].is_null());
  EXPECT_EQ(Slurp(dir / "summary.json"), Slurp(Run(c, "again").out_dir + "/summary.json"));
  EXPECT_EQ(s["rounds"], 6);
  EXPECT_EQ(s["nodes"], 6);
  EXPECT_EQ(s["algorithm"], "dpsgd");
  EXPECT_GT(s["final_acc_mean"].get<double>(), 0.3);  // 10 classes: well above chance
  EXPECT_LE(s["final_acc_min"].get<double>(), s["final_acc_mean"].get<double>());
  // Bytes: each ring node sends 2 messages of header + 4 * params bytes per round.
  const int64_t params = s["params"];
  EXPECT_DOUBLE_EQ(s["bytes_sent_per_node"].get<double>(), 6.0 * 2 * (32 + 4 * params));
  for (size_t i = 1; i < metrics.size(); ++i) {
    EXPECT_EQ(std::stoll(metrics[i][3]), 2 * (32 + 4 * params));
    EXPECT_EQ(metrics[i][5], "2");
  }
}

TEST_F(RunnerTest, IdenticalResultsWithOneOrTwoThreads) {
  Config c = Small();
  c.set("run.threads=1");
  RunResult a = Run(c, "t1");
  c.set("run.threads=2");
  RunResult b = Run(c, "t2");
  EXPECT_EQ(Slurp(fs::path(a.out_dir) / "metrics.csv"), Slurp(fs::path(b.out_dir) / "metrics.csv"));
  EXPECT_EQ(Slurp(fs::path(a.out_dir) / "eval.csv"), Slurp(fs::path(b.out_dir) / "eval.csv"));
  EXPECT_EQ(a.final_acc_avg_model, b.final_acc_avg_model);
}

// train.quasi_global_momentum changes training (the momentum buffer follows the round's
// move, averaging included) and, like everything else, not with the thread count.
TEST_F(RunnerTest, QuasiGlobalMomentumChangesTrainingDeterministically) {
  Config c = Small();
  RunResult plain = Run(c, "plain");
  c.set("train.quasi_global_momentum=true");
  c.set("run.threads=1");
  RunResult q1 = Run(c, "qgm1");
  c.set("run.threads=2");
  RunResult q2 = Run(c, "qgm2");
  EXPECT_EQ(Slurp(fs::path(q1.out_dir) / "metrics.csv"),
            Slurp(fs::path(q2.out_dir) / "metrics.csv"));
  auto mp = Csv(fs::path(plain.out_dir) / "metrics.csv");
  auto mq = Csv(fs::path(q1.out_dir) / "metrics.csv");
  ASSERT_EQ(mp.size(), mq.size());
  // Round 0 starts from zero buffers either way; from round 1 on the losses differ.
  const size_t n = 6;
  for (size_t i = 1; i <= n; ++i) EXPECT_EQ(mp[i][2], mq[i][2]) << "row " << i;
  size_t differ = 0;
  for (size_t i = n + 1; i < mp.size(); ++i) differ += mp[i][2] != mq[i][2];
  EXPECT_GT(differ, (mp.size() - n - 1) / 2);
}

TEST_F(RunnerTest, DpsgdOnCompleteUniformEqualsAllReduce) {
  Config c = Small();
  c.set("topology.name=complete");
  c.set("topology.weights=uniform");
  RunResult d = Run(c, "dpsgd");
  c.set("algorithm.name=allreduce");
  RunResult a = Run(c, "allreduce");
  auto md = Csv(fs::path(d.out_dir) / "metrics.csv"), ma = Csv(fs::path(a.out_dir) / "metrics.csv");
  for (size_t i = 1; i < md.size(); ++i) EXPECT_EQ(md[i][2], ma[i][2]) << "row " << i;  // loss
  EXPECT_EQ(Slurp(fs::path(d.out_dir) / "eval.csv"), Slurp(fs::path(a.out_dir) / "eval.csv"));
  // All-reduce sends 2(n-1) messages of d/n values per node instead of (n-1) of d.
  EXPECT_EQ(ma[1][5], "10");
  EXPECT_EQ(md[1][5], "5");
}

// Every gossip algorithm of issues #4 and #5 trains end to end, gives the same numbers with 1 and 2
// threads, records its gamma, and the compressed ones send far fewer bytes.
struct EndToEndCase {
  std::string name;
  std::vector<std::string> sets;
  bool has_gamma = false;        // summary.json records the gamma in use
  bool compresses = false;       // sends under a third of D-PSGD's bytes
  bool exact_consensus = false;  // one model at the end (a final exact average)
  bool share_counts = false;     // writes jwins_share_counts.csv
};

std::ostream& operator<<(std::ostream& os, const EndToEndCase& c) { return os << c.name; }

class AlgorithmEndToEnd : public RunnerTest, public ::testing::WithParamInterface<EndToEndCase> {};

TEST_P(AlgorithmEndToEnd, TrainsTheSameOnOneAndTwoThreads) {
  const EndToEndCase& c = GetParam();
  Config cfg = Small();
  for (const auto& s : c.sets) cfg.set(s);
  cfg.set("run.threads=1");
  RunResult a = Run(cfg, "a");
  cfg.set("run.threads=2");
  RunResult b = Run(cfg, "b");
  EXPECT_EQ(Slurp(fs::path(a.out_dir) / "metrics.csv"), Slurp(fs::path(b.out_dir) / "metrics.csv"));
  const auto s = nlohmann::json::parse(Slurp(fs::path(a.out_dir) / "summary.json"));
  EXPECT_GT(s["final_acc_mean"].get<double>(), 0.3);  // 10 classes: chance is 0.1
  EXPECT_EQ(s.contains("gamma"), c.has_gamma);
  if (c.has_gamma) {
    EXPECT_GT(s["gamma"].get<double>(), 0.0);
    EXPECT_LE(s["gamma"].get<double>(), 1.0);
  }
  if (c.compresses) {
    const double dense_bytes = nlohmann::json::parse(
        Slurp(fs::path(Run(Small(), "dpsgd").out_dir) / "summary.json"))["bytes_sent_per_node"];
    EXPECT_LT(s["bytes_sent_per_node"].get<double>(), dense_bytes / 3);
  }
  EXPECT_EQ(fs::exists(fs::path(a.out_dir) / "jwins_share_counts.csv"), c.share_counts);
  // scsp's final exact average and majority vote's common model leave one model.
  if (c.exact_consensus) EXPECT_EQ(s["final_consensus_distance"].get<double>(), 0.0);
}

INSTANTIATE_TEST_SUITE_P(
    Algorithms, AlgorithmEndToEnd,
    ::testing::Values(
        EndToEndCase{"choco",
                     {"algorithm.name=choco", "compression.name=topk", "compression.ratio=0.05"},
                     true,
                     true},
        EndToEndCase{"sgp", {"algorithm.name=sgp", "topology.name=one_peer_exponential"}},
        EndToEndCase{"sparse_push",
                     {"algorithm.name=sparse_push", "topology.name=one_peer_exponential",
                      "compression.name=topk", "compression.ratio=0.05", "algorithm.gamma=0.25"},
                     true,
                     true},
        EndToEndCase{
            "scsp",
            {"algorithm.name=scsp", "topology.name=k_peer_exponential", "compression.name=topk",
             "compression.ratio=0.05", "algorithm.average_every=3"},
            true,
            false,
            true},
        EndToEndCase{"relaysum_dbt",
                     {"algorithm.name=relaysum", "topology.name=double_binary_tree"}},
        EndToEndCase{"relaysum_bfs_grad",
                     {"algorithm.name=relaysum", "topology.name=ring", "relaysum.spanning_tree=bfs",
                      "relaysum.variant=grad"}},
        EndToEndCase{
            "majority_vote",
            {"algorithm.name=majority_vote", "vote.mask_ratio=0.05", "vote.layerwise=true"},
            false,
            true,
            true},
        EndToEndCase{"jwins",
                     {"algorithm.name=jwins", "topology.name=regular", "topology.degree=3"},
                     false,
                     false,
                     false,
                     true}),
    [](const ::testing::TestParamInfo<EndToEndCase>& info) { return info.param.name; });

// A user's TorchScript model (tests/fixtures/tiny_mlp.pt) trains with every algorithm, and
// the averaged model it leaves in model.pt (a TorchScript archive) is the one evaluated.
TEST_F(RunnerTest, TorchScriptModelTrainsWithEveryAlgorithm) {
  const std::map<std::string, std::vector<std::string>> recipes = {
      {"dpsgd", {}},
      {"allreduce", {}},
      {"local", {}},
      {"sgp", {"topology.name=one_peer_exponential"}},
      {"choco", {"compression.name=topk", "compression.ratio=0.1"}},
      {"sparse_push",
       {"topology.name=one_peer_exponential", "compression.name=topk", "compression.ratio=0.1",
        "algorithm.gamma=0.25"}},
      {"scsp",
       {"topology.name=k_peer_exponential", "compression.name=topk", "compression.ratio=0.1",
        "algorithm.average_every=3"}},
      {"relaysum", {"topology.name=double_binary_tree"}},
      {"majority_vote", {"vote.mask_ratio=0.05"}},
      {"jwins", {"topology.name=regular", "topology.degree=3"}},
      {"gradient_tracking", {}},
      {"d2", {"topology.name=chain"}},
      {"exact_diffusion", {}},
      {"epidemic", {"topology.name=complete", "epidemic.variant=local"}},
      {"beer", {"compression.name=topk", "compression.ratio=0.1", "algorithm.gamma=0.4"}},
      {"clipped_gossip", {}},
      {"adpsgd", {"sim.mode=event", "network.seconds_per_sample=0.001", "sim.window_s=0.02"}},
      {"async_push_sum",
       {"sim.mode=event", "network.seconds_per_sample=0.001", "sim.window_s=0.02"}},
  };
  for (const std::string& name : algo::AlgorithmRegistry().names()) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(recipes.count(name)) << "no recipe for algorithm " << name;
    Config c = Small();
    for (const char* s : {"data.synthetic_side=12", "model.name=torchscript", "run.rounds=4"})
      c.set(s);
    c.set("model.path=" + std::string(MURMUR_SOURCE_DIR) + "/tests/fixtures/tiny_mlp.pt");
    c.set("algorithm.name=" + name);
    for (const std::string& s : recipes.at(name)) c.set(s);
    const RunResult r = Run(c, name);
    const auto s = nlohmann::json::parse(r.summary_json);
    EXPECT_EQ(s["status"], "finished");
    EXPECT_EQ(s["params"], 144 * 32 + 32 + 32 * 10 + 10);
    EXPECT_GT(s["final_acc_mean"].get<double>(), 0.2);  // 10 classes: chance is 0.1
    const SavedModelEval e =
        EvaluateSavedModel(c, (fs::path(r.out_dir) / "model.pt").string(), false);
    EXPECT_EQ(e.accuracy, s["final_acc_avg_model"].get<double>());
    EXPECT_DOUBLE_EQ(e.loss, s["final_loss_avg_model"].get<double>());
  }
}

// Every node's final model with output.save_node_models, readable by murmur evaluate; the
// model files of a run are its own (an overwrite removes them, nothing else in models/).
TEST_F(RunnerTest, SavesEveryNodeModel) {
  Config c = Small();
  c.set("output.save_node_models=true");
  c.set("run.rounds=2");
  const RunResult r = Run(c, "nodes");
  const fs::path dir(r.out_dir);
  const auto evals = Csv(dir / "eval.csv");
  for (int i = 0; i < 6; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "node_%03d.pt", i);
    const SavedModelEval e = EvaluateSavedModel(c, (dir / "models" / name).string(), false);
    // eval.csv's last rows: round, node, accuracy, loss, ...
    const auto& row = evals[evals.size() - 6 + i];
    EXPECT_EQ(row[1], std::to_string(i));
    EXPECT_NEAR(e.accuracy, std::stod(row[2]), 1e-9);
  }
  // --overwrite deletes the node models and nothing else; a file of the user's in models/
  // then makes the directory theirs, and the new run refuses to write there.
  std::ofstream(dir / "models" / "mine.txt") << "keep me";
  RunOptions o;
  o.out_dir = r.out_dir;
  o.quiet = true;
  o.overwrite = true;
  EXPECT_TRUE(test_util::Contains(test_util::ErrorText<IoError>([&] { RunExperiment(c, o); }),
                                  "models was not written by murmur"));
  EXPECT_FALSE(fs::exists(dir / "models" / "node_000.pt"));
  EXPECT_EQ(Slurp(dir / "models" / "mine.txt"), "keep me");
}

// LEAF data with the natural partition: whole users per node, the mapping in users.csv.
TEST_F(RunnerTest, LeafUsersAreDealtToNodes) {
  const fs::path data = root_ / "leaf";
  fs::create_directories(data / "train");
  fs::create_directories(data / "test");
  std::string users;
  for (int u = 0; u < 5; ++u)
    users += (u ? ", " : "") + test_util::FemnistUser("w" + std::to_string(u), 3 + u, 0.1 * u, u);
  std::ofstream(data / "train" / "all.json") << "{\"user_data\": {" << users << "}}";
  std::ofstream(data / "test" / "all.json")
      << "{\"user_data\": {" << test_util::FemnistUser("w9", 4, 0.3, 2) << "}}";
  Config c = Small();
  for (const char* s : {"data.name=leaf", "partition.name=natural", "run.nodes=2",
                        "model.name=logreg", "run.rounds=2"})
    c.set(s);
  c.set("data.path=" + data.string());
  const RunResult r = Run(c, "leaf");
  const auto rows = Csv(fs::path(r.out_dir) / "users.csv");
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"user", "node", "samples"}));
  int per_node[2] = {0, 0};
  for (size_t k = 1; k < rows.size(); ++k) {
    const int u = std::stoi(rows[k][0].substr(1));
    EXPECT_EQ(rows[k][2], std::to_string(3 + u));
    ++per_node[std::stoi(rows[k][1])];
  }
  EXPECT_EQ(per_node[0] + per_node[1], 5);
  EXPECT_GE(std::min(per_node[0], per_node[1]), 2);  // dealt round-robin
  c.set("run.nodes=6");
  EXPECT_TRUE(test_util::Contains(test_util::ErrorText<ConfigError>([&] { Run(c, "leaf6"); }),
                                  "has 5 users for 6 nodes"));
}

// compression.per_tensor compresses each tensor on its own: sign then sends one
// (length, scale) pair per tensor, 8 bytes each, instead of one for the whole vector.
TEST_F(RunnerTest, PerTensorCompressionSendsOneScalePerTensor) {
  uint64_t bytes[2], messages[2];
  for (int per_tensor : {0, 1}) {
    Config c = Small();
    for (const char* s :
         {"algorithm.name=choco", "compression.name=sign", "algorithm.gamma=0.2", "run.rounds=2"})
      c.set(s);
    c.set(std::string("compression.per_tensor=") + (per_tensor ? "true" : "false"));
    const auto s = nlohmann::json::parse(
        Slurp(fs::path(Run(c, "pt" + std::to_string(per_tensor)).out_dir) / "summary.json"));
    bytes[per_tensor] = static_cast<uint64_t>(s["bytes_sent_total"].get<double>());
    messages[per_tensor] = static_cast<uint64_t>(s["messages_total"].get<double>());
  }
  ASSERT_EQ(messages[0], messages[1]);
  // The MLP of Small() has two hidden layers: 6 tensors (three weights, three biases).
  EXPECT_EQ(bytes[1] - bytes[0], messages[0] * 8 * (6 - 1));
}

TEST_F(RunnerTest, LearningRateWarmupAndStepDecay) {
  Config c = Small();
  c.set("run.rounds=6");
  c.set("train.lr=1.0");
  c.set("train.warmup_rounds=2");
  c.set("train.lr_decay_rounds=[3, 5]");
  c.set("train.lr_decay_factor=0.5");
  RunResult r = Run(c, "lr");
  auto m = Csv(fs::path(r.out_dir) / "metrics.csv");
  const std::vector<std::string> expected = {"0.1", "0.55", "1", "0.5", "0.5", "0.25"};
  for (int round = 0; round < 6; ++round) EXPECT_EQ(m[1 + round * 6][8], expected[round]);
}

// run.final_gossip_rounds: after the training rounds, rounds of the algorithm's exchange
// alone. The training rounds are those of the plain run; the gossip-only rounds send the
// same bytes, log no loss and lr 0, and pull the node models together around their average
// (which D-PSGD and CHOCO keep), so the worst node ends near the averaged model.
TEST_F(RunnerTest, FinalGossipRoundsMixTheModelsWithoutTraining) {
  for (const char* algorithm : {"algorithm.name=dpsgd", "algorithm.name=choco"}) {
    Config c = Small();
    c.set("partition.alpha=0.1");  // skewed nodes: far apart after training
    c.set(algorithm);
    if (std::string(algorithm) == "algorithm.name=choco") {
      c.set("compression.name=topk");
      c.set("compression.ratio=0.2");
      c.set("algorithm.gamma=0.2");
    }
    const std::string tag = std::string(algorithm).substr(15);
    const fs::path plain = Run(c, "plain_" + tag).out_dir;
    c.set("run.final_gossip_rounds=60");
    const fs::path tail = Run(c, "tail_" + tag).out_dir;
    auto mp = Csv(plain / "metrics.csv"), mt = Csv(tail / "metrics.csv");
    ASSERT_EQ(mp.size(), 1u + 6 * 6) << tag;
    ASSERT_EQ(mt.size(), 1u + 66 * 6) << tag;
    for (size_t i = 0; i < mp.size(); ++i) EXPECT_EQ(mp[i], mt[i]) << tag << " row " << i;
    for (size_t i = mp.size(); i < mt.size(); ++i) {
      EXPECT_EQ(mt[i][2], "") << tag << " row " << i;   // no training loss
      EXPECT_EQ(mt[i][8], "0") << tag << " row " << i;  // lr 0
      EXPECT_GT(std::stoll(mt[i][3]), 0) << tag << " row " << i;
    }
    if (tag == "dpsgd") {  // dense messages: every round sends the same bytes
      EXPECT_EQ(mt.back()[3], mp.back()[3]);
    }
    const auto sp = nlohmann::json::parse(Slurp(plain / "summary.json"));
    const auto st = nlohmann::json::parse(Slurp(tail / "summary.json"));
    EXPECT_EQ(st["rounds"], 6) << tag;
    EXPECT_EQ(st["final_gossip_rounds"], 60) << tag;
    EXPECT_EQ(sp["final_gossip_rounds"], 0) << tag;
    const double cp = sp["final_consensus_distance"], ct = st["final_consensus_distance"];
    EXPECT_GT(cp, 1e-3) << tag;
    EXPECT_LT(ct, cp / 100) << tag << ": " << cp << " -> " << ct;
    // The average is kept, so the averaged model barely moves; the nodes reach it (their
    // losses become its loss) and their mean accuracy rises.
    EXPECT_NEAR(st["final_acc_avg_model"].get<double>(), sp["final_acc_avg_model"].get<double>(),
                0.02)
        << tag;
    const double gap_p =
        sp["final_loss_mean"].get<double>() - sp["final_loss_avg_model"].get<double>();
    const double gap_t =
        st["final_loss_mean"].get<double>() - st["final_loss_avg_model"].get<double>();
    EXPECT_GT(gap_p, 0.04) << tag;
    EXPECT_LT(std::abs(gap_t), 1e-3) << tag;
    EXPECT_GT(st["final_acc_mean"].get<double>(), sp["final_acc_mean"].get<double>() + 0.05) << tag;
  }
}

TEST_F(RunnerTest, RefusesToOverwriteARun) {
  Config c = Small();
  c.set("run.rounds=1");
  Run(c, "x");
  EXPECT_THROW(Run(c, "x"), IoError);
  RunOptions o;
  o.out_dir = (root_ / "x").string();
  o.quiet = true;
  o.overwrite = true;
  EXPECT_NO_THROW(RunExperiment(c, o));
}

// Divergence ends the run with a DivergenceError and a summary.json that says so (a result a
// sweep and compare show as "diverged", not an unfinished run).
TEST_F(RunnerTest, DivergenceStopsWithNodeAndRoundAndIsRecorded) {
  Config c = Small();
  c.set("train.lr=1e30");
  c.set("train.momentum=0");
  EXPECT_TRUE(test_util::Contains(test_util::ErrorText<DivergenceError>([&] { Run(c, "div"); }),
                                  "training diverged: node"));
  const auto s = nlohmann::json::parse(Slurp(root_ / "div" / "summary.json"));
  EXPECT_EQ(s["status"], "diverged");
  EXPECT_EQ(s["diverged_round"], 0);
  EXPECT_TRUE(test_util::Contains(s["error"].get<std::string>(), "training diverged: node"));
  EXPECT_FALSE(s.contains("final_acc_mean"));
}

// A lossless value codec (zstd, auto) changes the bytes, never the training: JWINS, D-PSGD
// and CHOCO top-k give the same losses and accuracies as with f32 values, in fewer bytes.
TEST_F(RunnerTest, LosslessValueCodecsChangeBytesNotResults) {
  for (const std::vector<std::string>& sets :
       {std::vector<std::string>{"algorithm.name=jwins"},
        std::vector<std::string>{"algorithm.name=dpsgd"},
        std::vector<std::string>{"algorithm.name=choco", "compression.name=topk",
                                 "compression.ratio=0.3", "algorithm.gamma=0.5"}}) {
    std::map<std::string, uint64_t> bytes;
    std::map<std::string, std::vector<std::vector<std::string>>> evals, losses;
    for (const char* codec : {"f32", "zstd", "auto"}) {
      Config c = Small();
      c.set("model.mlp_hidden=64");
      for (const auto& s : sets) c.set(s);
      c.set(std::string("compression.value_codec=") + codec);
      const std::string name = sets[0].substr(15) + "_" + codec;
      Run(c, name);
      const auto m = Csv(root_ / name / "metrics.csv");
      for (size_t r = 1; r < m.size(); ++r) {
        bytes[codec] += std::stoull(m[r][3]);
        losses[codec].push_back({m[r][0], m[r][1], m[r][2]});
      }
      evals[codec] = Csv(root_ / name / "eval.csv");
    }
    for (const char* codec : {"zstd", "auto"}) {
      EXPECT_EQ(evals[codec], evals["f32"]) << sets[0] << " " << codec;
      EXPECT_EQ(losses[codec], losses["f32"]) << sets[0] << " " << codec;
      EXPECT_LT(bytes[codec], bytes["f32"]) << sets[0] << " " << codec;
    }
  }
}

// Link factors of exp(1000 * N(0, 1)) overflow: an error naming the keys, not a summary with
// sim_seconds = inf.
TEST_F(RunnerTest, InfiniteSimulatedTimeIsAnError) {
  Config c = Small();
  c.set("network.heterogeneity=lognormal");
  c.set("network.spread=1000");
  EXPECT_TRUE(test_util::Contains(
      test_util::ErrorText<ConfigError>([&] { Run(c, "inf"); }),
      "network: the simulated time is not finite after round 0 (inf); network.latency_ms, "
      "bandwidth_mbps, spread or straggler_slowdown are too extreme"));
}

// Valid settings that are most likely a mistake are warned about, naming the key.
TEST_F(RunnerTest, WarnsAboutMilestonesAfterTheRunAndBatchesLargerThanANodesData) {
  Config c = Small();
  c.set("run.rounds=2");
  c.set("train.lr_decay_rounds=[1, 1600]");
  c.set("train.batch_size=500");
  ::testing::internal::CaptureStderr();
  Run(c, "warn");
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(test_util::Contains(err,
                                  "train.lr_decay_rounds: the milestone 1600 is not before "
                                  "run.rounds = 2, so the learning rate never decays there"));
  EXPECT_FALSE(test_util::Contains(err, "milestone 1 "));
  EXPECT_TRUE(test_util::Contains(err, "train.batch_size = 500 exceeds the "));
}

// [faults]: lost frames appear in metrics.csv's messages_dropped, a crashed node has no loss
// while it is down and sends nothing, and the run finishes.
TEST_F(RunnerTest, FaultsAreLoggedPerNodeAndRound) {
  Config c = Small();
  c.set("faults.loss=0.2");
  c.set("faults.crash=4@2:4");
  const RunResult r = Run(c, "faults");
  const auto m = Csv(fs::path(r.out_dir) / "metrics.csv");
  ASSERT_EQ(m[0].back(), "messages_dropped");
  uint64_t dropped = 0;
  for (size_t k = 1; k < m.size(); ++k) {
    const int round = std::stoi(m[k][0]), node = std::stoi(m[k][1]);
    dropped += std::stoull(m[k].back());
    const bool down = node == 4 && (round == 2 || round == 3);
    EXPECT_EQ(m[k][2].empty(), down) << "row " << k;
    if (down) {
      EXPECT_EQ(m[k][5], "0") << "a crashed node sends nothing, row " << k;
    }
    // The ring neighbours' frames to the crashed node are all lost.
    if ((node == 3 || node == 5) && (round == 2 || round == 3)) {
      EXPECT_GE(std::stoi(m[k].back()), 1) << "row " << k;
    }
  }
  EXPECT_GT(dropped, 10u);
  EXPECT_TRUE(std::isfinite(r.final_acc_mean));
}

TEST_F(RunnerTest, ConfigProblemsSurfaceBeforeTraining) {
  Config c = Small();
  c.set("topology.name=star");
  c.set("topology.weights=uniform");
  EXPECT_THROW(Run(c, "bad1"), ConfigError);  // dpsgd needs doubly stochastic weights
  c = Small();
  c.set("data.name=mnist");
  c.set("data.path=/nonexistent/mnist");
  EXPECT_THROW(Run(c, "bad2"), DataError);
  c = Small();
  c.set("model.name=cnn");  // 4x4 synthetic images are too small for LeNet
  EXPECT_THROW(Run(c, "bad3"), ConfigError);
  c = Small();
  c.set("compression.per_tensor=true");  // dpsgd compresses nothing: not silently ignored
  EXPECT_TRUE(test_util::Contains(test_util::ErrorText<ConfigError>([&] { Run(c, "bad4"); }),
                                  "compression.per_tensor"));
  EXPECT_FALSE(fs::exists(root_ / "bad1"));  // nothing written for a run that never started
}

}  // namespace
}  // namespace murmur::run

namespace murmur::run {
namespace {

// The run directory and log set-up of RunnerTest, with a small config of a given topology.
class NetworkRunTest : public RunnerTest {
 protected:
  static Config Small(const std::string& topology) {
    Config c;
    for (const std::string& s : std::vector<std::string>{
             "run.nodes=5", "run.rounds=4", "data.name=synthetic", "data.synthetic_train=400",
             "data.synthetic_test=100", "data.synthetic_side=4", "model.name=logreg",
             "train.batch_size=8", "train.local_steps=3", "output.eval_every=1",
             "network.latency_ms=2", "network.bandwidth_mbps=8", "network.seconds_per_sample=1e-3",
             "topology.name=" + topology})
      c.set(s);
    return c;
  }
};

// Simulated time with modelled compute: D-PSGD sends the whole model (d floats + header) on
// every edge once per round, so every round lasts compute + latency + bytes / bandwidth,
// on a ring and on a star alike (the star's centre receives on n-1 links in parallel).
TEST_F(NetworkRunTest, SimulatedSecondsMatchTheClosedFormOnARingAndAStar) {
  for (const std::string topology : {"ring", "star"}) {
    SCOPED_TRACE(topology);
    RunOptions o;
    o.out_dir = (root_ / topology).string();
    o.quiet = true;
    const RunResult r = RunExperiment(Small(topology), o);
    const auto s = nlohmann::json::parse(r.summary_json);
    const double frame = 4.0 * s["params"].get<double>() + 32;  // header + f32 payload
    const double round = 3 * 8 * 1e-3 + 2e-3 + frame / (8e6 / 8);
    EXPECT_NEAR(s["sim_seconds"].get<double>(), 4 * round, 1e-12);
    const auto m = Csv(fs::path(r.out_dir) / "metrics.csv");
    ASSERT_EQ(m[0][9], "sim_seconds");
    for (size_t k = 1; k < m.size(); ++k) {
      const int rnd = std::stoi(m[k][0]);
      EXPECT_NEAR(std::stod(m[k][9]), (rnd + 1) * round, 1e-8) << "row " << k;
    }
  }
}

TEST_F(NetworkRunTest, TimeToAccuracyReportsTheFirstEvaluationReachingEachTarget) {
  Config c = Small("ring");
  c.set("output.acc_targets=[0.0, 1.0]");
  c.set("network.latency_ms=0");
  c.set("network.seconds_per_sample=0.5");
  RunOptions o;
  o.out_dir = (root_ / "tta").string();
  o.quiet = true;
  const auto s = nlohmann::json::parse(RunExperiment(c, o).summary_json);
  const auto& t = s["time_to_acc"];
  ASSERT_TRUE(t.contains("0"));
  EXPECT_EQ(t["0"]["round"], 0);  // reached at the first evaluation, after round 0
  const double round0 = s["sim_seconds"].get<double>() / 4;
  EXPECT_NEAR(t["0"]["sim_seconds"].get<double>(), round0, 1e-9);
  EXPECT_DOUBLE_EQ(t["0"]["bytes_sent_per_node"].get<double>(),
                   s["bytes_sent_per_node"].get<double>() / 4);
  ASSERT_LT(s["final_acc_mean"].get<double>(), 1.0);
  EXPECT_TRUE(t["1"].is_null());  // never reached
}

TEST_F(NetworkRunTest, TransportChoiceUnderALauncher) {
  Config c = Small("ring");
  RunOptions o;
  o.out_dir = (root_ / "x").string();
  o.quiet = true;
  o.launcher_ranks = 3;
  c.set("comm.transport=inproc");
  EXPECT_TRUE(test_util::Contains(test_util::ErrorText<ConfigError>([&] { RunExperiment(c, o); }),
                                  "under mpirun with 3 processes"));
  o.launcher_ranks = 1;  // one process: in-process is what it is
  EXPECT_EQ(nlohmann::json::parse(RunExperiment(c, o).summary_json)["transport"], "inproc");
}

}  // namespace
}  // namespace murmur::run

namespace murmur::run {
namespace {

// Configs that load (every value is valid on its own) but ask for something impossible: the
// run refuses them before the first round, with an error that names the key and the fix.
// Together with Config.MalformedConfigsNameTheProblem (values that do not load) this is the
// table of issue #8.
TEST_F(RunnerTest, ImpossibleCombinationsAreRefusedWithTheExactError) {
  std::ofstream(root_ / "chain.txt") << "0 1\n1 2\n";
  std::ofstream(root_ / "bad_id.txt") << "0 1\n1 9\n";
  std::ofstream(root_ / "star.txt") << "0 1\n1 0\n0 2\n2 0\n1 2\n";
  const std::string chain = (root_ / "chain.txt").string(), bad = (root_ / "bad_id.txt").string(),
                    star = (root_ / "star.txt").string();
  struct Case {
    std::vector<std::string> sets;
    std::string error;
  };
  const std::vector<Case> cases{
      {{"algorithm.name=relaysum", "topology.name=ring"},
       "topology.name: 'ring' on 6 nodes has a cycle (6 edges; a tree has 5): relaysum needs a "
       "tree. Use chain, binary_tree or double_binary_tree, or set relaysum.spanning_tree = "
       "\"bfs\""},
      {{"algorithm.name=relaysum", "topology.name=one_peer_exponential"},
       "topology.name: relaysum relays along a fixed tree; 'one_peer_exponential' changes every "
       "round"},
      {{"algorithm.name=relaysum", "relaysum.spanning_tree=bfs", "relaysum.root=9"},
       "relaysum.root: node 9 is outside [0, 6)"},
      {{"algorithm.name=sgp", "topology.name=file", "topology.file=" + chain,
        "topology.directed=true", "run.nodes=3"},
       "topology.name: 'file' on 3 nodes is not (strongly) connected"},
      {{"topology.name=file", "topology.file=" + bad, "run.nodes=3"},
       bad + ":2: node id 9 is outside [0, 3) (run.nodes = 3)"},
      {{"topology.name=file", "topology.file=" + (root_ / "missing.txt").string()},
       "topology.file: cannot open '" + (root_ / "missing.txt").string() + "'"},
      {{"algorithm.name=dpsgd", "compression.name=topk"},
       "compression.name: dpsgd sends full precision; set compression.name = \"none\" or use "
       "choco (got 'topk')"},
      {{"algorithm.name=allreduce", "compression.name=topk"},
       "compression.name: allreduce sends full precision; set compression.name = \"none\" (got "
       "'topk')"},
      {{"algorithm.name=jwins", "compression.name=topk"},
       "compression.name: jwins selects wavelet coefficients itself (jwins.alpha_list); set "
       "compression.name = \"none\" (got 'topk')"},
      {{"algorithm.name=majority_vote", "compression.name=sign"},
       "compression.name: majority_vote sparsifies by its vote (vote.mask_ratio); set "
       "compression.name = \"none\" (got 'sign')"},
      {{"algorithm.name=majority_vote", "vote.server=6"}, "vote.server: node 6 is outside [0, 6)"},
      {{"algorithm.name=majority_vote", "run.final_gossip_rounds=5"},
       "run.final_gossip_rounds = 5: majority_vote does not exchange models, so rounds without "
       "local steps have nothing to send; set it to 0"},
      {{"algorithm.name=local", "run.final_gossip_rounds=1"},
       "run.final_gossip_rounds = 1: local does not exchange models"},
      {{"algorithm.name=scsp", "algorithm.average_every=0", "algorithm.final_average=false"},
       "algorithm.average_every / algorithm.final_average: scsp with no averaging is "
       "sparse_push; set one of them"},
      {{"topology.name=regular", "topology.degree=3", "run.nodes=5"},
       "topology.degree: nodes * degree must be even for a regular graph, got 5 * 3"},
      {{"algorithm.name=sgp", "topology.name=k_peer_exponential", "topology.peers=5"},
       "topology.peers: must be in [1, 3] for 6 nodes (ceil(log2 n) peers in all), got 5"},
      {{"network.stragglers=9"}, "network.stragglers: 9 is not in [0, run.nodes = 6]"},
      {{"algorithm.name=sgp", "topology.name=one_peer_exponential", "compression.value_codec=zstd"},
       "compression.value_codec = \"zstd\": nothing in this run writes values through it "
       "(sgp with compression.name = \"none\"); it applies to the kept values of topk, "
       "randomk and threshold, to jwins, and (lossless codecs) to dpsgd's dense frames"},
      {{"compression.value_codec=f16"},
       "compression.value_codec: dpsgd sends full precision; use f32, zstd or auto (got 'f16')"},
      {{"data.name=fashion_mnist", "data.path=/nonexistent"},
       "data.path '/nonexistent': not a directory (fashion_mnist needs the four IDX files "
       "there)"},
      {{"faults.crash=3@10, 7@"},
       "faults.crash: '7@' is not a crash; write NODE@ROUND (down from ROUND on) or "
       "NODE@ROUND:REJOIN"},
      {{"faults.crash=6@1"}, "faults.crash: node 6 outside [0, 6)"},
      {{"faults.link_down=0-1@5:5"},
       "faults.link_down: '0-1@5:5' needs two different nodes and "
       "rounds R0 < R1"},
      {{"faults.link_down=0-9@1:5"}, "faults.link_down: link 0-9 names a node outside [0, 6)"},
      {{"algorithm.name=majority_vote", "vote.mode=all_to_all", "faults.loss=0.01"},
       "vote.mode = all_to_all: every node forms the mask from every vote, so a lost vote "
       "splits the nodes; use vote.mode = server with [faults]"},
      // Advice that is itself accepted: on a directed graph another algorithm, not weights.
      {{"algorithm.name=dpsgd", "topology.name=file", "topology.file=" + chain,
        "topology.directed=true", "run.nodes=3"},
       "topology.name: 'file' on 3 nodes is not (strongly) connected"},
      {{"algorithm.name=dpsgd", "topology.name=file", "topology.file=" + star,
        "topology.directed=true", "run.nodes=3"},
       "on a directed graph only 'column' and 'uniform' weights exist, and they are doubly "
       "stochastic only where every node receives from as many nodes as it sends to: use sgp"},
      // A link fault on nodes that never talk changes nothing.
      {{"faults.link_down=0-3@1:5"},
       "faults.link_down: 0-3@1:5: node 0 does not send to node 3 nor back in those rounds on "
       "topology 'ring', so the fault would change nothing"},
  };
  for (const Case& k : cases) {
    Config c = Small();
    for (const auto& s : k.sets) c.set(s);
    const std::string err = test_util::ErrorText([&] { Run(c, "x"); });
    std::string joined;
    for (const auto& s : k.sets) joined += s + " ";
    EXPECT_NE(err.find(k.error), std::string::npos) << joined << "\n=> '" << err << "'";
    EXPECT_FALSE(fs::exists(root_ / "x" / "metrics.csv")) << joined << ": a run started";
  }
  EXPECT_EQ(cases.size(), 28u);
}

}  // namespace
}  // namespace murmur::run

namespace murmur::run {
namespace {

// Malicious nodes (faults.byzantine) send their attack through the transport; summary.json
// reports the honest nodes' accuracy apart. On the smoke problem (8 nodes, 4-regular) two
// sign-flipping nodes drag every honest D-PSGD node to chance, while ClippedGossip clipping as
// many neighbours as there are attackers keeps them learning.
TEST_F(RunnerTest, ByzantineNodesAttackAndTheHonestAccuracyIsReportedApart) {
  auto run = [&](const std::string& algo, const std::string& attack, const std::string& name) {
    Config c = Config::FromFile(std::string(MURMUR_SOURCE_DIR) + "/configs/smoke.toml");
    for (const std::string& s : std::vector<std::string>{
             "topology.name=regular", "topology.degree=4", "faults.byzantine=2, 5",
             "clipped_gossip.clip_count=2", "algorithm.name=" + algo, "faults.attack=" + attack})
      c.set(s);
    const RunResult r = Run(c, name);
    const auto s = nlohmann::json::parse(r.summary_json);
    EXPECT_EQ(s["byzantine_nodes"], nlohmann::json::parse("[2, 5]"));
    // The honest figures are eval.csv's last rows without nodes 2 and 5.
    const auto evals = Csv(fs::path(r.out_dir) / "eval.csv");
    double sum = 0.0, low = 1.0;
    for (size_t k = evals.size() - 8; k < evals.size(); ++k) {
      const int node = std::stoi(evals[k][1]);
      if (node == 2 || node == 5) continue;
      sum += std::stod(evals[k][2]);
      low = std::min(low, std::stod(evals[k][2]));
    }
    EXPECT_NEAR(s["final_acc_honest_mean"].get<double>(), sum / 6, 1e-9);
    EXPECT_NEAR(s["final_acc_honest_min"].get<double>(), low, 1e-9);
    return s["final_acc_honest_mean"].get<double>();
  };
  EXPECT_LT(run("dpsgd", "sign_flip", "dpsgd"), 0.2);
  EXPECT_GT(run("clipped_gossip", "sign_flip", "clipped"), 0.6);
  EXPECT_GT(run("clipped_gossip", "ipm", "clipped_ipm"), 0.6);
  Config bad = Small();
  bad.set("faults.byzantine=1, 9");
  EXPECT_TRUE(test_util::Contains(test_util::ErrorText<ConfigError>([&] { Run(bad, "bad"); }),
                                  "faults.byzantine: '9' is not a node id in [0, 6)"));
}

}  // namespace
}  // namespace murmur::run
