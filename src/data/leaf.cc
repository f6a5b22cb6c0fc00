// LEAF (Caldas et al. 2018) JSON reader. A LEAF file is
//   {"users": [...], "num_samples": [...], "user_data": {"<user>": {"x": [...], "y": [...]}}}
// (other top-level keys, e.g. "hierarchies", are skipped). Files are read with nlohmann's SAX
// interface, one value at a time, straight into the compact arrays of a Dataset: FEMNIST's
// 784 floats in [0, 1] per image become 784 bytes (round(255 v)), Shakespeare's 80-character
// strings become 80 token ids. A full FEMNIST (~800k images) thus takes ~630 MB, not the
// gigabytes of its JSON text or of a document tree.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "murmur/data/dataset.h"

namespace murmur::data {

const std::string_view kLeafLetters =
    "\n !\"&'(),-.0123456789:;>?ABCDEFGHIJKLMNOPQRSTUVWXYZ[]abcdefghijklmnopqrstuvwxyz}";

namespace {

struct Task {
  bool images = true;  // femnist: x are 784 pixel values; shakespeare: x are strings
  int classes = 62;
};

Task ParseTask(const std::string& task) {
  if (task == "femnist") return {true, 62};
  if (task == "shakespeare") return {false, static_cast<int>(kLeafLetters.size())};
  MURMUR_FAIL(ConfigError, "data.task: '", task, "' is not one of femnist, shakespeare");
}

// Builds the Dataset while nlohmann's parser walks one file. Depth 1 is the top-level object,
// 2 user_data, 3 one user's object, 4 its x or y array, 5 one FEMNIST image.
class LeafReader : public nlohmann::json::json_sax_t {
 public:
  LeafReader(Dataset& d, Task task, std::map<std::string, int32_t>& user_index)
      : d_(d), task_(task), user_index_(user_index) {}

  void start_file(const std::string& path) {
    path_ = path;
    depth_ = 0;
    in_user_data_ = false;
  }

  bool null() override { return value_error("null"); }
  bool boolean(bool) override { return value_error("a boolean"); }
  bool number_integer(number_integer_t v) override { return number(static_cast<double>(v)); }
  bool number_unsigned(number_unsigned_t v) override { return number(static_cast<double>(v)); }
  bool number_float(number_float_t v, const string_t&) override { return number(v); }
  bool string(string_t& s) override {
    if (!in_field()) return true;
    if (field_ == 'y') {
      MURMUR_CHECK(DataError, !task_.images && s.size() == 1, where(),
                   task_.images ? ": a label is a string; femnist labels are integers"
                                : ": a label is not one character");
      d_.labels.push_back(Letter(s[0]));
      ++user_y_;
      return true;
    }
    MURMUR_CHECK(DataError, !task_.images, where(),
                 ": a sample is a string; femnist samples are arrays of 784 pixel values");
    if (d_.width == 1 && d_.tokens.empty()) d_.width = static_cast<int>(s.size());
    MURMUR_CHECK(DataError, static_cast<int64_t>(s.size()) == d_.width && !s.empty(), where(),
                 ": a sample of ", s.size(), " characters; the others have ", d_.width);
    for (char c : s) d_.tokens.push_back(Letter(c));
    add_sample();
    return true;
  }
  bool binary(binary_t&) override { return value_error("binary data"); }
  bool start_object(std::size_t) override {
    ++depth_;
    if (depth_ == 2 && key_ == "user_data") in_user_data_ = true;
    if (in_user_data_ && depth_ == 3) {
      user_x_ = user_y_ = 0;
      auto [it, fresh] = user_index_.emplace(user_, static_cast<int32_t>(user_index_.size()));
      if (fresh) d_.users.push_back(user_);
      owner_ = it->second;
    }
    return true;
  }
  bool end_object() override {
    if (in_user_data_ && depth_ == 3)
      MURMUR_CHECK(DataError, user_x_ == user_y_, path_, ": user '", user_, "' has ", user_x_,
                   " samples (x) but ", user_y_, " labels (y)");
    if (depth_ == 2) in_user_data_ = false;
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    ++depth_;
    if (in_field() && depth_ == 5) {
      MURMUR_CHECK(DataError, task_.images && field_ == 'x', where(), ": unexpected nested array (",
                   task_.images ? "femnist labels are integers" : "shakespeare samples are strings",
                   ")");
      pixels_in_sample_ = 0;
    }
    MURMUR_CHECK(DataError, !in_field() || depth_ <= 5, where(), ": arrays nested too deeply");
    return true;
  }
  bool end_array() override {
    if (in_field() && depth_ == 5) {
      MURMUR_CHECK(DataError, pixels_in_sample_ == 784, where(), ": an image of ",
                   pixels_in_sample_, " values; femnist images have 28x28 = 784");
      add_sample();
    }
    --depth_;
    return true;
  }
  bool key(string_t& k) override {
    if (depth_ == 1) key_ = k;
    if (in_user_data_ && depth_ == 2) user_ = k;
    if (in_user_data_ && depth_ == 3) {
      MURMUR_CHECK(DataError, k == "x" || k == "y", path_, ": user '", user_, "' has key '", k,
                   "'; LEAF users have x and y");
      field_ = k[0];
    }
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    MURMUR_FAIL(DataError, path_, ": not valid JSON at byte ", position, " (", e.what(), ")");
  }

 private:
  // Inside a user's x or y array (depth 4 and deeper).
  bool in_field() const { return in_user_data_ && depth_ >= 4; }
  std::string where() const { return path_ + ": user '" + user_ + "'"; }
  bool value_error(const char* what) {
    MURMUR_CHECK(DataError, !in_field(), where(), ": ", what, " in ", field_ == 'x' ? "x" : "y");
    return true;
  }
  uint16_t Letter(char c) const {
    const size_t k = kLeafLetters.find(c);
    MURMUR_CHECK(DataError, k != std::string_view::npos, where(), ": character code ",
                 static_cast<int>(static_cast<unsigned char>(c)),
                 " is not in LEAF's 80-letter Shakespeare alphabet");
    return static_cast<uint16_t>(k);
  }
  bool number(double v) {
    if (!in_field()) return true;
    if (field_ == 'y') {
      MURMUR_CHECK(DataError, task_.images, where(),
                   ": a label is a number; shakespeare labels are characters");
      MURMUR_CHECK(DataError, v >= 0 && v < task_.classes && v == std::floor(v), where(),
                   ": label ", v, " outside the ", task_.classes, " classes");
      d_.labels.push_back(static_cast<uint16_t>(v));
      ++user_y_;
      return true;
    }
    MURMUR_CHECK(DataError, depth_ == 5, where(), ": a number directly in x");
    MURMUR_CHECK(DataError, v >= 0.0 && v <= 1.0, where(), ": pixel value ", v, " outside [0, 1]");
    MURMUR_CHECK(DataError, ++pixels_in_sample_ <= 784, where(),
                 ": an image of more than 784 values");
    d_.pixels.push_back(static_cast<uint8_t>(std::lround(v * 255.0)));
    return true;
  }
  void add_sample() {
    d_.owners.push_back(owner_);
    ++d_.size;
    ++user_x_;
  }

  Dataset& d_;
  Task task_;
  std::map<std::string, int32_t>& user_index_;
  std::string path_, key_, user_;
  int depth_ = 0;
  bool in_user_data_ = false;
  char field_ = 0;
  int32_t owner_ = 0;
  int64_t user_x_ = 0, user_y_ = 0;
  int pixels_in_sample_ = 0;
};

std::vector<std::string> JsonFiles(const std::filesystem::path& dir, const std::string& root) {
  MURMUR_CHECK(DataError, std::filesystem::is_directory(dir), "data.path '", root, "': no ",
               dir.filename().string(), "/ directory (LEAF data has train/ and test/)");
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  MURMUR_CHECK(DataError, !files.empty(), dir.string(), ": no .json files");
  return files;
}

}  // namespace

Dataset ReadLeafFiles(const std::vector<std::string>& files, const std::string& task_name) {
  const Task task = ParseTask(task_name);
  Dataset d;
  d.name = "leaf-" + task_name;
  d.num_classes = task.classes;
  if (task.images) {
    d.height = d.width = 28;
  } else {
    d.rank = 1;
    d.vocab = task.classes;
  }
  std::map<std::string, int32_t> user_index;
  LeafReader reader(d, task, user_index);
  for (const std::string& path : files) {
    std::ifstream in(path, std::ios::binary);
    MURMUR_CHECK(DataError, in.good(), path, ": cannot open");
    reader.start_file(path);
    nlohmann::json::sax_parse(in, &reader);
  }
  MURMUR_CHECK(DataError, static_cast<int64_t>(d.labels.size()) == d.size, files.front(), ": ",
               d.size, " samples but ", d.labels.size(), " labels");
  return d;
}

DataSplits LoadLeaf(const std::string& dir, const std::string& task) {
  namespace fs = std::filesystem;
  MURMUR_CHECK(DataError, fs::is_directory(dir), "data.path '", dir,
               "': not a directory (LEAF data has train/ and test/ of .json files)");
  DataSplits s{ReadLeafFiles(JsonFiles(fs::path(dir) / "train", dir), task),
               ReadLeafFiles(JsonFiles(fs::path(dir) / "test", dir), task)};
  MURMUR_CHECK(DataError, s.train.width == s.test.width, "data.path '", dir,
               "': train samples have ", s.train.width, " characters, test samples ", s.test.width);
  UseTrainingPixelStatistics(s);
  s.test.owners.clear();  // evaluation uses the whole test set
  s.test.users.clear();
  return s;
}

}  // namespace murmur::data
