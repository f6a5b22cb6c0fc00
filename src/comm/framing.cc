#include "murmur/comm/framing.h"

#include <climits>
#include <cstring>

#include "murmur/core/check.h"

namespace murmur::comm {

std::vector<uint64_t> EncodeBatchHeader(const std::vector<Bytes>& frames) {
  std::vector<uint64_t> h;
  h.reserve(frames.size() + 1);
  h.push_back(frames.size());
  for (const Bytes& f : frames) h.push_back(f.size());
  return h;
}

std::vector<uint64_t> DecodeBatchHeader(std::span<const uint8_t> bytes, int from_rank,
                                        uint32_t round, uint8_t phase) {
  MURMUR_CHECK(ProtocolError, bytes.size() >= 8 && bytes.size() % 8 == 0, "mpi: header of ",
               bytes.size(), " bytes from rank ", from_rank, " in round ", round, " phase ",
               static_cast<int>(phase));
  std::vector<uint64_t> h(bytes.size() / 8);
  std::memcpy(h.data(), bytes.data(), bytes.size());
  MURMUR_CHECK(ProtocolError, h[0] == h.size() - 1, "mpi: header from rank ", from_rank,
               " announces ", h[0], " frames but lists ", h.size() - 1, " sizes");
  for (size_t k = 1; k < h.size(); ++k)
    MURMUR_CHECK(ProtocolError, h[k] >= kHeaderBytes && h[k] <= INT_MAX, "mpi: rank ", from_rank,
                 " announces a frame of ", h[k], " bytes");
  h.erase(h.begin());
  return h;
}

FrameView CheckDeliveredFrame(std::span<const uint8_t> frame, const NodeMap& map, int from_rank,
                              int my_rank, uint32_t round, uint8_t phase) {
  const FrameView v = DecodeFrame(frame);
  const int64_t from = v.header.sender, to = v.header.receiver, n = map.nodes();
  MURMUR_CHECK(ProtocolError,
               from >= 0 && from < n && map.owner(static_cast<int>(from)) == from_rank && to >= 0 &&
                   to < n && map.owner(static_cast<int>(to)) == my_rank &&
                   v.header.round == round && v.header.phase == phase,
               "mpi: rank ", from_rank, " delivered a frame from node ", v.header.sender,
               " to node ", v.header.receiver, " for round ", v.header.round, " phase ",
               static_cast<int>(v.header.phase), " in round ", round, " phase ",
               static_cast<int>(phase));
  return v;
}

}  // namespace murmur::comm
