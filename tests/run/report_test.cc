#include "murmur/run/report.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "error_text.h"
#include "murmur/core/check.h"
#include "murmur/core/log.h"
#include "murmur/run/metrics.h"
#include "murmur/run/runner.h"
#include "run/temp_dir_test.h"

namespace murmur::run {
namespace {

namespace fs = std::filesystem;

using testing::Slurp;

void Write(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

class ReportTest : public testing::TempDirTest {
 protected:
  // A hand-made run of 2 nodes and 4 rounds: each node sends `bytes_per_round` per round,
  // evaluations after rounds 1 and 3 with mean accuracies acc1 and acc3.
  std::string MakeRun(const std::string& name, const std::vector<std::string>& sets,
                      double bytes_per_round, double acc1, double acc3) {
    const fs::path dir = root_ / name;
    fs::create_directories(dir);
    Config c;
    c.set("run.nodes=2");
    c.set("run.rounds=4");
    for (const auto& s : sets) c.set(s);
    Write(dir / "config.toml", c.to_toml());
    std::string m =
        "round,node,train_loss,bytes_sent,bytes_received,messages,header_bytes_sent,"
        "messages_received,lr,sim_seconds\n";
    for (int r = 0; r < 4; ++r)
      for (int i = 0; i < 2; ++i)
        m += std::to_string(r) + "," + std::to_string(i) + ",1," + Num(bytes_per_round) +
             ",0,1,32,1,0.1," + Num(0.5 * (r + 1)) + "\n";
    Write(dir / "metrics.csv", m);
    std::string e =
        "round,node,test_acc,test_loss,avg_model_acc,avg_model_loss,consensus_distance\n";
    for (auto [r, acc] : {std::pair{1, acc1}, std::pair{3, acc3}})
      for (int i = 0; i < 2; ++i)
        e += std::to_string(r) + "," + std::to_string(i) + "," + Num(acc + (i ? 0.01 : -0.01)) +
             ",1,,,0.5\n";
    Write(dir / "eval.csv", e);
    Write(dir / "summary.json", "{\"final_acc_mean\": " + Num(acc3) +
                                    ", \"final_acc_min\": " + Num(acc3 - 0.01) +
                                    ", \"bytes_sent_per_node\": " + Num(4 * bytes_per_round) +
                                    ", \"sim_seconds\": 2.0}\n");
    return dir.string();
  }
};

TEST_F(ReportTest, LoadRunRebuildsTheCurveFromTheCsvFiles) {
  const RunRecord r = LoadRun(MakeRun("a", {}, 1000, 0.5, 0.7));
  ASSERT_EQ(r.curve.size(), 2u);
  EXPECT_EQ(r.curve[0].round, 1);
  EXPECT_DOUBLE_EQ(r.curve[0].acc_mean, 0.5);
  EXPECT_DOUBLE_EQ(r.curve[0].acc_min, 0.49);
  EXPECT_DOUBLE_EQ(r.curve[1].acc_max, 0.71);
  EXPECT_DOUBLE_EQ(r.curve[0].bytes_per_node, 2000);  // rounds 0 and 1
  EXPECT_DOUBLE_EQ(r.curve[1].sim_seconds, 2.0);
  EXPECT_TRUE(r.finished);
  EXPECT_THROW(LoadRun((root_ / "missing").string()), IoError);
}

TEST_F(ReportTest, CompareGroupsSeedsAndComputesRatiosAgainstTheFullSharingRun) {
  std::vector<RunRecord> runs;
  for (const auto& d :
       {MakeRun("ref1", {"run.seed=1"}, 8000, 0.60, 0.80),
        MakeRun("ref2", {"run.seed=2"}, 8000, 0.62, 0.82),
        MakeRun("choco1", {"run.seed=1", "algorithm.name=choco", "compression.name=topk"}, 100,
                0.50, 0.79),
        MakeRun("choco2", {"run.seed=2", "algorithm.name=choco", "compression.name=topk"}, 100,
                0.52, 0.81),
        MakeRun("local", {"algorithm.name=local"}, 0, 0.3, 0.4)})
    runs.push_back(LoadRun(d));
  const std::string t = CompareMarkdown(runs, {});
  // Reference: dpsgd without compression, final mean 0.81 over its 2 seeds -> target 0.80.
  EXPECT_NE(t.find("| rounds to 0.8000 | sim s to 0.8000 |"), std::string::npos) << t;
  // dpsgd: 0.81 ± std(0.80, 0.82) = 0.0141; 32 kB; ratio 1; seed 1 reaches 0.80 at round 3
  // (4 rounds, sim 2 s), seed 2 too.
  EXPECT_NE(t.find("| algorithm=dpsgd, compression=none (reference) | 2 | 0.8100 ± 0.0141 | "
                   "0.8000 | 0.03 | 1.0× | 4 | 2 |"),
            std::string::npos)
      << t;
  // choco: 80x fewer bytes; seed 1 (0.79) never reaches 0.80 -> 1 of 2.
  EXPECT_NE(t.find("| algorithm=choco, compression=topk | 2 | 0.8000 ± 0.0141 | 0.7900 | 0.00 | "
                   "80.0× | not reached (1/2) | – |"),
            std::string::npos)
      << t;
  // A run that sent nothing has no ratio.
  EXPECT_NE(t.find("| algorithm=local, compression=none | 1 | 0.4000 | 0.3900 | 0.00 | – |"),
            std::string::npos)
      << t;
  // An explicit target and reference.
  CompareOptions o;
  o.target = 0.5;
  o.reference = (root_ / "choco1").string();
  const std::string t2 = CompareMarkdown(runs, o);
  EXPECT_NE(t2.find("(reference) | 2 | 0.8000 ± 0.0141 | 0.7900 | 0.00 | 1.0× | 2 | 1 |"),
            std::string::npos)
      << t2;
  o.reference = (root_ / "elsewhere").string();
  fs::create_directories(o.reference);
  EXPECT_THROW(CompareMarkdown(runs, o), ConfigError);
}

TEST_F(ReportTest, ExpandRunDirsTakesTheRunsInsideADirectory) {
  MakeRun("sweep/b", {}, 1, 0, 0);
  MakeRun("sweep/a", {}, 1, 0, 0);
  const auto dirs = ExpandRunDirs({(root_ / "sweep").string()});
  ASSERT_EQ(dirs.size(), 2u);
  EXPECT_EQ(fs::path(dirs[0]).filename(), "a");
  fs::create_directories(root_ / "empty");
  EXPECT_THROW(ExpandRunDirs({(root_ / "empty").string()}), IoError);
}

TEST_F(ReportTest, PlotWritesValidPngAndSvgForOneAndSeveralRuns) {
  std::vector<RunRecord> runs{LoadRun(MakeRun("a", {"run.seed=1"}, 100, 0.5, 0.7)),
                              LoadRun(MakeRun("b", {"run.seed=2"}, 200, 0.4, 0.8)),
                              LoadRun(MakeRun("c", {"algorithm.name=sgp"}, 300, 0.3, 0.6))};
  for (size_t count : {size_t{1}, size_t{3}})
    for (const char* x : {"round", "bytes", "sim_time"}) {
      const std::vector<RunRecord> some(runs.begin(), runs.begin() + count);
      PlotOptions o;
      o.x = x;
      o.out = (root_ / ("p" + std::to_string(count) + x + ".png")).string();
      Plot(some, o);
      const std::string png = Slurp(o.out);
      ASSERT_GT(png.size(), 1000u);
      EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
      EXPECT_EQ(png.substr(12, 4), "IHDR");
      EXPECT_EQ(static_cast<unsigned char>(png[18]) * 256 + static_cast<unsigned char>(png[19]),
                1100);  // width
      o.out = (root_ / ("p" + std::to_string(count) + x + ".svg")).string();
      Plot(some, o);
      const std::string svg = Slurp(o.out);
      EXPECT_NE(svg.find("<svg"), std::string::npos);
      EXPECT_NE(svg.find("</svg>"), std::string::npos);
      EXPECT_TRUE(fs::exists(o.out + ".gp"));
    }
  // One curve per setting: a and b differ only in the seed, so they are one curve, the mean
  // over the seeds with the band of the seeds' means; labels name what differs.
  const std::string script = PlotScript(runs, {});
  EXPECT_NE(script.find("title \"algorithm=dpsgd (2 seeds)\""), std::string::npos) << script;
  EXPECT_NE(script.find("title \"algorithm=sgp\""), std::string::npos) << script;
  EXPECT_EQ(script.find("$run2"), std::string::npos) << script;
  // Round 2 (x = 2): seeds' means 0.5 and 0.4 -> mean 0.45, band [0.4, 0.5].
  EXPECT_NE(script.find("$run0 << EOD\n2 0.45 0.4 0.5 0.5\n"), std::string::npos) << script;
  PlotOptions bad;
  bad.x = "time";
  EXPECT_THROW(PlotScript(runs, bad), ConfigError);
  bad = {};
  bad.out = "plot.jpg";
  EXPECT_THROW(PlotScript(runs, bad), ConfigError);
}

// Beyond 8 settings the curves still differ (gnuplot's default colours repeat after 8), and
// a consensus distance of 0 (exact averaging) is left out of the log axis, not drawn at 1e-30.
TEST_F(ReportTest, PlotStylesStayDistinctAndZeroConsensusIsNotDrawn) {
  std::vector<RunRecord> runs;
  for (int k = 0; k < 12; ++k)
    runs.push_back(LoadRun(MakeRun("r" + std::to_string(k),
                                   {"train.lr=" + std::to_string(0.01 * (k + 1))}, 100, 0.5, 0.7)));
  runs[0].curve[0].consensus = 0;
  const std::string script = PlotScript(runs, {});
  EXPECT_NE(script.find("set linetype 1 lc rgb \"#4e79a7\" dt 1"), std::string::npos) << script;
  EXPECT_NE(script.find("set linetype 11 lc rgb \"#4e79a7\" dt 2"), std::string::npos) << script;
  EXPECT_NE(script.find("$run0 << EOD\n2 0.5 0.49 0.51 ?\n"), std::string::npos) << script;
  EXPECT_EQ(script.find("1e-30"), std::string::npos);
  // Every run averaging exactly: no log axis over nothing (gnuplot would fail).
  for (RunRecord& r : runs)
    for (CurvePoint& p : r.curve) p.consensus = 0;
  const std::string exact = PlotScript(runs, {});
  EXPECT_EQ(exact.find("set logscale y"), std::string::npos);
  PlotOptions o;
  o.out = (root_ / "exact.png").string();
  Plot(runs, o);
  EXPECT_GT(Slurp(o.out).size(), 1000u);
}

// A sweep over the problem (here partition.alpha) is compared within each problem: a table
// each, with its own reference and target; a diverged run shows as diverged.
TEST_F(ReportTest, CompareWithinEachProblemAndShowsDivergedRuns) {
  std::vector<RunRecord> runs;
  for (const char* alpha : {"1", "0.01"}) {
    const std::string a = std::string("partition.alpha=") + alpha;
    const bool skewed = std::string(alpha) == "0.01";
    runs.push_back(
        LoadRun(MakeRun(std::string("ref") + alpha, {a}, 8000, 0.6, skewed ? 0.5 : 0.8)));
    runs.push_back(LoadRun(
        MakeRun(std::string("relay") + alpha, {a, "algorithm.name=relaysum"}, 4000, 0.6, 0.79)));
  }
  // The D-PSGD run at alpha = 0.01 diverged in round 3.
  Write(root_ / "ref0.01" / "summary.json",
        "{\"status\": \"diverged\", \"diverged_round\": 3, \"bytes_sent_per_node\": 24000, "
        "\"sim_seconds\": 2.0}\n");
  runs[2] = LoadRun((root_ / "ref0.01").string());
  EXPECT_TRUE(runs[2].diverged);
  const std::string t = CompareMarkdown(runs, {});
  EXPECT_NE(t.find("### partition.alpha=1\n\n| run | seeds |"), std::string::npos) << t;
  EXPECT_NE(t.find("### partition.alpha=0.01\n"), std::string::npos) << t;
  // alpha = 1: the reference's 0.80 - 0.01 is the target; relaysum sends half the bytes.
  EXPECT_NE(t.find("| algorithm=relaysum | 1 | 0.7900 | 0.7800 | 0.02 | 2.0× | 4 | 2 |"),
            std::string::npos)
      << t;
  // alpha = 0.01: no reference that did not diverge, so no ratios; the diverged row says so.
  EXPECT_NE(t.find("| algorithm=dpsgd | 1 | diverged (round 3) | – | 0.02 | – |"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("No full-sharing run"), std::string::npos) << t;
}

class SweepTest : public ReportTest {
 protected:
  std::string SweepFile(const std::string& extra) {
    Config base;
    for (const char* s : {"run.nodes=4", "run.rounds=3", "data.name=synthetic",
                          "data.synthetic_train=200", "data.synthetic_test=50",
                          "data.synthetic_side=4", "model.name=logreg", "output.eval_every=1"})
      base.set(s);
    Write(root_ / "base.toml", base.to_toml());
    const fs::path f = root_ / "sweep.toml";
    Write(f, "base = \"base.toml\"\nout = \"" + (root_ / "out").string() + "\"\n" + extra);
    return f.string();
  }
};

TEST_F(SweepTest, RunsEveryPointSkipsFinishedOnesAndRerunsAnInterruptedOne) {
  const std::string f = SweepFile(
      "[set]\ntrain.lr = 0.2\n[[variant]]\nname = \"full\"\n\"algorithm.name\" = \"dpsgd\"\n"
      "[[variant]]\nname = \"push\"\nalgorithm.name = \"sgp\"\n"
      "[grid]\n\"run.seed\" = [1, 2]\n");
  SweepOptions o;
  o.quiet = true;
  SweepResult r = RunSweep(f, o);
  EXPECT_EQ(r.points, 4);
  EXPECT_EQ(r.ran, 4);
  const fs::path out = root_ / "out";
  const fs::path a = out / "variant=full__run.seed=1", b = out / "variant=push__run.seed=2";
  ASSERT_TRUE(fs::exists(a / "summary.json"));
  EXPECT_EQ(Config::FromFile((b / "config.toml").string()).get_string("algorithm.name"), "sgp");
  EXPECT_EQ(Config::FromFile((b / "config.toml").string()).get_double("train.lr"), 0.2);
  const std::string a_timing = Slurp(a / "timing.json");  // holds its wall time: unique

  // Interrupt point b: its run directory lost summary.json and has a partial metrics.csv.
  fs::remove(b / "summary.json");
  Write(b / "metrics.csv", "round,node\n0,");
  r = RunSweep(f, o);
  EXPECT_EQ(r.ran, 1);
  EXPECT_EQ(r.skipped, 3);
  EXPECT_EQ(Slurp(a / "timing.json"), a_timing);  // not rerun
  EXPECT_TRUE(fs::exists(b / "summary.json"));    // rerun
  EXPECT_EQ(LoadRun(b.string()).curve.size(), 3u);

  // One row per point, swept keys and summary fields.
  const std::string csv = Slurp(out / "sweep.csv");
  EXPECT_EQ(csv.rfind("point,status,variant,run.seed,final_acc_mean", 0), 0u) << csv;
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);
  EXPECT_NE(csv.find("variant=push__run.seed=2,done,push,2,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("variant=full__run.seed=1,skipped (complete),full,1,"), std::string::npos);

  // A finished point of another config is never overwritten.
  Write(root_ / "sweep.toml", Slurp(f) + "");
  Config changed = Config::FromFile((root_ / "base.toml").string());
  changed.set("train.batch_size=7");
  Write(root_ / "base.toml", changed.to_toml());
  EXPECT_THROW(RunSweep(f, o), ConfigError);
  EXPECT_EQ(Slurp(a / "timing.json"), a_timing);
}

// An interrupted point that left a checkpoint continues from it, to the same files.
TEST_F(SweepTest, ResumesAnInterruptedPointFromItsCheckpoint) {
  const std::string f =
      SweepFile("[set]\n\"output.checkpoint_every\" = 2\n[grid]\n\"run.seed\" = [1]\n");
  SweepOptions o;
  o.quiet = true;
  RunSweep(f, o);
  const fs::path p = root_ / "out" / "run.seed=1";
  const std::string metrics = Slurp(p / "metrics.csv");
  fs::remove(p / "summary.json");
  o.quiet = false;
  SetLogLevel(LogLevel::kInfo);
  ::testing::internal::CaptureStderr();
  const SweepResult r = RunSweep(f, o);
  const std::string log = ::testing::internal::GetCapturedStderr();
  SetLogLevel(LogLevel::kWarn);
  EXPECT_EQ(r.ran, 1);
  EXPECT_NE(log.find("run.seed=1: resuming from its checkpoint"), std::string::npos) << log;
  EXPECT_EQ(Slurp(p / "metrics.csv"), metrics);
  EXPECT_TRUE(fs::exists(p / "summary.json"));
}

TEST_F(SweepTest, OnlyRunsTheNamedPoints) {
  const std::string f = SweepFile("[grid]\n\"run.seed\" = [1, 2, 3]\n");
  SweepOptions o;
  o.quiet = true;
  o.only = {"run.seed=2"};
  const SweepResult r = RunSweep(f, o);
  EXPECT_EQ(r.ran, 1);
  EXPECT_TRUE(fs::exists(root_ / "out" / "run.seed=2" / "summary.json"));
  EXPECT_FALSE(fs::exists(root_ / "out" / "run.seed=1"));
  const std::string csv = Slurp(root_ / "out" / "sweep.csv");
  EXPECT_NE(csv.find("run.seed=1,not selected,1,"), std::string::npos) << csv;
  o.only = {"run.seed=9"};
  EXPECT_THROW(RunSweep(f, o), ConfigError);
  // Float values name their points as written (0.1, not 0.10000000000000001).
  o.only = {"train.lr=0.1"};
  EXPECT_EQ(RunSweep(SweepFile("[grid]\n\"train.lr\" = [0.1, 0.05]\n"), o).ran, 1);
  EXPECT_TRUE(fs::exists(root_ / "out" / "train.lr=0.1" / "summary.json"));
}

TEST_F(SweepTest, AFailingPointIsReportedAndTheOthersStillRun) {
  const std::string f = SweepFile(
      "[grid]\n\"algorithm.name\" = [\"dpsgd\", \"allreduce\"]\n"
      "\"compression.name\" = [\"none\", \"topk\"]\n");
  SweepOptions o;
  o.quiet = true;
  const SweepResult r = RunSweep(f, o);
  EXPECT_EQ(r.points, 4);
  EXPECT_EQ(r.ran, 2);     // dpsgd/none, allreduce/none
  EXPECT_EQ(r.failed, 2);  // neither compresses
  const std::string csv = Slurp(root_ / "out" / "sweep.csv");
  EXPECT_NE(csv.find("algorithm.name=dpsgd__compression.name=topk,failed,dpsgd,topk,"),
            std::string::npos)
      << csv;
}

// A diverged point is a result: counted as diverged (not failed), "diverged" in sweep.csv,
// and skipped as complete when the sweep runs again.
TEST_F(SweepTest, ADivergedPointIsAResultNotAFailure) {
  const std::string f =
      SweepFile("[set]\n\"model.name\" = \"mlp\"\n[grid]\n\"train.lr\" = [0.1, 1e30]\n");
  SweepOptions o;
  o.quiet = true;
  SweepResult r = RunSweep(f, o);
  EXPECT_EQ(r.ran, 2);
  EXPECT_EQ(r.diverged, 1);
  EXPECT_EQ(r.failed, 0);
  std::string csv = Slurp(root_ / "out" / "sweep.csv");
  EXPECT_NE(csv.find("train.lr=1e+30,diverged,1e+30,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("training diverged: node"), std::string::npos) << csv;
  r = RunSweep(f, o);
  EXPECT_EQ(r.ran, 0);
  EXPECT_EQ(r.skipped, 2);
  EXPECT_EQ(r.diverged, 1);
  csv = Slurp(root_ / "out" / "sweep.csv");
  EXPECT_NE(csv.find("train.lr=1e+30,skipped (diverged),"), std::string::npos) << csv;
}

TEST_F(SweepTest, BadSweepFilesAreRefusedBeforeAnythingRuns) {
  {
    const std::string f = SweepFile("");
    Write(root_ / "base.toml.d", "");
    fs::remove(root_ / "base.toml");
    fs::create_directories(root_ / "base.toml");
    const std::string err = test_util::ErrorText([&] { RunSweep(f, {}); });
    EXPECT_NE(err.find("base.toml: the config file is a directory"), std::string::npos) << err;
    fs::remove_all(root_ / "base.toml");
  }
  struct Case {
    std::string text, error;
  };
  const std::vector<Case> cases{
      {"[grids]\nx = [1]\n", "unknown key 'grids'"},
      {"[grid]\n\"train.lr\" = 0.1\n", "[grid] train.lr: expected a non-empty list"},
      {"[grid]\n\"train.lrr\" = [0.1]\n", "unknown key 'train.lrr'"},
      {"[grid]\n\"train.lr\" = [\"fast\"]\n", "train.lr"},
      {"[set]\n\"run.nodes\" = 0\n", "run.nodes"},
      {"[[variant]]\nname = \"a\"\n[[variant]]\nname = \"a\"\n", "two points named"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    const std::string f = SweepFile(c.text);
    EXPECT_TRUE(
        test_util::Contains(test_util::ErrorText<ConfigError>([&] { RunSweep(f, {}); }), c.error));
    EXPECT_FALSE(fs::exists(root_ / "out" / "sweep.csv"));
  }
  Write(root_ / "nobase.toml", "out = \"x\"\n");
  EXPECT_THROW(RunSweep((root_ / "nobase.toml").string(), {}), ConfigError);
}

}  // namespace
}  // namespace murmur::run
