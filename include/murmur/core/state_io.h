// Saving and loading the state of a run for checkpoints, with one function per component.
//
// A component writes one function, checkpoint(StateIo& io), that names each field once:
// io.value(x), io.vector(v), io.fixed(span), io.rng(r). A saving StateIo appends the fields to
// a byte buffer; a loading one reads them back in the same order and overwrites the fields.
// Loading checks every length against what is left, so a buffer that does not belong to this
// component (another config, a truncated file) gives an IoError naming `what`, never garbage.
// Single numbers are little-endian; vectors and structs of numbers are stored in this
// machine's layout (checkpoints move between runs on one kind of machine, as MPI ranks do).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "murmur/core/check.h"
#include "murmur/core/coding.h"
#include "murmur/core/rng.h"

namespace murmur {

class StateIo {
 public:
  // A saver: fields go to bytes().
  StateIo() = default;
  // A loader of `bytes`; `what` names them in errors ("checkpoint X: node 3's algorithm").
  StateIo(std::span<const uint8_t> bytes, std::string what)
      : loading_(true), in_(bytes), what_(std::move(what)) {}

  bool loading() const { return loading_; }

  // Numbers are little-endian (core/coding.h); other trivially copyable values (small structs
  // of numbers) are stored as this machine lays them out.
  template <typename T>
  requires std::is_trivially_copyable_v<T>
  void value(T& v) {
    if constexpr (std::is_arithmetic_v<T>) {
      uint8_t b[sizeof(T)];
      if (!loading_) EncodeFixed(b, v);
      raw(b, sizeof(T));
      if (loading_) v = DecodeFixed<T>(b);
    } else {
      raw(&v, sizeof(T));
    }
  }

  // A vector of any length (stored with its length).
  template <typename T>
  requires std::is_trivially_copyable_v<T>
  void vector(std::vector<T>& v) {
    uint64_t n = v.size();
    value(n);
    if (loading_) {
      MURMUR_CHECK(IoError, n <= left() / (sizeof(T) ? sizeof(T) : 1), what_, ": a list of ", n,
                   " entries does not fit in the ", left(), " bytes left");
      v.resize(n);
    }
    raw(v.data(), n * sizeof(T));
  }

  // A list of vectors (e.g. one copy per neighbour).
  template <typename T>
  void vectors(std::vector<std::vector<T>>& vs) {
    uint64_t n = vs.size();
    value(n);
    if (loading_) {
      MURMUR_CHECK(IoError, n <= left() / sizeof(uint64_t), what_, ": ", n,
                   " lists do not fit in the ", left(), " bytes left");
      vs.resize(n);
    }
    for (auto& v : vs) vector(v);
  }

  // A span whose length the loader already knows: a different stored length is an error.
  template <typename T>
  requires std::is_trivially_copyable_v<T>
  void fixed(std::span<T> v, const char* field) {
    uint64_t n = v.size();
    value(n);
    MURMUR_CHECK(IoError, n == v.size(), what_, ": ", field, " has ", n, " values, expected ",
                 v.size(), " (was the checkpoint written with another config?)");
    raw(v.data(), n * sizeof(T));
  }

  void rng(Rng& r) {
    std::array<uint64_t, 4> s = r.state();
    value(s);
    if (loading_) r.set_state(s);
  }

  void text(std::string& s) {
    uint64_t n = s.size();
    value(n);
    if (loading_) {
      MURMUR_CHECK(IoError, n <= left(), what_, ": a text of ", n, " bytes does not fit in the ",
                   left(), " bytes left");
      s.resize(n);
    }
    raw(s.data(), n);
  }

  // Saver: what was written. Loader: checks that every byte was read.
  std::vector<uint8_t>& bytes() { return out_; }
  void expect_end() const {
    MURMUR_CHECK(IoError, left() == 0, what_, ": ", left(),
                 " bytes left over after the last field (was the checkpoint written with "
                 "another config?)");
  }
  const std::string& what() const { return what_; }

 private:
  size_t left() const { return in_.size() - pos_; }
  void raw(void* p, size_t n) {
    if (!loading_) {
      const auto* b = static_cast<const uint8_t*>(p);
      out_.insert(out_.end(), b, b + n);
      return;
    }
    MURMUR_CHECK(IoError, n <= left(), what_, ": ends early (", n, " bytes wanted, ", left(),
                 " left)");
    if (n) std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
  }

  bool loading_ = false;
  std::vector<uint8_t> out_;
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  std::string what_;
};

// A 64-bit checksum of bytes (four independent multiply-rotate lanes; detects truncation,
// flipped bits and torn writes; not cryptographic).
uint64_t Checksum64(std::span<const uint8_t> bytes);

}  // namespace murmur
