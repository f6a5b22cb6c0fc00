// libFuzzer target for the algorithms' message layer: a received frame goes through the checks
// every algorithm applies (detail::ParseMessage: sender, round, phase, codec, dimension,
// push-sum weight, relay count, payload length), then its body through the decoder that
// algorithm would use. The input's first byte picks the expected codec. Any exception other
// than murmur::Error, and any sanitizer report, is a finding.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "algo/messages.h"
#include "murmur/comm/frame.h"
#include "murmur/compress/compressor.h"
#include "murmur/core/check.h"

namespace {

constexpr murmur::comm::Codec kCodecs[] = {
    murmur::comm::Codec::kDenseF32,   murmur::comm::Codec::kControl,
    murmur::comm::Codec::kPushSumF32, murmur::comm::Codec::kRelayF32,
    murmur::comm::Codec::kCompressed, murmur::comm::Codec::kPushSumCompressed};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using murmur::comm::Codec;
  if (size < 1) return 0;
  const Codec codec = kCodecs[data[0] % std::size(kCodecs)];
  murmur::comm::Bytes frame(data + 1, data + size);
  // What the receiver expects: node 2 hears from node 1 in round 7, phase 0, dimension 8.
  constexpr uint32_t kDim = 8;
  try {
    const murmur::algo::detail::Message m =
        murmur::algo::detail::ParseMessage(std::move(frame), "fuzz", 2, 1, 7, 0, codec, kDim);
    std::vector<float> out(kDim, 0.0f);
    if (codec == Codec::kCompressed || codec == Codec::kPushSumCompressed) {
      murmur::compress::DecompressAdd(m.body, m.weight, out);
    } else if (codec != Codec::kControl) {
      for (uint32_t k = 0; k < kDim; ++k) out[k] += murmur::comm::DenseF32At(m.body, k);
    }
  } catch (const murmur::Error&) {
  }
  return 0;
}
