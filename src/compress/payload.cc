// The payload formats, one row each: how a payload of the format is written (the encoder the
// compressors and algorithms call) and read back (its body decoder and what InspectPayload
// reports), side by side. A new wire format is one Format value (compressor.h), its encoder and
// decoder here, one row of kFormats, and a row in docs/compression.md.
//
// Every payload: format u8, version u8 (kPayloadVersion), n u32 (dimension), k u32 (values
// carried), then the body. Decoders trust nothing: every count is checked against the bytes
// present before anything is allocated, and a malformed payload is a ProtocolError before
// anything is written to the caller's vector.
#include <algorithm>
#include <bit>
#include <cmath>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "bits.h"
#include "internal.h"
#include "murmur/compress/compressor.h"

namespace murmur::compress {

using detail::Scratch;
using detail::SegmentSeed;
using detail::U32;

namespace {

struct Header {
  Format format;
  uint32_t n, k;
};

void PutHeader(Bytes& out, Format f, uint32_t n, uint32_t k) {
  PutU8(out, static_cast<uint8_t>(f));
  PutU8(out, kPayloadVersion);
  PutU32(out, n);
  PutU32(out, k);
}

constexpr size_t kHeaderBytes = 10;

// Reads `count` (len, x) segment pairs; checks the lengths sum to n.
std::vector<std::pair<uint32_t, uint32_t>> ReadSegments(ByteReader& in, uint32_t n) {
  const uint32_t count = in.u32();
  MURMUR_CHECK(ProtocolError, count <= std::max<uint32_t>(n, 1) && count <= in.remaining() / 8,
               "payload: ", count, " segments for dimension ", n);
  std::vector<std::pair<uint32_t, uint32_t>> segs(count);
  uint64_t sum = 0;
  for (auto& [len, second] : segs) {
    len = in.u32();
    second = in.u32();
    sum += len;
  }
  MURMUR_CHECK(ProtocolError, sum == n, "payload: segment lengths sum to ", sum, ", dimension is ",
               n);
  return segs;
}

float AsFloat(uint32_t u) { return std::bit_cast<float>(u); }

// A body decoder reads everything after the header and leaves the carried values in vals and,
// unless every coordinate is carried in order (it returns true then), their indices in idx.
using BodyDecoder = bool (*)(ByteReader& in, const Header& h, std::vector<uint32_t>& idx,
                             std::vector<float>& vals);

// ---- kDense: a value block of n values ---------------------------------------------------
// Encoder: EncodeDensePayload.
bool DecodeDense(ByteReader& in, const Header& h, std::vector<uint32_t>&,
                 std::vector<float>& vals) {
  MURMUR_CHECK(ProtocolError, h.k == h.n, "payload: dense with ", h.k, " of ", h.n, " values");
  vals.resize(h.n);
  DecodeValues(in, h.n, vals);
  return true;
}

// ---- kSparse: an index block of k indices, then a value block of k values -----------------
// Encoder: EncodeSparsePayload.
bool DecodeSparse(ByteReader& in, const Header& h, std::vector<uint32_t>& idx,
                  std::vector<float>& vals) {
  DecodeIndices(in, h.n, h.k, idx);
  vals.resize(h.k);
  DecodeValues(in, h.k, vals);
  return false;
}

// ---- kSeededSparse: seed u64, segments u32 and (len u32, k u32) each, a value block ------
// Indices are regenerated from the seed per segment (SeededIndices). Encoder:
// EncodeSeededSparsePayload.
bool DecodeSeededSparse(ByteReader& in, const Header& h, std::vector<uint32_t>& idx,
                        std::vector<float>& vals) {
  const uint64_t seed = in.u64();
  const auto segs = ReadSegments(in, h.n);
  uint64_t total = 0;
  for (auto [len, k] : segs) {
    MURMUR_CHECK(ProtocolError, k <= len, "payload: random-k of ", k, " from a segment of ", len);
    total += k;
  }
  MURMUR_CHECK(ProtocolError, total == h.k, "payload: segments keep ", total, ", header says ",
               h.k);
  vals.resize(h.k);
  DecodeValues(in, h.k, vals);
  std::vector<uint32_t>& seg_idx = Scratch<uint32_t, 17>();
  idx.clear();
  uint32_t offset = 0;
  for (size_t s = 0; s < segs.size(); ++s) {
    SeededIndices(SegmentSeed(seed, s), segs[s].first, segs[s].second, seg_idx);
    for (uint32_t i : seg_idx) idx.push_back(offset + i);
    offset += segs[s].first;
  }
  return false;
}

// ---- kSign: segments u32 and (len u32, scale f32) each, then n sign bits -------------------
// Coordinate i is -scale or +scale of its segment. Encoder: PutSignLayout (the Sign compressor
// fills the scales and bits).
bool DecodeSign(ByteReader& in, const Header& h, std::vector<uint32_t>&, std::vector<float>& vals) {
  MURMUR_CHECK(ProtocolError, h.k == h.n, "payload: sign with ", h.k, " of ", h.n, " values");
  const auto segs = ReadSegments(in, h.n);
  for (auto [len, scale_bits] : segs)
    MURMUR_CHECK(ProtocolError, std::isfinite(AsFloat(scale_bits)),
                 "payload: sign scale is not finite");
  const auto bits = in.take((static_cast<size_t>(h.n) + 7) / 8);
  vals.resize(h.n);
  uint32_t i = 0;
  for (auto [len, scale_bits] : segs) {
    const float scale = AsFloat(scale_bits);
    for (uint32_t e = i + len; i < e; ++i) vals[i] = (bits[i >> 3] >> (i & 7)) & 1 ? -scale : scale;
  }
  return true;
}

// ---- kQsgd: levels s u32, code bits u8, segments u32 and (len u32, unit f32) each, then n
// codes of `bits` bits, each level + s in [0, 2s] -------------------------------------------
// Coordinate i is unit * level of its segment. Encoder: PutQsgdLayout (the Qsgd compressor
// writes the segments and codes).
bool DecodeQsgd(ByteReader& in, const Header& h, std::vector<uint32_t>&, std::vector<float>& vals) {
  MURMUR_CHECK(ProtocolError, h.k == h.n, "payload: qsgd with ", h.k, " of ", h.n, " values");
  const uint32_t s = in.u32();
  const int bits = in.u8();
  MURMUR_CHECK(ProtocolError,
               s >= 1 && s <= (1u << 20) && bits == static_cast<int>(std::bit_width(2 * s)),
               "payload: qsgd with ", s, " levels and ", bits, "-bit codes");
  const auto segs = ReadSegments(in, h.n);
  for (auto [len, unit_bits] : segs)
    MURMUR_CHECK(ProtocolError, std::isfinite(AsFloat(unit_bits)),
                 "payload: qsgd scale is not finite");
  const auto codes = in.take((static_cast<uint64_t>(h.n) * bits + 7) / 8);
  BitReader r(codes.data(), codes.size(), "payload");
  vals.resize(h.n);
  uint32_t i = 0;
  for (auto [len, unit_bits] : segs) {
    const float unit = AsFloat(unit_bits);
    for (uint32_t e = i + len; i < e; ++i) {
      const uint64_t code = r.get(bits);
      MURMUR_CHECK(ProtocolError, code <= 2 * uint64_t{s}, "payload: qsgd code ", code,
                   " above 2 s = ", 2 * uint64_t{s});
      vals[i] = unit * static_cast<float>(static_cast<int64_t>(code) - int64_t{s});
    }
  }
  return true;
}

// ---- kExternal: name length u8, name, then the registering compressor's own bytes -----------
// Encoder: EncodeExternalPayload.
std::map<std::string, ExternalDecoder, std::less<>>& ExternalDecoders() {
  static std::map<std::string, ExternalDecoder, std::less<>> decoders;
  return decoders;
}
std::shared_mutex& ExternalDecodersMutex() {
  static std::shared_mutex m;
  return m;
}

bool DecodeExternal(ByteReader& in, const Header& h, std::vector<uint32_t>& idx,
                    std::vector<float>& vals) {
  const uint8_t len = in.u8();
  const std::span<const uint8_t> name_bytes = in.take(len);
  const std::string_view name(reinterpret_cast<const char*>(name_bytes.data()), len);
  const std::span<const uint8_t> body = in.take(in.remaining());
  ExternalDecoder decode;
  {
    std::shared_lock lock(ExternalDecodersMutex());
    auto it = ExternalDecoders().find(name);
    MURMUR_CHECK(ProtocolError, it != ExternalDecoders().end(), "payload: written by compressor '",
                 name, "', whose decoder this process does not have");
    decode = it->second;
  }
  idx.clear();
  vals.clear();
  const bool all = decode(body, h.n, idx, vals);
  if (all) {
    MURMUR_CHECK(ProtocolError, vals.size() == h.n, "payload: compressor '", name, "' decoded ",
                 vals.size(), " values, dimension is ", h.n);
    return true;
  }
  MURMUR_CHECK(ProtocolError, idx.size() == vals.size(), "payload: compressor '", name,
               "' decoded ", idx.size(), " indices but ", vals.size(), " values");
  for (uint32_t i : idx)
    MURMUR_CHECK(ProtocolError, i < h.n, "payload: compressor '", name, "' decoded index ", i,
                 " for dimension ", h.n);
  return false;
}

// The table: one row per format, in Format order.
struct FormatRow {
  Format format;
  BodyDecoder decode;
  bool has_index_block;  // an index block (codecs.h) follows the header: InspectPayload sizes it
};
constexpr FormatRow kFormats[] = {
    {Format::kDense, DecodeDense, false},
    {Format::kSparse, DecodeSparse, true},
    {Format::kSeededSparse, DecodeSeededSparse, false},
    {Format::kSign, DecodeSign, false},
    {Format::kQsgd, DecodeQsgd, false},
    {Format::kExternal, DecodeExternal, false},
};

const FormatRow& ReadHeader(ByteReader& in, Header& h) {
  const uint8_t f = in.u8();
  MURMUR_CHECK(ProtocolError, f >= 1 && f <= std::size(kFormats), "payload: unknown format ",
               int{f});
  const uint8_t v = in.u8();
  MURMUR_CHECK(ProtocolError, v == kPayloadVersion, "payload: unsupported version ", int{v});
  h = Header{static_cast<Format>(f), in.u32(), in.u32()};
  MURMUR_CHECK(ProtocolError, h.k <= h.n, "payload: ", h.k, " values for dimension ", h.n);
  const FormatRow& row = kFormats[f - 1];
  MURMUR_ASSERT(row.format == h.format);
  return row;
}

// Validates the whole payload, then calls begin() once and emit(index, value) for every
// coordinate it carries; nothing is emitted for a malformed payload.
template <typename Begin, typename Emit>
void Decode(std::span<const uint8_t> payload, size_t expected_n, Begin begin, Emit emit) {
  ByteReader in(payload, "payload");
  Header h;
  const FormatRow& row = ReadHeader(in, h);
  MURMUR_CHECK(ProtocolError, h.n == expected_n, "payload: dimension ", h.n, ", expected ",
               expected_n);
  // Every value costs at least one bit: bound counts by the bytes present before allocating.
  MURMUR_CHECK(ProtocolError, h.k <= 8ull * in.remaining(), "payload: ", h.k,
               " values cannot fit in ", in.remaining(), " bytes");
  std::vector<uint32_t>& idx = Scratch<uint32_t, 8>();
  std::vector<float>& vals = Scratch<float, 7>();
  const bool all = row.decode(in, h, idx, vals);
  MURMUR_CHECK(ProtocolError, in.remaining() == 0, "payload: ", in.remaining(), " trailing bytes");
  begin();
  if (all) {
    for (uint32_t i = 0; i < h.n; ++i) emit(i, vals[i]);
  } else {
    for (size_t j = 0; j < idx.size(); ++j) emit(idx[j], vals[j]);
  }
}

}  // namespace

PayloadInfo InspectPayload(std::span<const uint8_t> payload) {
  ByteReader in(payload, "payload");
  Header h;
  const FormatRow& row = ReadHeader(in, h);
  PayloadInfo info{h.format, h.n, h.k, 0, 0};
  if (row.has_index_block) {
    in.u8();
    in.u8();
    info.index_bytes = 6 + in.u32();
  }
  info.value_bytes = payload.size() - kHeaderBytes - info.index_bytes;
  return info;
}

void Decompress(std::span<const uint8_t> payload, std::span<float> out) {
  Decode(
      payload, out.size(), [&] { std::fill(out.begin(), out.end(), 0.0f); },
      [&](uint32_t i, float v) { out[i] = v; });
}

void DecompressAdd(std::span<const uint8_t> payload, float weight, std::span<float> out) {
  Decode(
      payload, out.size(), [] {}, [&](uint32_t i, float v) { out[i] += weight * v; });
}

void DecompressAddDifference(std::span<const uint8_t> payload, float weight,
                             std::span<const float> base, std::span<float> out) {
  MURMUR_ASSERT(base.size() == out.size());
  Decode(
      payload, out.size(), [] {}, [&](uint32_t i, float v) { out[i] += weight * (v - base[i]); });
}

// ---- encoders, in the rows' order ---------------------------------------------------------

void EncodeDensePayload(std::span<const float> values, const ValueOptions& value_options, Rng* rng,
                        Bytes& out) {
  const uint32_t n = U32(values.size(), "vector length");
  PutHeader(out, Format::kDense, n, n);
  EncodeValues(values, value_options, rng, out);
}

void EncodeSparsePayload(std::span<const uint32_t> sorted, std::span<const float> values,
                         uint32_t n, IndexCodec index_codec, const ValueOptions& value_options,
                         Rng* rng, Bytes& out) {
  MURMUR_ASSERT(sorted.size() == values.size() && sorted.size() <= n);
  PutHeader(out, Format::kSparse, n, static_cast<uint32_t>(sorted.size()));
  EncodeIndices(sorted, n, index_codec, out);
  EncodeValues(values, value_options, rng, out);
}

void EncodeSeededSparsePayload(uint64_t seed, std::span<const uint32_t> segments,
                               std::span<const uint32_t> kept, std::span<const float> values,
                               const ValueOptions& value_options, Rng* rng, Bytes& out) {
  MURMUR_ASSERT(segments.size() == kept.size());
  uint64_t n = 0;
  for (uint32_t len : segments) n += len;
  PutHeader(out, Format::kSeededSparse, U32(n, "vector length"),
            static_cast<uint32_t>(values.size()));
  PutU64(out, seed);
  PutU32(out, static_cast<uint32_t>(segments.size()));
  for (size_t s = 0; s < segments.size(); ++s) {
    PutU32(out, segments[s]);
    PutU32(out, kept[s]);
  }
  EncodeValues(values, value_options, rng, out);
}

SignLayout PutSignLayout(uint32_t n, std::span<const uint32_t> segments, Bytes& out) {
  PutHeader(out, Format::kSign, n, n);
  PutU32(out, static_cast<uint32_t>(segments.size()));
  SignLayout at{out.size(), 0};
  for (uint32_t len : segments) {
    PutU32(out, len);
    PutF32(out, 0.0f);  // the scale, filled in by the compressor
  }
  at.bits = out.size();
  out.resize(at.bits + (static_cast<size_t>(n) + 7) / 8, 0);
  return at;
}

void PutQsgdLayout(uint32_t n, uint32_t levels, int code_bits, size_t segments, Bytes& out) {
  PutHeader(out, Format::kQsgd, n, n);
  PutU32(out, levels);
  PutU8(out, static_cast<uint8_t>(code_bits));
  PutU32(out, static_cast<uint32_t>(segments));
}

void EncodeExternalPayload(std::string_view name, uint32_t n, std::span<const uint8_t> body,
                           Bytes& out) {
  MURMUR_CHECK(ConfigError, !name.empty() && name.size() <= 255, "compressor name '", name,
               "': 1 to 255 bytes");
  PutHeader(out, Format::kExternal, n, 0);
  PutU8(out, static_cast<uint8_t>(name.size()));
  out.insert(out.end(), name.begin(), name.end());
  out.insert(out.end(), body.begin(), body.end());
}

void RegisterPayloadDecoder(std::string name, ExternalDecoder decoder) {
  std::unique_lock lock(ExternalDecodersMutex());
  if (decoder)
    ExternalDecoders()[std::move(name)] = std::move(decoder);
  else
    ExternalDecoders().erase(name);
}

}  // namespace murmur::compress
