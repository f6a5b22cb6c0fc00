// Minimal leveled logging to stderr. Thread-safe; one line per call.
#pragma once

#include <string_view>

#include "murmur/core/check.h"

namespace murmur {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
void LogLine(LogLevel level, std::string_view message);

template <typename... Args>
void LogInfo(const Args&... args) {
  if (GetLogLevel() <= LogLevel::kInfo) LogLine(LogLevel::kInfo, detail::Concat(args...));
}
template <typename... Args>
void LogWarn(const Args&... args) {
  if (GetLogLevel() <= LogLevel::kWarn) LogLine(LogLevel::kWarn, detail::Concat(args...));
}
template <typename... Args>
void LogDebug(const Args&... args) {
  if (GetLogLevel() <= LogLevel::kDebug) LogLine(LogLevel::kDebug, detail::Concat(args...));
}

}  // namespace murmur
