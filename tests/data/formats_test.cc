// LEAF JSON, NumPy .npy and CIFAR-100 readers, and the natural partition. Every test writes
// its own tiny files (a few users, a few samples).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "data_files.h"
#include "error_text.h"
#include "murmur/data/dataset.h"
#include "murmur/data/partition.h"

namespace murmur::data {
namespace {

namespace fs = std::filesystem;
using test_util::Contains;
using test_util::ErrorText;
using test_util::FemnistUser;
using test_util::Npy;
using test_util::Raw;

class Formats : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("murmur_formats_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
  fs::path dir_;
};

TEST_F(Formats, LeafFemnistKeepsUsersAndBytes) {
  Write(dir_ / "train" / "a.json",
        "{\"users\": [\"u1\", \"u2\"], \"num_samples\": [2, 1], \"hierarchies\": [], "
        "\"user_data\": {" +
            FemnistUser("u1", 2, 1.0, 3) + ", " + FemnistUser("u2", 1, 0.5, 61) + "}}");
  Write(dir_ / "train" / "b.json", "{\"users\": [\"u3\"], \"num_samples\": [1], \"user_data\": {" +
                                       FemnistUser("u3", 1, 0.0, 0) + "}}");
  Write(dir_ / "test" / "a.json",
        "{\"users\": [\"u1\"], \"user_data\": {" + FemnistUser("u1", 2, 0.2, 5) + "}}");
  const DataSplits s = LoadLeaf(dir_.string(), "femnist");
  EXPECT_EQ(s.train.size, 4);
  EXPECT_EQ(s.test.size, 2);
  EXPECT_EQ(s.train.num_classes, 62);
  EXPECT_EQ(s.train.sample_dim(), 784);
  EXPECT_EQ(s.train.pixels.size(), 4u * 784);
  EXPECT_EQ(s.train.pixels[0], 255);
  EXPECT_EQ(s.train.pixels[2 * 784], 128);  // round(0.5 * 255)
  EXPECT_EQ(s.train.pixels[3 * 784], 0);
  EXPECT_EQ((std::vector<uint16_t>(s.train.labels)), (std::vector<uint16_t>{3, 4, 61, 0}));
  EXPECT_EQ(s.train.users, (std::vector<std::string>{"u1", "u2", "u3"}));
  EXPECT_EQ(s.train.owners, (std::vector<int32_t>{0, 0, 1, 2}));
  EXPECT_TRUE(s.test.owners.empty());
  // Normalised with the training set's statistics.
  EXPECT_NEAR(s.test.mean[0], s.train.mean[0], 0.0);
  EXPECT_GT(s.train.stddev[0], 0.1f);
}

TEST_F(Formats, LeafShakespeareIsTokens) {
  const std::string a(80, 'a'), b = std::string(79, 'B') + "!";
  Write(dir_ / "train" / "s.json",
        "{\"users\": [\"ROMEO\"], \"user_data\": {\"ROMEO\": {\"x\": [\"" + a + "\", \"" + b +
            "\"], \"y\": [\"b\", \"\\n\"]}}}");
  Write(dir_ / "test" / "s.json",
        "{\"users\": [\"JULIET\"], \"user_data\": {\"JULIET\": {\"y\": [\"z\"], \"x\": [\"" + a +
            "\"]}}}");
  const DataSplits s = LoadLeaf(dir_.string(), "shakespeare");
  EXPECT_EQ(s.train.size, 2);
  EXPECT_EQ(s.train.rank, 1);
  EXPECT_EQ(s.train.width, 80);
  EXPECT_EQ(s.train.vocab, 80);
  EXPECT_EQ(s.train.num_classes, 80);
  EXPECT_EQ(s.train.tokens[0], kLeafLetters.find('a'));
  EXPECT_EQ(s.train.tokens[80], kLeafLetters.find('B'));
  EXPECT_EQ(s.train.tokens[159], kLeafLetters.find('!'));
  EXPECT_EQ(s.train.labels[0], kLeafLetters.find('b'));
  EXPECT_EQ(s.train.labels[1], 0u);  // '\n' is letter 0
  EXPECT_EQ(s.test.labels[0], kLeafLetters.find('z'));
  std::vector<int64_t> tokens(80), y(1);
  const int64_t first = 0;
  s.train.gather_tokens(std::span<const int64_t>(&first, 1), tokens.data(), y.data());
  EXPECT_EQ(tokens[5], static_cast<int64_t>(kLeafLetters.find('a')));
}

TEST_F(Formats, LeafErrorsNameFileAndUser) {
  const fs::path f = dir_ / "train" / "bad.json";
  Write(dir_ / "test" / "t.json", "{\"user_data\": {}}");
  auto error = [&](const std::string& text, const std::string& task = "femnist") {
    Write(f, text);
    return ErrorText<DataError>([&] { LoadLeaf(dir_.string(), task); });
  };
  EXPECT_TRUE(Contains(error("{\"user_data\": {\"u\": {\"x\": [[0.5]], \"y\": [1]}}}"),
                       "user 'u': an image of 1 values; femnist images have 28x28 = 784"));
  EXPECT_TRUE(Contains(error("{\"user_data\": {\"u\": {\"x\": [], \"y\": [1]}}}"),
                       "user 'u' has 0 samples (x) but 1 labels (y)"));
  EXPECT_TRUE(Contains(error("{\"user_data\": {\"u\": {\"x\": [], \"y\": [62]}}}"),
                       "label 62 outside the 62 classes"));
  EXPECT_TRUE(Contains(error("{\"user_data\": {\"u\": {\"x\": [], \"y\": [1"),
                       f.string() + ": not valid JSON at byte"));
  EXPECT_TRUE(Contains(
      error("{\"user_data\": {\"u\": {\"x\": [\"ab\u00e9\"], \"y\": [\"a\"]}}}", "shakespeare"),
      "is not in LEAF's 80-letter Shakespeare alphabet"));
  EXPECT_TRUE(
      Contains(error("{\"user_data\": {\"u\": {\"x\": [\"ab\"], \"y\": [3]}}}", "shakespeare"),
               "a label is a number; shakespeare labels are characters"));
  EXPECT_TRUE(Contains(ErrorText<DataError>([&] { LoadLeaf((dir_ / "none").string(), "femnist"); }),
                       "not a directory"));
  EXPECT_TRUE(Contains(ErrorText<ConfigError>([&] { LoadLeaf(dir_.string(), "celeba"); }),
                       "data.task: 'celeba' is not one of femnist, shakespeare"));
}

TEST_F(Formats, NpyImagesFeaturesTokensAndOwners) {
  std::vector<uint8_t> img(6 * 2 * 3);
  for (size_t k = 0; k < img.size(); ++k) img[k] = static_cast<uint8_t>(k * 7);
  Write(dir_ / "train_x.npy", Npy("|u1", "(6, 2, 3)", Raw(img)));
  Write(dir_ / "train_y.npy", Npy("<i8", "(6,)", Raw(std::vector<int64_t>{0, 1, 2, 0, 1, 4})));
  Write(dir_ / "test_x.npy", Npy("|u1", "(2, 2, 3)", Raw(std::vector<uint8_t>(12, 9))));
  Write(dir_ / "test_y.npy", Npy("<i4", "(2,)", Raw(std::vector<int32_t>{3, 1})));
  Write(dir_ / "train_owner.npy", Npy("<i8", "(6,)", Raw(std::vector<int64_t>{7, 7, 3, 3, 9, 7})));
  DataSplits s = LoadNpyDir(dir_.string());
  EXPECT_EQ(s.train.size, 6);
  EXPECT_EQ(s.train.channels, 1);
  EXPECT_EQ(s.train.height, 2);
  EXPECT_EQ(s.train.width, 3);
  EXPECT_EQ(s.train.num_classes, 5);
  EXPECT_EQ(s.test.num_classes, 5);
  EXPECT_EQ(s.train.pixels, img);
  EXPECT_EQ(s.train.users, (std::vector<std::string>{"3", "7", "9"}));
  EXPECT_EQ(s.train.owners, (std::vector<int32_t>{1, 1, 0, 0, 2, 1}));
  // Natural partition: whole users, dealt to the nodes.
  PartitionOptions po;
  po.name = "natural";
  po.nodes = 2;
  const auto parts = Partition(s.train, po);
  std::set<int32_t> seen;
  for (const auto& p : parts) {
    std::set<int32_t> users;
    for (int64_t i : p) users.insert(s.train.owners[i]);
    for (int32_t u : users) EXPECT_TRUE(seen.insert(u).second) << "user " << u << " split";
  }
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_EQ(parts[0].size() + parts[1].size(), 6u);
  const std::string csv = UserMappingCsv(s.train, parts);
  EXPECT_TRUE(Contains(csv, "user,node,samples\n"));
  EXPECT_TRUE(Contains(csv, "7,")) << csv;
  po.nodes = 4;
  EXPECT_TRUE(
      Contains(ErrorText<ConfigError>([&] { Partition(s.train, po); }), "has 3 users for 4 nodes"));

  // float32 features (N, D) and int64 tokens.
  Write(dir_ / "train_x.npy", Npy("<f4", "(6, 2)", Raw(std::vector<float>(12, 0.25f))));
  Write(dir_ / "test_x.npy", Npy("<f8", "(2, 2)", Raw(std::vector<double>(4, -1.5))));
  s = LoadNpyDir(dir_.string());
  EXPECT_EQ(s.train.rank, 1);
  EXPECT_EQ(s.train.features[3], 0.25f);
  EXPECT_EQ(s.test.features[3], -1.5f);
  Write(dir_ / "train_x.npy", Npy("<i8", "(6, 3)", Raw(std::vector<int64_t>(18, 4))));
  Write(dir_ / "test_x.npy", Npy("<i8", "(2, 3)", Raw(std::vector<int64_t>(6, 11))));
  s = LoadNpyDir(dir_.string());
  EXPECT_EQ(s.train.vocab, 12);
  EXPECT_EQ(s.train.tokens[0], 4);
  fs::remove(dir_ / "train_owner.npy");
  s = LoadNpyDir(dir_.string());
  EXPECT_TRUE(s.train.owners.empty());
  po.nodes = 2;
  EXPECT_TRUE(Contains(ErrorText<ConfigError>([&] { Partition(s.train, po); }),
                       "natural needs data with users"));
}

TEST_F(Formats, NpyRejectsWhatItCannotRead) {
  EXPECT_TRUE(Contains(ErrorText<DataError>([&] { LoadNpyDir(dir_.string()); }),
                       "': missing train_x.npy, train_y.npy, test_x.npy, test_y.npy"));
  const std::string y = Npy("<i8", "(2,)", Raw(std::vector<int64_t>{0, 1}));
  Write(dir_ / "train_y.npy", y);
  Write(dir_ / "test_y.npy", y);
  Write(dir_ / "test_x.npy", Npy("<f4", "(2, 2)", Raw(std::vector<float>(4, 0))));
  const std::string x = (dir_ / "train_x.npy").string();
  auto error = [&](const std::string& content) {
    Write(x, content);
    return ErrorText<DataError>([&] { LoadNpyDir(dir_.string()); });
  };
  const std::string four = Raw(std::vector<float>(4, 0));
  EXPECT_TRUE(Contains(error(Npy("<f4", "(2, 2)", four, true)), x + ": Fortran-order arrays"));
  EXPECT_TRUE(Contains(error(Npy("|O", "(2, 2)", four)), x + ": an object array"));
  EXPECT_TRUE(Contains(error(Npy(">f4", "(2, 2)", four)), "is big-endian"));
  EXPECT_TRUE(Contains(error(Npy("<c8", "(2, 2)", four)), "dtype '<c8' not supported"));
  EXPECT_TRUE(Contains(error(Npy("<f4", "(2, 3)", four)),
                       "the header describes 24 bytes of data but the file holds 16"));
  EXPECT_TRUE(Contains(error("PK\x03\x04 not numpy"), x + ": not a .npy file"));
  EXPECT_TRUE(Contains(error(Npy("<f4", "(2, two)", four)), "bad .npy header"));
  std::string cut = Npy("<f4", "(2, 2)", four);
  EXPECT_TRUE(Contains(error(cut.substr(0, 30)), "truncated .npy header"));
  EXPECT_TRUE(Contains(error(Npy("<f4", "(2,)", Raw(std::vector<float>(2, 0)))),
                       "expected shape (N, D), (N, H, W) or (N, C, H, W)"));
  Write(x, Npy("<f4", "(2, 2)", four));
  Write(dir_ / "train_y.npy", Npy("<f4", "(2,)", Raw(std::vector<float>{0, 1})));
  EXPECT_TRUE(Contains(ErrorText<DataError>([&] { LoadNpyDir(dir_.string()); }),
                       "train_y.npy: label must be integers, not dtype <f4"));
  Write(dir_ / "train_y.npy", Npy("<i8", "(2,)", Raw(std::vector<int64_t>{0, -1})));
  EXPECT_TRUE(Contains(ErrorText<DataError>([&] { LoadNpyDir(dir_.string()); }),
                       "label -1 at index 1 outside [0, 65536)"));
}

TEST_F(Formats, NpyHeaderVersions) {
  // Version 2.0: a 4-byte header length.
  std::string h = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n";
  std::string v2 = "\x93NUMPY";
  v2 += '\x02';
  v2 += '\x00';
  v2 += static_cast<char>(h.size());
  v2 += std::string(3, '\0');
  v2 += h;
  const auto* b = reinterpret_cast<const uint8_t*>(v2.data());
  const NpyHeader header = ParseNpyHeader(std::span<const uint8_t>(b, v2.size()), "v2.npy");
  EXPECT_EQ(header.shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(header.item_size, 4);
  EXPECT_EQ(header.data_offset, static_cast<int64_t>(v2.size()));
  v2[6] = '\x04';
  EXPECT_TRUE(Contains(ErrorText<DataError>([&] {
                         ParseNpyHeader(std::span<const uint8_t>(b, v2.size()), "v4.npy");
                       }),
                       "v4.npy: .npy format version 4.0 not supported"));
}

TEST_F(Formats, Cifar100FineAndCoarseLabels) {
  auto records = [](int n) {
    std::string out;
    for (int i = 0; i < n; ++i) {
      out += static_cast<char>(i % 20);       // coarse
      out += static_cast<char>(50 + i % 50);  // fine
      out += std::string(3072, static_cast<char>(i));
    }
    return out;
  };
  Write(dir_ / "cifar-100-binary" / "train.bin", records(5));
  Write(dir_ / "cifar-100-binary" / "test.bin", records(2));
  DataSplits fine = LoadCifar100(dir_.string(), true);
  EXPECT_EQ(fine.train.size, 5);
  EXPECT_EQ(fine.train.num_classes, 100);
  EXPECT_EQ(fine.train.labels[3], 53);
  EXPECT_EQ(fine.train.pixels[3 * 3072], 3);
  DataSplits coarse = LoadCifar100(dir_.string(), false);
  EXPECT_EQ(coarse.train.num_classes, 20);
  EXPECT_EQ(coarse.train.labels[3], 3);
  Write(dir_ / "cifar-100-binary" / "test.bin", records(2).substr(1));
  EXPECT_TRUE(Contains(ErrorText<DataError>([&] { LoadCifar100(dir_.string(), true); }),
                       "is not a positive multiple of the 3074-byte cifar100 record"));
  fs::remove(dir_ / "cifar-100-binary" / "test.bin");
  EXPECT_TRUE(Contains(ErrorText<DataError>([&] { LoadCifar100(dir_.string(), true); }),
                       "missing test.bin"));
}

}  // namespace
}  // namespace murmur::data
