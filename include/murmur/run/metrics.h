// Output sinks of a run: CSV files and the live progress line.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace murmur::run {

// Appends rows to a CSV file; the header is written on open. Flushes after every flush().
class CsvWriter {
 public:
  // Creates (or truncates) path and writes the header; with `resume_text` (a resumed run: the
  // file as a checkpoint saw it, header included) writes that instead.
  CsvWriter(const std::string& path, const std::vector<std::string>& columns,
            std::string_view resume_text = {});
  ~CsvWriter();
  CsvWriter(const CsvWriter&) = delete;
  CsvWriter& operator=(const CsvWriter&) = delete;
  // Appends one row; values are already formatted.
  void row(const std::vector<std::string>& values);
  void flush();

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
  size_t columns_;
};

// Formats a double with up to 9 significant digits (round-trips the metrics we print).
std::string Num(double v);

// The progress line on stderr: rewritten in place on a terminal, one line per ~10% of the
// run (and at the end) otherwise.
class Progress {
 public:
  // `first`: the round this process starts at (a resumed run), for the ETA.
  Progress(int64_t rounds, bool quiet, int64_t first = 0);
  void update(int64_t round, double loss, double last_acc, double mb_sent_per_node,
              double elapsed_seconds);
  void finish();

 private:
  int64_t rounds_, first_;
  bool quiet_, tty_;
  double last_print_ = -1.0;
  int64_t last_decile_ = -1;
  std::string line_;
};

}  // namespace murmur::run
