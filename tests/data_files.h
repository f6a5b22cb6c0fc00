// Tiny dataset files for tests: LEAF FEMNIST users and NumPy .npy arrays.
#pragma once

#include <string>
#include <vector>

namespace murmur::test_util {

// A FEMNIST-format user: n images whose pixels are all v, labels starting at `label`.
inline std::string FemnistUser(const std::string& name, int n, double v, int label) {
  std::string x, y;
  for (int i = 0; i < n; ++i) {
    std::string img;
    for (int k = 0; k < 784; ++k) img += (k ? "," : "") + std::to_string(v);
    x += (i ? ",[" : "[") + img + "]";
    y += (i ? "," : "") + std::to_string(label + i);
  }
  return "\"" + name + "\": {\"x\": [" + x + "], \"y\": [" + y + "]}";
}

// A .npy file: header for `descr` and `shape`, then `data`.
inline std::string Npy(const std::string& descr, const std::string& shape, const std::string& data,
                       bool fortran = false) {
  std::string h = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                  ", 'shape': " + shape + ", }";
  while ((10 + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>(h.size() >> 8);
  return out + h + data;
}

template <typename T>
inline std::string Raw(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

}  // namespace murmur::test_util
