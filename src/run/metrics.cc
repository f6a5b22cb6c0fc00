#include "murmur/run/metrics.h"

#include <unistd.h>

#include <cmath>
#include <cstring>

#include "murmur/core/check.h"

namespace murmur::run {

CsvWriter::CsvWriter(const std::string& path, const std::vector<std::string>& columns,
                     std::string_view resume_text)
    : path_(path), columns_(columns.size()) {
  std::string header;
  for (const std::string& c : columns) header += (header.empty() ? "" : ",") + c;
  header += '\n';
  MURMUR_CHECK(IoError, resume_text.empty() || resume_text.starts_with(header), path,
               ": the saved rows do not start with the header '",
               header.substr(0, header.size() - 1), "'");
  f_ = std::fopen(path.c_str(), "w");
  MURMUR_CHECK(IoError, f_ != nullptr, path, ": cannot create (", std::strerror(errno), ")");
  if (resume_text.empty()) {
    row(columns);
  } else {
    std::fwrite(resume_text.data(), 1, resume_text.size(), f_);
    flush();
  }
}

CsvWriter::~CsvWriter() {
  if (f_) std::fclose(f_);
}

void CsvWriter::row(const std::vector<std::string>& values) {
  MURMUR_ASSERT(values.size() == columns_, path_, ": row with ", values.size(), " of ", columns_,
                " columns");
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) std::fputc(',', f_);
    std::fputs(values[i].c_str(), f_);
  }
  std::fputc('\n', f_);
}

void CsvWriter::flush() {
  MURMUR_CHECK(IoError, std::fflush(f_) == 0 && !std::ferror(f_), path_, ": write failed (",
               std::strerror(errno), ")");
}

std::string Num(double v) {
  if (std::isnan(v)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

Progress::Progress(int64_t rounds, bool quiet, int64_t first)
    : rounds_(rounds), first_(first), quiet_(quiet), tty_(isatty(STDERR_FILENO) != 0) {}

namespace {
std::string Duration(double s) {
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s / 3600),
                  static_cast<int>(std::fmod(s, 3600) / 60));
  else if (s >= 60)
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s / 60),
                  static_cast<int>(std::fmod(s, 60)));
  else
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  return buf;
}
}  // namespace

void Progress::update(int64_t round, double loss, double last_acc, double mb, double elapsed) {
  if (quiet_) return;
  const int64_t done = round + 1, here = done - first_;
  const double eta = here > 0 ? elapsed / here * (rounds_ - done) : 0.0;
  char loss_text[32] = "-";  // "-": no training this round (run.final_gossip_rounds)
  if (std::isfinite(loss)) std::snprintf(loss_text, sizeof loss_text, "%.4f", loss);
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "round %lld/%lld | loss %s | acc %s | sent %.2f MB/node | %s elapsed | ETA %s",
                static_cast<long long>(done), static_cast<long long>(rounds_), loss_text,
                last_acc < 0 ? "-" : Num(std::round(last_acc * 10000) / 10000).c_str(), mb,
                Duration(elapsed).c_str(), Duration(eta).c_str());
  line_ = buf;
  if (tty_) {
    if (elapsed - last_print_ < 0.1 && done != rounds_) return;
    last_print_ = elapsed;
    std::fprintf(stderr, "\r\033[K%s", buf);
    std::fflush(stderr);
  } else {
    const int64_t decile = done * 10 / rounds_;
    if (decile == last_decile_ && done != rounds_) return;
    last_decile_ = decile;
    std::fprintf(stderr, "%s\n", buf);
  }
}

void Progress::finish() {
  if (!quiet_ && tty_ && !line_.empty()) std::fputc('\n', stderr);
}

}  // namespace murmur::run
