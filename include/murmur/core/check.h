// Errors and checks used by every module.
//
// User, configuration and input errors throw one of the typed exceptions below through
// MURMUR_CHECK; broken internal invariants throw InternalError through MURMUR_ASSERT. The
// library never aborts: callers (and tests) can always observe a failure.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace murmur {

// Base of every murmur exception. what() reads "<message> (file:line)" for errors thrown
// through MURMUR_CHECK; message() is the text without the source location (what a user is
// shown; the location is for --verbose and logs).
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message)
      : std::runtime_error(message), length_(message.size()) {}
  Error(const std::string& message, const std::string& where)
      : std::runtime_error(message + where), length_(message.size()) {}
  std::string_view message() const { return std::string_view(what(), length_); }

 private:
  size_t length_;
};
class ConfigError : public Error {  // bad key or value in a config or on the command line
 public:
  using Error::Error;
};
class DataError : public Error {  // missing, truncated or corrupt dataset files
 public:
  using Error::Error;
};
class ProtocolError : public Error {  // malformed message bytes
 public:
  using Error::Error;
};
// A message a node must combine did not arrive: a peer out of step (it skipped a round or a
// phase) or a transport that lost it without a fault model saying so. The bytes that did arrive
// were well-formed; this is not a ProtocolError.
class MissingMessageError : public Error {
 public:
  using Error::Error;
};
class IoError : public Error {  // files that cannot be read or written
 public:
  using Error::Error;
};
class InternalError : public Error {  // a broken invariant: a bug in murmur
 public:
  using Error::Error;
};
// Training diverged: a NaN or infinity in a loss or a model, or a push-sum weight that left
// (0, inf). Not an input error: the run ended with a result ("diverged"), which sweeps and
// reports show as such, and the gamma tuner's sign that a gamma is too large.
class DivergenceError : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <typename... Args>
std::string Concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
[[noreturn]] void ThrowInternal(const char* file, int line, const char* cond,
                                const std::string& msg);
std::string Where(const char* file, int line);
}  // namespace detail

}  // namespace murmur

// MURMUR_CHECK(ErrorType, cond, msg...): throws ErrorType("msg... (file:line)") unless cond.
#define MURMUR_CHECK(ErrorType, cond, ...)                          \
  do {                                                              \
    if (!(cond)) [[unlikely]] {                                     \
      throw ErrorType(::murmur::detail::Concat(__VA_ARGS__),        \
                      ::murmur::detail::Where(__FILE__, __LINE__)); \
    }                                                               \
  } while (false)

// MURMUR_FAIL(ErrorType, msg...): throws unconditionally.
#define MURMUR_FAIL(ErrorType, ...) MURMUR_CHECK(ErrorType, false, __VA_ARGS__)

// Internal invariant; always on.
#define MURMUR_ASSERT(cond, ...)                                                                \
  do {                                                                                          \
    if (!(cond)) [[unlikely]] {                                                                 \
      ::murmur::detail::ThrowInternal(__FILE__, __LINE__, #cond,                                \
                                      ::murmur::detail::Concat("" __VA_OPT__(, ) __VA_ARGS__)); \
    }                                                                                           \
  } while (false)

// Internal invariant for hot loops: compiled out in release builds.
#ifdef NDEBUG
#define MURMUR_DASSERT(cond, ...) \
  do {                            \
  } while (false)
#else
#define MURMUR_DASSERT(cond, ...) MURMUR_ASSERT(cond __VA_OPT__(, ) __VA_ARGS__)
#endif
