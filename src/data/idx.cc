// IDX reader (the MNIST file format): magic 0x0000 08 NN (unsigned byte, NN dimensions),
// NN big-endian u32 sizes, then the data. Files may be gzip-compressed; zlib reads both.
#include <zlib.h>

#include <filesystem>

#include "murmur/data/dataset.h"

namespace murmur::data {
namespace {

class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path) {
    MURMUR_CHECK(DataError, std::filesystem::exists(path), path, ": no such file");
    f_ = gzopen(path.c_str(), "rb");
    MURMUR_CHECK(IoError, f_ != nullptr, path, ": cannot open");
    gzbuffer(f_, 1 << 18);
  }
  ~GzFile() {
    if (f_) gzclose(f_);
  }
  // Reads exactly n bytes; `what` names the field for the error.
  void read(void* dst, size_t n, const char* what) {
    auto* p = static_cast<uint8_t*>(dst);
    while (n > 0) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n, 1u << 30));
      const int got = gzread(f_, p, chunk);
      if (got < 0) {
        int err = 0;
        const char* msg = gzerror(f_, &err);
        MURMUR_FAIL(DataError, path_, ": corrupt compressed data while reading ", what, " (", msg,
                    ")");
      }
      MURMUR_CHECK(DataError, got > 0, path_, ": truncated while reading ", what);
      p += got;
      n -= static_cast<size_t>(got);
    }
  }
  bool at_end() {
    uint8_t b;
    return gzread(f_, &b, 1) == 0;
  }

 private:
  std::string path_;
  gzFile f_ = nullptr;
};

std::string FindFile(const std::string& dir, const std::string& stem) {
  for (const std::string& name : {stem + ".gz", stem}) {
    const auto p = std::filesystem::path(dir) / name;
    if (std::filesystem::exists(p)) return p.string();
  }
  MURMUR_FAIL(DataError, "data.path '", dir, "': neither ", stem, " nor ", stem, ".gz found there");
}

}  // namespace

IdxArray ReadIdx(const std::string& path) {
  GzFile f(path);
  uint8_t magic[4];
  f.read(magic, 4, "the magic number");
  MURMUR_CHECK(DataError, magic[0] == 0 && magic[1] == 0, path,
               ": not an IDX file (bad magic number)");
  MURMUR_CHECK(DataError, magic[2] == 0x08, path, ": IDX element type 0x", std::hex, int{magic[2]},
               " not supported (only unsigned bytes, 0x08)");
  const int ndim = magic[3];
  MURMUR_CHECK(DataError, ndim >= 1 && ndim <= 4, path, ": IDX with ", ndim,
               " dimensions not supported (1 to 4)");
  IdxArray a;
  int64_t total = 1;
  for (int i = 0; i < ndim; ++i) {
    uint8_t b[4];
    f.read(b, 4, "the dimension sizes");
    const int64_t d = (int64_t{b[0]} << 24) | (int64_t{b[1]} << 16) | (int64_t{b[2]} << 8) | b[3];
    MURMUR_CHECK(DataError, d > 0 && d < (int64_t{1} << 28), path, ": dimension ", i,
                 " has implausible size ", d);
    a.dims.push_back(d);
    total *= d;
    MURMUR_CHECK(DataError, total < (int64_t{1} << 34), path, ": implausibly large array");
  }
  a.data.resize(total);
  f.read(a.data.data(), a.data.size(), "the data");
  MURMUR_CHECK(DataError, f.at_end(), path, ": trailing bytes after ", total, " elements");
  return a;
}

DataSplits LoadIdxDir(const std::string& name, const std::string& dir) {
  MURMUR_CHECK(DataError, std::filesystem::is_directory(dir), "data.path '", dir,
               "': not a directory (", name, " needs the four IDX files there)");
  auto load = [&](const std::string& prefix) {
    const std::string ipath = FindFile(dir, prefix + "-images-idx3-ubyte");
    const std::string lpath = FindFile(dir, prefix + "-labels-idx1-ubyte");
    IdxArray im = ReadIdx(ipath), lb = ReadIdx(lpath);
    MURMUR_CHECK(DataError, im.dims.size() == 3, ipath, ": expected 3 dimensions, got ",
                 im.dims.size());
    MURMUR_CHECK(DataError, lb.dims.size() == 1, lpath, ": expected 1 dimension, got ",
                 lb.dims.size());
    MURMUR_CHECK(DataError, im.dims[0] == lb.dims[0], ipath, " has ", im.dims[0], " images but ",
                 lpath, " has ", lb.dims[0], " labels");
    Dataset d;
    d.name = name;
    d.size = im.dims[0];
    d.channels = 1;
    d.height = static_cast<int>(im.dims[1]);
    d.width = static_cast<int>(im.dims[2]);
    d.num_classes = 10;
    d.pixels = std::move(im.data);
    d.labels = std::move(lb.data);
    for (int64_t i = 0; i < d.size; ++i)
      MURMUR_CHECK(DataError, d.labels[i] < 10, lpath, ": label ", int{d.labels[i]}, " at index ",
                   i, " outside [0, 10)");
    if (name == "mnist") {
      d.mean = {0.1307f};
      d.stddev = {0.3081f};
    } else {
      d.mean = {0.2860f};
      d.stddev = {0.3530f};
    }
    return d;
  };
  return DataSplits{load("train"), load("t10k")};
}

}  // namespace murmur::data
