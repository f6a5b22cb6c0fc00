// Test frames: a dense float frame from `from` to `to` in (round, phase).
#pragma once

#include <vector>

#include "murmur/comm/frame.h"

namespace murmur::testing {

inline comm::Bytes DenseFrame(int from, int to, uint32_t round, const std::vector<float>& values,
                              uint8_t phase = 0) {
  comm::FrameHeader h;
  h.sender = from;
  h.receiver = to;
  h.round = round;
  h.phase = phase;
  return comm::EncodeDenseF32(h, values);
}

}  // namespace murmur::testing
