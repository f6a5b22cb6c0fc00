// Kernels on the exchange path, each reported next to a memcpy of the same bytes.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "murmur/algo/kernels.h"
#include "murmur/comm/frame.h"

namespace {

using namespace murmur;

void BM_Memcpy(benchmark::State& state) {
  const size_t n = state.range(0);
  std::vector<float> a(n, 1.0f), b(n);
  for (auto _ : state) {
    std::memcpy(b.data(), a.data(), n * 4);
    benchmark::DoNotOptimize(b.data());
  }
  state.SetBytesProcessed(state.iterations() * n * 4);
}

void BM_EncodeDecodeDense(benchmark::State& state) {
  const size_t n = state.range(0);
  std::vector<float> a(n, 1.0f);
  comm::FrameHeader h;
  for (auto _ : state) {
    comm::Bytes b = comm::EncodeDenseF32(h, a);
    auto payload = comm::DenseF32Payload(comm::DecodeFrame(b), n);
    benchmark::DoNotOptimize(payload.data());
  }
  state.SetBytesProcessed(state.iterations() * n * 4);
}

// The D-PSGD mix on a ring: self + two received payloads.
void BM_WeightedSum3(benchmark::State& state) {
  const size_t n = state.range(0);
  std::vector<float> self(n, 1.0f), out(n);
  std::vector<uint8_t> p1(n * 4), p2(n * 4);  // payload bytes of realistic floats
  for (size_t i = 0; i < n; ++i) {
    const float a = 0.01f * static_cast<float>(i % 97) - 0.3f, b = -a;
    std::memcpy(p1.data() + 4 * i, &a, 4);
    std::memcpy(p2.data() + 4 * i, &b, 4);
  }
  algo::WeightedSource src[] = {{1.0f / 3, self.data(), nullptr},
                                {1.0f / 3, nullptr, p1.data()},
                                {1.0f / 3, nullptr, p2.data()}};
  for (auto _ : state) {
    algo::WeightedSum(out, src);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * n * 4);
}

}  // namespace

BENCHMARK(BM_Memcpy)->Arg(61706)->Arg(1 << 20)->MinTime(0.5);
BENCHMARK(BM_EncodeDecodeDense)->Arg(61706)->Arg(1 << 20)->MinTime(0.5);
BENCHMARK(BM_WeightedSum3)->Arg(61706)->Arg(1 << 20)->MinTime(0.5);
BENCHMARK_MAIN();
