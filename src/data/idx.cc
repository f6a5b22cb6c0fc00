// IDX reader (the MNIST file format): magic 0x0000 08 NN (unsigned byte, NN dimensions),
// NN big-endian u32 sizes, then the data. Files may be gzip-compressed; zlib reads both.
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "murmur/data/dataset.h"

namespace murmur::data {
namespace {

class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path) {
    MURMUR_CHECK(DataError, std::filesystem::exists(path), path, ": no such file");
    f_ = gzopen(path.c_str(), "rb");
    MURMUR_CHECK(IoError, f_ != nullptr, path, ": cannot open (", std::strerror(errno), ")");
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
      if (got == 0) check_stream_end();
      MURMUR_CHECK(DataError, got > 0, path_, ": truncated while reading ", what);
      p += got;
      n -= static_cast<size_t>(got);
    }
  }
  bool at_end() {
    uint8_t b;
    const int got = gzread(f_, &b, 1);
    if (got <= 0) check_stream_end();
    return got == 0;
  }
  // Whether the file is stored uncompressed (known after the first read).
  bool direct() { return gzdirect(f_) != 0; }

 private:
  // At the end of the input: a gzip stream must have ended with its trailer, whose CRC and
  // length zlib then checked (a missing trailer reads as Z_BUF_ERROR, a bad CRC as an error).
  void check_stream_end() {
    int err = Z_OK;
    const char* msg = gzerror(f_, &err);
    MURMUR_CHECK(DataError, err != Z_BUF_ERROR, path_,
                 ": the gzip stream ends without its trailer (truncated; its CRC cannot be "
                 "checked)");
    MURMUR_CHECK(DataError, err == Z_OK, path_, ": corrupt compressed data (", msg, ")");
  }

  std::string path_;
  gzFile f_ = nullptr;
};

// "28x28".
std::string ShapeText(const std::vector<int64_t>& dims) {
  std::string s;
  for (int64_t d : dims) {
    if (!s.empty()) s += 'x';
    s += std::to_string(d);
  }
  return s;
}

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
  // The header is not trusted with an allocation: an uncompressed file must hold exactly what
  // it claims, and a compressed one is read in growing chunks, so a false claim costs at most
  // about twice the data that is really there.
  const int64_t header = 4 + 4 * int64_t{ndim};
  if (f.direct()) {
    std::error_code ec;
    const auto bytes = static_cast<int64_t>(std::filesystem::file_size(path, ec));
    MURMUR_CHECK(DataError, ec || bytes - header >= total, path,
                 ": truncated while reading the data: the header claims ", total,
                 " bytes of data (dimensions ", ShapeText(a.dims), ") but the file holds ",
                 bytes - header);
  }
  constexpr int64_t kFirstChunk = int64_t{1} << 20;
  while (static_cast<int64_t>(a.data.size()) < total) {
    const int64_t have = static_cast<int64_t>(a.data.size());
    const int64_t chunk = std::min(total - have, std::max(have, kFirstChunk));
    a.data.resize(static_cast<size_t>(have + chunk));
    f.read(a.data.data() + have, static_cast<size_t>(chunk), "the data");
  }
  MURMUR_CHECK(DataError, f.at_end(), path, ": trailing bytes after ", total, " elements");
  return a;
}

DataSplits LoadIdxDir(const std::string& name, const std::string& dir) {
  MURMUR_CHECK(DataError, std::filesystem::is_directory(dir), "data.path '", dir,
               "': not a directory (", name, " needs the four IDX files there)");
  std::string first_images;
  std::vector<int64_t> first_shape;
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
    // Train and test images must have one shape, not only one pixel count.
    const std::vector<int64_t> shape(im.dims.begin() + 1, im.dims.end());
    if (first_images.empty()) {
      first_images = ipath;
      first_shape = shape;
    }
    MURMUR_CHECK(DataError, shape == first_shape, ipath, " holds images of ", ShapeText(shape),
                 " but ", first_images, " holds images of ", ShapeText(first_shape));
    Dataset d;
    d.name = name;
    d.size = im.dims[0];
    d.channels = 1;
    d.height = static_cast<int>(im.dims[1]);
    d.width = static_cast<int>(im.dims[2]);
    d.num_classes = 10;
    d.pixels = std::move(im.data);
    d.labels.assign(lb.data.begin(), lb.data.end());
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
