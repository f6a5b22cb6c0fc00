// The wire framing between MPI ranks, without MPI: what MpiTransport sends per phase and the
// checks on what it receives. Kept here so that it is tested and fuzzed without an MPI job.
//
// Per phase, rank p sends every other rank q one batch header — u64 frame count N, then N u64
// frame sizes — followed by the N frames (comm/frame.h), on one tag and communicator.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "murmur/comm/cluster.h"
#include "murmur/comm/frame.h"

namespace murmur::comm {

// The batch header of `frames`, as u64 words.
std::vector<uint64_t> EncodeBatchHeader(const std::vector<Bytes>& frames);

// The frame sizes a batch header received from `from_rank` announces. ProtocolError naming
// the rank, round and phase when the bytes are not a whole header (a length that is not a
// multiple of 8, a count that disagrees with the sizes listed) or a size is impossible
// (shorter than a frame header or over INT_MAX, MPI's count limit).
std::vector<uint64_t> DecodeBatchHeader(std::span<const uint8_t> bytes, int from_rank,
                                        uint32_t round, uint8_t phase);

// Checks a frame that `from_rank` delivered to `my_rank` in (round, phase): a valid frame
// whose sender lives on from_rank, whose receiver lives here, of this round and phase.
// Returns its view; ProtocolError otherwise.
FrameView CheckDeliveredFrame(std::span<const uint8_t> frame, const NodeMap& map, int from_rank,
                              int my_rank, uint32_t round, uint8_t phase);

}  // namespace murmur::comm
