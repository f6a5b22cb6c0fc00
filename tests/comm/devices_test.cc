#include "murmur/comm/devices.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "error_text.h"
#include "murmur/comm/network_model.h"
#include "murmur/core/check.h"

namespace murmur::comm {
namespace {

namespace fs = std::filesystem;

std::string WriteFile(const std::string& name, const std::string& text) {
  const fs::path p = fs::temp_directory_path() / ("murmur_devices_" + name);
  std::ofstream(p) << text;
  return p.string();
}

TEST(DeviceModel, StepTimeIsBaseTimesSlowdownAndJitterIsSeededPerStep) {
  DeviceModel plain({}, 0.5, {1.0, 4.0}, 7);
  EXPECT_DOUBLE_EQ(plain.step_seconds(0, 0), 0.5);
  EXPECT_DOUBLE_EQ(plain.step_seconds(1, 3), 2.0);
  DeviceOptions o;
  o.step_jitter = 0.3;
  o.node_spread = 0.5;
  DeviceModel a(o, 0.5, {1.0, 1.0}, 7), b(o, 0.5, {1.0, 1.0}, 7);
  // Asked in another order, the same answers; steps and nodes differ.
  const double a12 = a.step_seconds(1, 2), a05 = a.step_seconds(0, 5);
  EXPECT_EQ(b.step_seconds(0, 5), a05);
  EXPECT_EQ(b.step_seconds(1, 2), a12);
  EXPECT_NE(a.step_seconds(1, 2), a.step_seconds(1, 3));
  EXPECT_NE(a.step_seconds(0, 2), a.step_seconds(1, 2));
  EXPECT_GT(a12, 0);
}

TEST(DeviceModel, TraceGivesNodesTheirTimesInOrderCycled) {
  const std::string path = WriteFile("trace.csv", "node,seconds\n1,0.2\n1,0.4\n0,1.5\n");
  DeviceOptions o;
  o.trace = path;
  DeviceModel m(o, 9.0, {1.0, 1.0, 1.0}, 1);
  EXPECT_DOUBLE_EQ(m.step_seconds(1, 0), 0.2);
  EXPECT_DOUBLE_EQ(m.step_seconds(1, 1), 0.4);
  EXPECT_DOUBLE_EQ(m.step_seconds(1, 2), 0.2);
  EXPECT_DOUBLE_EQ(m.step_seconds(0, 7), 1.5);
  EXPECT_DOUBLE_EQ(m.step_seconds(2, 0), 9.0);  // not in the trace: the formula
  EXPECT_TRUE(m.traced(1));
  EXPECT_FALSE(m.traced(2));
}

TEST(DeviceModel, BadTracesNameTheFileAndLine) {
  const auto error = [](const std::string& text) {
    DeviceOptions o;
    o.trace = WriteFile("bad.csv", text);
    return test_util::ErrorText<DataError>([&] { DeviceModel(o, 1.0, {1.0, 1.0}, 1); });
  };
  EXPECT_TRUE(test_util::Contains(error("node,secs\n0,1\n"), "no column 'seconds'"));
  EXPECT_NE(error("node,seconds\n0,1\n5,1\n").find("row 2 names node 5"), std::string::npos);
  EXPECT_NE(error("node,seconds\n0,-1\n").find("> 0 seconds"), std::string::npos);
  EXPECT_NE(error("node,seconds\n0,abc\n").find("line 2: 'abc'"), std::string::npos);
  DeviceOptions missing;
  missing.trace = "/nonexistent/trace.csv";
  EXPECT_THROW(DeviceModel(missing, 1.0, {1.0}, 1), IoError);
}

TEST(ChurnModel, ScheduledPeriodsAndTheirChanges) {
  ChurnOptions o;
  o.schedule = {OfflinePeriod::Parse("1@2:5", "k"), OfflinePeriod::Parse("2@3", "k")};
  ChurnModel m(o, 3, 1);
  EXPECT_TRUE(m.active());
  EXPECT_TRUE(m.online(1, 1.9));
  EXPECT_FALSE(m.online(1, 2.0));
  EXPECT_FALSE(m.online(1, 4.99));
  EXPECT_TRUE(m.online(1, 5.0));
  EXPECT_FALSE(m.online(2, 1e9));
  EXPECT_TRUE(m.online(0, 3.0));
  EXPECT_DOUBLE_EQ(m.next_change(1, 0.0), 2.0);
  EXPECT_DOUBLE_EQ(m.next_change(1, 2.0), 5.0);
  EXPECT_TRUE(std::isinf(m.next_change(1, 5.0)));
  EXPECT_TRUE(std::isinf(m.next_change(0, 0.0)));
  EXPECT_THROW(OfflinePeriod::Parse("1@5:2", "churn.schedule"), ConfigError);
  EXPECT_THROW(OfflinePeriod::Parse("x@1", "churn.schedule"), ConfigError);
  EXPECT_THROW(OfflinePeriod::Parse("1@", "churn.schedule"), ConfigError);
  ChurnOptions far;
  far.schedule = {OfflinePeriod::Parse("9@1", "k")};
  EXPECT_THROW(ChurnModel(far, 3, 1), ConfigError);
}

TEST(ChurnModel, RandomPeriodsKeepTheOfflineFractionAndDoNotDependOnQueryOrder) {
  ChurnOptions o;
  o.offline_fraction = 0.2;
  o.period_s = 5.0;
  const int n = 200;
  ChurnModel a(o, n, 3), b(o, n, 3);
  int offline = 0, samples = 0;
  for (double t = 0; t < 500; t += 2.5)
    for (int i = 0; i < n; ++i) {
      offline += a.online(i, t) ? 0 : 1;
      ++samples;
    }
  EXPECT_NEAR(static_cast<double>(offline) / samples, 0.2, 0.02);
  for (int i = n - 1; i >= 0; --i) {  // b asked backwards and from late times first
    EXPECT_EQ(b.online(i, 400.0), a.online(i, 400.0));
    EXPECT_EQ(b.next_change(i, 10.0), a.next_change(i, 10.0));
  }
  // A state changes exactly at next_change.
  const double c = a.next_change(7, 100.0);
  EXPECT_NE(a.online(7, c), a.online(7, std::nextafter(c, 0.0)));
}

TEST(EnergyModel, ComputeRadioAndIdleAddUp) {
  EnergyOptions o;
  o.all = {2.0, 0.0, 100.0, 50.0, 0.5};
  EnergyModel m(o, 2);
  EXPECT_TRUE(m.active());
  NodeUsage u;
  u.busy_s = 3.0;
  u.online_s = 10.0;
  u.steps = 4;
  u.bytes_sent = 1000;
  u.bytes_received = 2000;
  const EnergyBreakdown e = m.joules(0, u);
  EXPECT_DOUBLE_EQ(e.compute, 6.0);
  EXPECT_DOUBLE_EQ(e.radio, 8e-9 * (100.0 * 1000 + 50.0 * 2000));
  EXPECT_DOUBLE_EQ(e.idle, 0.5 * 7.0);
  EXPECT_DOUBLE_EQ(e.total(), e.compute + e.radio + e.idle);
  o.all.compute_j_per_step = 1.5;  // replaces watts x busy seconds
  EXPECT_DOUBLE_EQ(EnergyModel(o, 2).joules(0, u).compute, 6.0);
  EXPECT_FALSE(EnergyModel({}, 2).active());
}

TEST(EnergyModel, ClassesFileGivesNodesTheirOwnDevice) {
  EnergyOptions o;
  o.all.compute_watts = 1.0;
  o.classes = WriteFile("classes.csv",
                        "node,compute_watts,compute_j_per_step,tx_nj_per_bit,rx_nj_per_bit,"
                        "idle_watts\n1,10,0,0,0,0\n");
  EnergyModel m(o, 3);
  NodeUsage u;
  u.busy_s = 2.0;
  EXPECT_DOUBLE_EQ(m.joules(0, u).compute, 2.0);
  EXPECT_DOUBLE_EQ(m.joules(1, u).compute, 20.0);
  o.classes = WriteFile("classes_bad.csv", "node,compute_watts\n0,1\n");
  EXPECT_NE(test_util::ErrorText<DataError>([&] { EnergyModel(o, 3); }).find("no column"),
            std::string::npos);
}

// The event simulation's network: frames a node sends in one phase leave its uplink one after
// another; with independent links they all leave at once.
TEST(NetworkModel, SharedUplinkSendsOneFrameAtATime) {
  NetworkOptions o;
  o.latency_s = 0.01;
  o.bandwidth_bytes_s = 1000.0;
  const std::vector<double> compute(4, 0.0);
  const std::vector<LinkRecord> links{
      {0, 1, 0, 100, 0.0}, {0, 2, 0, 100, 0.0}, {0, 3, 0, 100, 0.0}};
  std::vector<double> finish(4);
  EXPECT_DOUBLE_EQ(NetworkModel(o, 4, 1).round_seconds(compute, links), 0.11);
  o.shared_uplink = true;
  EXPECT_DOUBLE_EQ(NetworkModel(o, 4, 1).round_seconds(compute, links, finish), 0.31);
  EXPECT_DOUBLE_EQ(finish[1], 0.11);
  EXPECT_DOUBLE_EQ(finish[2], 0.21);
  EXPECT_DOUBLE_EQ(finish[3], 0.31);
}

}  // namespace
}  // namespace murmur::comm
