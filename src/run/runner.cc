#include "murmur/run/runner.h"

#include <cstdlib>
#include <fstream>
#include <initializer_list>
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

namespace {
// The number in the first of `names` that is set in the environment, 0 when none is.
int EnvInt(std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (const char* v = std::getenv(name)) return std::atoi(v);
  return 0;
}
}  // namespace

void SetLauncherFromEnvironment(RunOptions& options) {
  // Open MPI's mpirun, then MPICH/Hydra's mpiexec.
  options.launcher_ranks = EnvInt({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"});
  options.launcher_local_ranks = EnvInt({"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"});
}

RunResult RunExperiment(const Config& config, const RunOptions& options) {
  Experiment e(config, options);
  while (!e.done()) e.run_round();
  return e.finish();
}

}  // namespace murmur::run
