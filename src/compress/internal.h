// Helpers shared by the compressors (compressor.cc), the payload formats (payload.cc) and the
// selection kernels (select.cc). Internal to the compress module.
#pragma once

#include <cstdint>
#include <vector>

#include "murmur/compress/compressor.h"
#include "murmur/core/check.h"
#include "murmur/core/rng.h"

namespace murmur::compress::detail {

// A length that must fit a payload's u32 field.
inline uint32_t U32(size_t v, const char* what) {
  MURMUR_CHECK(ConfigError, v <= UINT32_MAX, what, ": ", v, " exceeds 2^32 - 1");
  return static_cast<uint32_t>(v);
}

// Per-thread scratch buffers; Tag keeps the users of one element type apart (tags are unique
// across the module's files).
template <typename T, int Tag>
std::vector<T>& Scratch() {
  thread_local std::vector<T> v;
  return v;
}

// The seed of a random-k segment's indices, from the payload's seed.
inline uint64_t SegmentSeed(uint64_t seed, size_t segment) {
  return DeriveSeed(seed, segment, Stream::kCompression);
}

}  // namespace murmur::compress::detail
