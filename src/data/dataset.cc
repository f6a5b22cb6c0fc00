#include "murmur/data/dataset.h"

#include <filesystem>

namespace murmur::data {

void Dataset::gather(std::span<const int64_t> idx, float* out, int64_t* labels_out) const {
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
  labels.resize(n);
  labels.shrink_to_fit();
}

namespace {

std::string DefaultPath(const std::string& name) {
  if (name == "fashion_mnist") return "/usr/share/datasets/fashion-mnist";
  if (name == "mnist") return "/usr/share/datasets/mnist";
  return "data/cifar-10-batches-bin";
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
  r.add("synthetic", "seeded Gaussian mixture (data.synthetic_*), for tests and smoke runs",
        MakeSynthetic);
  return r;
}

}  // namespace

const Registry<DatasetLoader>& DatasetRegistry() {
  static const Registry<DatasetLoader> registry = MakeBuiltins();
  return registry;
}

DataSplits LoadData(const DataOptions& options) {
  DataSplits s = DatasetRegistry().get(options.name, "data.name").value(options);
  MURMUR_CHECK(ConfigError, options.train_subset >= 0 && options.test_subset >= 0,
               "data.train_subset / data.test_subset: must be >= 0");
  s.train.truncate(options.train_subset);
  s.test.truncate(options.test_subset);
  MURMUR_CHECK(DataError,
               s.train.channels == s.test.channels && s.train.height == s.test.height &&
                   s.train.width == s.test.width && s.train.num_classes == s.test.num_classes,
               "dataset '", options.name, "': train samples are ", s.train.channels, "x",
               s.train.height, "x", s.train.width, " in ", s.train.num_classes,
               " classes, test samples ", s.test.channels, "x", s.test.height, "x", s.test.width,
               " in ", s.test.num_classes, " classes");
  MURMUR_CHECK(DataError, s.train.size > 0 && s.test.size > 0, "dataset '", options.name,
               "': empty train or test split");
  return s;
}

}  // namespace murmur::data
