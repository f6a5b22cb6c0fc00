// Little-endian encoding of numbers in byte buffers, and a bounds-checked reader: the one
// byte-coding utility of frame headers, payload codecs, MPI gathers and checkpoint files
// (after LevelDB's util/coding.h). Every multi-byte number is little-endian whatever the
// machine, so bytes written on one machine read the same on another.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace murmur {

using Bytes = std::vector<uint8_t>;

// Fixed-width numbers at a position the caller has sized.
template <typename T>
requires std::is_integral_v<T> || std::is_floating_point_v<T>
inline void EncodeFixed(uint8_t* p, T v) {
  if constexpr (std::endian::native == std::endian::big) {
    static_assert(sizeof(T) <= 8);
    uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    for (size_t k = 0; k < sizeof(T); ++k) p[k] = b[sizeof(T) - 1 - k];
  } else {
    std::memcpy(p, &v, sizeof(T));
  }
}
template <typename T>
requires std::is_integral_v<T> || std::is_floating_point_v<T>
inline T DecodeFixed(const uint8_t* p) {
  T v;
  if constexpr (std::endian::native == std::endian::big) {
    uint8_t b[sizeof(T)];
    for (size_t k = 0; k < sizeof(T); ++k) b[k] = p[sizeof(T) - 1 - k];
    std::memcpy(&v, b, sizeof(T));
  } else {
    std::memcpy(&v, p, sizeof(T));
  }
  return v;
}
inline void EncodeFixed32(uint8_t* p, uint32_t v) { EncodeFixed(p, v); }
inline uint32_t DecodeFixed32(const uint8_t* p) { return DecodeFixed<uint32_t>(p); }

// Appenders.
template <typename T>
requires std::is_integral_v<T> || std::is_floating_point_v<T>
inline void Put(Bytes& out, T v) {
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  EncodeFixed(out.data() + at, v);
}
inline void PutU8(Bytes& out, uint8_t v) { out.push_back(v); }
inline void PutU16(Bytes& out, uint16_t v) { Put(out, v); }
inline void PutU32(Bytes& out, uint32_t v) { Put(out, v); }
inline void PutU64(Bytes& out, uint64_t v) { Put(out, v); }
inline void PutF32(Bytes& out, float v) { Put(out, v); }
// f32 values, then raw bytes.
void PutFloats(Bytes& out, std::span<const float> v);
void PutBytes(Bytes& out, std::span<const uint8_t> b);

// Reads bytes in order with bounds checks: reading past the end throws ProtocolError naming
// `what` (bytes from another process or file are never trusted).
class ByteReader {
 public:
  ByteReader(std::span<const uint8_t> bytes, const char* what) : b_(bytes), what_(what) {}
  template <typename T>
  T get() {
    return DecodeFixed<T>(take(sizeof(T)).data());
  }
  uint8_t u8() { return take(1)[0]; }
  uint16_t u16() { return get<uint16_t>(); }
  uint32_t u32() { return get<uint32_t>(); }
  uint64_t u64() { return get<uint64_t>(); }
  float f32() { return get<float>(); }
  void floats(std::span<float> out);
  std::span<const uint8_t> take(size_t n);
  size_t remaining() const { return b_.size() - pos_; }
  bool done() const { return pos_ == b_.size(); }
  const char* what() const { return what_; }

 private:
  std::span<const uint8_t> b_;
  size_t pos_ = 0;
  const char* what_;
};

}  // namespace murmur
