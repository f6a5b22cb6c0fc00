// The event-driven simulation (sim.mode = "event"): synchronous algorithms on the device clock,
// the asynchronous algorithms, churn and energy, through whole runs.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "error_text.h"
#include "murmur/core/check.h"
#include "murmur/run/runner.h"
#include "run/temp_dir_test.h"

namespace murmur::run {
namespace {

namespace fs = std::filesystem;
using Rows = std::vector<std::vector<std::string>>;
using testing::ReadCsv;
using testing::Slurp;

class SimulationTest : public testing::TempDirTest {
 protected:
  static Config Small(std::initializer_list<const char*> more = {}) {
    Config c;
    for (const char* s :
         {"run.nodes=6", "run.rounds=6", "data.name=synthetic", "data.synthetic_train=600",
          "data.synthetic_test=200", "data.synthetic_side=4", "data.synthetic_separation=3",
          "model.name=mlp", "model.mlp_hidden=16", "train.batch_size=8", "train.local_steps=1",
          "train.lr=0.1", "train.momentum=0.5", "partition.name=dirichlet", "partition.alpha=0.5",
          "output.eval_every=2", "network.seconds_per_sample=0.001"})
      c.set(s);
    for (const char* s : more) c.set(s);
    return c;
  }
  fs::path Run(const Config& c, const std::string& name) {
    RunOptions o;
    o.out_dir = (root_ / name).string();
    o.quiet = true;
    RunExperiment(c, o);
    return root_ / name;
  }
  // A column of metrics.csv by name, per row (header excluded).
  static std::vector<std::string> Column(const Rows& rows, const std::string& name) {
    size_t at = 0;
    while (at < rows[0].size() && rows[0][at] != name) ++at;
    EXPECT_LT(at, rows[0].size()) << name;
    std::vector<std::string> v;
    for (size_t r = 1; r < rows.size(); ++r) v.push_back(at < rows[r].size() ? rows[r][at] : "?");
    return v;
  }
  static nlohmann::json Summary(const fs::path& dir) {
    return nlohmann::json::parse(Slurp(dir / "summary.json"));
  }
};

// Synchronous rounds on the event clock: the same models (eval.csv), the same bytes; a round
// now lasts the slowest device's steps plus its frames leaving its uplink one at a time.
TEST_F(SimulationTest, SynchronousAlgorithmsRunUnchangedOnTheDeviceClock) {
  const fs::path rounds = Run(Small({"network.stragglers=2"}), "rounds");
  const fs::path event = Run(Small({"network.stragglers=2", "sim.mode=event"}), "event");
  EXPECT_EQ(Slurp(rounds / "eval.csv"), Slurp(event / "eval.csv"));
  const Rows a = ReadCsv(rounds / "metrics.csv"), b = ReadCsv(event / "metrics.csv");
  ASSERT_EQ(a.size(), b.size());
  for (const char* col : {"train_loss", "bytes_sent", "bytes_received", "messages"})
    EXPECT_EQ(Column(a, col), Column(b, col)) << col;
  // Ring: two frames per node. A straggler computes 4 x 8 samples x 1 ms; its second frame
  // leaves after both transfers.
  const double frame = std::stod(Column(b, "bytes_sent")[0]) / 2;
  const double expected = 4 * 8 * 0.001 + 2 * frame / 12.5e6 + 1e-3;
  EXPECT_NEAR(std::stod(Column(b, "sim_seconds")[0]), expected, 1e-12);
  EXPECT_LT(std::stod(Column(a, "sim_seconds")[0]), expected);  // independent links
  // A step's time given per step: 2 local steps of 5 ms.
  const fs::path per_step =
      Run(Small({"sim.mode=event", "device.seconds_per_step=0.005", "train.local_steps=2"}),
          "per_step");
  const Rows p = ReadCsv(per_step / "metrics.csv");
  EXPECT_NEAR(std::stod(Column(p, "sim_seconds")[0]), 2 * 0.005 + 2 * frame / 12.5e6 + 1e-3, 1e-12);
  EXPECT_EQ(Summary(event)["sim_mode"], "event");
  EXPECT_FALSE(Summary(rounds).contains("sim_mode"));  // no energy: the columns of before
  EXPECT_EQ(a[0].size(), 11u);
  EXPECT_EQ(b[0].size(), 16u);
}

// The asynchronous algorithms: deterministic whatever the thread count, they learn, and they
// report staleness.
TEST_F(SimulationTest, AsynchronousRunsAreTheSameWithOneOrTwoThreadsAndLearn) {
  for (const char* algo : {"adpsgd", "async_push_sum"}) {
    const std::string name = std::string("algorithm.name=") + algo;
    auto config = [&](const char* threads) {
      return Small({name.c_str(), "sim.mode=event", "sim.window_s=0.05", "run.rounds=8",
                    "device.step_jitter=0.3", "network.stragglers=1", threads});
    };
    const fs::path one = Run(config("run.threads=1"), std::string(algo) + "_1");
    const fs::path two = Run(config("run.threads=2"), std::string(algo) + "_2");
    EXPECT_EQ(Slurp(one / "metrics.csv"), Slurp(two / "metrics.csv")) << algo;
    EXPECT_EQ(Slurp(one / "eval.csv"), Slurp(two / "eval.csv")) << algo;
    const nlohmann::json s = Summary(one);
    EXPECT_GT(s["final_acc_mean"].get<double>(), 0.5) << algo;
    EXPECT_DOUBLE_EQ(s["sim_seconds"].get<double>(), 8 * 0.05);
    EXPECT_GE(s["staleness_max"].get<int64_t>(), 1) << algo;
    EXPECT_GT(s["local_step_rounds_total"].get<int64_t>(), 6 * 8) << algo;
  }
}

// energy_j = compute + radio + idle, row by row, and the summary's totals are the rows' sums.
TEST_F(SimulationTest, EnergyIsComputeRadioAndIdlePerNodeAndRound) {
  const fs::path dir =
      Run(Small({"energy.compute_j_per_step=2", "energy.tx_nj_per_bit=1", "energy.rx_nj_per_bit=3",
                 "energy.idle_watts=0.5", "output.acc_targets=[0.3]"}),
          "energy");
  const Rows m = ReadCsv(dir / "metrics.csv");
  const auto sent = Column(m, "bytes_sent"), received = Column(m, "bytes_received"),
             online = Column(m, "online_s"), busy = Column(m, "busy_s"),
             joules = Column(m, "energy_j"), loss = Column(m, "train_loss");
  double total = 0.0;
  for (size_t r = 0; r < sent.size(); ++r) {
    const double expected = (loss[r].empty() ? 0.0 : 2.0) +
                            8e-9 * (std::stod(sent[r]) + 3 * std::stod(received[r])) +
                            0.5 * (std::stod(online[r]) - std::stod(busy[r]));
    EXPECT_NEAR(std::stod(joules[r]), expected, 1e-9 * (1 + expected)) << "row " << r;
    total += std::stod(joules[r]);
  }
  const nlohmann::json s = Summary(dir);
  EXPECT_EQ(s["sim_mode"], "rounds");
  EXPECT_NEAR(s["energy_j_total"].get<double>(), total, 1e-6 * total);
  EXPECT_NEAR(s["energy_j_compute"].get<double>(), 2.0 * 6 * 6, 1e-9);
  EXPECT_GT(s["energy_j_radio"].get<double>(), 0);
  ASSERT_TRUE(s["time_to_acc"]["0.3"].is_object());
  EXPECT_GT(s["time_to_acc"]["0.3"]["energy_j_per_node"].get<double>(), 0);
}

// A node away from t = 0.1 s to 0.25 s: it neither trains nor receives, what is sent to it is
// lost, and it comes back with its state and trains again.
TEST_F(SimulationTest, ChurnTakesANodeAwayAndBack) {
  const fs::path dir = Run(Small({"algorithm.name=adpsgd", "sim.mode=event", "sim.window_s=0.05",
                                  "run.rounds=8", "churn.schedule=2@0.1:0.25"}),
                           "adpsgd");
  const Rows m = ReadCsv(dir / "metrics.csv");
  const auto node = Column(m, "node"), round = Column(m, "round"), online = Column(m, "online_s"),
             loss = Column(m, "train_loss"), received = Column(m, "messages_received"),
             dropped = Column(m, "messages_dropped");
  int dropped_by_neighbours = 0;
  for (size_t r = 0; r < node.size(); ++r) {
    const int w = std::stoi(round[r]);
    const bool away = w >= 2 && w <= 4;  // windows [0.1, 0.25)
    if (node[r] == "2") {
      EXPECT_EQ(std::stod(online[r]) == 0.0, away) << "window " << w;
      if (away) {
        EXPECT_EQ(loss[r], "") << "window " << w;
        EXPECT_EQ(received[r], "0") << "window " << w;
      }
      if (w >= 6) {
        EXPECT_NE(loss[r], "") << "window " << w;  // back and training
      }
    } else if ((node[r] == "1" || node[r] == "3") && away) {
      dropped_by_neighbours += std::stoi(dropped[r]);
    }
  }
  EXPECT_GT(dropped_by_neighbours, 0);
  const double fraction = Summary(dir)["online_fraction"].get<double>();
  EXPECT_NEAR(fraction, 1.0 - 0.15 / (6 * 0.4), 1e-9);
  // Synchronous rounds: the node sits out the rounds that start while it is away.
  const fs::path sync = Run(Small({"sim.mode=event", "churn.schedule=2@0.02:0.08"}), "sync");
  const Rows s = ReadCsv(sync / "metrics.csv");
  int sat_out = 0;
  for (size_t r = 1; r < s.size(); ++r)
    if (s[r][1] == "2" && s[r][2].empty()) ++sat_out;
  EXPECT_GT(sat_out, 0);
  EXPECT_LT(sat_out, 6);
}

TEST_F(SimulationTest, ImpossibleSettingsAreRefusedWithTheKeyToChange) {
  auto error = [&](std::initializer_list<const char*> keys) {
    return test_util::ErrorText<ConfigError>([&] { Run(Small(keys), "refused"); });
  };
  EXPECT_TRUE(test_util::Contains(error({"algorithm.name=adpsgd"}), "set sim.mode = \"event\""));
  EXPECT_TRUE(test_util::Contains(error({"sim.mode=event", "network.seconds_per_sample=0"}),
                                  "network.seconds_per_sample > 0"));
  EXPECT_TRUE(test_util::Contains(error({"churn.offline_fraction=0.2"}), "set sim.mode"));
  EXPECT_TRUE(test_util::Contains(
      error({"algorithm.name=adpsgd", "sim.mode=event", "train.quasi_global_momentum=true"}),
      "train.quasi_global_momentum needs rounds"));
  EXPECT_TRUE(test_util::Contains(
      error({"algorithm.name=async_push_sum", "sim.mode=event", "faults.crash=1@2"}),
      "use churn.*"));
  EXPECT_TRUE(test_util::Contains(error({"sim.mode=event", "network.compute=measured"}),
                                  "network.compute = \"model\""));
  EXPECT_TRUE(test_util::Contains(
      error({"algorithm.name=adpsgd", "sim.mode=event", "network.seconds_per_sample=1e-12"}),
      "more than a million local-steps rounds of node 0"));
}

}  // namespace
}  // namespace murmur::run
