// Writes valid inputs for decode_fuzzer into a corpus directory: one frame, one payload of
// every compressor (several options), and index blocks of every codec.
#include <filesystem>
#include <fstream>
#include <string>

#include "murmur/comm/frame.h"
#include "murmur/compress/compressor.h"

using namespace murmur;

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : "fuzz/corpus";
  std::filesystem::create_directories(dir);
  int count = 0;
  auto write = [&](uint8_t which, const std::vector<uint8_t>& bytes) {
    std::ofstream out(dir / ("seed" + std::to_string(count++)), std::ios::binary);
    out.put(static_cast<char>(which));
    out.write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  };
  std::vector<float> x(300);
  Rng rng(1);
  for (float& v : x) v = static_cast<float>(rng.normal());
  comm::FrameHeader h;
  h.sender = 1;
  write(0, comm::EncodeDenseF32(h, std::span<const float>(x).first(8)));
  for (const auto& name : compress::CompressorRegistry().names()) {
    for (uint32_t chunk : {0u, 100u}) {
      compress::CompressorOptions o;
      o.ratio = 0.05;
      o.chunk = chunk;
      o.levels = 5;
      std::vector<uint8_t> b;
      compress::MakeCompressor(name, o)->compress(x, rng, b);
      write(1, b);
    }
  }
  for (auto c :
       {compress::IndexCodec::kRaw, compress::IndexCodec::kVarint, compress::IndexCodec::kGamma,
        compress::IndexCodec::kRice, compress::IndexCodec::kBitmap}) {
    std::vector<uint32_t> idx = {0, 3, 17, 64, 65, 299};
    std::vector<uint8_t> b(8);
    const uint32_t n = 300, k = static_cast<uint32_t>(idx.size());
    std::memcpy(b.data(), &n, 4);
    std::memcpy(b.data() + 4, &k, 4);
    compress::EncodeIndices(idx, n, c, b);
    write(2, b);
  }
  return 0;
}
