#include "murmur/run/runner.h"

#include <fstream>
#include <string>

#include "murmur/run/experiment.h"

namespace murmur::run {

int64_t PeakRssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  return 0;
}

void ResetPeakRss() {
  // Linux >= 4.0: "5" resets VmHWM to the current RSS, so a run's peak_rss_bytes is its own
  // even when one process runs several (murmur sweep). Where it is not allowed, the peak
  // stays the process's.
  std::ofstream("/proc/self/clear_refs") << "5";
}

RunResult RunExperiment(const Config& config, const RunOptions& options) {
  Experiment e(config, options);
  while (!e.done()) e.run_round();
  return e.finish();
}

}  // namespace murmur::run
