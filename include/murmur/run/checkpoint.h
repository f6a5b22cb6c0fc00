// Checkpoint files of a run: RUN_DIR/checkpoints/round-NNNNNNNN.ckpt.
//
// A file holds the rounds done and an opaque payload (the runner's, see runner.cc), framed by
// a magic, a version, the payload length and a 64-bit checksum of the payload. It is
// written to a temporary file, fsync'ed, renamed into place and the directory fsync'ed, so a
// crash at any moment leaves either the old set of checkpoints or the new one, never a file
// that looks complete and is not. Only the newest `keep` checkpoints are kept.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace murmur::run {

// Writes a checkpoint after `rounds_done` rounds and deletes all but the newest `keep`
// (>= 1). Returns its path.
std::string WriteCheckpoint(const std::filesystem::path& run_dir, int64_t rounds_done,
                            std::span<const uint8_t> payload, int keep = 2);

struct Checkpoint {
  std::string path;
  int64_t rounds_done = 0;
  std::vector<uint8_t> payload;
};

// The newest checkpoint of run_dir that reads back whole (magic, version, length, checksum),
// or nothing when there is none. Each newer file that fails is skipped with a warning naming
// it and what is wrong (when `warn`); leftover temporary files are ignored.
std::optional<Checkpoint> LoadLatestCheckpoint(const std::filesystem::path& run_dir,
                                               bool warn = true);

// Where the checkpoint after `rounds_done` rounds goes.
std::filesystem::path CheckpointPath(const std::filesystem::path& run_dir, int64_t rounds_done);

// The checkpoint files of run_dir, newest first (without checking them).
std::vector<std::filesystem::path> ListCheckpoints(const std::filesystem::path& run_dir);

}  // namespace murmur::run
