#include "murmur/run/run_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "error_text.h"
#include "murmur/core/check.h"
#include "murmur/run/checkpoint.h"
#include "murmur/run/config.h"
#include "murmur/run/runner.h"
#include "run/temp_dir_test.h"

namespace murmur::run {
namespace {

namespace fs = std::filesystem;

using test_util::Contains;
using test_util::ErrorText;
using testing::Slurp;

class RunDirTest : public testing::TempDirTest {
 protected:
  static Config Small(const std::string& algorithm, int rounds) {
    Config c;
    for (const std::string& s :
         {std::string("run.nodes=4"), "run.rounds=" + std::to_string(rounds),
          std::string("data.name=synthetic"), std::string("data.synthetic_train=200"),
          std::string("data.synthetic_test=50"), std::string("data.synthetic_side=4"),
          std::string("model.name=logreg"), std::string("train.batch_size=4"),
          std::string("output.eval_every=0"), std::string("output.checkpoint_every=1"),
          "algorithm.name=" + algorithm})
      c.set(s);
    return c;
  }
  void Run(const Config& c, bool overwrite) {
    RunOptions o;
    o.out_dir = dir().string();
    o.quiet = true;
    o.overwrite = overwrite;
    RunExperiment(c, o);
  }
  fs::path dir() const { return root_ / "run"; }
  static std::vector<std::string> Names(const fs::path& d) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(d)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
};

// --overwrite leaves the new run alone in the directory: none of the old run's files (its
// algorithm's files, its summary, its later checkpoints) survive, and the new run's
// checkpoints are kept (the old run's higher-numbered ones used to push them out).
TEST_F(RunDirTest, OverwriteLeavesOnlyTheNewRunAndWhatMurmurDidNotWrite) {
  Run(Small("jwins", 6), false);
  std::ofstream(dir() / "notes.txt") << "mine";
  ASSERT_TRUE(fs::exists(dir() / "jwins_share_counts.csv"));
  ASSERT_EQ(ListCheckpoints(dir()).front().filename(), "round-00000005.ckpt");

  // A shorter run of another algorithm over it.
  Config second = Small("dpsgd", 3);
  Run(second, true);
  EXPECT_EQ(Names(dir()), (std::vector<std::string>{".murmur-run", "checkpoints", "config.toml",
                                                    "eval.csv", "metrics.csv", "model.pt",
                                                    "notes.txt", "summary.json", "timing.json"}));
  const auto ckpts = ListCheckpoints(dir());
  ASSERT_EQ(ckpts.size(), 2u);
  EXPECT_EQ(ckpts[0].filename(), "round-00000002.ckpt");
  EXPECT_EQ(ckpts[1].filename(), "round-00000001.ckpt");
  EXPECT_EQ(Slurp(dir() / "notes.txt"), "mine");
  EXPECT_TRUE(Contains(Slurp(dir() / "summary.json"), "\"algorithm\": \"dpsgd\""));
}

TEST_F(RunDirTest, ANewRunSaysWhatTheDirectoryHolds) {
  Run(Small("dpsgd", 3), false);
  std::string err = ErrorText([&] { RunDir(dir(), RunDir::Mode::kNew); });
  EXPECT_TRUE(Contains(err,
                       "already holds a finished run (summary.json); pick another directory, "
                       "or pass --overwrite"))
      << err;
  // Unfinished (summary.json lost, as after Ctrl-C): --resume continues it.
  fs::remove(dir() / "summary.json");
  err = ErrorText([&] { RunDir(dir(), RunDir::Mode::kNew); });
  EXPECT_TRUE(Contains(err,
                       "already holds an unfinished run (newest checkpoint "
                       "round-00000002.ckpt; `murmur run --resume " +
                           dir().string() + "` continues it)"))
      << err;
  fs::remove_all(dir() / "checkpoints");
  err = ErrorText([&] { RunDir(dir(), RunDir::Mode::kNew); });
  EXPECT_TRUE(Contains(err, "an unfinished run without checkpoints (it cannot be resumed")) << err;
}

// A directory holding only a hand-written config.toml is not murmur's: neither a new run nor
// --overwrite replaces the file, and murmur leaves nothing of its own there.
TEST_F(RunDirTest, FilesMurmurDidNotWriteAreNeverReplaced) {
  fs::create_directories(dir());
  std::ofstream(dir() / "config.toml") << "# my notes\n";
  for (const bool overwrite : {false, true}) {
    const std::string err = ErrorText([&] { Run(Small("dpsgd", 2), overwrite); });
    EXPECT_TRUE(Contains(err, (dir() / "config.toml").string() +
                                  " was not written by murmur, and murmur never replaces"))
        << err;
    EXPECT_EQ(Slurp(dir() / "config.toml"), "# my notes\n");
    EXPECT_EQ(Names(dir()), std::vector<std::string>{"config.toml"});
  }
  EXPECT_TRUE(Contains(ErrorText([&] { RunDir(dir(), RunDir::Mode::kResume); }),
                       "holds no murmur run to resume"));
}

// A run directory written before the marker file existed is still recognised as murmur's.
TEST_F(RunDirTest, ARunWithoutTheMarkerIsStillARun) {
  Run(Small("dpsgd", 2), false);
  fs::remove(dir() / ".murmur-run");
  EXPECT_TRUE(Contains(ErrorText([&] { RunDir(dir(), RunDir::Mode::kNew); }), "already holds"));
  Run(Small("dpsgd", 2), true);
  EXPECT_TRUE(fs::exists(dir() / ".murmur-run"));
}

TEST_F(RunDirTest, OneProcessAtATime) {
  RunDir owner(dir(), RunDir::Mode::kNew);
  owner.write_file("config.toml", "x");
  for (auto mode : {RunDir::Mode::kResume, RunDir::Mode::kOverwrite}) {
    const std::string err = ErrorText([&] { RunDir(dir(), mode); });
    EXPECT_TRUE(Contains(err, dir().string() + ": another murmur process is running in this "
                                               "directory"))
        << err;
  }
  EXPECT_EQ(Slurp(dir() / "config.toml"), "x");
}

TEST_F(RunDirTest, ARunDirectoryThatCannotBeCreatedSaysWhy) {
  std::ofstream(root_ / "file") << "x";
  std::string err = ErrorText([&] { RunDir(root_ / "file", RunDir::Mode::kNew); });
  EXPECT_TRUE(Contains(err, "file: exists and is not a directory")) << err;
  err = ErrorText([&] { RunDir(root_ / "file" / "sub", RunDir::Mode::kNew); });
  EXPECT_TRUE(Contains(err, "cannot create the run directory (Not a directory)")) << err;
}

// A full disk (ENOSPC; /dev/full behind the temporary file's name) is an error naming the
// file and the OS reason, and leaves no partial temporary file.
TEST_F(RunDirTest, AFullDiskLeavesNoTemporaryFile) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  fs::create_symlink("/dev/full", root_ / "summary.json.tmp");
  std::string err = ErrorText([&] { WriteFileAtomic(root_ / "summary.json", "{}"); });
  EXPECT_TRUE(Contains(err, "summary.json.tmp: write failed (No space left on device)")) << err;
  EXPECT_FALSE(fs::exists(fs::symlink_status(root_ / "summary.json.tmp")));
  EXPECT_FALSE(fs::exists(root_ / "summary.json"));

  fs::create_directories(root_ / "checkpoints");
  const fs::path tmp = CheckpointPath(root_, 5).string() + ".tmp";
  fs::create_symlink("/dev/full", tmp);
  const std::vector<uint8_t> payload(1000, 7);
  err = ErrorText([&] { WriteCheckpoint(root_, 5, payload); });
  EXPECT_TRUE(Contains(err, "round-00000005.ckpt.tmp: write failed (No space left on device)"))
      << err;
  EXPECT_FALSE(fs::exists(fs::symlink_status(tmp)));
  EXPECT_TRUE(ListCheckpoints(root_).empty());
}

}  // namespace
}  // namespace murmur::run
