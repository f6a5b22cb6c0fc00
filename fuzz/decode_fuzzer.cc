// libFuzzer target for every decoder reachable from the network: frame headers, compressed
// payloads (all formats) and index blocks. The first input byte picks the decoder. Any
// exception other than murmur::Error, and any sanitizer report, is a finding.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "murmur/comm/frame.h"
#include "murmur/compress/codecs.h"
#include "murmur/compress/compressor.h"
#include "murmur/core/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t which = data[0] % 3;
  std::span<const uint8_t> in(data + 1, size - 1);
  try {
    if (which == 0) {
      const murmur::comm::FrameView f = murmur::comm::DecodeFrame(in);
      if (f.header.codec == static_cast<uint8_t>(murmur::comm::Codec::kDenseF32))
        murmur::comm::DenseF32Payload(f, f.header.dimension);
    } else if (which == 1) {
      const murmur::compress::PayloadInfo info = murmur::compress::InspectPayload(in);
      if (info.n > (1u << 22)) return 0;  // the receiver always knows its dimension
      std::vector<float> out(info.n);
      murmur::compress::Decompress(in, out);
      murmur::compress::DecompressAdd(in, 0.5f, out);
    } else {
      if (in.size() < 8) return 0;
      uint32_t n, k;
      std::memcpy(&n, in.data(), 4);
      std::memcpy(&k, in.data() + 4, 4);
      n %= 1u << 24;
      murmur::ByteReader r(in.subspan(8), "fuzz");
      std::vector<uint32_t> idx;
      murmur::compress::DecodeIndices(r, n, k, idx);
    }
  } catch (const murmur::Error&) {
  }
  return 0;
}
