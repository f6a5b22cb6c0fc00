#include "murmur/compress/bench.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>

#include "murmur/compress/compressor.h"
#include "murmur/compress/wavelet.h"
#include "murmur/core/rng.h"

namespace murmur::compress {
namespace {

std::shared_ptr<std::vector<float>> Gaussian(size_t n) {
  auto v = std::make_shared<std::vector<float>>(n);
  Rng rng(1);
  for (float& x : *v) x = static_cast<float>(rng.normal());
  return v;
}

std::vector<uint32_t> RandomSubset(size_t n, size_t k) {
  std::vector<uint32_t> idx;
  SeededIndices(7, static_cast<uint32_t>(n), static_cast<uint32_t>(k), idx);
  return idx;
}

}  // namespace

double TimeIt(const std::function<void()>& fn, double min_seconds) {
  using Clock = std::chrono::steady_clock;
  fn();  // warm-up: first-touch page faults, scratch buffers
  double best = 1e300, total = 0;
  do {
    const auto t0 = Clock::now();
    fn();
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    best = std::min(best, dt);
    total += dt;
  } while (total < min_seconds);
  return best;
}

std::vector<BenchOp> CompressBenchOps(size_t n) {
  auto x = Gaussian(n);
  auto out = std::make_shared<Bytes>();
  auto rng = std::make_shared<Rng>(3);
  std::vector<BenchOp> ops;
  auto compressor = [&](const std::string& label, const std::string& name, CompressorOptions o,
                        double target) {
    std::shared_ptr<Compressor> c = MakeCompressor(name, o);
    ops.push_back({label, target, [c, x, out, rng] {
                     out->clear();
                     c->compress(*x, *rng, *out);
                   }});
  };
  CompressorOptions o;
  o.ratio = 0.01;
  compressor("topk_1%", "topk", o, 4.0);
  o.ratio = 0.001;
  compressor("topk_0.1%", "topk", o, 4.0);
  o.ratio = 0.01;
  compressor("randomk_1%", "randomk", o, 2.0);
  compressor("sign", "sign", o, 2.0);
  o.levels = 16;
  compressor("qsgd_s16", "qsgd", o, 2.0);
  compressor("fp16", "fp16", o, 2.0);
  compressor("bf16", "bf16", o, 2.0);
  {
    auto t = std::make_shared<WaveletTransform>("sym2", n, 4);
    auto coeffs = std::make_shared<std::vector<float>>(t->coefficient_count());
    auto back = std::make_shared<std::vector<float>>(n);
    ops.push_back({"wavelet_sym2_l4_fwd+inv", 6.0, [t, x, coeffs, back] {
                     t->forward(*x, *coeffs);
                     t->inverse(*coeffs, *back);
                   }});
  }
  for (double ratio : {1e-4, 1e-3, 1e-2, 1e-1}) {
    auto idx = std::make_shared<std::vector<uint32_t>>(
        RandomSubset(n, std::max<size_t>(1, static_cast<size_t>(ratio * n))));
    auto dec = std::make_shared<std::vector<uint32_t>>();
    char label[64];
    std::snprintf(label, sizeof label, "indices_auto_k/n=%g_enc+dec", ratio);
    ops.push_back({label, 3.0, [idx, dec, out, n] {
                     out->clear();
                     EncodeIndices(*idx, static_cast<uint32_t>(n), IndexCodec::kAuto, *out);
                     ByteReader r(*out, "bench");
                     DecodeIndices(r, static_cast<uint32_t>(n), static_cast<uint32_t>(idx->size()),
                                   *dec);
                   }});
  }
  return ops;
}

std::vector<OpResult> RunCompressBench(size_t n, double min_seconds) {
  auto src = Gaussian(n);
  std::vector<float> dst(n);
  auto copy = [&] { std::memcpy(dst.data(), src->data(), n * 4); };
  std::vector<OpResult> results;
  for (BenchOp& op : CompressBenchOps(n)) {
    OpResult r;
    r.name = op.name;
    r.n = n;
    r.target_ratio = op.target_ratio;
    r.memcpy_seconds = TimeIt(copy, min_seconds);
    r.seconds = TimeIt(op.run, min_seconds);
    results.push_back(r);
  }
  return results;
}

std::vector<IndexCodecResult> IndexSizes(size_t n) {
  std::vector<IndexCodecResult> out;
  for (double ratio : {1e-4, 1e-3, 1e-2, 1e-1}) {
    const size_t k = std::max<size_t>(1, static_cast<size_t>(ratio * n));
    const auto idx = RandomSubset(n, k);
    for (IndexCodec c : {IndexCodec::kAuto, IndexCodec::kRaw, IndexCodec::kVarint,
                         IndexCodec::kGamma, IndexCodec::kRice, IndexCodec::kBitmap}) {
      IndexCodecResult r;
      r.codec = std::string(IndexCodecName(c));
      if (c == IndexCodec::kAuto)
        r.codec += " (" +
                   std::string(IndexCodecName(ChooseIndexCodec(idx, static_cast<uint32_t>(n)))) +
                   ")";
      r.n = n;
      r.k = k;
      r.bytes = EncodedIndexBytes(idx, static_cast<uint32_t>(n), c);
      r.entropy_bound_bytes = EntropyBoundBits(n, k) / 8;
      out.push_back(r);
    }
  }
  return out;
}

}  // namespace murmur::compress
