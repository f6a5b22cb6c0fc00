// NumPy .npy arrays as datasets (the header parser is npy_header.cc). Nothing is allocated
// before the header's shape and the file size agree.
#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

#include "murmur/data/dataset.h"

namespace murmur::data {
namespace {

static_assert(std::endian::native == std::endian::little, "the .npy reader assumes little-endian");

constexpr int64_t kMaxHeader = int64_t{1} << 20;  // as in npy_header.cc

struct NpyArray {
  NpyHeader header;
  std::vector<uint8_t> data;  // count() * item_size bytes, little-endian
};

NpyArray ReadNpy(const std::string& path) {
  MURMUR_CHECK(DataError, std::filesystem::is_regular_file(path), path, ": no such file");
  std::ifstream in(path, std::ios::binary);
  MURMUR_CHECK(IoError, in.good(), path, ": cannot open (", std::strerror(errno), ")");
  const auto size = static_cast<int64_t>(std::filesystem::file_size(path));
  // The header lies in the first kMaxHeader + 12 bytes (ParseNpyHeader's bound).
  std::vector<uint8_t> head(static_cast<size_t>(std::min(size, kMaxHeader + 12)));
  in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
  NpyArray a;
  a.header = ParseNpyHeader(head, path);
  const int64_t bytes = a.header.count() * a.header.item_size;
  MURMUR_CHECK(DataError, size - a.header.data_offset == bytes, path, ": the header describes ",
               bytes, " bytes of data but the file holds ", size - a.header.data_offset,
               " after its header (truncated, or not one array)");
  a.data.resize(static_cast<size_t>(bytes));
  in.clear();
  in.seekg(a.header.data_offset);
  in.read(reinterpret_cast<char*>(a.data.data()), static_cast<std::streamsize>(bytes));
  MURMUR_CHECK(IoError, in.gcount() == bytes, path, ": short read (", std::strerror(errno), ")");
  return a;
}

bool IsInteger(const NpyHeader& h) { return h.dtype[1] == 'i' || h.dtype[1] == 'u'; }
bool IsFloat(const NpyHeader& h) { return h.dtype[1] == 'f'; }

// Element k of an integer or float array as a double (exact for the integers in use here).
double Element(const NpyArray& a, int64_t k) {
  const uint8_t* p = a.data.data() + k * a.header.item_size;
  auto load = [p]<typename T>(T) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return static_cast<double>(v);
  };
  switch (a.header.dtype[1]) {
    case 'u':
      switch (a.header.item_size) {
        case 1:
          return load(uint8_t{});
        case 2:
          return load(uint16_t{});
        case 4:
          return load(uint32_t{});
        default:
          return load(uint64_t{});
      }
    case 'i':
      switch (a.header.item_size) {
        case 1:
          return load(int8_t{});
        case 2:
          return load(int16_t{});
        case 4:
          return load(int32_t{});
        default:
          return load(int64_t{});
      }
    default:
      return a.header.item_size == 4 ? load(float{}) : load(double{});
  }
}

// Integer values of a 1-D array in [0, limit); `what` names them in errors.
std::vector<int64_t> IntegerValues(const NpyArray& a, const std::string& path, int64_t n,
                                   const char* what, int64_t limit) {
  const NpyHeader& h = a.header;
  MURMUR_CHECK(DataError, IsInteger(h), path, ": ", what, " must be integers, not dtype ", h.dtype);
  MURMUR_CHECK(DataError, h.shape.size() == 1 && h.shape[0] == n, path, ": expected shape (", n,
               ",) (one ", what, " per sample), got ", h.shape.size(), " dimensions");
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    const double v = Element(a, k);
    MURMUR_CHECK(DataError, v >= 0 && v < static_cast<double>(limit), path, ": ", what, " ",
                 static_cast<int64_t>(v), " at index ", k, " outside [0, ", limit, ")");
    out[k] = static_cast<int64_t>(v);
  }
  return out;
}

Dataset DatasetFromArrays(const std::string& xpath, NpyArray x, const std::string& ypath,
                          const NpyArray& y) {
  const NpyHeader& h = x.header;
  MURMUR_CHECK(DataError, h.shape.size() >= 2 && h.shape.size() <= 4, xpath,
               ": expected shape (N, D), (N, H, W) or (N, C, H, W), got ", h.shape.size(),
               " dimensions");
  Dataset d;
  d.name = "npy";
  d.size = h.shape[0];
  MURMUR_CHECK(DataError, d.size > 0, xpath, ": no samples");
  for (size_t k = 1; k < h.shape.size(); ++k)
    MURMUR_CHECK(DataError, h.shape[k] > 0 && h.shape[k] < (int64_t{1} << 24), xpath,
                 ": dimension ", k, " has size ", h.shape[k]);
  if (h.shape.size() == 2) {
    d.rank = 1;
    d.width = static_cast<int>(h.shape[1]);
  } else {
    d.channels = h.shape.size() == 4 ? static_cast<int>(h.shape[1]) : 1;
    d.height = static_cast<int>(h.shape[h.shape.size() - 2]);
    d.width = static_cast<int>(h.shape.back());
  }
  const int64_t n = d.size * d.sample_dim();
  if (h.dtype == "|u1") {
    d.pixels = std::move(x.data);
  } else if (IsFloat(h)) {
    d.features.resize(static_cast<size_t>(n));
    if (h.item_size == 4)
      std::memcpy(d.features.data(), x.data.data(), x.data.size());
    else
      for (int64_t k = 0; k < n; ++k) d.features[k] = static_cast<float>(Element(x, k));
    for (int64_t k = 0; k < n; ++k)
      MURMUR_CHECK(DataError, std::isfinite(d.features[k]), xpath, ": value at flat index ", k,
                   " is not finite");
  } else if (IsInteger(h)) {
    MURMUR_CHECK(DataError, h.shape.size() == 2, xpath,
                 ": integer x are token sequences and must have shape (N, L); uint8 images "
                 "are read as pixels");
    d.tokens.resize(static_cast<size_t>(n));
    int64_t top = 0;
    for (int64_t k = 0; k < n; ++k) {
      const double v = Element(x, k);
      MURMUR_CHECK(DataError, v >= 0 && v < 65536, xpath, ": token ", static_cast<int64_t>(v),
                   " at flat index ", k, " outside [0, 65536)");
      d.tokens[k] = static_cast<uint16_t>(v);
      top = std::max(top, static_cast<int64_t>(v));
    }
    d.vocab = static_cast<int>(top + 1);
  } else {
    MURMUR_FAIL(DataError, xpath, ": dtype ", h.dtype,
                " not supported (uint8 images, float32/float64 features, integer tokens)");
  }
  const std::vector<int64_t> labels = IntegerValues(y, ypath, d.size, "label", 65536);
  d.labels.assign(labels.begin(), labels.end());
  for (int64_t v : labels) d.num_classes = std::max<int>(d.num_classes, static_cast<int>(v) + 1);
  return d;
}

}  // namespace

DataSplits LoadNpyDir(const std::string& dir) {
  namespace fs = std::filesystem;
  MURMUR_CHECK(DataError, fs::is_directory(dir), "data.path '", dir,
               "': not a directory (npy needs train_x.npy, train_y.npy, test_x.npy, test_y.npy)");
  auto file = [&](const char* name) { return (fs::path(dir) / name).string(); };
  std::string missing;
  for (const char* name : {"train_x.npy", "train_y.npy", "test_x.npy", "test_y.npy"})
    if (!fs::exists(file(name))) missing += (missing.empty() ? "" : ", ") + std::string(name);
  MURMUR_CHECK(DataError, missing.empty(), "data.path '", dir, "': missing ", missing,
               " (npy reads train_x.npy, train_y.npy, test_x.npy and test_y.npy)");
  auto load = [&](const char* xname, const char* yname) {
    NpyArray x = ReadNpy(file(xname));  // x first: its errors come first
    return DatasetFromArrays(file(xname), std::move(x), file(yname), ReadNpy(file(yname)));
  };
  DataSplits s{load("train_x.npy", "train_y.npy"), load("test_x.npy", "test_y.npy")};
  // One class count and vocabulary for both splits: the largest seen in either.
  const int classes = std::max(s.train.num_classes, s.test.num_classes);
  s.train.num_classes = s.test.num_classes = classes;
  MURMUR_CHECK(DataError, classes >= 2, "data.path '", dir,
               "': train_y.npy and test_y.npy hold fewer than 2 classes");
  MURMUR_CHECK(DataError, (s.train.vocab > 0) == (s.test.vocab > 0), "data.path '", dir,
               "': train_x.npy and test_x.npy must both be tokens (integers) or neither");
  s.train.vocab = s.test.vocab = std::max(s.train.vocab, s.test.vocab);
  MURMUR_CHECK(DataError, s.train.pixels.empty() == s.test.pixels.empty(), "data.path '", dir,
               "': train_x.npy and test_x.npy must both be uint8 or neither");
  UseTrainingPixelStatistics(s);
  const std::string owner = file("train_owner.npy");
  if (fs::exists(owner)) {
    const std::vector<int64_t> ids = IntegerValues(ReadNpy(owner), owner, s.train.size, "owner",
                                                   std::numeric_limits<int32_t>::max());
    std::map<int64_t, int32_t> index;  // user id -> position in users
    for (int64_t id : ids) index.emplace(id, 0);
    for (auto& [id, k] : index) {
      k = static_cast<int32_t>(s.train.users.size());
      s.train.users.push_back(std::to_string(id));
    }
    s.train.owners.reserve(ids.size());
    for (int64_t id : ids) s.train.owners.push_back(index.at(id));
  }
  return s;
}

}  // namespace murmur::data
