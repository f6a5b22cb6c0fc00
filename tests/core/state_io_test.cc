#include "murmur/core/state_io.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "error_text.h"

namespace murmur {
namespace {

struct Thing {
  double d = 0.0;
  int64_t i = 0;
  std::vector<float> v;
  std::vector<std::vector<uint32_t>> vs;
  std::vector<float> fixed = std::vector<float>(3);
  std::string s;
  Rng rng{0};

  void checkpoint(StateIo& io) {
    io.value(d);
    io.value(i);
    io.vector(v);
    io.vectors(vs);
    io.fixed(std::span<float>(fixed), "the fixed part");
    io.text(s);
    io.rng(rng);
  }
};

TEST(StateIo, RoundTripsEveryKindOfField) {
  Thing a;
  a.d = 2.5;
  a.i = -7;
  a.v = {1.0f, -2.0f};
  a.vs = {{1, 2}, {}, {3}};
  a.fixed = {4.0f, 5.0f, 6.0f};
  a.s = "hello";
  a.rng = Rng(42);
  a.rng.next();
  StateIo saver;
  a.checkpoint(saver);

  Thing b;
  StateIo loader(saver.bytes(), "test");
  b.checkpoint(loader);
  loader.expect_end();
  EXPECT_EQ(b.d, 2.5);
  EXPECT_EQ(b.i, -7);
  EXPECT_EQ(b.v, a.v);
  EXPECT_EQ(b.vs, a.vs);
  EXPECT_EQ(b.fixed, a.fixed);
  EXPECT_EQ(b.s, "hello");
  EXPECT_EQ(b.rng.next(), a.rng.next());  // the stream continues where it was saved
}

TEST(StateIo, ShortLongAndMismatchedInputIsAnErrorNamingIt) {
  Thing a;
  a.v.assign(100, 1.0f);
  StateIo saver;
  a.checkpoint(saver);
  std::vector<uint8_t> bytes = saver.bytes();

  // Every truncation fails with the name, never reads past the end.
  for (size_t cut : {size_t{0}, size_t{5}, size_t{20}, bytes.size() - 1}) {
    Thing b;
    StateIo loader(std::span<const uint8_t>(bytes.data(), cut), "node 3's state");
    EXPECT_TRUE(test_util::Contains(test_util::ErrorText<IoError>([&] { b.checkpoint(loader); }),
                                    "node 3's state"))
        << cut;
  }
  // Extra bytes are reported by expect_end.
  bytes.push_back(0);
  {
    Thing b;
    StateIo loader(bytes, "x");
    b.checkpoint(loader);
    EXPECT_THROW(loader.expect_end(), IoError);
  }
  bytes.pop_back();
  // A fixed-length field of another length: an error, not a resize.
  {
    Thing b;
    b.fixed.resize(4);
    StateIo loader(bytes, "x");
    EXPECT_TRUE(test_util::Contains(test_util::ErrorText<IoError>([&] { b.checkpoint(loader); }),
                                    "the fixed part has 3 values, expected 4"));
  }
  // A huge stored length does not allocate: it is checked against what is left.
  std::vector<uint8_t> evil(16, 0xff);
  std::vector<float> v;
  StateIo loader(evil, "x");
  double d;
  loader.value(d);
  EXPECT_THROW(loader.vector(v), IoError);
}

TEST(Checksum64, ChangesWithEveryFlippedBitAndLength) {
  std::vector<uint8_t> b(1000);
  for (size_t k = 0; k < b.size(); ++k) b[k] = static_cast<uint8_t>(k * 31);
  const uint64_t h = Checksum64(b);
  EXPECT_EQ(h, Checksum64(b));
  for (size_t k = 0; k < b.size(); k += 7)
    for (int bit = 0; bit < 8; bit += 3) {
      b[k] ^= static_cast<uint8_t>(1 << bit);
      EXPECT_NE(Checksum64(b), h) << k << " " << bit;
      b[k] ^= static_cast<uint8_t>(1 << bit);
    }
  for (size_t n : {0, 1, 7, 8, 31, 32, 33, 999})
    EXPECT_NE(Checksum64(std::span<const uint8_t>(b.data(), n)), h) << n;
  // Zeros of different lengths differ too.
  std::vector<uint8_t> z(64, 0);
  EXPECT_NE(Checksum64(std::span<const uint8_t>(z.data(), 32)), Checksum64(z));
}

}  // namespace
}  // namespace murmur
