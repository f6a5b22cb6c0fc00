// Golomb–Rice index blocks: encoder and the two decoding passes (rice.h), baseline and AVX2.
#include "rice.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace murmur::compress::rice {
namespace {

inline void Store64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }

// The coded value of index j: its gap minus one (idx[-1] = -1).
inline uint32_t GapLess1(const uint32_t* idx, size_t j) {
  return idx[j] - (j ? idx[j - 1] : UINT32_MAX) - 1;
}

// Writes bits forward into zeroed memory with one 8-byte store per call and no branch: the
// pending bits (fewer than 8) stay in `acc_`, whole bytes are passed. Needs 8 bytes of room
// past the last bit.
class BitSink {
 public:
  BitSink(uint8_t* dst, uint64_t bit)
      : p_(dst + bit / 8), fill_(static_cast<int>(bit % 8)), acc_(p_[0] & ((1u << fill_) - 1)) {}
  // The low `count` bits of v (count <= 56, v < 2^count).
  void put(uint64_t v, int count) {
    acc_ |= v << fill_;
    fill_ += count;
    Store64(p_, acc_);
    p_ += fill_ >> 3;
    acc_ >>= fill_ & ~7;
    fill_ &= 7;
  }
  // q zero bits, then a one.
  void put_unary(uint64_t q) {
    for (; q >= 48; q -= 48) put(0, 48);
    put(uint64_t{1} << q, static_cast<int>(q) + 1);
  }

 private:
  uint8_t* p_;
  int fill_;
  uint64_t acc_;
};

// b bits at bit offset `bit` of a block whose remainders end at byte `limit`.
inline uint64_t ReadBits(const uint8_t* p, size_t limit, uint64_t bit, int b) {
  const size_t byte = bit >> 3;
  uint64_t w = 0;
  std::memcpy(&w, p + byte, std::min<size_t>(8, limit - byte));
  return (w >> (bit & 7)) & ((uint64_t{1} << b) - 1);
}

// AddRemainders from code j on, one code at a time, continuing the remainder sum `sum`.
uint64_t AddRemaindersFrom(const uint8_t* p, int b, size_t k, size_t j, uint64_t sum,
                           uint32_t* out) {
  const size_t limit = (k * static_cast<uint64_t>(b) + 7) / 8;
  for (; j < k; ++j) {
    sum += b ? ReadBits(p, limit, j * static_cast<uint64_t>(b), b) : 0;
    out[j] = static_cast<uint32_t>((uint64_t{out[j]} << b) + sum + j);
  }
  return sum;
}

// For byte value v: (bit position - rank) of each of its one bits, one byte each, in order.
constexpr std::array<uint64_t, 256> kOnesTable = [] {
  std::array<uint64_t, 256> t{};
  for (int v = 0; v < 256; ++v) {
    int rank = 0;
    for (int bit = 0; bit < 8; ++bit)
      if ((v >> bit) & 1) {
        t[v] |= static_cast<uint64_t>(bit - rank) << (8 * rank);
        ++rank;
      }
  }
  return t;
}();

void EncodeBaseline(const uint32_t* idx, size_t k, int b, uint8_t* dst) {
  BitSink s(dst, 0);
  const uint32_t mask = (uint32_t{1} << b) - 1;
  if (b > 0)
    for (size_t j = 0; j < k; ++j) s.put(GapLess1(idx, j) & mask, b);
  for (size_t j = 0; j < k; ++j) s.put_unary(GapLess1(idx, j) >> b);
}

size_t QuotientsBaseline(const uint8_t* p, size_t bytes, uint64_t start, size_t k, uint32_t* out,
                         size_t& end_byte) {
  size_t y = start >> 3, j = 0;
  uint32_t v = y < bytes ? p[y] & (0xffu << (start & 7)) : 0;
  for (; y < bytes;) {
    for (; v; v &= v - 1, ++j)
      out[j] =
          static_cast<uint32_t>(8 * y + static_cast<uint64_t>(std::countr_zero(v)) - start - j);
    if (++y == bytes || j >= k) break;
    v = p[y];
  }
  end_byte = y;
  return j;
}

uint64_t AddRemaindersBaseline(const uint8_t* p, int b, size_t k, uint32_t* out) {
  uint64_t sum = 0;
  size_t j = 0;
  if (b > 0) {
    const kernels::UnpackFn unpack = kernels::GroupUnpacker(b);
    uint32_t r[64];
    for (; j + 64 <= k; j += 64) {
      unpack(p + (j / 64) * 8 * static_cast<size_t>(b), r);
      for (size_t t = 0; t < 64; ++t) {
        sum += r[t];
        out[j + t] = static_cast<uint32_t>((uint64_t{out[j + t]} << b) + sum + j + t);
      }
    }
  }
  return AddRemaindersFrom(p, b, k, j, sum, out);
}

#if defined(__x86_64__)
// Inclusive prefix sum of eight 32-bit lanes.
[[gnu::target("avx2")]] inline __m256i Prefix8(__m256i x) {
  x = _mm256_add_epi32(x, _mm256_slli_si256(x, 4));
  x = _mm256_add_epi32(x, _mm256_slli_si256(x, 8));
  const __m256i low_total = _mm256_shuffle_epi32(x, 0xFF);  // lane 3 of each half
  return _mm256_add_epi32(x, _mm256_permute2x128_si256(low_total, low_total, 0x08));
}

// Needs idx[k - 1] < 2^31 (so that no sum of eight quotients wraps) and k >= 8.
[[gnu::target("avx2")]] void EncodeAvx2(const uint32_t* idx, size_t k, int b, uint8_t* dst) {
  const size_t full = k / 64 * 64;
  const uint32_t mask32 = (uint32_t{1} << b) - 1;
  // The last partial group's remainders first: they end in the byte where the quotients start.
  BitSink tail(dst, full * static_cast<uint64_t>(b));
  if (b > 0)
    for (size_t j = full; j < k; ++j) tail.put(GapLess1(idx, j) & mask32, b);
  BitSink unary(dst, k * static_cast<uint64_t>(b));
  const __m256i mask = _mm256_set1_epi32(static_cast<int32_t>(mask32));
  const __m128i shift = _mm_cvtsi32_si128(b);
  const __m256i one = _mm256_set1_epi32(1), c32 = _mm256_set1_epi32(32);
  const kernels::PackFn pack = b ? kernels::GroupPacker(b) : nullptr;
  alignas(32) uint32_t r[64], v8[8];
  uint32_t first[9] = {UINT32_MAX};
  std::memcpy(first + 1, idx, 32);
  for (size_t g = 0; g < full; g += 64) {
    for (size_t t = 0; t < 64; t += 8) {
      const uint32_t* at = idx + g + t;
      const __m256i prev =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g + t == 0 ? first : at - 1));
      const __m256i v = _mm256_sub_epi32(
          _mm256_sub_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(at)), prev), one);
      _mm256_store_si256(reinterpret_cast<__m256i*>(r + t), _mm256_and_si256(v, mask));
      // The eight unary codes as one bit pattern: ones at the prefix sums of q + 1, minus 1.
      const __m256i ends = Prefix8(_mm256_add_epi32(_mm256_srl_epi32(v, shift), one));
      const auto span = static_cast<uint32_t>(_mm256_extract_epi32(ends, 7));
      if (span <= 56) [[likely]] {
        const __m256i at_bit = _mm256_sub_epi32(ends, one);
        const __m256i lo = _mm256_sllv_epi32(one, at_bit);  // 0 where at_bit >= 32
        const __m256i hi = _mm256_sllv_epi32(one, _mm256_sub_epi32(at_bit, c32));
        __m256i z = _mm256_or_si256(_mm256_unpacklo_epi32(lo, hi), _mm256_unpackhi_epi32(lo, hi));
        z = _mm256_or_si256(z, _mm256_shuffle_epi32(z, 0x4E));
        const __m128i h = _mm_or_si128(_mm256_castsi256_si128(z), _mm256_extracti128_si256(z, 1));
        unary.put(static_cast<uint64_t>(_mm_cvtsi128_si64(h)), static_cast<int>(span));
      } else {
        _mm256_store_si256(reinterpret_cast<__m256i*>(v8), v);
        for (uint32_t x : v8) unary.put_unary(x >> b);
      }
    }
    if (pack) pack(r, dst + (g / 64) * 8 * static_cast<size_t>(b));
  }
  for (size_t j = full; j < k; ++j) unary.put_unary(GapLess1(idx, j) >> b);
}

[[gnu::target("avx2,popcnt")]] size_t QuotientsAvx2(const uint8_t* p, size_t bytes, uint64_t start,
                                                    size_t k, uint32_t* out, size_t& end_byte) {
  size_t y = start >> 3, j = 0;
  end_byte = y;
  if (y >= bytes) return 0;
  uint32_t v = p[y] & (0xffu << (start & 7));
  uint32_t base = static_cast<uint32_t>(8 * y - start);  // bit position - start of bit 0 of y
  for (;;) {
    const __m256i e = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<int64_t>(kOnesTable[v])));
    _mm256_storeu_si256(
        reinterpret_cast<__m256i*>(out + j),
        _mm256_add_epi32(e,
                         _mm256_set1_epi32(static_cast<int32_t>(base - static_cast<uint32_t>(j)))));
    j += static_cast<size_t>(std::popcount(v));
    base += 8;
    if (++y == bytes || j >= k) break;
    v = p[y];
  }
  end_byte = y;
  return j;
}

// Needs b <= 25, so that the remainders of 64 codes sum below 2^31.
[[gnu::target("avx2")]] uint64_t AddRemaindersAvx2(const uint8_t* p, int b, size_t k,
                                                   uint32_t* out) {
  const __m128i shift = _mm_cvtsi32_si128(b);
  const __m256i last = _mm256_set1_epi32(7), eight = _mm256_set1_epi32(8);
  __m256i carry = _mm256_setzero_si256();  // the running remainder sum, modulo 2^32
  __m256i j_lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  alignas(32) uint32_t r[64] = {};
  const kernels::UnpackFn unpack = b ? kernels::GroupUnpacker(b) : nullptr;
  uint64_t sum = 0;
  size_t j = 0;
  for (; j + 64 <= k; j += 64) {
    if (unpack) unpack(p + (j / 64) * 8 * static_cast<size_t>(b), r);
    const uint32_t before = static_cast<uint32_t>(_mm256_cvtsi256_si32(carry));
    for (size_t t = 0; t < 64; t += 8) {
      const __m256i pre = _mm256_add_epi32(
          Prefix8(_mm256_load_si256(reinterpret_cast<const __m256i*>(r + t))), carry);
      carry = _mm256_permutevar8x32_epi32(pre, last);
      __m256i* o = reinterpret_cast<__m256i*>(out + j + t);
      const __m256i q = _mm256_loadu_si256(o);
      _mm256_storeu_si256(
          o, _mm256_add_epi32(_mm256_add_epi32(_mm256_sll_epi32(q, shift), pre), j_lanes));
      j_lanes = _mm256_add_epi32(j_lanes, eight);
    }
    sum += static_cast<uint32_t>(_mm256_cvtsi256_si32(carry)) - before;
  }
  return AddRemaindersFrom(p, b, k, j, sum, out);
}
#endif

}  // namespace

void Encode(const uint32_t* idx, size_t k, int b, uint8_t* dst) {
#if defined(__x86_64__)
  if (k >= 8 && idx[k - 1] < (1u << 31) && kernels::HasAvx2()) return EncodeAvx2(idx, k, b, dst);
#endif
  EncodeBaseline(idx, k, b, dst);
}

size_t Quotients(const uint8_t* p, size_t bytes, uint64_t start, size_t k, uint32_t* out,
                 size_t& end_byte) {
#if defined(__x86_64__)
  if (kernels::HasAvx2()) return QuotientsAvx2(p, bytes, start, k, out, end_byte);
#endif
  return QuotientsBaseline(p, bytes, start, k, out, end_byte);
}

uint64_t AddRemainders(const uint8_t* p, int b, size_t k, uint32_t* out) {
#if defined(__x86_64__)
  if (b <= 25 && kernels::HasAvx2()) return AddRemaindersAvx2(p, b, k, out);
#endif
  return AddRemaindersBaseline(p, b, k, out);
}

}  // namespace murmur::compress::rice
