// CIFAR-10 binary version: each record is 1 label byte then 3072 pixel bytes (R, G, B planes
// of 32x32), 10000 records per file. CIFAR-100 binary version: 2 label bytes (coarse, fine)
// then the same 3072 pixel bytes; train.bin holds 50000 records, test.bin 10000.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "murmur/data/dataset.h"

namespace murmur::data {

namespace {

constexpr int64_t kPixels = 3 * 32 * 32;

// Records of `label_bytes` label bytes then the pixels; the label used is byte `label`, in
// [0, classes).
Dataset ReadCifarRecords(const std::vector<std::string>& files, const std::string& name,
                         int label_bytes, int label, int classes) {
  const int64_t kRecord = label_bytes + kPixels;
  Dataset d;
  d.name = name;
  d.channels = 3;
  d.height = d.width = 32;
  d.num_classes = classes;
  if (name == "cifar10") {
    d.mean = {0.4914f, 0.4822f, 0.4465f};
    d.stddev = {0.2470f, 0.2435f, 0.2616f};
  } else {
    d.mean = {0.5071f, 0.4865f, 0.4409f};
    d.stddev = {0.2673f, 0.2564f, 0.2762f};
  }
  // One allocation for all files: growing file by file would hold old and new copies at once.
  int64_t total = 0;
  for (const std::string& path : files)
    if (std::filesystem::exists(path))
      total += static_cast<int64_t>(std::filesystem::file_size(path));
  d.pixels.reserve(total / kRecord * kPixels);
  d.labels.reserve(total / kRecord);
  for (const std::string& path : files) {
    MURMUR_CHECK(DataError, std::filesystem::exists(path), path, ": no such file");
    const auto bytes = static_cast<int64_t>(std::filesystem::file_size(path));
    MURMUR_CHECK(DataError, bytes > 0 && bytes % kRecord == 0, path, ": size ", bytes,
                 " is not a positive multiple of the ", kRecord, "-byte ", name,
                 " record (truncated or not the ", name, " binary version)");
    std::ifstream in(path, std::ios::binary);
    MURMUR_CHECK(IoError, in.good(), path, ": cannot open (", std::strerror(errno), ")");
    std::vector<uint8_t> buf(bytes);
    in.read(reinterpret_cast<char*>(buf.data()), bytes);
    MURMUR_CHECK(IoError, in.gcount() == bytes, path, ": short read (", in.gcount(), " of ", bytes,
                 " bytes: ", std::strerror(errno), ")");
    const int64_t n = bytes / kRecord;
    for (int64_t r = 0; r < n; ++r) {
      const uint8_t* rec = buf.data() + r * kRecord;
      MURMUR_CHECK(DataError, rec[label] < classes, path, ": record ", r, " has label ",
                   int{rec[label]}, " outside [0, ", classes, ")");
      d.labels.push_back(rec[label]);
      d.pixels.insert(d.pixels.end(), rec + label_bytes, rec + kRecord);
    }
    d.size += n;
  }
  return d;
}

}  // namespace

Dataset ReadCifarBatches(const std::vector<std::string>& files) {
  return ReadCifarRecords(files, "cifar10", 1, 0, 10);
}

DataSplits LoadCifar100(const std::string& dir, bool fine) {
  namespace fs = std::filesystem;
  fs::path base = dir;
  if (!fs::exists(base / "test.bin") && fs::exists(base / "cifar-100-binary"))
    base /= "cifar-100-binary";
  MURMUR_CHECK(DataError, fs::is_directory(base), "data.path '", dir,
               "': not a directory; point it at the extracted cifar-100-binary");
  for (const char* f : {"train.bin", "test.bin"})
    MURMUR_CHECK(DataError, fs::exists(base / f), "data.path '", base.string(), "': missing ", f,
                 " (the CIFAR-100 binary version has train.bin and test.bin)");
  const int label = fine ? 1 : 0, classes = fine ? 100 : 20;
  return DataSplits{
      ReadCifarRecords({(base / "train.bin").string()}, "cifar100", 2, label, classes),
      ReadCifarRecords({(base / "test.bin").string()}, "cifar100", 2, label, classes)};
}

DataSplits LoadCifar10(const std::string& dir) {
  std::string base = dir;
  if (!std::filesystem::exists(std::filesystem::path(base) / "test_batch.bin") &&
      std::filesystem::exists(std::filesystem::path(base) / "cifar-10-batches-bin"))
    base = (std::filesystem::path(base) / "cifar-10-batches-bin").string();
  MURMUR_CHECK(DataError, std::filesystem::is_directory(base), "data.path '", dir,
               "': not a directory; point it at the extracted cifar-10-batches-bin");
  // All five training batches: with one missing a run would train on 4/5 of the data.
  std::vector<std::string> train, missing;
  for (int i = 1; i <= 5; ++i) {
    auto p = std::filesystem::path(base) / ("data_batch_" + std::to_string(i) + ".bin");
    if (std::filesystem::exists(p))
      train.push_back(p.string());
    else
      missing.push_back(p.filename().string());
  }
  std::string names;
  for (const std::string& m : missing) names += (names.empty() ? "" : ", ") + m;
  MURMUR_CHECK(DataError, missing.empty(), "data.path '", base, "': missing ", names,
               " (the CIFAR-10 binary version has data_batch_1.bin to data_batch_5.bin and "
               "test_batch.bin)");
  return DataSplits{ReadCifarBatches(train),
                    ReadCifarBatches({(std::filesystem::path(base) / "test_batch.bin").string()})};
}

}  // namespace murmur::data
