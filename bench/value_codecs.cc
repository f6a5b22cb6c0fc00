// Lossless value codecs on the values JWINS sends (issue #34): bytes and encode + decode time
// of each codec against memcpy of the same f32 values.
//
//   murmur_bench_value_codecs [W16_DATA_DIR] [REPEATS]
//
// The values: one W16 node (LeNet-GN, 89,834 parameters, CIFAR-10-format files written by
// bench/make_cifar_like.py, 1/16 of the training set) trained as W16 trains it for 60 rounds
// (180 SGD steps of batch 8 at lr 0.01), its flat model through JWINS' wavelet transform
// (sym2, level 4), and for each cut-off of the paper's list the coefficients at the top-alpha
// positions of the accumulated change, in index order, as JWINS sends them (alpha = 1: every
// coefficient, the full share). Codecs: murmur's lossless value codecs (f32 = memcpy, zstd),
// and for comparison fpzip, byte-plane shuffle + zstd at levels 1, 3 and 9 (a fresh context
// per call) and ZFP in its reversible mode, each where its library is installed.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "murmur/compress/codecs.h"
#include "murmur/compress/compressor.h"
#include "murmur/compress/wavelet.h"
#include "murmur/core/log.h"
#include "murmur/data/dataset.h"
#include "murmur/data/partition.h"
#include "murmur/train/blas.h"
#include "murmur/train/node_model.h"

#ifdef MURMUR_BENCH_FPZIP
#include <fpzip.h>
#endif
#ifdef MURMUR_BENCH_ZSTD
#include <zstd.h>
#endif
#ifdef MURMUR_BENCH_ZFP
#include <zfp.h>
#endif

using namespace murmur;

namespace {

using Clock = std::chrono::steady_clock;

struct Codec {
  std::string name;
  // Encodes v into out; decodes out into back (v.size() values).
  std::function<void(std::span<const float> v, std::vector<uint8_t>& out)> encode;
  std::function<void(std::span<const uint8_t> in, std::span<float> back)> decode;
};

std::vector<Codec> Codecs() {
  std::vector<Codec> codecs;
  for (auto [name, codec] : {std::pair{"f32 (memcpy)", compress::ValueCodec::kF32},
                             std::pair{"murmur zstd", compress::ValueCodec::kZstd}}) {
    compress::ValueOptions o;
    o.codec = codec;
    codecs.push_back({name,
                      [o](std::span<const float> v, std::vector<uint8_t>& out) {
                        out.clear();
                        compress::EncodeValues(v, o, nullptr, out);
                      },
                      [](std::span<const uint8_t> in, std::span<float> back) {
                        ByteReader r(in, "values");
                        compress::DecodeValues(r, static_cast<uint32_t>(back.size()), back);
                      }});
  }
#ifdef MURMUR_BENCH_FPZIP
  codecs.push_back({"fpzip (library)",
                    [](std::span<const float> v, std::vector<uint8_t>& out) {
                      out.resize(4 * v.size() + 1024);
                      FPZ* f = fpzip_write_to_buffer(out.data(), out.size());
                      f->type = FPZIP_TYPE_FLOAT;
                      f->prec = 0;
                      f->nx = static_cast<int>(v.size());
                      f->ny = f->nz = f->nf = 1;
                      out.resize(fpzip_write(f, v.data()));
                      fpzip_write_close(f);
                    },
                    [](std::span<const uint8_t> in, std::span<float> back) {
                      FPZ* f = fpzip_read_from_buffer(in.data());
                      f->type = FPZIP_TYPE_FLOAT;
                      f->prec = 0;
                      f->nx = static_cast<int>(back.size());
                      f->ny = f->nz = f->nf = 1;
                      fpzip_read(f, back.data());
                      fpzip_read_close(f);
                    }});
#endif
#ifdef MURMUR_BENCH_ZSTD
  for (int level : {1, 3, 9}) {
    codecs.push_back(
        {"shuffle + zstd -" + std::to_string(level),
         [level](std::span<const float> v, std::vector<uint8_t>& out) {
           // Byte planes: all first bytes, then all second bytes, ... (exponents together).
           const size_t n = v.size();
           std::vector<uint8_t> planes(4 * n);
           const auto* b = reinterpret_cast<const uint8_t*>(v.data());
           for (size_t i = 0; i < n; ++i)
             for (int p = 0; p < 4; ++p) planes[p * n + i] = b[4 * i + p];
           out.resize(ZSTD_compressBound(planes.size()));
           out.resize(ZSTD_compress(out.data(), out.size(), planes.data(), planes.size(), level));
         },
         [](std::span<const uint8_t> in, std::span<float> back) {
           const size_t n = back.size();
           std::vector<uint8_t> planes(4 * n);
           ZSTD_decompress(planes.data(), planes.size(), in.data(), in.size());
           auto* b = reinterpret_cast<uint8_t*>(back.data());
           for (size_t i = 0; i < n; ++i)
             for (int p = 0; p < 4; ++p) b[4 * i + p] = planes[p * n + i];
         }});
  }
#endif
#ifdef MURMUR_BENCH_ZFP
  codecs.push_back({"zfp reversible",
                    [](std::span<const float> v, std::vector<uint8_t>& out) {
                      zfp_field* f =
                          zfp_field_1d(const_cast<float*>(v.data()), zfp_type_float, v.size());
                      zfp_stream* z = zfp_stream_open(nullptr);
                      zfp_stream_set_reversible(z);
                      out.resize(zfp_stream_maximum_size(z, f));
                      bitstream* s = stream_open(out.data(), out.size());
                      zfp_stream_set_bit_stream(z, s);
                      zfp_stream_rewind(z);
                      out.resize(zfp_compress(z, f));
                      zfp_field_free(f);
                      zfp_stream_close(z);
                      stream_close(s);
                    },
                    [](std::span<const uint8_t> in, std::span<float> back) {
                      zfp_field* f = zfp_field_1d(back.data(), zfp_type_float, back.size());
                      zfp_stream* z = zfp_stream_open(nullptr);
                      zfp_stream_set_reversible(z);
                      bitstream* s = stream_open(const_cast<uint8_t*>(in.data()), in.size());
                      zfp_stream_set_bit_stream(z, s);
                      zfp_stream_rewind(z);
                      zfp_decompress(z, f);
                      zfp_field_free(f);
                      zfp_stream_close(z);
                      stream_close(s);
                    }});
#endif
  return codecs;
}

// The model of one W16 node after 60 rounds of local training, and its initial model.
std::pair<std::vector<float>, std::vector<float>> TrainedLenetGn(const std::string& dir) {
  data::DataOptions d;
  d.name = "cifar10";
  d.path = dir;
  d.test_subset = 16;
  const data::DataSplits s = data::LoadData(d);
  train::ModelOptions m;
  m.name = "lenet_gn";
  train::OptimizerOptions opt;
  const train::InputShape shape{s.train.channels, s.train.height, s.train.width,
                                s.train.num_classes};
  const std::vector<float> x0 = train::InitialParameters(m, shape, 1);
  auto model = train::MakeNodeModel(m, opt, shape, x0);
  std::vector<int64_t> mine;
  for (int64_t i = 0; i < s.train.size; i += 16) mine.push_back(i);
  data::NodeLoader loader(s.train, mine, Rng(1, 0, Stream::kShuffle));
  for (int round = 0; round < 60; ++round) model->train_steps(3, 8, 0.01, loader);
  return {std::vector<float>(model->params().begin(), model->params().end()), x0};
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "build/w16-data";
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 200;
  SetLogLevel(LogLevel::kWarn);
  train::ConfigureBlas();
  train::ConfigureWorkerThread();
  const auto [x, x0] = TrainedLenetGn(dir);
  const compress::WaveletTransform wt("sym2", x.size(), 4);
  std::vector<float> c(wt.coefficient_count()), c0(c.size()), change(c.size());
  wt.forward(x, c);
  wt.forward(x0, c0);
  for (size_t i = 0; i < c.size(); ++i) change[i] = c[i] - c0[i];
  std::printf("LeNet-GN, %zu parameters, %zu wavelet coefficients (sym2, level 4)\n\n", x.size(),
              c.size());
  std::printf(
      "| alpha | values | codec | bytes | bytes / f32 | encode+decode (us) | time / memcpy |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (double alpha : {0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 1.0}) {
    std::vector<float> values;
    if (alpha >= 1.0) {
      values = c;
    } else {
      std::vector<uint32_t> idx;
      compress::TopKIndices(change, static_cast<uint32_t>(std::lround(alpha * c.size())), 0, idx);
      for (uint32_t i : idx) values.push_back(c[i]);
    }
    double memcpy_us = 0;
    size_t f32_bytes = 0;
    for (const Codec& k : Codecs()) {
      std::vector<uint8_t> bytes;
      std::vector<float> back(values.size());
      k.encode(values, bytes);
      k.decode(bytes, back);
      if (std::memcmp(back.data(), values.data(), 4 * values.size()) != 0)
        std::printf("%s: NOT LOSSLESS\n", k.name.c_str());
      double best = 1e300;
      for (int rep = 0; rep < 5; ++rep) {
        const auto t0 = Clock::now();
        for (int r = 0; r < repeats; ++r) {
          k.encode(values, bytes);
          k.decode(bytes, back);
        }
        best = std::min(
            best, std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / repeats);
      }
      if (f32_bytes == 0) f32_bytes = bytes.size(), memcpy_us = best;
      std::printf("| %.2f | %zu | %s | %zu | %.3f | %.1f | %.1f× |\n", alpha, values.size(),
                  k.name.c_str(), bytes.size(), static_cast<double>(bytes.size()) / f32_bytes, best,
                  best / memcpy_us);
    }
  }
}
