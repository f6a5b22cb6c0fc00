// NumPy .npy header parser (format versions 1.0, 2.0 and 3.0): the magic "\x93NUMPY", a major
// and minor version byte, the header length (u16 for 1.0, u32 after), then a Python dict
// literal {'descr': '<f4', 'fortran_order': False, 'shape': (N, D), } padded with spaces and
// a newline; the array follows in C order. Parsed by hand and not trusted (fuzzed by
// fuzz/npy_fuzzer.cc); torch-free and file-free so the fuzz build compiles it alone.
#include <algorithm>
#include <limits>

#include "murmur/data/dataset.h"

namespace murmur::data {
namespace {

constexpr int64_t kMaxHeader = int64_t{1} << 20;

// The Python literal of a header dict: strings, True/False, tuples of integers.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& path) : s_(text), path_(path) {}

  NpyHeader parse() {
    NpyHeader h;
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = string();
      expect(':');
      if (key == "descr") {
        skip_space();
        if (peek() != '\'' && peek() != '"')
          fail("'descr' is not a simple dtype (structured or object arrays cannot be read)");
        h.dtype = string();
        have_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = boolean();
        have_order = true;
      } else if (key == "shape") {
        h.shape = tuple();
        have_shape = true;
      } else {
        fail("unknown header key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      skip_space();
      if (peek() != '}') fail("expected ',' or '}' in the header");
    }
    ++pos_;
    if (!have_descr || !have_order || !have_shape)
      fail("the header lacks 'descr', 'fortran_order' or 'shape'");
    skip_space();
    if (pos_ != s_.size()) fail("bytes after the header dict");
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    MURMUR_FAIL(DataError, path_, ": bad .npy header: ", what);
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t')) ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string string() {
    skip_space();
    const char q = peek();
    if (q != '\'' && q != '"') fail("expected a quoted string");
    const size_t end = s_.find(q, pos_ + 1);
    if (end == std::string_view::npos || end - pos_ > 64) fail("unterminated string");
    std::string out(s_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    skip_space();
    for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      const std::string_view w(word);
      if (s_.substr(pos_, w.size()) == w) {
        pos_ += w.size();
        return value;
      }
    }
    fail("'fortran_order' is neither True nor False");
  }
  std::vector<int64_t> tuple() {
    expect('(');
    std::vector<int64_t> dims;
    while (true) {
      skip_space();
      if (peek() == ')') break;
      if (peek() < '0' || peek() > '9') fail("a shape entry is not a non-negative integer");
      int64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (v > (std::numeric_limits<int64_t>::max() - 9) / 10) fail("a shape entry overflows");
        v = v * 10 + (s_[pos_++] - '0');
      }
      dims.push_back(v);
      if (dims.size() > 8) fail("more than 8 dimensions");
      skip_space();
      if (peek() == ',')
        ++pos_;
      else if (peek() != ')')
        fail("expected ',' or ')' in the shape");
    }
    ++pos_;
    return dims;
  }

  std::string_view s_;
  size_t pos_ = 0;
  const std::string& path_;
};

}  // namespace

int64_t NpyHeader::count() const {
  int64_t c = 1;
  for (int64_t d : shape) c *= d;
  return c;
}

NpyHeader ParseNpyHeader(std::span<const uint8_t> b, const std::string& path) {
  static constexpr uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  MURMUR_CHECK(DataError, b.size() >= 10 && std::equal(kMagic, kMagic + 6, b.begin()), path,
               ": not a .npy file (bad magic; save arrays with numpy.save)");
  const int major = b[6];
  MURMUR_CHECK(DataError, major >= 1 && major <= 3, path, ": .npy format version ", major, ".",
               int{b[7]}, " not supported (1.0 to 3.0)");
  int64_t len = 0, start = 10;
  if (major == 1) {
    len = b[8] | (b[9] << 8);
  } else {
    MURMUR_CHECK(DataError, b.size() >= 12, path, ": truncated .npy header");
    len = int64_t{b[8]} | (int64_t{b[9]} << 8) | (int64_t{b[10]} << 16) | (int64_t{b[11]} << 24);
    start = 12;
  }
  MURMUR_CHECK(DataError, len <= kMaxHeader, path, ": implausible .npy header length ", len);
  MURMUR_CHECK(DataError, static_cast<int64_t>(b.size()) >= start + len, path,
               ": truncated .npy header (", len, " bytes announced)");
  const std::string_view text(reinterpret_cast<const char*>(b.data() + start),
                              static_cast<size_t>(len));
  NpyHeader h = HeaderParser(text, path).parse();
  h.data_offset = start + len;
  MURMUR_CHECK(DataError, h.dtype != "|O" && h.dtype != "O", path,
               ": an object array (pickled Python objects) cannot be read; save a numeric array");
  MURMUR_CHECK(DataError, !h.fortran_order, path,
               ": Fortran-order arrays are not supported; save numpy.ascontiguousarray(a)");
  MURMUR_CHECK(DataError, h.dtype.size() >= 3, path, ": dtype '", h.dtype, "' not supported");
  const char order = h.dtype[0], kind = h.dtype[1];
  const std::string width = h.dtype.substr(2);
  const int size = width == "1" ? 1 : width == "2" ? 2 : width == "4" ? 4 : width == "8" ? 8 : 0;
  const bool known =
      ((kind == 'u' || kind == 'i') && size > 0) || (kind == 'f' && (size == 4 || size == 8));
  MURMUR_CHECK(DataError, known, path, ": dtype '", h.dtype,
               "' not supported (integers, float32, float64)");
  MURMUR_CHECK(DataError, order == '<' || order == '|' || (order == '=' && size > 0), path,
               ": dtype '", h.dtype, "' is big-endian; save it with .astype('<", kind, size, "')");
  h.item_size = size;
  int64_t count = 1;
  for (int64_t d : h.shape) {
    MURMUR_CHECK(DataError, d == 0 || count <= (int64_t{1} << 40) / d, path,
                 ": implausibly large array");
    count *= d;
  }
  return h;
}

}  // namespace murmur::data
