// Datasets held once in memory and shared read-only by every node.
//
// Image datasets keep their raw uint8 pixels (N x C x H x W) and are normalised per channel
// only when a batch is gathered, so 16 or 1000 nodes cost one copy of the data. Synthetic
// data keeps float features. A Dataset is immutable after loading and safe to share.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "murmur/core/registry.h"

namespace murmur::data {

struct Dataset {
  std::string name;
  int64_t size = 0;
  int channels = 1, height = 1, width = 1;
  int num_classes = 0;
  std::vector<uint8_t> pixels;      // size * sample_dim(), when image data
  std::vector<float> features;      // size * sample_dim(), when float data
  std::vector<uint8_t> labels;      // size, each < num_classes
  std::vector<float> mean, stddev;  // per channel, applied to pixels / 255

  int64_t sample_dim() const { return int64_t{channels} * height * width; }
  // Writes the normalised features of samples `idx` to out[idx.size() * sample_dim()] and
  // their labels to labels_out[idx.size()]. Indices must be < size.
  void gather(std::span<const int64_t> idx, float* out, int64_t* labels_out) const;
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
  uint64_t seed = 1;
};

using DatasetLoader = std::function<DataSplits(const DataOptions&)>;
const Registry<DatasetLoader>& DatasetRegistry();
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
DataSplits MakeSynthetic(const DataOptions& options);

}  // namespace murmur::data
