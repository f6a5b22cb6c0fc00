#include "murmur/core/coding.h"

#include "murmur/core/check.h"

namespace murmur {

void PutFloats(Bytes& out, std::span<const float> v) {
  const size_t at = out.size();
  out.resize(at + 4 * v.size());
  if constexpr (std::endian::native == std::endian::little) {
    if (!v.empty()) std::memcpy(out.data() + at, v.data(), 4 * v.size());
  } else {
    for (size_t k = 0; k < v.size(); ++k) EncodeFixed(out.data() + at + 4 * k, v[k]);
  }
}

void PutBytes(Bytes& out, std::span<const uint8_t> b) { out.insert(out.end(), b.begin(), b.end()); }

std::span<const uint8_t> ByteReader::take(size_t n) {
  MURMUR_CHECK(ProtocolError, n <= remaining(), what_, ": needs ", n, " more bytes, only ",
               remaining(), " left");
  auto s = b_.subspan(pos_, n);
  pos_ += n;
  return s;
}

void ByteReader::floats(std::span<float> out) {
  const std::span<const uint8_t> s = take(4 * out.size());
  if constexpr (std::endian::native == std::endian::little) {
    if (!out.empty()) std::memcpy(out.data(), s.data(), s.size());
  } else {
    for (size_t k = 0; k < out.size(); ++k) out[k] = DecodeFixed<float>(s.data() + 4 * k);
  }
}

}  // namespace murmur
