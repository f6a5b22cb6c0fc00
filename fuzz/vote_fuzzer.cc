// libFuzzer target for majority voting's frames (votes, masks, values and means, f32 or
// 4-bit, plain or pipelined): the input replaces one frame of a real exchange (vote_scene.h)
// and its receiver reads it. Input: [case index][count, u16 little-endian][payload]; the
// header is the genuine frame's with that count (and dimension >= count, which the framing
// itself requires). Any exception other than murmur::Error, and any sanitizer report, is a
// finding.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>

#include "murmur/comm/frame.h"
#include "murmur/core/check.h"
#include "vote_scene.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace murmur;
  if (size < 3) return 0;
  const fuzz::VoteCase& c = fuzz::kVoteCases[data[0] % std::size(fuzz::kVoteCases)];
  fuzz::VoteScene scene(c);
  const comm::Bytes genuine = scene.take();
  comm::FrameHeader h = comm::DecodeFrame(genuine).header;
  h.count = static_cast<uint32_t>(data[1] | (data[2] << 8));
  h.dimension = std::max(h.dimension, h.count);
  try {
    scene.deliver(comm::EncodeFrame(h, std::span<const uint8_t>(data + 3, size - 3)));
  } catch (const Error&) {
  }
  return 0;
}
