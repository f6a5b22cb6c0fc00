#include "murmur/core/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace murmur {
namespace {
std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::mutex g_mu;
const char* Tag(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warning";
    case LogLevel::kError:
      return "error";
    default:
      return "";
  }
}
}  // namespace

void SetLogLevel(LogLevel level) { g_level = level; }
LogLevel GetLogLevel() { return g_level; }

void LogLine(LogLevel level, std::string_view message) {
  std::lock_guard<std::mutex> lock(g_mu);
  std::fprintf(stderr, "murmur: %s: %.*s\n", Tag(level), static_cast<int>(message.size()),
               message.data());
}

}  // namespace murmur
