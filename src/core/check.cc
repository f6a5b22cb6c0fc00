#include "murmur/core/check.h"

namespace murmur::detail {

std::string Where(const char* file, int line) {
  std::string_view f(file);
  if (auto pos = f.rfind("src/"); pos != std::string_view::npos) f = f.substr(pos);
  return Concat(" (", f, ":", line, ")");
}

void ThrowInternal(const char* file, int line, const char* cond, const std::string& msg) {
  throw InternalError(
      Concat("internal error: ", cond, " failed", msg.empty() ? "" : ": ", msg, Where(file, line)));
}

}  // namespace murmur::detail
