#include "murmur/compress/codecs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "compress/kernels.h"
#include "compress/rice.h"
#include "murmur/core/check.h"
#include "murmur/core/rng.h"

namespace murmur::compress {
namespace {

const IndexCodec kAllIndexCodecs[] = {IndexCodec::kRaw,  IndexCodec::kVarint, IndexCodec::kGamma,
                                      IndexCodec::kRice, IndexCodec::kBitmap, IndexCodec::kAuto};

std::vector<uint32_t> RandomSet(uint32_t n, uint32_t k, uint64_t seed) {
  Rng rng(seed);
  std::vector<char> taken(n, 0);
  std::vector<uint32_t> out;
  while (out.size() < k) {
    const uint32_t i = static_cast<uint32_t>(rng.uniform_int(n));
    if (!taken[i]) {
      taken[i] = 1;
      out.push_back(i);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<uint32_t> RoundTrip(const std::vector<uint32_t>& idx, uint32_t n, IndexCodec c) {
  Bytes b;
  EncodeIndices(idx, n, c, b);
  EXPECT_EQ(b.size(), EncodedIndexBytes(idx, n, c));
  ByteReader r(b, "test");
  std::vector<uint32_t> out;
  DecodeIndices(r, n, static_cast<uint32_t>(idx.size()), out);
  EXPECT_EQ(r.remaining(), 0u);
  return out;
}

TEST(IndexCodecs, ExactRoundTripsIncludingEdgeCases) {
  struct Case {
    uint32_t n;
    std::vector<uint32_t> idx;
  };
  std::vector<Case> cases = {{1, {}},
                             {1, {0}},
                             {5, {}},
                             {5, {0, 1, 2, 3, 4}},
                             {5, {0}},
                             {5, {4}},
                             {1000, {0, 999}},
                             {UINT32_MAX, {0, 7, UINT32_MAX - 1}},
                             {1 << 20, RandomSet(1 << 20, 1000, 1)},
                             {10000, RandomSet(10000, 5000, 2)},
                             {100, RandomSet(100, 99, 3)}};
  for (const Case& c : cases)
    for (IndexCodec codec : kAllIndexCodecs) {
      if (codec == IndexCodec::kBitmap && c.n > (1u << 24)) continue;  // a 512 MB bitmap
      EXPECT_EQ(RoundTrip(c.idx, c.n, codec), c.idx)
          << IndexCodecName(codec) << " n=" << c.n << " k=" << c.idx.size();
    }
}

// The gamma decoder reads whole 64-bit windows and falls back to a bit reader for a code that
// does not fit one, and Rice's quotients straddle bytes and 8-code steps: sets that mix runs
// of adjacent indices with gaps of up to 2^31 give codes of every length at every offset.
TEST(IndexCodecs, UnaryCodesOfEveryLengthAcrossWindowBoundaries) {
  Rng rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    const uint32_t n = trial % 2 ? UINT32_MAX : 1u << 20;
    std::vector<uint32_t> idx;
    uint64_t at = rng.uniform_int(3);
    while (at < n && idx.size() < 400) {
      idx.push_back(static_cast<uint32_t>(at));
      const int bits = static_cast<int>(rng.uniform_int(trial % 2 ? 32 : 21));
      at += 1 + (rng.uniform_int(4) == 0 ? rng.uniform_int(uint64_t{1} << bits) : 0);
    }
    for (IndexCodec codec : {IndexCodec::kGamma, IndexCodec::kRice, IndexCodec::kAuto})
      ASSERT_EQ(RoundTrip(idx, n, codec), idx)
          << IndexCodecName(codec) << " trial " << trial << " k=" << idx.size();
  }
}

TEST(IndexCodecs, AutoIsNearTheEntropyBoundAndPicksTheSmallest) {
  const uint32_t n = 1000000;
  for (double ratio : {1e-4, 1e-3, 1e-2, 1e-1}) {
    const auto idx = RandomSet(n, static_cast<uint32_t>(ratio * n), 7);
    const size_t bytes = EncodedIndexBytes(idx, n, IndexCodec::kAuto);
    const double bound = EntropyBoundBits(n, idx.size()) / 8;
    EXPECT_LT(bytes, 1.15 * bound) << "k/n=" << ratio;
    for (IndexCodec c : kAllIndexCodecs) EXPECT_LE(bytes, EncodedIndexBytes(idx, n, c));
    EXPECT_GT(EncodedIndexBytes(idx, n, IndexCodec::kRaw), 1.5 * bound);
  }
}

// The gap sums behind `auto`'s exact sizes: the AVX2 version (float exponents for bit
// lengths, a scalar step for gaps of 2^24 and more) against the definition, on dense,
// sparse and mixed sets whose lengths straddle its 8-gap steps.
TEST(IndexCodecs, GapSumsMatchTheDefinition) {
  Rng rng(11);
  std::vector<std::vector<uint32_t>> sets;
  for (uint32_t k : {0u, 1u, 15u, 16u, 17u, 24u, 100u, 1001u}) {
    for (uint64_t n : {uint64_t{2000}, uint64_t{1} << 20, uint64_t{4000000000}}) {
      if (k > n) continue;
      std::vector<uint32_t> idx(k);
      for (uint32_t& i : idx) i = static_cast<uint32_t>(rng.uniform_int(n));
      std::sort(idx.begin(), idx.end());
      idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
      sets.push_back(idx);
    }
  }
  // Runs of neighbours with a few huge jumps between them, and the largest index.
  std::vector<uint32_t> mixed;
  for (uint32_t base : {0u, 5u << 24, 3000000000u, 4294967200u})
    for (uint32_t j = 0; j < 40; ++j) mixed.push_back(base + j * (j % 5 + 1));
  mixed.push_back(4294967295u);
  sets.push_back(mixed);
  for (const auto& idx : sets) {
    for (int b0 : {0, 3, 20}) {
      kernels::GapSums want;
      int64_t prev = -1;
      for (uint32_t i : idx) {
        const uint64_t g = static_cast<uint64_t>(i - prev);
        prev = i;
        want.bit_length += std::bit_width(g);
        const uint64_t v = g - 1;
        uint64_t bytes = 1;
        for (uint64_t r = v >> 7; r; r >>= 7) ++bytes;
        want.varint_bytes += bytes;
        for (int t = 0; t < 3; ++t) want.rice_q[t] += v >> (b0 + t);
      }
      for (bool avx2 : {true, false}) {
        kernels::SetAvx2ForTesting(avx2);
        const auto got = kernels::SumGaps(idx.data(), idx.size(), b0);
        kernels::SetAvx2ForTesting(true);
        const std::string what = "k=" + std::to_string(idx.size()) + " b0=" + std::to_string(b0) +
                                 (avx2 ? " avx2" : " baseline");
        EXPECT_EQ(got.bit_length, want.bit_length) << what;
        EXPECT_EQ(got.varint_bytes, want.varint_bytes) << what;
        for (int t = 0; t < 3; ++t) EXPECT_EQ(got.rice_q[t], want.rice_q[t]) << what << " t=" << t;
      }
    }
  }
}

TEST(IndexCodecs, EntropyBound) {
  EXPECT_DOUBLE_EQ(EntropyBoundBits(10, 0), 0.0);
  EXPECT_NEAR(EntropyBoundBits(10, 3), std::log2(120.0), 1e-9);
  EXPECT_NEAR(EntropyBoundBits(64, 32), std::log2(1.8326241321156e18), 1e-6);
}

// Malformed index blocks: each must throw ProtocolError, never read out of bounds.
TEST(IndexCodecs, DecoderRejectsMalformedBlocks) {
  auto block = [](IndexCodec c, std::vector<uint32_t> idx, uint32_t n) {
    Bytes b;
    EncodeIndices(idx, n, c, b);
    return b;
  };
  struct Bad {
    const char* name;
    Bytes bytes;
    uint32_t n, k;
  };
  Bytes unsorted = block(IndexCodec::kRaw, {1, 5}, 10);
  std::swap(unsorted[6], unsorted[10]);
  Bytes out_of_range = block(IndexCodec::kRaw, {1, 5}, 10);
  out_of_range[10] = 12;
  Bytes truncated = block(IndexCodec::kRice, RandomSet(1000, 50, 1), 1000);
  truncated.erase(truncated.end() - 3, truncated.end());
  Bytes wrong_len = block(IndexCodec::kGamma, {3, 4, 9}, 10);
  wrong_len[2] = 0xff;
  Bytes bitmap_extra = block(IndexCodec::kBitmap, {1, 2}, 10);
  bitmap_extra[6 + 1] |= 0x80;  // bit 15: beyond n = 10
  Bytes varint_long(6 + 6, 0xff);
  varint_long[0] = static_cast<uint8_t>(IndexCodec::kVarint);
  varint_long[1] = 0;
  varint_long[2] = 6, varint_long[3] = varint_long[4] = varint_long[5] = 0;
  Bytes rice_param = block(IndexCodec::kRice, {1, 2}, 10);
  rice_param[1] = 40;
  Bytes unknown = block(IndexCodec::kRaw, {1}, 10);
  unknown[0] = 77;
  Bytes gamma_past_n = block(IndexCodec::kGamma, {3, 9}, 10);
  // Rice ({1, 2} of 10 is b = 0, quotients 1, 0: bits 011), then a one in the padding.
  Bytes rice_padding = block(IndexCodec::kRice, {1, 2}, 10);
  rice_padding.back() |= 0x80;
  auto rice_raw = [](uint8_t b, Bytes payload) {
    Bytes r = {
        static_cast<uint8_t>(IndexCodec::kRice), b, static_cast<uint8_t>(payload.size()), 0, 0, 0};
    for (uint8_t byte : payload) r.push_back(byte);
    return r;
  };
  const std::vector<Bad> table = {
      {"unsorted", unsorted, 10, 2},
      {"out of range", out_of_range, 10, 2},
      {"truncated", truncated, 1000, 50},
      {"length overflows the buffer", wrong_len, 10, 3},
      {"bitmap bit beyond n", bitmap_extra, 10, 2},
      {"bitmap count mismatch", block(IndexCodec::kBitmap, {1, 2}, 10), 10, 3},
      {"varint too long", varint_long, 1000, 1},
      {"rice parameter", rice_param, 10, 2},
      {"unknown codec", unknown, 10, 1},
      {"k > n", block(IndexCodec::kRaw, {1}, 10), 0, 1},
      {"more indices than encoded", block(IndexCodec::kGamma, {3, 9}, 10), 10, 3},
      {"dimension smaller than encoded", gamma_past_n, 5, 2},
      {"rice one in the padding", rice_padding, 10, 2},
      {"rice quotient beyond n", rice_raw(0, {0x00, 0x10}), 10, 1},  // 12 zeros, a one
      {"rice remainder past n", rice_raw(3, {0x17}), 10, 1},         // r = 7, q = 1: 15
      {"rice remainders longer than the block", rice_raw(31, {0xff}), 10, 1},
      {"rice fewer codes than k", rice_raw(0, {0x05}), 10, 3},
      {"empty", {}, 10, 1},
  };
  for (const Bad& b : table) {
    ByteReader r(b.bytes, "block");
    std::vector<uint32_t> out;
    EXPECT_THROW(DecodeIndices(r, b.n, b.k, out), ProtocolError) << b.name;
  }
}

// A unary part of 63 zeros fills a whole 64-bit window (found by the decode fuzzer under
// UBSan: the windowed decoders shifted by 64). As Rice with b = 0 it is the valid code of 63;
// as Elias-gamma it is longer than allowed (z <= 31) and rejected.
TEST(IndexCodecs, UnaryPartFillingTheWholeWindow) {
  auto raw_block = [](IndexCodec c, uint8_t param) {
    Bytes b = {static_cast<uint8_t>(c), param, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80};
    return b;
  };
  Bytes rice = raw_block(IndexCodec::kRice, 0);
  ByteReader r(rice, "rice");
  std::vector<uint32_t> out;
  DecodeIndices(r, 1000, 1, out);
  EXPECT_EQ(out, std::vector<uint32_t>{63});
  Bytes gamma = raw_block(IndexCodec::kGamma, 0);
  ByteReader g(gamma, "gamma");
  EXPECT_THROW(DecodeIndices(g, 1000, 1, out), ProtocolError);
}

// The Rice block's layout (rice.h): the remainders, b bits each, then the quotients in unary.
TEST(RiceBlocks, LayoutIsRemaindersThenUnaryQuotients) {
  // {2, 3, 12}: gaps - 1 = 2, 0, 8; with b = 2 remainders 2, 0, 0 and quotients 0, 0, 2, so
  // the bits (first to last) 01 00 00 | 1 1 001: bytes 0b11000010, 0b00000100.
  const uint32_t idx[] = {2, 3, 12};
  std::vector<uint8_t> block(2 + 8, 0);
  rice::Encode(idx, 3, 2, block.data());
  EXPECT_EQ(block, (std::vector<uint8_t>{0xC2, 0x04, 0, 0, 0, 0, 0, 0, 0, 0}));
  Bytes framed = {static_cast<uint8_t>(IndexCodec::kRice), 2, 2, 0, 0, 0, 0xC2, 0x04};
  ByteReader r(framed, "rice");
  std::vector<uint32_t> out;
  DecodeIndices(r, 16, 3, out);
  EXPECT_EQ(out, (std::vector<uint32_t>{2, 3, 12}));
}

// The AVX2 encoder and decoding passes against the baseline ones: the same bytes and values
// on sets whose lengths straddle the 8- and 64-code steps, for b = 0, b <= 25 (vector
// remainder sums) and b > 25, with gaps whose eight unary codes exceed one 56-bit pattern
// (the encoder's scalar step) and quotients of 48 and more.
TEST(RiceBlocks, VectorPathsGiveTheBaselineBytesAndValues) {
  Rng rng(5);
  int vector_encodes = 0;
  for (size_t k : {1, 7, 8, 9, 63, 64, 65, 130, 1000})
    for (int b : {0, 1, 3, 7, 25, 26, 31})
      for (int shape = 0; shape < 2; ++shape) {
        std::vector<uint32_t> idx;
        uint64_t at = 0, bits = 0;
        for (size_t j = 0; j < k; ++j) {
          uint64_t v = rng.uniform_int(uint64_t{2} << b);  // quotient 0 or 1
          if (shape == 1 && rng.uniform_int(6) == 0) v += rng.uniform_int(200) << b;
          if (at + v >= UINT32_MAX) break;
          at += v;
          idx.push_back(static_cast<uint32_t>(at));
          bits += b + 1 + (v >> b);
          ++at;
        }
        const size_t bytes = (bits + 7) / 8, kk = idx.size();
        vector_encodes += kk >= 8 && kk && idx.back() < (1u << 31);
        std::vector<uint8_t> want(bytes + 8, 0), got(bytes + 8, 0);
        kernels::SetAvx2ForTesting(false);
        rice::Encode(idx.data(), kk, b, want.data());
        kernels::SetAvx2ForTesting(true);
        rice::Encode(idx.data(), kk, b, got.data());
        const std::string what = "k=" + std::to_string(kk) + " b=" + std::to_string(b) +
                                 " shape=" + std::to_string(shape);
        ASSERT_EQ(got, want) << what;
        for (bool avx2 : {false, true}) {
          kernels::SetAvx2ForTesting(avx2);
          std::vector<uint32_t> out(kk + 8);
          size_t end = 0;
          const uint64_t start = kk * static_cast<uint64_t>(b);
          const size_t ones = rice::Quotients(want.data(), bytes, start, kk, out.data(), end);
          const uint64_t r_sum = rice::AddRemainders(want.data(), b, kk, out.data());
          kernels::SetAvx2ForTesting(true);
          EXPECT_EQ(ones, kk) << what;
          EXPECT_EQ(end, bytes) << what;
          out.resize(kk);
          EXPECT_EQ(out, idx) << what << (avx2 ? " avx2" : " baseline");
          uint64_t r_want = 0;
          for (size_t j = 0; j < kk; ++j)
            r_want += (idx[j] - (j ? idx[j - 1] : UINT32_MAX) - 1) & ((uint64_t{1} << b) - 1);
          EXPECT_EQ(r_sum, r_want) << what;
        }
      }
  EXPECT_GT(vector_encodes, 40);
}

// The AVX2 group packer (bits <= 6) writes PackGroup's bytes, and nothing past them.
TEST(GroupPacking, VectorPackerGivesTheBaselineBytes) {
  Rng rng(9);
  for (int bits = 1; bits <= 8; ++bits)
    for (int trial = 0; trial < 20; ++trial) {
      uint32_t codes[64];
      for (uint32_t& c : codes)
        c = trial == 0 ? (1u << bits) - 1 : static_cast<uint32_t>(rng.uniform_int(1u << bits));
      std::vector<uint8_t> want(8 * bits + 32, 0xA5), got(8 * bits + 32, 0xA5);
      kernels::SetAvx2ForTesting(false);
      kernels::GroupPacker(bits)(codes, want.data());
      kernels::SetAvx2ForTesting(true);
      kernels::GroupPacker(bits)(codes, got.data());
      ASSERT_EQ(got, want) << "bits " << bits << " trial " << trial;
      for (size_t i = 8 * bits; i < want.size(); ++i) ASSERT_EQ(want[i], 0xA5);
    }
}

TEST(ValueCodecs, RoundTripWithinCodecError) {
  std::vector<float> v;
  Rng rng(3);
  for (int i = 0; i < 1000; ++i) v.push_back(static_cast<float>(rng.normal() * 3.0));
  v.push_back(0.0f);
  v.push_back(-0.0f);
  struct Case {
    ValueOptions o;
    double max_rel;  // relative to max |v| for quant, to |v| otherwise
  };
  const std::vector<Case> table = {
      {{ValueCodec::kF32}, 0.0},          {{ValueCodec::kF16}, 1.0 / 2048},
      {{ValueCodec::kBF16}, 1.0 / 256},   {{ValueCodec::kQuant, 8}, 0.5 / 127},
      {{ValueCodec::kQuant, 4}, 0.5 / 7}, {{ValueCodec::kQuant, 16}, 0.5 / 32767}};
  float amax = 0;
  for (float x : v) amax = std::max(amax, std::abs(x));
  for (const Case& c : table) {
    Bytes b;
    EncodeValues(v, c.o, &rng, b);
    EXPECT_EQ(b.size(), EncodedValueBytes(v.size(), c.o));
    ByteReader r(b, "values");
    std::vector<float> out(v.size());
    DecodeValues(r, static_cast<uint32_t>(v.size()), out);
    for (size_t i = 0; i < v.size(); ++i) {
      const double tol =
          c.o.codec == ValueCodec::kQuant ? c.max_rel * amax * 1.0001 : c.max_rel * std::abs(v[i]);
      ASSERT_LE(std::abs(out[i] - v[i]), tol) << ValueCodecName(c.o.codec) << " bits " << c.o.bits;
    }
  }
}

// zstd and auto are lossless (NaN payloads, infinities, -0 and denormals included); zstd is
// smaller than f32 on values with shared exponents (Gaussian values), auto never larger than f32.
TEST(ValueCodecs, ZstdAndAutoAreLosslessAndAutoNeverLargerThanF32) {
  Rng rng(5);
  std::vector<float> smooth, noise(1000);
  for (int i = 0; i < 1000; ++i) smooth.push_back(0.01f * static_cast<float>(rng.normal()));
  for (float& v : noise) {
    uint32_t bits = static_cast<uint32_t>(rng.next());
    std::memcpy(&v, &bits, 4);  // every bit pattern, NaNs and infinities included
  }
  std::vector<float> specials = {
      0.0f, -0.0f, 1e-45f, -1e-45f, INFINITY, -INFINITY, std::numeric_limits<float>::quiet_NaN(),
      3.5f};
  for (const std::vector<float>* v : {&smooth, &noise, &specials}) {
    for (ValueCodec codec : {ValueCodec::kZstd, ValueCodec::kAuto}) {
      Bytes b;
      EncodeValues(*v, {codec}, nullptr, b);
      EXPECT_LE(b.size(), EncodedValueBytes(v->size(), {codec}));
      if (codec == ValueCodec::kAuto) {
        EXPECT_LE(b.size(), 1 + 4 * v->size());
      }
      ByteReader r(b, "values");
      std::vector<float> out(v->size());
      DecodeValues(r, static_cast<uint32_t>(v->size()), out);
      EXPECT_EQ(r.remaining(), 0u);
      EXPECT_EQ(std::memcmp(out.data(), v->data(), 4 * v->size()), 0) << ValueCodecName(codec);
    }
  }
  Bytes z;
  EncodeValues(smooth, {ValueCodec::kZstd}, nullptr, z);
  EXPECT_LT(z.size(), 0.95 * 4 * smooth.size());  // measured 0.937: the exponent plane
  Bytes a;
  EncodeValues(noise, {ValueCodec::kAuto}, nullptr, a);
  EXPECT_EQ(a[0], static_cast<uint8_t>(ValueCodec::kF32));  // random bits: f32 is smaller
  EXPECT_TRUE(LosslessValueCodec(ValueCodec::kZstd));
  EXPECT_FALSE(LosslessValueCodec(ValueCodec::kF16));
}

// Malformed zstd value blocks: each throws ProtocolError; zstd never writes past the 4 * count
// bytes it is given, and a frame that claims another size is refused before it is decoded.
TEST(ValueCodecs, ZstdDecoderRejectsMalformedBlocks) {
  std::vector<float> v(200);
  Rng rng(9);
  for (float& x : v) x = static_cast<float>(rng.normal());
  Bytes good;
  EncodeValues(v, {ValueCodec::kZstd}, nullptr, good);
  auto decode = [](const Bytes& b, uint32_t count) {
    ByteReader r(b, "values");
    std::vector<float> out(count);
    DecodeValues(r, count, out);
  };
  decode(good, 200);
  EXPECT_THROW(decode(good, 199), ProtocolError);  // the frame holds 200 values
  EXPECT_THROW(decode(good, 201), ProtocolError);
  Bytes truncated(good.begin(), good.end() - 5);
  EXPECT_THROW(decode(truncated, 200), ProtocolError);
  Bytes long_length = good;
  long_length[1] = 0xff;  // the u32 frame length beyond the block
  long_length[4] = 0x7f;
  EXPECT_THROW(decode(long_length, 200), ProtocolError);
  Bytes garbage = good;
  for (size_t i = 5; i < garbage.size(); ++i) garbage[i] = static_cast<uint8_t>(i * 37);
  EXPECT_THROW(decode(garbage, 200), ProtocolError);
  Bytes flipped = good;
  flipped[flipped.size() / 2] ^= 0x55;  // a corrupt body: an error or other values, never UB
  try {
    decode(flipped, 200);
  } catch (const ProtocolError&) {
  }
  Bytes empty = {static_cast<uint8_t>(ValueCodec::kZstd), 0, 0, 0, 0};
  EXPECT_THROW(decode(empty, 200), ProtocolError);
}

TEST(ValueCodecs, StochasticQuantisationIsUnbiased) {
  const std::vector<float> v = {0.3f, -0.71f, 1.0f, 0.05f};
  std::vector<double> mean(v.size(), 0.0);
  Rng rng(11);
  const int trials = 20000;
  for (int t = 0; t < trials; ++t) {
    Bytes b;
    EncodeValues(v, {ValueCodec::kQuant, 2, true}, &rng, b);
    ByteReader r(b, "values");
    std::vector<float> out(v.size());
    DecodeValues(r, 4, out);
    for (size_t i = 0; i < v.size(); ++i) mean[i] += out[i] / trials;
  }
  // 2 bits: levels -1, 0, 1 times max|v| = 1; per-value variance <= 1/4, so the std of the
  // mean is <= 0.5 / sqrt(trials) = 0.0035: 5 sigma is 0.018.
  for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(mean[i], v[i], 0.018) << i;
}

TEST(HalfFloat, MatchesIeeeOnSpecialValues) {
  EXPECT_EQ(FloatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(FloatToHalf(65520.0f), 0x7c00);  // rounds to infinity
  EXPECT_EQ(FloatToHalf(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(FloatToHalf(0x1p-24f), 0x0001);         // smallest subnormal
  EXPECT_EQ(FloatToHalf(0x1p-25f), 0x0000);         // ties to even
  EXPECT_EQ(FloatToHalf(1.0f + 0x1p-11f), 0x3c00);  // halfway: ties to even
  EXPECT_EQ(FloatToHalf(1.0f + 0x1p-10f + 0x1p-11f), 0x3c02);
  EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(std::nanf("")))));
  for (uint32_t h = 0; h < 0x7c00; ++h)  // every finite half survives the round trip
    ASSERT_EQ(FloatToHalf(HalfToFloat(static_cast<uint16_t>(h))), h);
  std::vector<float> in = {1.5f, -3.25f, 0.1f, 1e-6f, 7e4f, 3.0f, 2.0f, -1.0f, 0.5f, 0.333f};
  std::vector<uint8_t> bulk(2 * in.size() + 1);  // odd offset: unaligned
  FloatsToHalf(in, bulk.data() + 1);
  std::vector<float> back(in.size());
  HalfsToFloat(bulk.data() + 1, back);
  for (size_t i = 0; i < in.size(); ++i) {
    uint16_t h;
    std::memcpy(&h, bulk.data() + 1 + 2 * i, 2);
    EXPECT_EQ(h, FloatToHalf(in[i])) << in[i];
    EXPECT_EQ(back[i], HalfToFloat(h));
  }
  EXPECT_EQ(FloatToBF16(1.0f), 0x3f80);
  // Bulk bf16 (SIMD) agrees with the scalar conversion, NaN and rounding ties included.
  std::vector<float> many = in;
  for (float f : {std::nanf(""), -std::numeric_limits<float>::infinity(), 1.00390625f, 1.01171875f,
                  -65504.0f, 1e-40f, 3.4e38f})
    many.push_back(f);
  std::vector<uint8_t> bf(2 * many.size() + 1);
  FloatsToBF16(many, bf.data() + 1);
  for (size_t i = 0; i < many.size(); ++i) {
    uint16_t b;
    std::memcpy(&b, bf.data() + 1 + 2 * i, 2);
    EXPECT_EQ(b, FloatToBF16(many[i])) << many[i];
  }
  // Random bit patterns (NaNs with payloads and signs, infinities, subnormals, ties) over a
  // length that leaves a tail for every vector width.
  Rng rng(5);
  std::vector<float> bits(1003);
  for (float& f : bits) f = std::bit_cast<float>(static_cast<uint32_t>(rng.next()));
  for (size_t k = 0; k < bits.size(); k += 7)  // exact ties of the 16-bit rounding
    bits[k] = std::bit_cast<float>((std::bit_cast<uint32_t>(bits[k]) & 0xffff0000u) | 0x8000u);
  std::vector<uint8_t> bb(2 * bits.size() + 1);
  FloatsToBF16(bits, bb.data() + 1);
  for (size_t i = 0; i < bits.size(); ++i) {
    uint16_t b;
    std::memcpy(&b, bb.data() + 1 + 2 * i, 2);
    ASSERT_EQ(b, FloatToBF16(bits[i])) << i << " " << std::bit_cast<uint32_t>(bits[i]);
  }
  EXPECT_EQ(FloatToBF16(1.00390625f), 0x3f80);  // halfway: ties to even
  EXPECT_EQ(FloatToBF16(1.01171875f), 0x3f82);
  EXPECT_EQ(BF16ToFloat(FloatToBF16(3.140625f)), 3.140625f);
}

}  // namespace
}  // namespace murmur::compress
