// A run directory and the files murmur wrote in it.
//
// murmur marks a directory as its own with the file .murmur-run, which lists every file and
// folder murmur wrote there (one name per line), and the process that runs in the directory
// holds an exclusive lock (flock) on that file for as long as it lives, so two processes never
// write one run directory. A directory written by a murmur older than the marker counts as a
// run when it holds metrics.csv or summary.json; its files are then the fixed set murmur
// writes (kRunFiles).
//
// murmur never replaces or deletes a file it did not write: a new run refuses a directory in
// which a name it would write is taken by a file that is not in the marker, even with
// overwrite. With overwrite, the previous run's files (and only those) are deleted first, so
// a run directory never mixes two runs. Not thread-safe; one RunDir per directory and process.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace murmur::run {

// Every name murmur may write directly in a run directory (an algorithm's output files
// included): a new run checks them all before it writes anything.
extern const std::vector<std::string> kRunFiles;

class RunDir {
 public:
  enum class Mode {
    kNew,        // the directory must not hold a run (it may not exist yet)
    kOverwrite,  // a previous run's files are deleted first
    kResume,     // the directory must hold a run; its files stay
  };
  // Creates the directory where needed, checks it for `mode` and takes the lock. Throws
  // IoError naming the directory and what is wrong (another process holds it, it holds a
  // finished or an unfinished run, a file murmur did not write is in the way).
  RunDir(const std::filesystem::path& dir, Mode mode);
  ~RunDir();  // releases the lock
  RunDir(const RunDir&) = delete;
  RunDir& operator=(const RunDir&) = delete;

  const std::filesystem::path& path() const { return dir_; }
  // Records `name` (one of kRunFiles) as murmur's before it is created; returns its path.
  std::filesystem::path claim(const std::string& name);
  // Writes `name` whole or not at all (temporary file, then rename), claiming it first.
  void write_file(const std::string& name, const std::string& text);

 private:
  std::vector<std::string> claimed() const;
  void remove_previous_run();

  std::filesystem::path dir_;
  int fd_ = -1;  // the marker, open and locked
  std::vector<std::string> claimed_;
};

// Whether the run in `dir` ended because training diverged (summary.json's status).
bool RunDiverged(const std::filesystem::path& dir);

// What `dir` holds, for messages: "a finished run", "an unfinished run (last checkpoint after
// round N; `murmur run --resume DIR` continues it)", ... or "" when it holds no run.
std::string DescribeRun(const std::filesystem::path& dir);

// Writes n bytes to the file descriptor fd (named `path` in errors), retrying short writes and
// EINTR; throws IoError with the OS reason (ENOSPC, ...).
void WriteAll(int fd, const void* data, size_t n, const std::string& path);

// Writes `path` whole or not at all: a temporary file next to it, then a rename; the temporary
// file is removed when writing fails (a full disk keeps nothing of it).
void WriteFileAtomic(const std::filesystem::path& path, const std::string& text);

}  // namespace murmur::run
