// Writes valid inputs for the fuzzers into DIR/decode (one frame, one payload of every
// compressor with several options, index blocks of every codec), DIR/message (a frame of every
// message codec as the algorithms send them), DIR/mpi_framing (batches of frames) and
// DIR/vote (every frame of a majority-vote exchange, vote_scene.h) and DIR/npy (.npy headers).
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "algo/messages.h"
#include "murmur/comm/frame.h"
#include "murmur/comm/framing.h"
#include "murmur/compress/compressor.h"
#include "vote_scene.h"

using namespace murmur;

int main(int argc, char** argv) {
  const std::filesystem::path root = argc > 1 ? argv[1] : "fuzz/corpus";
  std::filesystem::path dir = root / "decode";
  for (const char* sub : {"decode", "message", "mpi_framing", "vote", "npy"})
    std::filesystem::create_directories(root / sub);
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
  // Kept values through the lossless zstd codec (a zstd frame inside the payload), sparse
  // and dense.
  for (double ratio : {0.3, 1.0}) {
    compress::CompressorOptions o;
    o.ratio = ratio;
    o.value_codec = compress::ValueCodec::kZstd;
    std::vector<uint8_t> b;
    compress::MakeCompressor("topk", o)->compress(x, rng, b);
    write(1, b);
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

  // Messages from node 1 to node 2 in round 7, phase 0, dimension 8 (message_fuzzer's
  // expectation); the first byte is the codec's index in its list.
  dir = root / "message";
  h = comm::FrameHeader{};
  h.sender = 1;
  h.receiver = 2;
  h.round = 7;
  const std::span<const float> x8 = std::span<const float>(x).first(8);
  write(0, comm::EncodeDenseF32(h, x8));
  write(2, algo::detail::EncodePushSumF32Frame(h, 0.75f, x8));
  write(3, algo::detail::EncodeRelayF32Frame(h, 3, x8));
  {
    compress::CompressorOptions o;
    o.ratio = 0.5;
    std::vector<uint8_t> payload;
    compress::MakeCompressor("topk", o)->compress(x8, rng, payload);
    write(4, algo::detail::EncodeCompressedFrame(h, 8, payload, std::nullopt));
    write(5, algo::detail::EncodeCompressedFrame(h, 8, payload, 0.5f));
  }

  // A batch from rank 0 (nodes 0-2 of 8 over 3 ranks) to rank 2 (nodes 6-7), round 5, phase 1.
  dir = root / "mpi_framing";
  std::vector<comm::Bytes> frames;
  for (int to : {6, 7}) {
    comm::FrameHeader f;
    f.sender = 1;
    f.receiver = static_cast<uint32_t>(to);
    f.round = 5;
    f.phase = 1;
    frames.push_back(comm::EncodeDenseF32(f, x8));
  }
  const std::vector<uint64_t> header = comm::EncodeBatchHeader(frames);
  std::vector<uint8_t> batch(2);
  const uint16_t len = static_cast<uint16_t>(header.size() * 8);
  std::memcpy(batch.data(), &len, 2);
  const auto* hb = reinterpret_cast<const uint8_t*>(header.data());
  batch.insert(batch.end(), hb, hb + len);
  for (const auto& f : frames) batch.insert(batch.end(), f.begin(), f.end());
  {
    std::ofstream out(dir / "seed0", std::ios::binary);
    out.write(reinterpret_cast<const char*>(batch.data()), batch.size());
  }

  // The genuine frame of every majority-vote case: [case][count, u16][payload].
  dir = root / "vote";
  for (uint8_t k = 0; k < std::size(fuzz::kVoteCases); ++k) {
    fuzz::VoteScene scene(fuzz::kVoteCases[k]);
    const comm::Bytes frame = scene.take();
    const comm::FrameView view = comm::DecodeFrame(frame);
    std::vector<uint8_t> b = {static_cast<uint8_t>(view.header.count & 0xff),
                              static_cast<uint8_t>(view.header.count >> 8)};
    b.insert(b.end(), view.payload.begin(), view.payload.end());
    write(k, b);
  }

  // .npy headers as numpy writes them (versions 1.0 and 2.0).
  dir = root / "npy";
  int npy = 0;
  for (const char* dict : {"{'descr': '|u1', 'fortran_order': False, 'shape': (6, 28, 28), }",
                           "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }",
                           "{'descr': '<i8', 'fortran_order': True, 'shape': (5,), }"})
    for (int version : {1, 2}) {
      std::string h = std::string(dict) + "\n";
      std::string b = "\x93NUMPY";
      b += static_cast<char>(version);
      b += '\0';
      b += static_cast<char>(h.size());
      b += version == 1 ? std::string(1, '\0') : std::string(3, '\0');
      b += h + std::string(16, '\0');
      std::ofstream(dir / ("seed" + std::to_string(npy++)), std::ios::binary) << b;
    }
  return 0;
}
