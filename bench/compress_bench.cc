// Google Benchmark view of the compression operators (the same ones `murmur bench compress`
// times), each with a memcpy of the same n floats registered beside it.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <vector>

#include "murmur/compress/bench.h"

int main(int argc, char** argv) {
  for (size_t n : {size_t{100000}, size_t{1000000}, size_t{10000000}}) {
    auto src = std::make_shared<std::vector<float>>(n, 1.0f);
    auto dst = std::make_shared<std::vector<float>>(n);
    benchmark::RegisterBenchmark(("memcpy/" + std::to_string(n)).c_str(),
                                 [src, dst, n](benchmark::State& st) {
                                   for (auto _ : st) {
                                     std::memcpy(dst->data(), src->data(), n * 4);
                                     benchmark::DoNotOptimize(dst->data());
                                   }
                                   st.SetBytesProcessed(st.iterations() * n * 4);
                                 });
    for (auto& op : murmur::compress::CompressBenchOps(n)) {
      auto run = op.run;
      benchmark::RegisterBenchmark((op.name + "/" + std::to_string(n)).c_str(),
                                   [run, n](benchmark::State& st) {
                                     for (auto _ : st) run();
                                     st.SetBytesProcessed(st.iterations() * n * 4);
                                   });
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
