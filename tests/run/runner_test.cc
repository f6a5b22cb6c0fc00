#include "murmur/run/runner.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "murmur/core/check.h"
#include "murmur/core/log.h"

namespace murmur::run {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::vector<std::string>> Csv(const fs::path& p) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.push_back("");
    rows.push_back(cells);
  }
  return rows;
}

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLogLevel(LogLevel::kWarn);
    root_ = fs::temp_directory_path() /
            ("murmur_runner_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

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
  fs::path root_;
};

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
                        "bytes_sent_per_node", "rounds", "wall_seconds", "algorithm", "nodes"})
    EXPECT_TRUE(s.contains(k)) << k;
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
TEST_F(RunnerTest, CompressedAndPushSumAlgorithmsEndToEnd) {
  struct Case {
    std::vector<std::string> sets;
  };
  const Case cases[] = {
      {{"algorithm.name=choco", "compression.name=topk", "compression.ratio=0.05"}},
      {{"algorithm.name=sgp", "topology.name=one_peer_exponential"}},
      {{"algorithm.name=sparse_push", "topology.name=one_peer_exponential", "compression.name=topk",
        "compression.ratio=0.05", "algorithm.gamma=0.25"}},
      {{"algorithm.name=scsp", "topology.name=k_peer_exponential", "compression.name=topk",
        "compression.ratio=0.05", "algorithm.average_every=3"}},
      {{"algorithm.name=relaysum", "topology.name=double_binary_tree"}},
      {{"algorithm.name=relaysum", "topology.name=ring", "relaysum.spanning_tree=bfs",
        "relaysum.variant=grad"}},
      {{"algorithm.name=majority_vote", "vote.mask_ratio=0.05", "vote.layerwise=true"}},
      {{"algorithm.name=jwins", "topology.name=regular", "topology.degree=3"}},
  };
  Config dense = Small();
  const double dense_bytes = nlohmann::json::parse(
      Slurp(fs::path(Run(dense, "dpsgd").out_dir) / "summary.json"))["bytes_sent_per_node"];
  int k = 0;
  for (const Case& c : cases) {
    Config cfg = Small();
    for (const auto& s : c.sets) cfg.set(s);
    cfg.set("run.threads=1");
    RunResult a = Run(cfg, "a" + std::to_string(k));
    cfg.set("run.threads=2");
    RunResult b = Run(cfg, "b" + std::to_string(k++));
    const std::string what = c.sets[0];
    EXPECT_EQ(Slurp(fs::path(a.out_dir) / "metrics.csv"),
              Slurp(fs::path(b.out_dir) / "metrics.csv"))
        << what;
    const auto s = nlohmann::json::parse(Slurp(fs::path(a.out_dir) / "summary.json"));
    EXPECT_GT(s["final_acc_mean"].get<double>(), 0.3) << what;  // 10 classes: chance is 0.1
    if (what != "algorithm.name=sgp" && what != "algorithm.name=relaysum" &&
        what != "algorithm.name=majority_vote" && what != "algorithm.name=jwins") {
      EXPECT_GT(s["gamma"].get<double>(), 0.0) << what;
      EXPECT_LE(s["gamma"].get<double>(), 1.0) << what;
    }
    if (what == "algorithm.name=choco" || what == "algorithm.name=sparse_push" ||
        what == "algorithm.name=majority_vote") {
      EXPECT_LT(s["bytes_sent_per_node"].get<double>(), dense_bytes / 3) << what;
    }
    if (what == "algorithm.name=jwins") {  // the share counter file is written
      EXPECT_TRUE(fs::exists(fs::path(a.out_dir) / "jwins_share_counts.csv"));
    }
    if (what == "algorithm.name=scsp" || what == "algorithm.name=majority_vote") {
      // scsp's final exact average and majority vote's common model leave one model
      EXPECT_EQ(s["final_consensus_distance"].get<double>(), 0.0);
    }
  }
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

TEST_F(RunnerTest, DivergenceStopsWithNodeAndRound) {
  Config c = Small();
  c.set("train.lr=1e30");
  c.set("train.momentum=0");
  try {
    Run(c, "div");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("training diverged: node"), std::string::npos) << e.what();
  }
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
  EXPECT_FALSE(fs::exists(root_ / "bad1"));  // nothing written for a run that never started
}

}  // namespace
}  // namespace murmur::run
