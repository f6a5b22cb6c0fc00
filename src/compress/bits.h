// Bit-level writer and reader (LSB-first within 64-bit words, little-endian bytes).
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "murmur/core/check.h"

namespace murmur::compress {

// Appends bits to a byte vector. Sized writers (`reserve_bits`) write whole 64-bit words into
// space made once up front, so the hot loop never grows the vector.
class BitWriter {
 public:
  // `expected_bits`: the exact or a larger number of bits that will be written (0 if unknown).
  explicit BitWriter(std::vector<uint8_t>& out, size_t expected_bits = 0)
      : out_(out), start_(out.size()) {
    out_.resize(start_ + (expected_bits + 7) / 8 + 8);
  }
  // Writes the low `count` bits of v (count <= 57, v < 2^count).
  void put(uint64_t v, int count) {
    acc_ |= v << fill_;
    if (fill_ + count >= 64) {
      flush_word();
      const int consumed = 64 - fill_;  // 7..64 bits of v went into the flushed word
      acc_ = consumed < 64 ? v >> consumed : 0;
      fill_ = fill_ + count - 64;
    } else {
      fill_ += count;
    }
  }
  // Writes `count` zero bits then a one (unary of count), any count.
  void put_unary(uint64_t count) {
    while (count >= 32) {
      put(0, 32);
      count -= 32;
    }
    put(uint64_t{1} << count, static_cast<int>(count) + 1);
  }
  // Pads to a byte boundary and trims the vector to the bytes written.
  void finish() {
    if (out_.size() < start_ + written_ + 8) out_.resize(start_ + written_ + 8);
    std::memcpy(out_.data() + start_ + written_, &acc_, 8);
    written_ += (fill_ + 7) / 8;
    out_.resize(start_ + written_);
    acc_ = 0;
    fill_ = 0;
  }

 private:
  void flush_word() {
    if (out_.size() < start_ + written_ + 8) out_.resize(2 * (start_ + written_ + 8));
    std::memcpy(out_.data() + start_ + written_, &acc_, 8);
    written_ += 8;
  }
  std::vector<uint8_t>& out_;
  size_t start_, written_ = 0;
  uint64_t acc_ = 0;
  int fill_ = 0;
};

class BitReader {
 public:
  BitReader(const uint8_t* data, size_t bytes, const char* what)
      : p_(data), bits_(bytes * 8), what_(what) {}
  uint64_t get(int count) {  // count <= 57
    MURMUR_CHECK(ProtocolError, pos_ + count <= bits_, what_, ": bit stream ends early");
    uint64_t v = peek64() >> (pos_ & 7);
    pos_ += count;
    return count == 64 ? v : v & ((uint64_t{1} << count) - 1);
  }
  // Counts zero bits up to the next one bit and consumes them and the one; at most `limit`.
  uint64_t get_unary(uint64_t limit) {
    uint64_t zeros = 0;
    while (true) {
      MURMUR_CHECK(ProtocolError, pos_ < bits_, what_, ": bit stream ends inside a unary code");
      const int avail = static_cast<int>(std::min<uint64_t>(56, bits_ - pos_));
      uint64_t w = (peek64() >> (pos_ & 7)) & ((uint64_t{1} << avail) - 1);
      if (w != 0) {
        const int tz = __builtin_ctzll(w);
        zeros += tz;
        pos_ += tz + 1;
        MURMUR_CHECK(ProtocolError, zeros <= limit, what_, ": unary code of ", zeros, " exceeds ",
                     limit);
        return zeros;
      }
      zeros += avail;
      pos_ += avail;
      MURMUR_CHECK(ProtocolError, zeros <= limit, what_, ": unary code exceeds ", limit);
    }
  }
  // Reads an Elias-gamma code (z zeros, a one, z more bits: the value (1 << z) | bits) with z
  // at most `limit` (<= 31); one 64-bit window in the common case.
  uint64_t get_gamma(uint64_t limit) {
    if (pos_ + 57 <= bits_) {
      const uint64_t w = peek64() >> (pos_ & 7);  // >= 57 valid bits
      const uint64_t masked = w & ((uint64_t{1} << 57) - 1);
      if (masked != 0) {
        const int z = __builtin_ctzll(masked);
        if (2 * z + 1 <= 57) {
          MURMUR_CHECK(ProtocolError, static_cast<uint64_t>(z) <= limit, what_, ": unary code of ",
                       z, " exceeds ", limit);
          pos_ += 2 * z + 1;
          const uint64_t low = z ? (w >> (z + 1)) & ((uint64_t{1} << z) - 1) : 0;
          return (uint64_t{1} << z) | low;
        }
      }
    }
    const uint64_t z = get_unary(limit);
    return (uint64_t{1} << z) | (z ? get(static_cast<int>(z)) : 0);
  }
  size_t position() const { return pos_; }
  void seek(size_t bit) {
    MURMUR_CHECK(ProtocolError, bit <= bits_, what_, ": bit stream ends early");
    pos_ = bit;
  }
  size_t bits() const { return bits_; }

 private:
  uint64_t peek64() const {
    const size_t byte = pos_ >> 3;
    uint64_t v = 0;
    if (byte + 8 <= (bits_ >> 3)) {
      std::memcpy(&v, p_ + byte, 8);  // fixed size: one load
    } else {
      std::memcpy(&v, p_ + byte, (bits_ >> 3) - byte);
    }
    return v;
  }
  const uint8_t* p_;
  size_t bits_;
  size_t pos_ = 0;
  const char* what_;
};

}  // namespace murmur::compress
