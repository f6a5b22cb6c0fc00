#include "murmur/run/run_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "murmur/core/check.h"
#include "murmur/run/checkpoint.h"

namespace murmur::run {

namespace fs = std::filesystem;

const std::vector<std::string> kRunFiles = {"config.toml",
                                            "metrics.csv",
                                            "eval.csv",
                                            "timing.json",
                                            "summary.json",
                                            "checkpoints",
                                            "jwins_share_counts.csv",
                                            "jwins_accumulator.csv",
                                            "users.csv",
                                            "model.pt",
                                            "models"};

namespace {

constexpr const char* kMarker = ".murmur-run";
constexpr const char* kMarkerHeader =
    "# murmur run directory: the files murmur wrote here, one per line. The murmur process "
    "running here holds a lock on this file.\n";

bool Exists(const fs::path& p) {
  std::error_code ec;
  return fs::symlink_status(p, ec).type() != fs::file_type::not_found && !ec;
}

// Names in the marker file (empty when there is none).
std::vector<std::string> ReadMarker(const fs::path& dir) {
  std::ifstream in(dir / kMarker);
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#' &&
        std::find(names.begin(), names.end(), line) == names.end())
      names.push_back(line);
  return names;
}

// The run files of a directory written before the marker existed (metrics.csv or summary.json
// say it holds a run): those of kRunFiles that exist.
std::vector<std::string> LegacyFiles(const fs::path& dir) {
  std::vector<std::string> names;
  if (!Exists(dir / "metrics.csv") && !Exists(dir / "summary.json")) return names;
  for (const std::string& n : kRunFiles)
    if (Exists(dir / n)) names.push_back(n);
  return names;
}

// What murmur wrote in dir: the marker's names, or a legacy run's files.
std::vector<std::string> RunNames(const fs::path& dir) {
  return Exists(dir / kMarker) ? ReadMarker(dir) : LegacyFiles(dir);
}

}  // namespace

bool RunDiverged(const fs::path& dir) {
  std::ifstream in(dir / "summary.json");
  const nlohmann::json s = nlohmann::json::parse(in, nullptr, false);
  return s.is_object() && s.value("status", "") == "diverged";
}

std::string DescribeRun(const fs::path& dir) {
  if (RunNames(dir).empty()) return "";
  if (Exists(dir / "summary.json"))
    return RunDiverged(dir) ? "a run that ended when training diverged (summary.json)"
                            : "a finished run (summary.json)";
  const std::vector<fs::path> ckpts = ListCheckpoints(dir);
  if (ckpts.empty())
    return "an unfinished run without checkpoints (it cannot be resumed; runs with "
           "output.checkpoint_every > 0 can)";
  return "an unfinished run (newest checkpoint " + ckpts.front().filename().string() +
         "; `murmur run --resume " + dir.string() + "` continues it)";
}

RunDir::RunDir(const fs::path& dir, Mode mode) : dir_(dir) {
  const std::string d = dir.string();
  std::error_code ec;
  if (Exists(dir))
    MURMUR_CHECK(IoError, fs::is_directory(dir), d, ": exists and is not a directory");
  fs::create_directories(dir, ec);
  MURMUR_CHECK(IoError, !ec, d, ": cannot create the run directory (", ec.message(), ")");
  const fs::path marker = dir / kMarker;
  const bool had_marker = Exists(marker);
  const std::vector<std::string> legacy =
      had_marker ? std::vector<std::string>{} : LegacyFiles(dir);
  fd_ = ::open(marker.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  MURMUR_CHECK(IoError, fd_ >= 0, d, ": cannot write in the run directory (", marker.string(), ": ",
               std::strerror(errno), ")");
  try {
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      MURMUR_CHECK(IoError, errno != EWOULDBLOCK, d,
                   ": another murmur process is running in this directory (it holds the lock on ",
                   marker.string(), "); wait for it to end, or stop it");
      MURMUR_FAIL(IoError, marker.string(), ": cannot lock (", std::strerror(errno), ")");
    }
    claimed_ = had_marker ? ReadMarker(dir) : legacy;
    const bool is_run = !claimed_.empty();
    const std::string what = is_run ? DescribeRun(dir) : "";
    MURMUR_CHECK(IoError, mode != Mode::kNew || !is_run, d, " already holds ", what,
                 "; pick another directory, or pass --overwrite to delete it and start anew");
    MURMUR_CHECK(IoError, mode != Mode::kResume || is_run, d,
                 ": holds no murmur run to resume (no metrics.csv, summary.json or ", kMarker, ")");
    if (mode == Mode::kOverwrite && is_run) remove_previous_run();
    if (mode != Mode::kResume)
      for (const std::string& n : kRunFiles)
        MURMUR_CHECK(
            IoError,
            !Exists(dir / n) || std::find(claimed_.begin(), claimed_.end(), n) != claimed_.end(),
            (dir / n).string(),
            " was not written by murmur, and murmur never replaces what it did not "
            "write; move it away or pick another directory");
    if (!had_marker || (mode == Mode::kOverwrite && is_run)) {
      MURMUR_CHECK(IoError, ::ftruncate(fd_, 0) == 0, marker.string(), ": cannot truncate (",
                   std::strerror(errno), ")");
      std::string text = kMarkerHeader;
      for (const std::string& n : claimed_) text += n + "\n";
      WriteAll(fd_, text.data(), text.size(), marker.string());
    }
  } catch (...) {
    ::close(fd_);
    if (!had_marker) fs::remove(marker, ec);  // nothing of murmur's is left in a foreign directory
    throw;
  }
}

RunDir::~RunDir() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

void RunDir::remove_previous_run() {
  std::error_code ec;
  for (const std::string& n : claimed_) {
    const fs::path p = dir_ / n;
    if (n == "checkpoints") {
      // Only the checkpoint files: anything else put there is left alone.
      for (const fs::path& f : ListCheckpoints(dir_)) fs::remove(f, ec);
      for (const auto& e : fs::directory_iterator(p, ec))
        if (e.path().extension() == ".tmp") fs::remove(e.path(), ec);
      fs::remove(p, ec);  // only when empty
      continue;
    }
    if (n == "models") {
      // Only the node models murmur writes there (node_<i>.pt).
      for (const auto& e : fs::directory_iterator(p, ec)) {
        const std::string f = e.path().filename().string();
        if (f.rfind("node_", 0) == 0 && (f.ends_with(".pt") || f.ends_with(".pt.tmp")))
          fs::remove(e.path(), ec);
      }
      fs::remove(p, ec);  // only when empty
      continue;
    }
    fs::remove(p.string() + ".tmp", ec);
    MURMUR_CHECK(IoError, !fs::is_directory(p, ec), p.string(),
                 ": murmur wrote a file there, now it is a directory; move it away");
    fs::remove(p, ec);
    MURMUR_CHECK(IoError, !ec, p.string(), ": cannot delete the previous run's file (",
                 ec.message(), ")");
  }
  claimed_.clear();
}

fs::path RunDir::claim(const std::string& name) {
  MURMUR_ASSERT(std::find(kRunFiles.begin(), kRunFiles.end(), name) != kRunFiles.end(),
                "run file '", name, "' is missing from kRunFiles");
  if (std::find(claimed_.begin(), claimed_.end(), name) == claimed_.end()) {
    const std::string line = name + "\n";
    WriteAll(fd_, line.data(), line.size(), (dir_ / kMarker).string());
    claimed_.push_back(name);
  }
  return dir_ / name;
}

void RunDir::write_file(const std::string& name, const std::string& text) {
  WriteFileAtomic(claim(name), text);
}

void WriteAll(int fd, const void* data, size_t n, const std::string& path) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    MURMUR_CHECK(IoError, w > 0, path, ": write failed (", std::strerror(errno), ")");
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void WriteFileAtomic(const fs::path& path, const std::string& text) {
  const std::string tmp = path.string() + ".tmp";
  std::error_code ec;
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  MURMUR_CHECK(IoError, f != nullptr, tmp, ": cannot create (", std::strerror(errno), ")");
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size() &&
                       std::fflush(f) == 0 && !std::ferror(f);
  const int err = errno;
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) {
    fs::remove(tmp, ec);
    MURMUR_FAIL(IoError, tmp, ": write failed (", std::strerror(written ? errno : err), ")");
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    MURMUR_FAIL(IoError, path.string(), ": cannot rename into place (", ec.message(), ")");
  }
}

}  // namespace murmur::run
