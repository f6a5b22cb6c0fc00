// libFuzzer target for the .npy header parser (data.name = npy reads files a user hands it).
// Any exception other than murmur::Error, and any sanitizer report, is a finding; a header
// that parses must describe a size that cannot overflow.
#include <cstddef>
#include <cstdint>
#include <span>

#include "murmur/core/check.h"
#include "murmur/data/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const murmur::data::NpyHeader h =
        murmur::data::ParseNpyHeader(std::span<const uint8_t>(data, size), "fuzz.npy");
    const int64_t bytes = h.count() * h.item_size;
    if (bytes < 0 || h.data_offset > static_cast<int64_t>(size)) __builtin_trap();
  } catch (const murmur::Error&) {
  }
  return 0;
}
