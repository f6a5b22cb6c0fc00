#include "murmur/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace murmur::data {

std::vector<int64_t> Dataset::sample_shape() const {
  if (rank == 1) return {sample_dim()};
  return {channels, height, width};
}

void Dataset::gather(std::span<const int64_t> idx, float* out, int64_t* labels_out) const {
  MURMUR_DASSERT(vocab == 0);
  const int64_t dim = sample_dim();
  const int64_t plane = int64_t{height} * width;
  for (size_t b = 0; b < idx.size(); ++b) {
    const int64_t s = idx[b];
    MURMUR_DASSERT(s >= 0 && s < size);
    float* dst = out + b * dim;
    if (!pixels.empty()) {
      const uint8_t* src = pixels.data() + s * dim;
      for (int c = 0; c < channels; ++c) {
        const float scale = 1.0f / (255.0f * stddev[c]);
        const float shift = mean[c] / stddev[c];
        for (int64_t k = 0; k < plane; ++k)
          dst[c * plane + k] = static_cast<float>(src[c * plane + k]) * scale - shift;
      }
    } else {
      const float* src = features.data() + s * dim;
      std::copy(src, src + dim, dst);
    }
    labels_out[b] = labels[s];
  }
}

void Dataset::gather_tokens(std::span<const int64_t> idx, int64_t* out, int64_t* labels_out) const {
  MURMUR_DASSERT(vocab > 0);
  const int64_t dim = sample_dim();
  for (size_t b = 0; b < idx.size(); ++b) {
    const int64_t s = idx[b];
    MURMUR_DASSERT(s >= 0 && s < size);
    std::copy(tokens.begin() + s * dim, tokens.begin() + (s + 1) * dim, out + b * dim);
    labels_out[b] = labels[s];
  }
}

void Dataset::truncate(int64_t n) {
  if (n <= 0 || n >= size) return;
  size = n;
  // Give the dropped samples' memory back (a subset of CIFAR-10's test set frees ~30 MB).
  if (!pixels.empty()) {
    pixels.resize(n * sample_dim());
    pixels.shrink_to_fit();
  }
  if (!features.empty()) {
    features.resize(n * sample_dim());
    features.shrink_to_fit();
  }
  if (!tokens.empty()) {
    tokens.resize(n * sample_dim());
    tokens.shrink_to_fit();
  }
  labels.resize(n);
  labels.shrink_to_fit();
  if (!owners.empty()) owners.resize(n);
}

namespace {

std::string DefaultPath(const std::string& name) {
  if (name == "fashion_mnist") return "/usr/share/datasets/fashion-mnist";
  if (name == "mnist") return "/usr/share/datasets/mnist";
  if (name == "cifar100") return "data/cifar-100-binary";
  if (name == "cifar10") return "data/cifar-10-batches-bin";
  return "";
}

Registry<DatasetLoader> MakeBuiltins() {
  Registry<DatasetLoader> r("dataset");
  r.add("fashion_mnist",
        "Fashion-MNIST IDX files (default: Debian's dataset-fashion-mnist), 28x28x1, 10 classes",
        [](const DataOptions& o) {
          return LoadIdxDir("fashion_mnist", o.path.empty() ? DefaultPath(o.name) : o.path);
        });
  r.add("mnist", "MNIST IDX files in data.path, 28x28x1, 10 classes", [](const DataOptions& o) {
    return LoadIdxDir("mnist", o.path.empty() ? DefaultPath(o.name) : o.path);
  });
  r.add("cifar10", "CIFAR-10 binary version in data.path, 32x32x3, 10 classes",
        [](const DataOptions& o) {
          return LoadCifar10(o.path.empty() ? DefaultPath(o.name) : o.path);
        });
  r.add("cifar100",
        "CIFAR-100 binary version (train.bin, test.bin) in data.path, 32x32x3, 100 fine or 20 "
        "coarse classes (data.cifar100_labels)",
        [](const DataOptions& o) {
          MURMUR_CHECK(ConfigError, o.cifar100_labels == "fine" || o.cifar100_labels == "coarse",
                       "data.cifar100_labels: '", o.cifar100_labels,
                       "' is not one of fine, coarse");
          return LoadCifar100(o.path.empty() ? DefaultPath(o.name) : o.path,
                              o.cifar100_labels == "fine");
        });
  r.add("leaf",
        "LEAF JSON files in data.path/train and data.path/test, task data.task (femnist: "
        "28x28x1, 62 classes; shakespeare: 80-character sequences, 80 classes); samples keep "
        "their users (partition.name = natural)",
        [](const DataOptions& o) {
          MURMUR_CHECK(ConfigError, !o.path.empty(),
                       "data.path: leaf needs the directory holding train/ and test/");
          return LoadLeaf(o.path, o.task);
        });
  r.add("npy",
        "NumPy arrays train_x/train_y/test_x/test_y.npy (and optional train_owner.npy) in "
        "data.path: uint8 images, float features or integer token sequences",
        [](const DataOptions& o) {
          MURMUR_CHECK(ConfigError, !o.path.empty(),
                       "data.path: npy needs the directory holding train_x.npy, train_y.npy, "
                       "test_x.npy and test_y.npy");
          return LoadNpyDir(o.path);
        });
  r.add("synthetic", "seeded Gaussian mixture (data.synthetic_*), for tests and smoke runs",
        MakeSynthetic);
  return r;
}

}  // namespace

const Registry<DatasetLoader>& DatasetRegistry() {
  static const Registry<DatasetLoader> registry = MakeBuiltins();
  return registry;
}

void UseTrainingPixelStatistics(DataSplits& splits) {
  Dataset& d = splits.train;
  if (d.pixels.empty()) return;
  const int64_t plane = int64_t{d.height} * d.width;
  d.mean.assign(d.channels, 0.0f);
  d.stddev.assign(d.channels, 1.0f);
  for (int c = 0; c < d.channels; ++c) {
    double sum = 0.0, sq = 0.0;
    for (int64_t s = 0; s < d.size; ++s) {
      const uint8_t* p = d.pixels.data() + (s * d.channels + c) * plane;
      for (int64_t k = 0; k < plane; ++k) {
        const double v = p[k] / 255.0;
        sum += v;
        sq += v * v;
      }
    }
    const double n = static_cast<double>(d.size) * plane;
    if (n == 0) continue;
    const double m = sum / n, var = std::max(0.0, sq / n - m * m);
    d.mean[c] = static_cast<float>(m);
    d.stddev[c] = var > 1e-12 ? static_cast<float>(std::sqrt(var)) : 1.0f;
  }
  splits.test.mean = d.mean;
  splits.test.stddev = d.stddev;
}

DataSplits LoadData(const DataOptions& options) {
  DataSplits s = DatasetRegistry().get(options.name, "data.name").value(options);
  MURMUR_CHECK(ConfigError, options.train_subset >= 0 && options.test_subset >= 0,
               "data.train_subset / data.test_subset: must be >= 0");
  s.train.truncate(options.train_subset);
  s.test.truncate(options.test_subset);
  MURMUR_CHECK(DataError,
               s.train.channels == s.test.channels && s.train.height == s.test.height &&
                   s.train.width == s.test.width && s.train.num_classes == s.test.num_classes &&
                   s.train.rank == s.test.rank && s.train.vocab == s.test.vocab,
               "dataset '", options.name, "': train samples are ", s.train.channels, "x",
               s.train.height, "x", s.train.width, " in ", s.train.num_classes,
               " classes, test samples ", s.test.channels, "x", s.test.height, "x", s.test.width,
               " in ", s.test.num_classes, " classes");
  MURMUR_CHECK(DataError, s.train.size > 0 && s.test.size > 0, "dataset '", options.name,
               "': empty train or test split");
  return s;
}

}  // namespace murmur::data
