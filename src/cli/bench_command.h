// `murmur bench compress`: the compression benchmark on the user's machine.
#pragma once

#include <cstddef>
#include <vector>

namespace murmur::cli {

// Prints a table (or JSON with --json) of every compression operator against memcpy for each
// n, then the encoded index sizes against the entropy bound. Returns the exit code.
int BenchCompress(const std::vector<size_t>& sizes, bool json, double min_seconds);

}  // namespace murmur::cli
