// libFuzzer target for the MPI framing (comm/framing.h): a batch header from another rank and
// the frames it announces, checked as MpiTransport checks them before a frame reaches a mailbox.
// Input: u16 header length, the header bytes, then the frames back to back. Any exception
// other than murmur::Error, and any sanitizer report, is a finding.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "murmur/comm/cluster.h"
#include "murmur/comm/framing.h"
#include "murmur/core/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  uint16_t len;
  std::memcpy(&len, data, 2);
  std::span<const uint8_t> in(data + 2, size - 2);
  if (len > in.size()) return 0;
  // 8 nodes over 3 ranks; this is rank 2, the batch comes from rank 0, round 5, phase 1.
  static const murmur::comm::NodeMap map(8, 3, "block");
  try {
    const std::vector<uint64_t> sizes = murmur::comm::DecodeBatchHeader(in.first(len), 0, 5, 1);
    std::span<const uint8_t> rest = in.subspan(len);
    for (uint64_t s : sizes) {
      if (s > rest.size()) return 0;  // MPI would deliver exactly the announced bytes
      murmur::comm::CheckDeliveredFrame(rest.first(s), map, 0, 2, 5, 1);
      rest = rest.subspan(s);
    }
  } catch (const murmur::Error&) {
  }
  return 0;
}
