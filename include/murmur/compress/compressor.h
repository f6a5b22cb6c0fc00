// Compressors: what a node sends instead of its full-precision vector.
//
// A Compressor turns a float vector into a self-describing payload (format id, version, n,
// k, parameters, then the index and value blocks of codecs.h), so a receiver decodes any
// payload with Decompress() and no configuration. Compressors are stateless and const: the
// only mutable input is the caller's Rng, used by the stochastic ones (random-k draws a
// seed for the receiver to regenerate its indices; QSGD rounds stochastically). One
// Compressor may serve many threads, each with its own Rng.
//
// Segments: sparsifiers and scaled quantisers work per segment (a tensor or a fixed-size
// chunk of the flat vector), or on the whole vector when no segments are given.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "murmur/compress/codecs.h"
#include "murmur/core/registry.h"
#include "murmur/core/rng.h"

namespace murmur::compress {

struct CompressorOptions {
  // Fraction of coordinates kept by top-k and random-k (k = ceil(ratio * segment length)).
  double ratio = 0.01;
  // threshold: keep coordinates with |x| >= threshold.
  double threshold = 1e-3;
  // QSGD: number of levels s (>= 1); more levels, less error, more bits.
  int levels = 16;
  // top-k + quantisation (topk_quant): bits per kept value.
  int bits = 8;
  // random-k: scale kept values by n/k (unbiased) or not (biased, as CHOCO-SGD uses it).
  // QSGD: unbiased (no 1/tau factor) or CHOCO's biased scaling.
  bool unbiased = false;
  // How sparse index sets are written; auto picks the smallest.
  IndexCodec index_codec = IndexCodec::kAuto;
  // How kept values are written by top-k, random-k and threshold (f32 = lossless).
  ValueCodec value_codec = ValueCodec::kF32;
  // Segment lengths (must sum to the vector length); empty = one segment. See also chunk.
  std::vector<uint32_t> segments;
  // When segments is empty and chunk > 0: segments of `chunk` values (the last may be shorter).
  uint32_t chunk = 0;
};

class Compressor {
 public:
  virtual ~Compressor() = default;
  virtual std::string_view name() const = 0;
  // Appends the payload for x to out.
  virtual void compress(std::span<const float> x, Rng& rng, Bytes& out) const = 0;
};

using CompressorFactory = std::function<std::unique_ptr<Compressor>(const CompressorOptions&)>;
// identity, fp16, bf16, topk, randomk, threshold, sign, qsgd, topk_quant.
const Registry<CompressorFactory>& CompressorRegistry();
// Adds a compressor from outside murmur (a program linking murmur::murmur, examples/cpp/):
// compression.name then accepts `name`. Its payloads must be one of the formats below
// (EncodeSparsePayload, EncodeDensePayload, ...) so that every receiver decodes them. Call
// it at start-up, before any run and from one thread; a taken name is a ConfigError.
void RegisterCompressor(std::string name, std::string help, CompressorFactory factory);
std::unique_ptr<Compressor> MakeCompressor(const std::string& name, const CompressorOptions& o);

// Payload formats (first byte of every payload); each format's encoder and decoder are one row
// of src/compress/payload.cc.
enum class Format : uint8_t {
  kDense = 1,
  kSparse = 2,
  kSeededSparse = 3,
  kSign = 4,
  kQsgd = 5,
  kExternal = 6,  // written by a compressor from outside murmur: see EncodeExternalPayload
};
// 2: Rice index blocks hold the remainders, then the quotients in unary (docs/compression.md).
// 3: QSGD codes are the signed level offset by s (level + s), not sign bit and magnitude.
inline constexpr uint8_t kPayloadVersion = 3;

struct PayloadInfo {
  Format format;
  uint32_t n = 0;  // dimension
  uint32_t k = 0;  // number of values carried
  size_t index_bytes = 0;
  size_t value_bytes = 0;
};
// Reads and validates the payload header (not the blocks).
PayloadInfo InspectPayload(std::span<const uint8_t> payload);

// out = decoded vector; throws ProtocolError on malformed payloads or n != out.size().
void Decompress(std::span<const uint8_t> payload, std::span<float> out);
// out += weight * decoded vector, touching only the coordinates the payload carries.
void DecompressAdd(std::span<const uint8_t> payload, float weight, std::span<float> out);
// out[i] += weight * (value_i - base[i]) for every coordinate i the payload carries: the
// change that replacing base's coordinates by the payload's would make, weighted, in one pass
// over the carried coordinates only (JWINS's fill-in rule).
void DecompressAddDifference(std::span<const uint8_t> payload, float weight,
                             std::span<const float> base, std::span<float> out);

// Payloads for a given selection (algorithms that pick coordinates themselves): kSparse with
// the sorted indices and their values, or kDense with all n values.
void EncodeSparsePayload(std::span<const uint32_t> sorted, std::span<const float> values,
                         uint32_t n, IndexCodec index_codec, const ValueOptions& value_options,
                         Rng* rng, Bytes& out);
void EncodeDensePayload(std::span<const float> values, const ValueOptions& value_options, Rng* rng,
                        Bytes& out);
// kSeededSparse: the seed random-k's indices are regenerated from, per segment its length and
// how many it keeps, and the kept values in index order.
void EncodeSeededSparsePayload(uint64_t seed, std::span<const uint32_t> segments,
                               std::span<const uint32_t> kept, std::span<const float> values,
                               const ValueOptions& value_options, Rng* rng, Bytes& out);
// kSign and kQsgd are written by their compressors in place (fused with their kernels): these
// write the header and say where the compressor's parts go. Sign: the segment table with zero
// scales (scale s at `scales + 8 s + 4`), then n zero sign bits at `bits`.
struct SignLayout {
  size_t scales = 0, bits = 0;
};
SignLayout PutSignLayout(uint32_t n, std::span<const uint32_t> segments, Bytes& out);
// QSGD: header, levels, code width and segment count; the compressor appends (len, unit) per
// segment, then the codes.
void PutQsgdLayout(uint32_t n, uint32_t levels, int code_bits, size_t segments, Bytes& out);

// kExternal: a payload whose body a compressor from outside murmur (a Python
// murmur.Compressor) writes in its own format: the compressor's name (u8 length, then the
// name), then its bytes. Receivers decode it with the decoder registered under that name; a
// payload whose decoder is not registered in the receiving process is a ProtocolError.
void EncodeExternalPayload(std::string_view name, uint32_t n, std::span<const uint8_t> body,
                           Bytes& out);
// Decodes an external payload's body for dimension n: either every value (vals.size() == n;
// returns true) or the carried coordinates (idx and vals of equal length, every index < n, in
// any order; returns false). Throwing murmur::Error (or ProtocolError) rejects the payload.
// May be called from several threads at once.
using ExternalDecoder = std::function<bool(std::span<const uint8_t> body, uint32_t n,
                                           std::vector<uint32_t>& idx, std::vector<float>& vals)>;
// Registers (or, for a taken name, replaces) the decoder of `name`'s payloads; an empty
// decoder removes it. Not while payloads of that name are being decoded.
void RegisterPayloadDecoder(std::string name, ExternalDecoder decoder);

// The sorted indices random-k keeps for (seed, n, k); sender and receiver both call it.
void SeededIndices(uint64_t seed, uint32_t n, uint32_t k, std::vector<uint32_t>& out);
// How many of `len` values a fraction `ratio` keeps: ceil(ratio * len), at least 1 (0 when
// len is 0), at most len.
uint32_t KeepCount(double ratio, uint32_t len);
// Exact top-k by magnitude over x (ties: lower index wins); appends sorted indices + offset.
void TopKIndices(std::span<const float> x, uint32_t k, uint32_t offset, std::vector<uint32_t>& out);

}  // namespace murmur::compress
