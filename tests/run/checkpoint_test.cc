#include "murmur/run/checkpoint.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "error_text.h"
#include "murmur/core/check.h"
#include "murmur/run/config.h"
#include "murmur/run/runner.h"
#include "run/temp_dir_test.h"

namespace murmur::run {
namespace {

namespace fs = std::filesystem;

using testing::Slurp;

std::vector<uint8_t> Payload(int seed, size_t n) {
  std::vector<uint8_t> b(n);
  for (size_t k = 0; k < n; ++k) b[k] = static_cast<uint8_t>(seed + 13 * k);
  return b;
}

using CheckpointFileTest = testing::TempDirTest;

TEST_F(CheckpointFileTest, KeepsTheNewestAndFallsBackPastDamagedOnesWithAWarning) {
  for (int r : {3, 6, 9}) WriteCheckpoint(root_, r, Payload(r, 1000 + r), 2);
  const auto files = ListCheckpoints(root_);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].filename(), "round-00000009.ckpt");
  EXPECT_EQ(files[1].filename(), "round-00000006.ckpt");
  std::optional<Checkpoint> c = LoadLatestCheckpoint(root_);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->rounds_done, 9);
  EXPECT_EQ(c->payload, Payload(9, 1009));
  EXPECT_EQ(c->path, files[0].string());

  // A leftover temporary file (a crash while writing) is not a checkpoint.
  std::ofstream(root_ / "checkpoints" / "round-00000012.ckpt.tmp") << "partial";
  EXPECT_EQ(LoadLatestCheckpoint(root_)->rounds_done, 9);

  // One flipped byte in the newest: the one before, with a warning naming the file.
  {
    std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(500);
    f.put('\x5a');
  }
  ::testing::internal::CaptureStderr();
  c = LoadLatestCheckpoint(root_);
  std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->rounds_done, 6);
  EXPECT_EQ(c->payload, Payload(6, 1006));
  EXPECT_NE(err.find("checkpoint " + files[0].string() + ": checksum mismatch"), std::string::npos)
      << err;

  // A torn write of the older one too: none left.
  fs::resize_file(files[1], 40);
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(LoadLatestCheckpoint(root_));
  err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find(files[1].string() + ": payload of 0 bytes, header says 1006"),
            std::string::npos)
      << err;
}

TEST_F(CheckpointFileTest, RejectsARenamedOrForeignFile) {
  WriteCheckpoint(root_, 4, Payload(1, 64));
  fs::rename(root_ / "checkpoints" / "round-00000004.ckpt",
             root_ / "checkpoints" / "round-00000005.ckpt");
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(LoadLatestCheckpoint(root_));
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("holds round 4 but is named for round 5"), std::string::npos) << err;
  std::ofstream(root_ / "checkpoints" / "round-00000007.ckpt") << std::string(100, 'x');
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(LoadLatestCheckpoint(root_));
  err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("not a murmur checkpoint"), std::string::npos) << err;
  // No checkpoint directory at all: nothing, quietly.
  EXPECT_FALSE(LoadLatestCheckpoint(root_ / "elsewhere"));
}

class ResumeTest : public testing::TempDirTest {
 protected:
  static Config Small() {
    Config c;
    for (const char* s :
         {"run.nodes=5", "run.rounds=7", "data.name=synthetic", "data.synthetic_train=500",
          "data.synthetic_test=100", "data.synthetic_side=4", "model.name=mlp",
          "model.mlp_hidden=8", "train.batch_size=8", "train.lr=0.1", "train.momentum=0.9",
          "algorithm.name=choco", "compression.name=randomk", "compression.ratio=0.2",
          "algorithm.gamma=0.4", "output.eval_every=2", "output.checkpoint_every=2",
          "network.compute=model", "output.acc_targets=[0.2, 0.99]"})
      c.set(s);
    return c;
  }
  RunResult Run(const Config& c, const fs::path& dir, bool resume = false) {
    RunOptions o;
    o.out_dir = dir.string();
    o.quiet = true;
    o.resume = resume;
    return RunExperiment(c, o);
  }
  static Config Saved(const fs::path& dir) {
    return Config::FromFile((dir / "config.toml").string());
  }
  // Runs c to the end twice, removes the second run's summary and resumes it from its newest
  // checkpoint: the files must be those of the uninterrupted run.
  void ExpectResumeReproduces(const Config& c, const std::string& tag) {
    const fs::path full = root_ / ("full_" + tag), cut = root_ / ("cut_" + tag);
    Run(c, full);
    Run(c, cut);
    fs::remove(cut / "summary.json");
    Run(Saved(cut), cut, /*resume=*/true);
    for (const char* f : {"metrics.csv", "eval.csv"})
      EXPECT_EQ(Slurp(full / f), Slurp(cut / f)) << f << " " << tag;
    EXPECT_EQ(Slurp(full / "summary.json"), Slurp(cut / "summary.json")) << tag;
  }
};

// A run whose end was lost (no summary.json, metrics past the last checkpoint) resumes from
// its newest checkpoint to the same files. (tests/run/resume_after_kill.sh does this with a
// real SIGKILL for every algorithm.)
TEST_F(ResumeTest, ContinuesFromTheNewestCheckpointToTheSameOutputs) {
  const Config c = Small();
  Run(c, root_ / "full");
  Run(c, root_ / "cut");
  const fs::path cut = root_ / "cut";
  EXPECT_EQ(ListCheckpoints(cut).size(), 2u);  // after rounds 4 and 6 (2 is gone)
  EXPECT_EQ(ListCheckpoints(cut)[0].filename(), "round-00000006.ckpt");
  fs::remove(cut / "summary.json");
  std::ofstream(cut / "metrics.csv", std::ios::app) << "6,0,garbage of a round cut short\n";
  Run(Saved(cut), cut, /*resume=*/true);
  for (const char* f : {"metrics.csv", "eval.csv"})
    EXPECT_EQ(Slurp(root_ / "full" / f), Slurp(cut / f)) << f;
  EXPECT_EQ(Slurp(root_ / "full" / "summary.json"), Slurp(cut / "summary.json"));
  // The measurements stay sound: the rounds before the checkpoint keep their time.
  const std::string timing = Slurp(cut / "timing.json");
  for (const char* k : {"\"round_seconds_mean\": ", "\"train_seconds\": ", "\"eval_seconds\": "}) {
    const auto at = timing.find(k);
    ASSERT_NE(at, std::string::npos) << k;
    EXPECT_GT(std::stod(timing.substr(at + std::strlen(k))), 0.0) << k << timing;
  }
  EXPECT_NE(
      timing.find("\"resumed_from\": \"" + (cut / "checkpoints" / "round-00000006.ckpt").string()),
      std::string::npos)
      << timing;
}

// Quasi-global momentum keeps its state in the optimizer's momentum buffer (set after every
// round), so a resumed run continues it exactly: with push-sum (trained on z = x / w) and
// with CHOCO, across a learning-rate decay.
TEST_F(ResumeTest, QuasiGlobalMomentumResumesToTheSameOutputs) {
  for (const char* algorithm : {"algorithm.name=choco", "algorithm.name=sgp"}) {
    Config c = Small();
    for (const char* s : {"train.quasi_global_momentum=true", "train.lr_decay_rounds=[5]",
                          "compression.name=none", algorithm})
      c.set(s);
    if (std::string(algorithm) == "algorithm.name=choco") c.set("compression.name=randomk");
    ExpectResumeReproduces(c, algorithm);
  }
}

// The asynchronous algorithms in the event-driven simulation: the checkpoint holds the event
// queue, the frames in flight and every node's clock, so a run resumed from the middle (with
// churn, stragglers, jitter and energy) gives the same files.
TEST_F(ResumeTest, AsynchronousRunsResumeToTheSameOutputs) {
  for (const char* algorithm : {"algorithm.name=adpsgd", "algorithm.name=async_push_sum"}) {
    Config c = Small();
    for (const char* s :
         {"compression.name=none", "algorithm.gamma=0", "sim.mode=event", "sim.window_s=0.03",
          "network.seconds_per_sample=0.001", "network.stragglers=1", "device.step_jitter=0.2",
          "churn.offline_fraction=0.2", "churn.period_s=0.1", "energy.compute_watts=1",
          "energy.tx_nj_per_bit=10", algorithm})
      c.set(s);
    const fs::path full = root_ / "full", cut = root_ / "cut";
    fs::remove_all(full);
    fs::remove_all(cut);
    Run(c, full);
    Run(c, cut);
    fs::remove(cut / "summary.json");
    const std::vector<fs::path> saved = ListCheckpoints(cut);
    ASSERT_EQ(saved.size(), 2u) << algorithm;
    EXPECT_EQ(saved[0].filename(), "round-00000006.ckpt");
    fs::remove(saved[0]);  // the newest: resume from round 4
    Run(Saved(cut), cut, /*resume=*/true);
    for (const char* f : {"metrics.csv", "eval.csv", "summary.json"})
      EXPECT_EQ(Slurp(full / f), Slurp(cut / f)) << f << " " << algorithm;
  }
}

// A TorchScript model with BatchNorm keeps its running statistics local to each node; the
// checkpoint carries them, so a resumed run gives the same files, and the same model.pt.
TEST_F(ResumeTest, TorchScriptModelWithLocalBuffersResumesToTheSameOutputs) {
  Config c = Small();
  for (const char* s : {"data.synthetic_side=12", "model.name=torchscript"}) c.set(s);
  c.set("model.path=" + std::string(MURMUR_SOURCE_DIR) + "/tests/fixtures/bn_net.pt");
  ExpectResumeReproduces(c, "torchscript");
  EXPECT_EQ(Slurp(root_ / "full_torchscript" / "model.pt"),
            Slurp(root_ / "cut_torchscript" / "model.pt"));
}

// Majority vote with rounded values carries the server's error memory through a checkpoint:
// a resumed run gives the same files.
// With and without vote.pipeline (whose next mask is carried over the round boundary), and
// with vote.rescale_memory across a learning-rate decay after the checkpoint it resumes from.
TEST_F(ResumeTest, MajorityVoteWithRoundedValuesResumesToTheSameOutputs) {
  for (const char* pipeline : {"vote.pipeline=false", "vote.pipeline=true",
                               "vote.rescale_memory=true", "vote.global_momentum=0.9"}) {
    Config c = Small();
    for (const char* s : {"algorithm.name=majority_vote", "compression.name=none",
                          "vote.mask_ratio=0.2", "vote.value_codec=quant", "vote.value_bits=3",
                          "train.lr_decay_rounds=[6]", "train.momentum=0", pipeline})
      c.set(s);
    ExpectResumeReproduces(c, pipeline);
  }
}

// A checkpoint inside the gossip-only rounds of run.final_gossip_rounds (rounds 7-9 here; the
// newest checkpoint is after round 8) resumes to the same files: no steps, lr 0, same bytes.
TEST_F(ResumeTest, ResumesInsideTheFinalGossipRounds) {
  Config c = Small();
  c.set("run.final_gossip_rounds=3");
  ExpectResumeReproduces(c, "final_gossip");
  EXPECT_EQ(ListCheckpoints(root_ / "cut_final_gossip")[0].filename(), "round-00000008.ckpt");
}

TEST_F(ResumeTest, RefusesAFinishedRunAMissingCheckpointAndAChangedConfig) {
  const fs::path dir = root_ / "r";
  Config c = Small();
  Run(c, dir);
  auto expect_error = [&](const Config& cfg, const std::string& text) {
    EXPECT_TRUE(test_util::Contains(test_util::ErrorText([&] { Run(cfg, dir, true); }), text));
  };
  expect_error(Saved(dir), "holds a finished run (summary.json); nothing to resume");
  fs::remove(dir / "summary.json");
  Config other = Saved(dir);
  other.set("train.lr=0.2");
  expect_error(other, "was written with another config than " + (dir / "config.toml").string());
  fs::remove_all(dir / "checkpoints");
  expect_error(Saved(dir), "no usable checkpoint in " + (dir / "checkpoints").string());
}

TEST_F(ResumeTest, DivergenceInAModelNamesNodeRoundAndCoordinateAndKeepsTheLastCheckpoint) {
  // One step with an absurd learning rate: the loss of the step is finite, the model is not;
  // reported after the local steps, before the model reaches the compressor (QSGD would
  // refuse the infinity with an error of its own).
  Config c = Small();
  c.set("algorithm.name=choco");
  c.set("compression.name=qsgd");
  c.set("train.local_steps=1");
  c.set("train.momentum=0");
  c.set("train.lr=1e300");  // inf in float
  c.set("train.warmup_rounds=0");
  const std::string w = test_util::ErrorText([&] { Run(c, root_ / "a"); });
  EXPECT_TRUE(test_util::Contains(w, "training diverged: node "));
  EXPECT_TRUE(test_util::Contains(w, "'s model holds "));
  EXPECT_TRUE(test_util::Contains(w, " after the local steps of round 0; lower train.lr"));

  // A learning rate that blows up after a few rounds: the checkpoints before stay, none is
  // written after, and the error points at the newest.
  c = Small();
  c.set("train.lr=5");
  c.set("output.checkpoint_every=1");
  c.set("output.checkpoint_keep=100");
  c.set("run.rounds=60");
  const std::string wb = test_util::ErrorText([&] { Run(c, root_ / "b"); });
  const auto files = ListCheckpoints(root_ / "b");
  ASSERT_FALSE(files.empty()) << wb;
  EXPECT_TRUE(test_util::Contains(wb, "the last good checkpoint is kept: " + files[0].string()));
  // The newest checkpoint holds the rounds before the one that diverged.
  const auto at = wb.find(" round ");
  ASSERT_NE(at, std::string::npos) << wb;
  EXPECT_EQ(LoadLatestCheckpoint(root_ / "b")->rounds_done, std::stoll(wb.substr(at + 7))) << wb;

  // Gossip alone diverging (CHOCO with random-5% at gamma 1, in the gossip-only rounds of
  // run.final_gossip_rounds, where no local step runs): caught after the exchange, before the
  // next round compresses the model, and the advice is gamma alone.
  c = Small();
  for (const char* s : {"run.rounds=1", "run.final_gossip_rounds=3000", "algorithm.gamma=1",
                        "compression.ratio=0.05", "output.checkpoint_every=100"})
    c.set(s);
  const std::string wc = test_util::ErrorText([&] { Run(c, root_ / "c"); });
  EXPECT_TRUE(test_util::Contains(wc, "'s model holds ")) << wc;
  EXPECT_TRUE(test_util::Contains(wc, " after gossip-only round ")) << wc;
  EXPECT_TRUE(test_util::Contains(wc, "; lower algorithm.gamma (currently 1.0")) << wc;
  EXPECT_FALSE(test_util::Contains(wc, "train.lr")) << wc;
  EXPECT_TRUE(test_util::Contains(wc, "the last good checkpoint is kept: ")) << wc;
}

}  // namespace
}  // namespace murmur::run
