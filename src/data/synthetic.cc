// Synthetic Gaussian mixture: class c has mean mu_c ~ N(0, separation^2 I) in side^2
// dimensions; a sample of class c is mu_c + N(0, I). Shaped as 1 x side x side images so
// every model accepts it. Train and test share the means and draw samples from separate
// streams.
#include <cmath>

#include "murmur/core/rng.h"
#include "murmur/data/dataset.h"

namespace murmur::data {

DataSplits MakeSynthetic(const DataOptions& o) {
  MURMUR_CHECK(ConfigError, o.synthetic_classes >= 2 && o.synthetic_classes <= 256,
               "data.synthetic_classes: must be in [2, 256], got ", o.synthetic_classes);
  MURMUR_CHECK(ConfigError, o.synthetic_side >= 1 && o.synthetic_side <= 256,
               "data.synthetic_side: must be in [1, 256], got ", o.synthetic_side);
  MURMUR_CHECK(ConfigError, o.synthetic_train > 0 && o.synthetic_test > 0,
               "data.synthetic_train / data.synthetic_test: must be > 0");
  const int dim = o.synthetic_side * o.synthetic_side;
  Rng mean_rng(o.seed, 0, Stream::kData);
  std::vector<float> means(static_cast<size_t>(o.synthetic_classes) * dim);
  for (float& m : means) m = static_cast<float>(o.synthetic_separation * mean_rng.normal());
  auto make = [&](int64_t n, uint64_t stream_node) {
    Rng rng(o.seed, stream_node, Stream::kData);
    Dataset d;
    d.name = "synthetic";
    d.size = n;
    d.channels = 1;
    d.height = d.width = o.synthetic_side;
    d.num_classes = o.synthetic_classes;
    d.features.resize(n * dim);
    d.labels.resize(n);
    for (int64_t i = 0; i < n; ++i) {
      const int c = static_cast<int>(i % o.synthetic_classes);
      d.labels[i] = static_cast<uint16_t>(c);
      for (int k = 0; k < dim; ++k)
        d.features[i * dim + k] = means[c * dim + k] + static_cast<float>(rng.normal());
    }
    return d;
  };
  return DataSplits{make(o.synthetic_train, 1), make(o.synthetic_test, 2)};
}

}  // namespace murmur::data
