#include "bench_command.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "murmur/compress/bench.h"

namespace murmur::cli {

int BenchCompress(const std::vector<size_t>& sizes, bool json, double min_seconds) {
  nlohmann::ordered_json out;
  out["operators"] = nlohmann::json::array();
  out["index_codecs"] = nlohmann::json::array();
  if (!json)
    std::printf("%-32s %10s %12s %12s %7s %7s\n", "operator", "n", "seconds", "memcpy_s", "ratio",
                "target");
  for (size_t n : sizes) {
    for (const compress::OpResult& r : compress::RunCompressBench(n, min_seconds)) {
      const double ratio = r.seconds / r.memcpy_seconds;
      out["operators"].push_back({{"name", r.name},
                                  {"n", r.n},
                                  {"seconds", r.seconds},
                                  {"memcpy_seconds", r.memcpy_seconds},
                                  {"ratio", ratio},
                                  {"target_ratio", r.target_ratio}});
      if (!json) {
        std::printf("%-32s %10zu %12.6f %12.6f %7.2f %6.0fx%s\n", r.name.c_str(), r.n, r.seconds,
                    r.memcpy_seconds, ratio, r.target_ratio,
                    ratio <= r.target_ratio ? "" : "  (above target)");
        std::fflush(stdout);
      }
    }
  }
  if (!json)
    std::printf("\n%-18s %10s %9s %12s %14s %7s\n", "index codec", "n", "k", "bytes",
                "entropy_bytes", "ratio");
  for (const compress::IndexCodecResult& r : compress::IndexSizes(sizes.back())) {
    const double ratio = r.bytes / r.entropy_bound_bytes;
    out["index_codecs"].push_back({{"codec", r.codec},
                                   {"n", r.n},
                                   {"k", r.k},
                                   {"k_over_n", static_cast<double>(r.k) / r.n},
                                   {"bytes", r.bytes},
                                   {"entropy_bound_bytes", r.entropy_bound_bytes},
                                   {"ratio", ratio}});
    if (!json)
      std::printf("%-18s %10zu %9zu %12zu %14.0f %7.3f\n", r.codec.c_str(), r.n, r.k, r.bytes,
                  r.entropy_bound_bytes, ratio);
  }
  if (json) std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace murmur::cli
