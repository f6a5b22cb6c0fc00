// Wire codecs: how sorted index sets and value arrays become bytes.
//
// Index codecs encode a strictly increasing set of k indices in [0, n). All work on the gaps
// g_i = idx_i - idx_{i-1} (with idx_{-1} = -1, so every gap is >= 1):
//   raw      4 bytes per index
//   varint   LEB128 of g - 1
//   gamma    Elias-gamma of g
//   rice     Golomb-Rice of g - 1 with parameter b (2^b close to ln2 * mean gap): within a
//            few percent of the entropy bound log2 C(n, k) for random sets
//   bitmap   n bits
//   auto     the smallest of the above for this set (sizes are computed exactly)
// Value codecs: f32 (lossless), f16 and bf16 (round to nearest even), q<bits>: symmetric
// uniform quantisation to 1..16 bits with one f32 scale (the largest magnitude), rounding to
// nearest or stochastically, and zstd (lossless): the values' byte planes (every byte 0, then
// every byte 1, ...) as one zstd frame, u32 frame length first; `auto` writes zstd where that
// is smaller than f32 and f32 otherwise. (fpzip and ZFP's reversible mode were measured
// against it and lost on size and time: BENCHMARKS.md, "Lossless values".)
//
// Every block is self-describing (codec id and parameters first). Decoders check every
// length, index and count against the bounds they are given and throw ProtocolError on
// anything malformed; they never read past the input.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "murmur/core/coding.h"
#include "murmur/core/rng.h"

namespace murmur::compress {

using murmur::Bytes;

enum class IndexCodec : uint8_t {
  kRaw = 1,
  kVarint = 2,
  kGamma = 3,
  kRice = 4,
  kBitmap = 5,
  kAuto = 255
};
enum class ValueCodec : uint8_t {
  kF32 = 1,
  kF16 = 2,
  kBF16 = 3,
  kQuant = 4,
  kZstd = 5,   // lossless: byte planes through zstd
  kAuto = 255  // lossless: zstd where it is smaller than f32, else f32 (never on the wire)
};

IndexCodec ParseIndexCodec(const std::string& name, const std::string& key);
std::string_view IndexCodecName(IndexCodec codec);
ValueCodec ParseValueCodec(const std::string& name, const std::string& key);
std::string_view ValueCodecName(ValueCodec codec);
// Whether decoded values equal the encoded ones bit for bit (f32, zstd, auto).
bool LosslessValueCodec(ValueCodec codec);

// log2 C(n, k): bits needed to name one k-subset of n.
double EntropyBoundBits(uint64_t n, uint64_t k);

// Exact size in bytes of the index block EncodeIndices writes (header included).
size_t EncodedIndexBytes(std::span<const uint32_t> sorted, uint32_t n, IndexCodec codec);
// The concrete codec `auto` picks for this set.
IndexCodec ChooseIndexCodec(std::span<const uint32_t> sorted, uint32_t n);
// Appends an index block. `sorted` must be strictly increasing and < n.
void EncodeIndices(std::span<const uint32_t> sorted, uint32_t n, IndexCodec codec, Bytes& out);

// Reads an index block for a set of exactly k indices in [0, n) into out (resized to k).
void DecodeIndices(ByteReader& in, uint32_t n, uint32_t k, std::vector<uint32_t>& out);

struct ValueOptions {
  ValueCodec codec = ValueCodec::kF32;
  int bits = 8;             // kQuant: bits per value, 1..16
  bool stochastic = false;  // kQuant: unbiased stochastic rounding (needs rng)
};
// Appends a value block for `values`; rng is used by stochastic quantisation only.
void EncodeValues(std::span<const float> values, const ValueOptions& options, Rng* rng, Bytes& out);
// Reads a value block of exactly `count` values into out.
void DecodeValues(ByteReader& in, uint32_t count, std::span<float> out);
// Size of the value block: exact for f32, f16, bf16 and quant; an upper bound for zstd and
// auto, whose size depends on the values.
size_t EncodedValueBytes(size_t count, const ValueOptions& options);

// IEEE half and bfloat16 conversions, round to nearest even (NaN stays NaN).
uint16_t FloatToHalf(float f);
float HalfToFloat(uint16_t h);
uint16_t FloatToBF16(float f);
float BF16ToFloat(uint16_t b);
// Bulk versions on little-endian bytes of any alignment (F16C where the CPU has it).
void FloatsToHalf(std::span<const float> in, uint8_t* out);
void HalfsToFloat(const uint8_t* in, std::span<float> out);
void FloatsToBF16(std::span<const float> in, uint8_t* out);

}  // namespace murmur::compress
