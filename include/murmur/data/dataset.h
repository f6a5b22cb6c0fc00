// Datasets held once in memory and shared read-only by every node.
//
// Image datasets keep their raw uint8 pixels (N x C x H x W) and are normalised per channel
// only when a batch is gathered, so 16 or 1000 nodes cost one copy of the data. Synthetic
// data keeps float features; sequence tasks keep token ids. A Dataset is immutable after
// loading and safe to share.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "murmur/core/registry.h"

namespace murmur::data {

struct Dataset {
  std::string name;
  int64_t size = 0;
  int channels = 1, height = 1, width = 1;
  // Dimensions of one sample as a model receives it: 3 = channels x height x width (images),
  // 1 = width values (flat features, or a sequence of `width` tokens).
  int rank = 3;
  // Sequence tasks: samples are `width` token ids in [0, vocab) (in `tokens`); 0 otherwise.
  int vocab = 0;
  int num_classes = 0;
  std::vector<uint8_t> pixels;      // size * sample_dim(), when image data
  std::vector<float> features;      // size * sample_dim(), when float data
  std::vector<uint16_t> tokens;     // size * sample_dim(), when vocab > 0
  std::vector<uint16_t> labels;     // size, each < num_classes
  std::vector<float> mean, stddev;  // per channel, applied to pixels / 255
  // Natural partitions: the user each sample came from (an index into `users`, whose
  // entries name them), or empty when the data has no users.
  std::vector<int32_t> owners;
  std::vector<std::string> users;

  int64_t sample_dim() const { return int64_t{channels} * height * width; }
  // One sample's dimensions: {channels, height, width} or {width}.
  std::vector<int64_t> sample_shape() const;
  // Writes the normalised features of samples `idx` to out[idx.size() * sample_dim()] and
  // their labels to labels_out[idx.size()]. Indices must be < size; float data only.
  void gather(std::span<const int64_t> idx, float* out, int64_t* labels_out) const;
  // The same for token data (vocab > 0): the token ids as int64.
  void gather_tokens(std::span<const int64_t> idx, int64_t* out, int64_t* labels_out) const;
  // Keeps only the first n samples (n <= 0 keeps all).
  void truncate(int64_t n);
};

struct DataSplits {
  Dataset train;
  Dataset test;
};

struct DataOptions {
  std::string name = "fashion_mnist";
  // Directory of the files; empty picks the dataset's default location.
  std::string path;
  // Use only the first N training / test samples (0 = all).
  int64_t train_subset = 0;
  int64_t test_subset = 0;
  // Synthetic Gaussian mixture: classes, image side (features = side^2), sizes, spread.
  int synthetic_classes = 10;
  int synthetic_side = 12;
  int64_t synthetic_train = 4096;
  int64_t synthetic_test = 1024;
  double synthetic_separation = 1.0;
  // leaf: the LEAF task of the JSON files in path/train and path/test (femnist, shakespeare).
  std::string task = "femnist";
  // cifar100: "fine" (100 classes) or "coarse" (20 superclasses) labels.
  std::string cifar100_labels = "fine";
  uint64_t seed = 1;
};

using DatasetLoader = std::function<DataSplits(const DataOptions&)>;
const Registry<DatasetLoader>& DatasetRegistry();
// Image data without published statistics (LEAF, npy): sets both splits' per-channel mean and
// stddev to those of the training pixels (a constant channel gets stddev 1); no-op without
// pixels.
void UseTrainingPixelStatistics(DataSplits& s);
// Loads, truncates to the subsets, and checks the splits agree on shape and classes.
DataSplits LoadData(const DataOptions& options);

// Individual readers, exposed for tests and tools. Errors name the file.
// IDX (MNIST format), gzip-compressed or raw.
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
};
IdxArray ReadIdx(const std::string& path);
DataSplits LoadIdxDir(const std::string& name, const std::string& dir);
// CIFAR-10 binary version: data_batch_{1..5}.bin and test_batch.bin.
DataSplits LoadCifar10(const std::string& dir);
Dataset ReadCifarBatches(const std::vector<std::string>& files);
// CIFAR-100 binary version: train.bin and test.bin (a coarse and a fine label per record).
DataSplits LoadCifar100(const std::string& dir, bool fine);
DataSplits MakeSynthetic(const DataOptions& options);

// LEAF JSON (users, num_samples, user_data: {user: {x, y}}), every *.json file of
// dir/train and dir/test, read as a stream (no document tree). Tasks: "femnist" (x: 784
// floats in [0, 1], y: 62 classes; kept as uint8 pixels) and "shakespeare" (x: an
// 80-character string, y: the next character; kept as token ids of LEAF's 80-letter
// alphabet). Samples keep their user (owners/users) for natural partitions.
DataSplits LoadLeaf(const std::string& dir, const std::string& task);
Dataset ReadLeafFiles(const std::vector<std::string>& files, const std::string& task);
// LEAF's Shakespeare alphabet: a character's token id is its position here.
extern const std::string_view kLeafLetters;

// NumPy .npy arrays: dir/{train_x,train_y,test_x,test_y}.npy and optional train_owner.npy
// (each training sample's user, for natural partitions). x: uint8 (images, normalised by
// the training set's statistics), float32 / float64 (features as they are) or int32 / int64
// (token ids); shapes (N, D) or (N, H, W) or (N, C, H, W). y: integer labels >= 0.
DataSplits LoadNpyDir(const std::string& dir);
struct NpyHeader {
  std::string dtype;  // numpy's descr: "|u1", "<f4", "<i8", ...
  bool fortran_order = false;
  std::vector<int64_t> shape;
  int64_t data_offset = 0;  // where the data starts in the file
  int item_size = 0;
  int64_t count() const;
};
// Parses the header at the start of `bytes` (at least the header, usually the whole file);
// `path` names the file in errors (DataError).
NpyHeader ParseNpyHeader(std::span<const uint8_t> bytes, const std::string& path);

}  // namespace murmur::data
