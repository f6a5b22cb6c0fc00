#include "murmur/compress/codecs.h"

#include <immintrin.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "bits.h"
#include "kernels.h"
#include "murmur/core/check.h"
#include "murmur/core/enum_names.h"
#include "rice.h"

#include <zstd.h>

namespace murmur::compress {

// ---- names ----------------------------------------------------------------------------------

namespace {
constexpr EnumNames<IndexCodec, 6> kIndexCodecNames = {{{IndexCodec::kAuto, "auto"},
                                                        {IndexCodec::kRaw, "raw"},
                                                        {IndexCodec::kVarint, "varint"},
                                                        {IndexCodec::kGamma, "gamma"},
                                                        {IndexCodec::kRice, "rice"},
                                                        {IndexCodec::kBitmap, "bitmap"}}};
constexpr EnumNames<ValueCodec, 6> kValueCodecNames = {{{ValueCodec::kF32, "f32"},
                                                        {ValueCodec::kF16, "f16"},
                                                        {ValueCodec::kBF16, "bf16"},
                                                        {ValueCodec::kQuant, "quant"},
                                                        {ValueCodec::kZstd, "zstd"},
                                                        {ValueCodec::kAuto, "auto"}}};
}  // namespace

IndexCodec ParseIndexCodec(const std::string& name, const std::string& key) {
  return ParseEnum(kIndexCodecNames, name, key, "index codec");
}
std::string_view IndexCodecName(IndexCodec c) { return EnumName(kIndexCodecNames, c); }
ValueCodec ParseValueCodec(const std::string& name, const std::string& key) {
  return ParseEnum(kValueCodecNames, name, key, "value codec");
}
std::string_view ValueCodecName(ValueCodec c) { return EnumName(kValueCodecNames, c); }

double EntropyBoundBits(uint64_t n, uint64_t k) {
  if (k == 0 || k >= n) return 0.0;
  const double nn = static_cast<double>(n), kk = static_cast<double>(k);
  return (std::lgamma(nn + 1) - std::lgamma(kk + 1) - std::lgamma(nn - kk + 1)) / std::log(2.0);
}

// ---- index codecs ---------------------------------------------------------------------------

namespace {

constexpr size_t kIndexHeader = 1 + 1 + 4;  // codec, parameter, payload bytes

int BitLength(uint64_t v) { return v == 0 ? 0 : 64 - __builtin_clzll(v); }

// Exact payload sizes of every codec for one index set, from a single pass over the gaps.
struct Sizes {
  size_t raw = 0, bitmap = 0, varint = 0, gamma = 0, rice = 0;
  int rice_b = 0;
  size_t of(IndexCodec c) const {
    switch (c) {
      case IndexCodec::kRaw:
        return raw;
      case IndexCodec::kBitmap:
        return bitmap;
      case IndexCodec::kVarint:
        return varint;
      case IndexCodec::kGamma:
        return gamma;
      case IndexCodec::kRice:
        return rice;
      case IndexCodec::kAuto:
        break;
    }
    return SIZE_MAX;
  }
};

Sizes MeasureSizes(std::span<const uint32_t> idx, uint32_t n) {
  Sizes z;
  const size_t k = idx.size();
  z.raw = 4 * k;
  z.bitmap = (static_cast<size_t>(n) + 7) / 8;
  if (k == 0) return z;
  // Rice: try the three parameters around log2(ln2 * mean gap) (the optimum for geometric gaps).
  const double mean = static_cast<double>(idx.back() + 1) / k;
  const int b0 =
      std::clamp(static_cast<int>(std::floor(std::log2(std::max(1.0, mean * 0.6931)))) - 1, 0, 29);
  const kernels::GapSums g = kernels::SumGaps(idx.data(), k, b0);
  const size_t q0 = g.rice_q[0], q1 = g.rice_q[1], q2 = g.rice_q[2];
  z.varint = g.varint_bytes;
  z.gamma = (2 * g.bit_length - k + 7) / 8;  // 2 len - 1 bits per gap
  const size_t r0 = q0 + k * (b0 + 1), r1 = q1 + k * (b0 + 2), r2 = q2 + k * (b0 + 3);
  size_t best = r0;
  z.rice_b = b0;
  if (r1 < best) best = r1, z.rice_b = b0 + 1;
  if (r2 < best) best = r2, z.rice_b = b0 + 2;
  z.rice = (best + 7) / 8;
  return z;
}

IndexCodec Smallest(const Sizes& z) {
  IndexCodec best = IndexCodec::kRaw;
  for (IndexCodec c :
       {IndexCodec::kRice, IndexCodec::kBitmap, IndexCodec::kGamma, IndexCodec::kVarint})
    if (z.of(c) < z.of(best)) best = c;
  return best;
}

}  // namespace

IndexCodec ChooseIndexCodec(std::span<const uint32_t> idx, uint32_t n) {
  return Smallest(MeasureSizes(idx, n));
}

size_t EncodedIndexBytes(std::span<const uint32_t> idx, uint32_t n, IndexCodec c) {
  const Sizes z = MeasureSizes(idx, n);
  return kIndexHeader + z.of(c == IndexCodec::kAuto ? Smallest(z) : c);
}

void EncodeIndices(std::span<const uint32_t> idx, uint32_t n, IndexCodec c, Bytes& out) {
  const Sizes z = MeasureSizes(idx, n);
  if (c == IndexCodec::kAuto) c = Smallest(z);
  const int param = c == IndexCodec::kRice ? z.rice_b : 0;
  const size_t payload = z.of(c);
  MURMUR_ASSERT(payload <= UINT32_MAX);
  PutU8(out, static_cast<uint8_t>(c));
  PutU8(out, static_cast<uint8_t>(param));
  PutU32(out, static_cast<uint32_t>(payload));
  const size_t start = out.size();
  out.reserve(start + payload + 8);
  switch (c) {
    case IndexCodec::kRaw: {
      out.resize(start + 4 * idx.size());
      if (!idx.empty()) std::memcpy(out.data() + start, idx.data(), 4 * idx.size());
      break;
    }
    case IndexCodec::kBitmap: {
      out.resize(start + payload, 0);
      for (uint32_t i : idx) out[start + (i >> 3)] |= static_cast<uint8_t>(1u << (i & 7));
      break;
    }
    case IndexCodec::kVarint: {
      int64_t prev = -1;
      for (uint32_t i : idx) {
        uint64_t v = static_cast<uint64_t>(i - prev - 1);
        prev = i;
        while (v >= 128) {
          out.push_back(static_cast<uint8_t>(v | 0x80));
          v >>= 7;
        }
        out.push_back(static_cast<uint8_t>(v));
      }
      break;
    }
    case IndexCodec::kGamma: {
      BitWriter w(out, 8 * payload);
      int64_t prev = -1;
      for (uint32_t i : idx) {
        const uint64_t g = static_cast<uint64_t>(i - prev);
        prev = i;
        const int len = BitLength(g);
        w.put_unary(len - 1);  // len-1 zeros, then the leading one ...
        w.put(g & ((uint64_t{1} << (len - 1)) - 1), len - 1);  // ... then the rest of g
      }
      w.finish();
      break;
    }
    case IndexCodec::kRice: {
      out.resize(start + payload + 8, 0);  // zeroed, with the room rice::Encode needs
      rice::Encode(idx.data(), idx.size(), param, out.data() + start);
      out.resize(start + payload);
      break;
    }
    case IndexCodec::kAuto:
      break;
  }
  MURMUR_ASSERT(out.size() - start == payload, "index codec ", IndexCodecName(c), " wrote ",
                out.size() - start, " bytes, sized ", payload);
}

namespace {
[[noreturn, gnu::cold, gnu::noinline]] void IndexOutOfRange(const char* what, size_t j,
                                                            uint64_t index, uint32_t n) {
  MURMUR_FAIL(ProtocolError, what, ": index ", j, " = ", index, " out of range [0, ", n, ")");
}

// Decodes k gap codes that start with a unary part (Elias-gamma, Rice). Fast path: load 8
// bytes, then decode every whole code inside those bits with `code` (which reads the code at
// the bottom of a nonzero window and sets its length) — no memory round trip between codes.
// A code that does not fit the window, and the last bytes, go through the bounds-checked
// `slow` reader. The block must end with the last code's byte.
template <typename CheckNext, typename Code, typename Slow>
[[gnu::always_inline]] inline void DecodeGapCodes(std::span<const uint8_t> p, uint32_t k,
                                                  const char* what, std::vector<uint32_t>& out,
                                                  CheckNext& check_next, Code code, Slow slow) {
  const uint8_t* data = p.data();
  BitReader r(data, p.size(), what);
  size_t pos = 0;  // bits consumed
  int64_t prev = -1;
  uint32_t j = 0;
  while (j < k) {
    const size_t start = pos;
    if ((pos >> 3) + 8 <= p.size()) {
      uint64_t w;
      std::memcpy(&w, data + (pos >> 3), 8);
      w >>= pos & 7;
      int avail = 64 - static_cast<int>(pos & 7);  // valid bits of w; above them zeros
      while (j < k && w != 0) {
        int len;
        const uint64_t gap = code(w, len);
        if (len > avail) break;
        w = (w >> (len - 1)) >> 1;  // len may be 64
        avail -= len;
        pos += len;
        prev = out[j] = check_next(prev, gap, j);
        ++j;
      }
    }
    if (pos == start && j < k) {  // one code through the reader
      r.seek(pos);
      prev = out[j] = check_next(prev, slow(r), j);
      ++j;
      pos = r.position();
    }
  }
  MURMUR_CHECK(ProtocolError, (pos + 7) / 8 == p.size(), what, ": trailing bytes in block");
}
}  // namespace

void DecodeIndices(ByteReader& in, uint32_t n, uint32_t k, std::vector<uint32_t>& out) {
  const char* what = in.what();
  const uint8_t codec = in.u8();
  const uint8_t param = in.u8();
  const uint32_t bytes = in.u32();
  MURMUR_CHECK(ProtocolError, k <= n, what, ": ", k, " indices for dimension ", n);
  std::span<const uint8_t> p = in.take(bytes);
  // Every codec spends at least one bit per index: bound k before allocating for it.
  MURMUR_CHECK(ProtocolError, k <= 8ull * bytes, what, ": ", k, " indices cannot fit in ", bytes,
               " bytes");
  out.resize(k);
  // Per index on the decoders' hot loops: one compare inline, the error out of line.
  auto check_next = [&](int64_t prev, uint64_t gap, size_t j) __attribute__((always_inline)) {
    const uint64_t next = static_cast<uint64_t>(prev + 1) + gap;  // gap counted from prev + 1
    if (next >= n) [[unlikely]]
      IndexOutOfRange(what, j, next, n);
    return static_cast<uint32_t>(next);
  };
  switch (static_cast<IndexCodec>(codec)) {
    case IndexCodec::kRaw: {
      MURMUR_CHECK(ProtocolError, bytes == 4ull * k, what, ": raw index block of ", bytes,
                   " bytes for ", k, " indices");
      if (k != 0) std::memcpy(out.data(), p.data(), 4ull * k);
      for (uint32_t j = 0; j < k; ++j) {
        MURMUR_CHECK(ProtocolError, out[j] < n, what, ": index ", j, " = ", out[j],
                     " out of range [0, ", n, ")");
        MURMUR_CHECK(ProtocolError, j == 0 || out[j] > out[j - 1], what,
                     ": indices not strictly increasing at position ", j);
      }
      return;
    }
    case IndexCodec::kBitmap: {
      MURMUR_CHECK(ProtocolError, bytes == (static_cast<uint64_t>(n) + 7) / 8, what, ": bitmap of ",
                   bytes, " bytes for dimension ", n);
      uint32_t j = 0;
      for (uint32_t byte = 0; byte < bytes; ++byte) {
        uint8_t b = p[byte];
        while (b) {
          const uint32_t i = byte * 8 + __builtin_ctz(b);
          b &= b - 1;
          MURMUR_CHECK(ProtocolError, i < n, what, ": bitmap sets bit ", i, " beyond dimension ",
                       n);
          MURMUR_CHECK(ProtocolError, j < k, what, ": bitmap has more than ", k, " bits set");
          out[j++] = i;
        }
      }
      MURMUR_CHECK(ProtocolError, j == k, what, ": bitmap has ", j, " bits set, header says ", k);
      return;
    }
    case IndexCodec::kVarint: {
      size_t pos = 0;
      int64_t prev = -1;
      for (uint32_t j = 0; j < k; ++j) {
        uint64_t v = 0;
        for (int shift = 0;; shift += 7) {
          MURMUR_CHECK(ProtocolError, pos < p.size(), what, ": varint block ends early");
          MURMUR_CHECK(ProtocolError, shift <= 35, what, ": varint longer than 5 bytes");
          const uint8_t b = p[pos++];
          v |= static_cast<uint64_t>(b & 0x7f) << shift;
          if (!(b & 0x80)) break;
        }
        prev = out[j] = check_next(prev, v, j);
      }
      MURMUR_CHECK(ProtocolError, pos == p.size(), what, ": ", p.size() - pos,
                   " trailing bytes in varint block");
      return;
    }
    case IndexCodec::kGamma:
      // z zeros, a one, z more bits: the gap (1 << z) | bits; z <= 31.
      DecodeGapCodes(
          p, k, what, out, check_next,
          [](uint64_t w, int& len) {
            const int z = __builtin_ctzll(w);
            len = 2 * z + 1;
            // (w >> z) >> 1: z may be 63 (the code is then too long for the window).
            return ((uint64_t{1} << z) | (((w >> z) >> 1) & ((uint64_t{1} << z) - 1))) - 1;
          },
          [](BitReader& r) { return r.get_gamma(31) - 1; });
      return;
    case IndexCodec::kRice: {
      // Layout and decoding in rice.h: the remainders (b bits each), then the quotients in
      // unary. Quotient sums first, then the remainders' prefix sums.
      MURMUR_CHECK(ProtocolError, param <= 31, what, ": Rice parameter ", int{param}, " > 31");
      const int b = param;
      const uint64_t start = static_cast<uint64_t>(k) * b;
      MURMUR_CHECK(ProtocolError, start <= 8ull * bytes, what, ": Rice block of ", bytes,
                   " bytes cannot hold ", k, " remainders of ", b, " bits");
      if (k == 0) {
        MURMUR_CHECK(ProtocolError, bytes == 0, what, ": trailing bytes in block");
        return;
      }
      out.resize(k + 8);
      size_t end_byte = 0;
      const size_t ones = rice::Quotients(p.data(), bytes, start, k, out.data(), end_byte);
      MURMUR_CHECK(ProtocolError, ones >= k, what, ": Rice block ends after ", ones, " of ", k,
                   " codes");
      MURMUR_CHECK(ProtocolError, ones == k && end_byte == bytes, what, ": trailing bits in block");
      // The k-th one is the last byte's highest one; the quotient sums grow with j, so the last
      // one bounds them all (and keeps every (Q_j << b) + R_j + j below 2^32 if it is < n).
      const uint64_t last_one = 8 * (bytes - 1) + std::bit_width(p[bytes - 1]) - 1;
      const uint64_t q_sum = last_one - start - (k - 1);
      MURMUR_CHECK(ProtocolError, q_sum <= (n >> b), what, ": Rice quotients sum to ", q_sum,
                   ", beyond dimension ", n);
      const uint64_t r_sum = rice::AddRemainders(p.data(), b, k, out.data());
      const uint64_t last = (q_sum << b) + r_sum + (k - 1);
      if (last >= n) IndexOutOfRange(what, k - 1, last, n);
      out.resize(k);
      return;
    }
    case IndexCodec::kAuto:
      break;
  }
  MURMUR_FAIL(ProtocolError, what, ": unknown index codec ", int{codec});
}

// ---- half / bfloat16 ------------------------------------------------------------------------

uint16_t FloatToHalf(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (x >> 16) & 0x8000;
  const uint32_t ax = x & 0x7fffffff;
  if (ax >= 0x7f800000) return static_cast<uint16_t>(sign | 0x7c00 | (ax > 0x7f800000 ? 0x200 : 0));
  if (ax >= 0x477ff000) return static_cast<uint16_t>(sign | 0x7c00);  // rounds to infinity
  if (ax < 0x38800000) {  // subnormal half (or zero): align to 2^-24 and round to nearest even
    const float mag = std::bit_cast<float>(ax) + 0.5f;  // 0.5 = 2^-1 puts 2^-24 at bit 0
    return static_cast<uint16_t>(sign | (std::bit_cast<uint32_t>(mag) - 0x3f000000));
  }
  const uint32_t mant_odd = (ax >> 13) & 1;
  const uint32_t r = ax + 0xc8000fff + mant_odd;  // rebias exponent (-112 << 23) and round
  return static_cast<uint16_t>(sign | (r >> 13));
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  if (exp == 0) {
    const float v = static_cast<float>(mant) * 0x1p-24f;
    return std::bit_cast<float>(std::bit_cast<uint32_t>(v) | sign);
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000 | (mant << 13));
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t FloatToBF16(float f) {
  // Branch-free so bulk conversion vectorises: round to nearest even, NaN stays a quiet NaN.
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t rounded = (x + 0x7fff + ((x >> 16) & 1)) >> 16;
  const uint32_t quiet = (x >> 16) | 0x40;
  const uint32_t is_nan = 0u - static_cast<uint32_t>((x & 0x7fffffff) > 0x7f800000);
  return static_cast<uint16_t>(rounded ^ ((rounded ^ quiet) & is_nan));
}

float BF16ToFloat(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

namespace {
// Bulk conversions on raw little-endian bytes (any alignment).
__attribute__((target("f16c,avx"))) void ToHalfF16c(const float* in, uint8_t* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i), h);
  }
  for (; i < n; ++i) {
    const uint16_t h = FloatToHalf(in[i]);
    std::memcpy(out + 2 * i, &h, 2);
  }
}
__attribute__((target("f16c,avx"))) void FromHalfF16c(const uint8_t* in, float* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(
        out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 2 * i))));
  for (; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, in + 2 * i, 2);
    out[i] = HalfToFloat(h);
  }
}
// FloatToBF16 on 8 lanes: round to nearest even on the top 16 bits, NaNs kept quiet; the
// results (0..0xffff) narrow with an unsigned saturating pack, whose 128-bit lanes the final
// permute puts back in order. Returns the count converted (a multiple of 8).
__attribute__((target("avx2"))) inline __m256i BF16Lanes(__m256i x) {
  const __m256i hi = _mm256_srli_epi32(x, 16);
  const __m256i lsb = _mm256_and_si256(hi, _mm256_set1_epi32(1));
  const __m256i rounded =
      _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(x, _mm256_set1_epi32(0x7fff)), lsb), 16);
  const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(x, _mm256_set1_epi32(0x7fffffff)),
                                         _mm256_set1_epi32(0x7f800000));
  return _mm256_blendv_epi8(rounded, _mm256_or_si256(hi, _mm256_set1_epi32(0x40)), nan);
}
__attribute__((target("avx2"))) size_t ToBF16Avx2(const float* in, uint8_t* out, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i a = BF16Lanes(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i)));
    const __m256i b = BF16Lanes(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i + 8)));
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xd8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 2 * i), packed);
  }
  return i;
}
}  // namespace

void FloatsToBF16(std::span<const float> in, uint8_t* out) {
  size_t i = 0;
  if (kernels::HasAvx2()) i = ToBF16Avx2(in.data(), out, in.size());
#if defined(__SSE2__)
  // Per lane: the branch-free FloatToBF16, then narrow 32 -> 16 bits. SSE2 only has a signed
  // saturating pack, so sign-extend the 16-bit results first (bit patterns are kept).
  const __m128i one = _mm_set1_epi32(1), bias = _mm_set1_epi32(0x7fff);
  const __m128i absmask = _mm_set1_epi32(0x7fffffff), inf = _mm_set1_epi32(0x7f800000);
  const __m128i qbit = _mm_set1_epi32(0x40);
  auto convert = [&](__m128i x) {
    const __m128i lsb = _mm_and_si128(_mm_srli_epi32(x, 16), one);
    const __m128i rounded = _mm_srli_epi32(_mm_add_epi32(_mm_add_epi32(x, bias), lsb), 16);
    const __m128i quiet = _mm_or_si128(_mm_srli_epi32(x, 16), qbit);
    const __m128i nan = _mm_cmpgt_epi32(_mm_and_si128(x, absmask), inf);
    const __m128i r = _mm_or_si128(_mm_and_si128(nan, quiet), _mm_andnot_si128(nan, rounded));
    return _mm_srai_epi32(_mm_slli_epi32(r, 16), 16);
  };
  for (; i + 8 <= in.size(); i += 8) {
    const __m128i a = convert(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in.data() + i)));
    const __m128i b = convert(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in.data() + i + 4)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i), _mm_packs_epi32(a, b));
  }
#endif
  for (; i < in.size(); ++i) {
    const uint16_t b = FloatToBF16(in[i]);
    std::memcpy(out + 2 * i, &b, 2);
  }
}

void FloatsToHalf(std::span<const float> in, uint8_t* out) {
  if (kernels::HasF16c()) return ToHalfF16c(in.data(), out, in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const uint16_t h = FloatToHalf(in[i]);
    std::memcpy(out + 2 * i, &h, 2);
  }
}

void HalfsToFloat(const uint8_t* in, std::span<float> out) {
  if (kernels::HasF16c()) return FromHalfF16c(in, out.data(), out.size());
  for (size_t i = 0; i < out.size(); ++i) {
    uint16_t h;
    std::memcpy(&h, in + 2 * i, 2);
    out[i] = HalfToFloat(h);
  }
}

// ---- values ---------------------------------------------------------------------------------

namespace {

// Byte planes of little-endian f32 values: every value's byte 0, then every byte 1, ... (the
// sign and exponent bytes of neighbouring values sit together, where zstd finds them alike).
void Shuffle(std::span<const float> v, uint8_t* planes) {
  const size_t n = v.size();
  const auto* b = reinterpret_cast<const uint8_t*>(v.data());
  for (size_t i = 0; i < n; ++i)
    for (size_t p = 0; p < 4; ++p) planes[p * n + i] = b[4 * i + p];
}
void Unshuffle(const uint8_t* planes, std::span<float> v) {
  const size_t n = v.size();
  auto* b = reinterpret_cast<uint8_t*>(v.data());
  for (size_t i = 0; i < n; ++i)
    for (size_t p = 0; p < 4; ++p) b[4 * i + p] = planes[p * n + i];
}

// zstd level 1: of levels 1, 3 and 9 the fastest, within 1-3% of the smallest on JWINS'
// values (BENCHMARKS.md, "Lossless values").
constexpr int kZstdLevel = 1;

// One compression and one decompression context per thread, reused: a context costs more to
// set up than a small block costs to compress.
struct ZstdContexts {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_DCtx* d = ZSTD_createDCtx();
  std::vector<uint8_t> planes;
  ~ZstdContexts() {
    ZSTD_freeCCtx(c);
    ZSTD_freeDCtx(d);
  }
};
ZstdContexts& Zstd() {
  thread_local ZstdContexts z;
  return z;
}

// Appends [u32 frame bytes][zstd frame of the byte planes of v] (after the codec byte).
void EncodeZstd(std::span<const float> v, Bytes& out) {
  ZstdContexts& z = Zstd();
  z.planes.resize(4 * v.size());
  Shuffle(v, z.planes.data());
  const size_t at = out.size();
  out.resize(at + 4 + ZSTD_compressBound(z.planes.size()));
  const size_t n = ZSTD_compressCCtx(z.c, out.data() + at + 4, out.size() - at - 4, z.planes.data(),
                                     z.planes.size(), kZstdLevel);
  MURMUR_ASSERT(!ZSTD_isError(n), "zstd: ", ZSTD_getErrorName(n));
  out.resize(at + 4 + n);
  const uint32_t len = static_cast<uint32_t>(n);
  std::memcpy(out.data() + at, &len, 4);
}

}  // namespace

bool LosslessValueCodec(ValueCodec codec) {
  return codec == ValueCodec::kF32 || codec == ValueCodec::kZstd || codec == ValueCodec::kAuto;
}

size_t EncodedValueBytes(size_t count, const ValueOptions& o) {
  switch (o.codec) {
    case ValueCodec::kZstd:
    case ValueCodec::kAuto:  // an upper bound: the zstd frame's size depends on the values
      return 1 + 4 + ZSTD_compressBound(4 * count);
    case ValueCodec::kF32:
      return 1 + 4 * count;
    case ValueCodec::kF16:
    case ValueCodec::kBF16:
      return 1 + 2 * count;
    case ValueCodec::kQuant:
      return 1 + 1 + 4 + (count * o.bits + 7) / 8;
  }
  return 0;
}

void EncodeValues(std::span<const float> v, const ValueOptions& o, Rng* rng, Bytes& out) {
  if (o.codec == ValueCodec::kAuto) {  // zstd where it is smaller, else f32
    const size_t at = out.size();
    PutU8(out, static_cast<uint8_t>(ValueCodec::kZstd));
    EncodeZstd(v, out);
    if (out.size() - at < 1 + 4 * v.size()) return;
    out.resize(at);
    EncodeValues(v, {ValueCodec::kF32}, rng, out);
    return;
  }
  PutU8(out, static_cast<uint8_t>(o.codec));
  const size_t start = out.size();
  switch (o.codec) {
    case ValueCodec::kZstd:
      EncodeZstd(v, out);
      return;
    case ValueCodec::kAuto:
      break;  // handled above
    case ValueCodec::kF32:
      out.resize(start + 4 * v.size());
      if (!v.empty()) std::memcpy(out.data() + start, v.data(), 4 * v.size());
      return;
    case ValueCodec::kF16:
      out.resize(start + 2 * v.size());
      FloatsToHalf(v, out.data() + start);
      return;
    case ValueCodec::kBF16:
      out.resize(start + 2 * v.size());
      FloatsToBF16(v, out.data() + start);
      return;
    case ValueCodec::kQuant: {
      MURMUR_CHECK(ConfigError, o.bits >= 1 && o.bits <= 16,
                   "compression.bits: must be in [1, 16], got ", o.bits);
      MURMUR_ASSERT(!o.stochastic || rng, "stochastic quantisation needs an rng");
      float amax = 0.0f;
      for (float x : v) amax = std::max(amax, std::abs(x));
      PutU8(out, static_cast<uint8_t>(o.bits));
      PutF32(out, amax);
      // Levels -L..L mapped to codes 0..2L with L = 2^(bits-1) - 1 (1 bit: codes 0/1 = -a/+a).
      const int bits = o.bits;
      BitWriter w(out, v.size() * static_cast<size_t>(bits));
      if (bits == 1) {
        for (float x : v) {
          bool up = x >= 0.0f;
          if (o.stochastic && amax > 0.0f) up = rng->uniform() < (x / amax + 1.0f) * 0.5f;
          w.put(up ? 1 : 0, 1);
        }
      } else {
        const float levels = static_cast<float>((1 << (bits - 1)) - 1);
        const float inv = amax > 0.0f ? levels / amax : 0.0f;
        for (float x : v) {
          const float t = x * inv;
          float q =
              o.stochastic ? std::floor(t + static_cast<float>(rng->uniform())) : std::nearbyint(t);
          q = std::clamp(q, -levels, levels);
          w.put(static_cast<uint64_t>(static_cast<int64_t>(q + levels)), bits);
        }
      }
      w.finish();
      return;
    }
  }
}

void DecodeValues(ByteReader& in, uint32_t count, std::span<float> out) {
  MURMUR_ASSERT(out.size() >= count);
  const char* what = in.what();
  const uint8_t codec = in.u8();
  switch (static_cast<ValueCodec>(codec)) {
    case ValueCodec::kF32: {
      auto p = in.take(4ull * count);
      if (count != 0) std::memcpy(out.data(), p.data(), 4ull * count);
      return;
    }
    case ValueCodec::kZstd: {
      // The frame must hold exactly 4 * count bytes: zstd writes at most the capacity it is
      // given and says how much it wrote; a frame that claims another size is refused first.
      const uint32_t len = in.u32();
      auto p = in.take(len);
      const unsigned long long size = ZSTD_getFrameContentSize(p.data(), p.size());
      MURMUR_CHECK(ProtocolError, size == 4ull * count, what, ": zstd value frame of ",
                   size == ZSTD_CONTENTSIZE_ERROR     ? std::string("no valid header")
                   : size == ZSTD_CONTENTSIZE_UNKNOWN ? std::string("unknown size")
                                                      : std::to_string(size) + " bytes",
                   " for ", count, " values");
      ZstdContexts& z = Zstd();
      z.planes.resize(4ull * count);
      const size_t n =
          ZSTD_decompressDCtx(z.d, z.planes.data(), z.planes.size(), p.data(), p.size());
      MURMUR_CHECK(ProtocolError, !ZSTD_isError(n) && n == 4ull * count, what,
                   ": corrupt zstd value frame (", ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short",
                   ")");
      Unshuffle(z.planes.data(), out.first(count));
      return;
    }
    case ValueCodec::kF16: {
      auto p = in.take(2ull * count);
      HalfsToFloat(p.data(), out.first(count));
      return;
    }
    case ValueCodec::kBF16: {
      auto p = in.take(2ull * count);
      for (uint32_t i = 0; i < count; ++i) {
        uint16_t b;
        std::memcpy(&b, p.data() + 2 * i, 2);
        out[i] = BF16ToFloat(b);
      }
      return;
    }
    case ValueCodec::kQuant: {
      const int bits = in.u8();
      MURMUR_CHECK(ProtocolError, bits >= 1 && bits <= 16, what, ": quantised values with ", bits,
                   " bits (1 to 16)");
      const float amax = in.f32();
      MURMUR_CHECK(ProtocolError, std::isfinite(amax) && amax >= 0.0f, what,
                   ": bad quantisation scale ", amax);
      auto p = in.take((static_cast<uint64_t>(count) * bits + 7) / 8);
      BitReader r(p.data(), p.size(), what);
      if (bits == 1) {
        for (uint32_t i = 0; i < count; ++i) out[i] = r.get(1) ? amax : -amax;
        return;
      }
      const int64_t levels = (int64_t{1} << (bits - 1)) - 1;
      const float step = amax / static_cast<float>(levels);
      for (uint32_t i = 0; i < count; ++i) {
        const int64_t code = static_cast<int64_t>(r.get(bits));
        MURMUR_CHECK(ProtocolError, code <= 2 * levels, what, ": quantisation code ", code,
                     " above ", 2 * levels);
        out[i] = static_cast<float>(code - levels) * step;
      }
      return;
    }
    case ValueCodec::kAuto:
      break;  // an encoder's choice, never on the wire
  }
  MURMUR_FAIL(ProtocolError, what, ": unknown value codec ", int{codec});
}

}  // namespace murmur::compress
