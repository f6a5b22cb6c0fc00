#include "murmur/run/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "murmur/core/check.h"
#include "murmur/core/coding.h"
#include "murmur/core/log.h"
#include "murmur/core/state_io.h"
#include "murmur/run/run_dir.h"

namespace murmur::run {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'M', 'U', 'R', 'M', 'U', 'R', 'C', 'K'};
constexpr uint32_t kVersion = 1;
// magic, version, reserved, rounds done, payload length.
constexpr size_t kHeader = 8 + 4 + 4 + 8 + 8;

fs::path Dir(const fs::path& run_dir) { return run_dir / "checkpoints"; }

std::string FileName(int64_t rounds_done) {
  char name[64];
  std::snprintf(name, sizeof name, "round-%08lld.ckpt", static_cast<long long>(rounds_done));
  return name;
}

// Rounds done from "round-NNNNNNNN.ckpt"; -1 for any other name.
int64_t RoundsOf(const fs::path& p) {
  const std::string s = p.filename().string();
  if (s.size() < 12 || s.rfind("round-", 0) != 0 || s.substr(s.size() - 5) != ".ckpt") return -1;
  const std::string digits = s.substr(6, s.size() - 11);
  if (digits.empty() || digits.size() > 18 ||
      !std::all_of(digits.begin(), digits.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
    return -1;
  return std::stoll(digits);
}

void SyncDir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;  // best effort: some file systems do not open directories
  ::fsync(fd);
  ::close(fd);
}

template <typename T>
T Get(const std::vector<uint8_t>& b, size_t at) {
  return DecodeFixed<T>(b.data() + at);
}

// Empty when the file is whole; else what is wrong with it.
std::string Check(const std::vector<uint8_t>& b, int64_t rounds_in_name) {
  if (b.size() < kHeader + 8)
    return "only " + std::to_string(b.size()) + " bytes (a partial write?)";
  if (std::memcmp(b.data(), kMagic, 8) != 0) return "not a murmur checkpoint (bad magic)";
  const auto version = Get<uint32_t>(b, 8);
  if (version != kVersion)
    return "format version " + std::to_string(version) + ", this murmur reads " +
           std::to_string(kVersion);
  if (Get<uint32_t>(b, 12) != 0) return "a damaged header (reserved field set)";
  const auto rounds = Get<int64_t>(b, 16);
  if (rounds != rounds_in_name)
    return "holds round " + std::to_string(rounds) + " but is named for round " +
           std::to_string(rounds_in_name);
  const auto len = Get<uint64_t>(b, 24);
  if (len != b.size() - kHeader - 8)
    return "payload of " + std::to_string(b.size() - kHeader - 8) + " bytes, header says " +
           std::to_string(len) + " (a partial write?)";
  const auto sum = Get<uint64_t>(b, b.size() - 8);
  if (sum != Checksum64(std::span<const uint8_t>(b.data() + kHeader, len)))
    return "checksum mismatch (the file is corrupt)";
  return {};
}

}  // namespace

fs::path CheckpointPath(const fs::path& run_dir, int64_t rounds_done) {
  return Dir(run_dir) / FileName(rounds_done);
}

std::vector<fs::path> ListCheckpoints(const fs::path& run_dir) {
  std::vector<std::pair<int64_t, fs::path>> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(Dir(run_dir), ec)) {
    const int64_t r = RoundsOf(e.path());
    if (r >= 0 && e.is_regular_file()) found.emplace_back(r, e.path());
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a > b; });
  std::vector<fs::path> out;
  for (auto& [r, p] : found) out.push_back(std::move(p));
  return out;
}

std::string WriteCheckpoint(const fs::path& run_dir, int64_t rounds_done,
                            std::span<const uint8_t> payload, int keep) {
  MURMUR_ASSERT(keep >= 1 && rounds_done >= 0);
  const fs::path dir = Dir(run_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  MURMUR_CHECK(IoError, !ec, dir.string(), ": cannot create (", ec.message(), ")");
  // The file: header, payload, checksum of the payload (the header checks itself: magic,
  // version, the round its name gives, the length the file has).
  std::vector<uint8_t> head;
  head.insert(head.end(), kMagic, kMagic + 8);
  Put(head, kVersion);
  Put(head, uint32_t{0});
  Put(head, rounds_done);
  Put(head, static_cast<uint64_t>(payload.size()));
  std::vector<uint8_t> tail;
  Put(tail, Checksum64(payload));

  const fs::path path = CheckpointPath(run_dir, rounds_done);
  const std::string tmp = path.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  MURMUR_CHECK(IoError, fd >= 0, tmp, ": cannot create (", std::strerror(errno), ")");
  try {
    WriteAll(fd, head.data(), head.size(), tmp);
    WriteAll(fd, payload.data(), payload.size(), tmp);
    WriteAll(fd, tail.data(), tail.size(), tmp);
    MURMUR_CHECK(IoError, ::fsync(fd) == 0, tmp, ": fsync failed (", std::strerror(errno), ")");
    MURMUR_CHECK(IoError, ::close(fd) == 0, tmp, ": write failed (", std::strerror(errno), ")");
    fd = -1;
    fs::rename(tmp, path, ec);
    MURMUR_CHECK(IoError, !ec, path.string(), ": cannot rename into place (", ec.message(), ")");
  } catch (...) {
    // A full disk (ENOSPC) must not also keep the partial file.
    if (fd >= 0) ::close(fd);
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
  SyncDir(dir);
  // Keep the newest `keep` up to this one. Checkpoints after it belong to a history that
  // this run abandoned (it resumed from an older one), and never outrank it.
  int kept = 0;
  for (const fs::path& f : ListCheckpoints(run_dir)) {
    const int64_t r = RoundsOf(f);
    if (r > rounds_done || ++kept > keep) fs::remove(f, ec);
  }
  return path.string();
}

std::optional<Checkpoint> LoadLatestCheckpoint(const fs::path& run_dir, bool warn) {
  for (const fs::path& p : ListCheckpoints(run_dir)) {
    std::ifstream in(p, std::ios::binary);
    std::vector<uint8_t> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string bad = in.bad() ? "cannot be read" : Check(b, RoundsOf(p));
    if (!bad.empty()) {
      if (warn) LogWarn("checkpoint ", p.string(), ": ", bad, "; trying the one before");
      continue;
    }
    Checkpoint c;
    c.path = p.string();
    c.rounds_done = Get<int64_t>(b, 16);
    c.payload.assign(b.begin() + kHeader, b.end() - 8);
    return c;
  }
  return std::nullopt;
}

}  // namespace murmur::run
