#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "error_text.h"
#include "murmur/data/dataset.h"

namespace murmur::data {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("murmur_data_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
  static inline int counter_ = 0;
};

std::vector<uint8_t> IdxBytes(std::vector<uint32_t> dims, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> b = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    b.push_back(d >> 24);
    b.push_back((d >> 16) & 0xff);
    b.push_back((d >> 8) & 0xff);
    b.push_back(d & 0xff);
  }
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

void Write(const std::string& path, const std::vector<uint8_t>& bytes, bool gz) {
  if (gz) {
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
  } else {
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
}

// Writes a tiny MNIST-format dataset: n images of 4x4 where pixel = label * 10 + k.
void WriteIdxSet(const TempDir& dir, const std::string& prefix, int n, bool gz) {
  std::vector<uint8_t> img, lab;
  for (int i = 0; i < n; ++i) {
    lab.push_back(i % 10);
    for (int k = 0; k < 16; ++k) img.push_back((i % 10) * 10 + k);
  }
  const std::string sfx = gz ? ".gz" : "";
  Write(dir.file(prefix + "-images-idx3-ubyte" + sfx), IdxBytes({uint32_t(n), 4, 4}, img), gz);
  Write(dir.file(prefix + "-labels-idx1-ubyte" + sfx), IdxBytes({uint32_t(n)}, lab), gz);
}

using test_util::ErrorText;

class IdxFormat : public ::testing::TestWithParam<bool> {};

TEST_P(IdxFormat, ReadsRawAndGzip) {
  TempDir dir;
  WriteIdxSet(dir, "train", 30, GetParam());
  WriteIdxSet(dir, "t10k", 10, GetParam());
  DataSplits s = LoadIdxDir("fashion_mnist", dir.str());
  EXPECT_EQ(s.train.size, 30);
  EXPECT_EQ(s.test.size, 10);
  EXPECT_EQ(s.train.height, 4);
  EXPECT_EQ(s.train.labels[13], 3);
  std::vector<float> x(16);
  int64_t y = -1;
  const int64_t idx = 13;
  s.train.gather(std::span<const int64_t>(&idx, 1), x.data(), &y);
  EXPECT_EQ(y, 3);
  EXPECT_NEAR(x[5], (35 / 255.0f - 0.2860f) / 0.3530f, 1e-5);
}
INSTANTIATE_TEST_SUITE_P(RawAndGz, IdxFormat, ::testing::Bool());

TEST(Idx, ReadsDebianFashionMnistWhenInstalled) {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!fs::exists(dir)) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  DataSplits s = LoadIdxDir("fashion_mnist", dir);
  EXPECT_EQ(s.train.size, 60000);
  EXPECT_EQ(s.test.size, 10000);
  EXPECT_EQ(s.train.sample_dim(), 784);
}

TEST(Idx, MalformedFilesNameFileAndProblem) {
  TempDir dir;
  const std::vector<uint8_t> good = IdxBytes({3, 2, 2}, std::vector<uint8_t>(12, 1));
  struct Case {
    std::string name;
    std::vector<uint8_t> bytes;
    bool gz;
    std::string message;
  };
  std::vector<uint8_t> truncated(good.begin(), good.end() - 3);
  std::vector<uint8_t> bad_magic = good;
  bad_magic[0] = 7;
  std::vector<uint8_t> bad_type = good;
  bad_type[2] = 0x0D;
  std::vector<uint8_t> trailing = good;
  trailing.push_back(0);
  std::vector<uint8_t> zero_dim = IdxBytes({0, 2, 2}, {});
  const std::vector<Case> cases = {
      {"truncated", truncated, false, "truncated while reading the data"},
      {"truncated_gz", truncated, true, "truncated while reading the data"},
      {"magic", bad_magic, false, "bad magic number"},
      {"type", bad_type, false, "element type 0xd not supported"},
      {"trailing", trailing, false, "trailing bytes"},
      {"zero_dim", zero_dim, false, "implausible size 0"},
      {"empty", {}, false, "truncated while reading the magic number"},
  };
  for (const Case& c : cases) {
    const std::string path = dir.file(c.name);
    Write(path, c.bytes, c.gz);
    const std::string err = ErrorText([&] { ReadIdx(path); });
    EXPECT_NE(err.find(path), std::string::npos) << c.name << ": " << err;
    EXPECT_NE(err.find(c.message), std::string::npos) << c.name << ": " << err;
  }
  // A gzip stream whose body is garbage.
  std::vector<uint8_t> gz = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0xff};
  Write(dir.file("corrupt.gz"), gz, false);
  EXPECT_NE(ErrorText([&] { ReadIdx(dir.file("corrupt.gz")); }).find("corrupt compressed data"),
            std::string::npos);
  EXPECT_NE(ErrorText([&] { ReadIdx(dir.file("missing")); }).find("no such file"),
            std::string::npos);
}

TEST(Idx, TrainAndTestImagesMustHaveOneShape) {
  // 2x8 training images and 4x4 test images have the same pixel count, not the same shape.
  TempDir dir;
  WriteIdxSet(dir, "t10k", 10, false);
  std::vector<uint8_t> img(5 * 16, 1), lab = {0, 1, 2, 3, 4};
  Write(dir.file("train-images-idx3-ubyte"), IdxBytes({5, 2, 8}, img), false);
  Write(dir.file("train-labels-idx1-ubyte"), IdxBytes({5}, lab), false);
  const std::string err = ErrorText([&] { LoadIdxDir("mnist", dir.str()); });
  EXPECT_NE(err.find("t10k-images-idx3-ubyte holds images of 4x4 but"), std::string::npos) << err;
  EXPECT_NE(err.find("train-images-idx3-ubyte holds images of 2x8"), std::string::npos) << err;
}

TEST(Idx, HeaderClaimsAreCheckedBeforeAllocating) {
  // A header claiming 2^27 images of 8x8 (8 GiB) over 64 bytes of data: the raw file is
  // refused from its length, the compressed one after reading the little data there is; both
  // without allocating what the header claims (that would take many seconds or fail).
  TempDir dir;
  const std::vector<uint8_t> lie = IdxBytes({1u << 27, 8, 8}, std::vector<uint8_t>(64, 3));
  for (bool gz : {false, true}) {
    const std::string path = dir.file(gz ? "lie.gz" : "lie");
    Write(path, lie, gz);
    const std::string err = ErrorText([&] { ReadIdx(path); });
    EXPECT_NE(err.find(path + ": truncated while reading the data"), std::string::npos) << err;
  }
  EXPECT_NE(ErrorText([&] { ReadIdx(dir.file("lie")); }).find("the file holds 64"),
            std::string::npos);
}

TEST(Idx, GzipTrailerIsChecked) {
  TempDir dir;
  const std::vector<uint8_t> good = IdxBytes({3, 2, 2}, std::vector<uint8_t>(12, 1));
  Write(dir.file("good.gz"), good, true);
  std::ifstream in(dir.file("good.gz"), std::ios::binary);
  std::vector<uint8_t> z((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(z.size(), 8u);
  EXPECT_EQ(ReadIdx(dir.file("good.gz")).data.size(), 12u);
  // Without its 8-byte trailer (CRC-32 and length) the stream is truncated.
  Write(dir.file("no_trailer.gz"), std::vector<uint8_t>(z.begin(), z.end() - 8), false);
  std::string err = ErrorText([&] { ReadIdx(dir.file("no_trailer.gz")); });
  EXPECT_NE(err.find("ends without its trailer"), std::string::npos) << err;
  // A wrong CRC.
  std::vector<uint8_t> bad_crc = z;
  bad_crc[z.size() - 8] ^= 0xff;
  Write(dir.file("bad_crc.gz"), bad_crc, false);
  err = ErrorText([&] { ReadIdx(dir.file("bad_crc.gz")); });
  EXPECT_NE(err.find("corrupt compressed data"), std::string::npos) << err;
}

TEST(Idx, DirectoryLevelErrors) {
  TempDir dir;
  EXPECT_NE(ErrorText([&] { LoadIdxDir("mnist", dir.file("nope")); }).find("not a directory"),
            std::string::npos);
  EXPECT_NE(ErrorText([&] { LoadIdxDir("mnist", dir.str()); }).find("train-images-idx3-ubyte"),
            std::string::npos);
  // Image and label counts disagree.
  WriteIdxSet(dir, "train", 5, false);
  Write(dir.file("train-labels-idx1-ubyte"), IdxBytes({4}, {1, 2, 3, 4}), false);
  WriteIdxSet(dir, "t10k", 5, false);
  EXPECT_NE(ErrorText([&] { LoadIdxDir("mnist", dir.str()); }).find("has 5 images but"),
            std::string::npos);
  // Label outside [0, 10).
  Write(dir.file("train-labels-idx1-ubyte"), IdxBytes({5}, {1, 2, 3, 4, 12}), false);
  EXPECT_NE(ErrorText([&] { LoadIdxDir("mnist", dir.str()); }).find("label 12 at index 4"),
            std::string::npos);
}

std::vector<uint8_t> CifarRecords(int n) {
  std::vector<uint8_t> b;
  for (int i = 0; i < n; ++i) {
    b.push_back(i % 10);
    for (int k = 0; k < 3072; ++k) b.push_back(static_cast<uint8_t>(k / 1024 * 100 + i));
  }
  return b;
}

// data_batch_1..5.bin with 3, 2, 1, 1, 1 records and a test batch of 4.
void WriteCifarSet(const TempDir& dir) {
  Write(dir.file("data_batch_1.bin"), CifarRecords(3), false);
  Write(dir.file("data_batch_2.bin"), CifarRecords(2), false);
  for (int i = 3; i <= 5; ++i)
    Write(dir.file("data_batch_" + std::to_string(i) + ".bin"), CifarRecords(1), false);
  Write(dir.file("test_batch.bin"), CifarRecords(4), false);
}

TEST(Cifar, ReadsBinaryBatches) {
  TempDir dir;
  WriteCifarSet(dir);
  DataSplits s = LoadCifar10(dir.str());
  EXPECT_EQ(s.train.size, 8);
  EXPECT_EQ(s.test.size, 4);
  EXPECT_EQ(s.train.channels, 3);
  EXPECT_EQ(s.train.labels[4], 1);
  EXPECT_EQ(s.train.pixels[4 * 3072 + 2048], 201);  // blue plane of record 1 of batch 2
}

TEST(Cifar, MissingTrainingBatchIsAnError) {
  TempDir dir;
  WriteCifarSet(dir);
  fs::remove(dir.file("data_batch_3.bin"));
  fs::remove(dir.file("data_batch_5.bin"));
  const std::string err = ErrorText([&] { LoadCifar10(dir.str()); });
  EXPECT_NE(err.find("missing data_batch_3.bin, data_batch_5.bin"), std::string::npos) << err;
}

TEST(Cifar, RejectsTruncatedAndBadLabels) {
  TempDir dir;
  WriteCifarSet(dir);
  auto recs = CifarRecords(2);
  recs.pop_back();
  Write(dir.file("data_batch_1.bin"), recs, false);
  Write(dir.file("test_batch.bin"), CifarRecords(1), false);
  std::string err = ErrorText([&] { LoadCifar10(dir.str()); });
  EXPECT_NE(err.find("data_batch_1.bin: size 6145 is not a positive multiple"), std::string::npos)
      << err;
  recs = CifarRecords(1);
  recs[0] = 11;
  Write(dir.file("data_batch_1.bin"), recs, false);
  err = ErrorText([&] { LoadCifar10(dir.str()); });
  EXPECT_NE(err.find("record 0 has label 11"), std::string::npos) << err;
  fs::remove(dir.file("test_batch.bin"));
  Write(dir.file("data_batch_1.bin"), CifarRecords(1), false);
  err = ErrorText([&] { LoadCifar10(dir.str()); });
  EXPECT_NE(err.find("test_batch.bin: no such file"), std::string::npos) << err;
  err = ErrorText([&] { LoadCifar10(dir.file("absent")); });
  EXPECT_NE(err.find("not a directory"), std::string::npos) << err;
}

TEST(Synthetic, DeterministicAndLearnableShape) {
  DataOptions o;
  o.name = "synthetic";
  o.synthetic_train = 100;
  o.synthetic_test = 20;
  DataSplits a = LoadData(o), b = LoadData(o);
  EXPECT_EQ(a.train.features, b.train.features);
  EXPECT_EQ(a.train.sample_dim(), 144);
  o.seed = 2;
  EXPECT_NE(LoadData(o).train.features, a.train.features);
  o.train_subset = 50;
  EXPECT_EQ(LoadData(o).train.size, 50);
}

TEST(Registry, UnknownDatasetListsAllowed) {
  DataOptions o;
  o.name = "imagenet";
  const std::string err = ErrorText([&] { LoadData(o); });
  EXPECT_NE(
      err.find("data.name: unknown dataset 'imagenet'; allowed: cifar10, cifar100, fashion_mnist"),
      std::string::npos)
      << err;
}

}  // namespace
}  // namespace murmur::data
