#include "murmur/comm/transport.h"

#include "murmur/core/check.h"

namespace murmur::comm {

ByteCounters& ByteCounters::operator+=(const ByteCounters& o) {
  bytes_sent += o.bytes_sent;
  header_bytes_sent += o.header_bytes_sent;
  messages_sent += o.messages_sent;
  bytes_received += o.bytes_received;
  header_bytes_received += o.header_bytes_received;
  messages_received += o.messages_received;
  messages_dropped += o.messages_dropped;
  return *this;
}

ByteCounters ByteCounters::operator-(const ByteCounters& o) const {
  ByteCounters d;
  d.bytes_sent = bytes_sent - o.bytes_sent;
  d.header_bytes_sent = header_bytes_sent - o.header_bytes_sent;
  d.messages_sent = messages_sent - o.messages_sent;
  d.bytes_received = bytes_received - o.bytes_received;
  d.header_bytes_received = header_bytes_received - o.header_bytes_received;
  d.messages_received = messages_received - o.messages_received;
  d.messages_dropped = messages_dropped - o.messages_dropped;
  return d;
}

Transport::Transport(int nodes) : counters_(nodes), links_(nodes) {}

std::vector<LinkRecord> Transport::take_links(int from) {
  std::vector<LinkRecord> out;
  out.swap(links_[from]);
  return out;
}

void Transport::send(Bytes frame) {
  const FrameView f = DecodeFrame(frame);
  const int from = static_cast<int>(f.header.sender), to = static_cast<int>(f.header.receiver);
  MURMUR_CHECK(ProtocolError, from >= 0 && from < nodes() && to >= 0 && to < nodes(),
               "frame names sender ", f.header.sender, " / receiver ", f.header.receiver,
               " outside [0, ", nodes(), ")");
  ByteCounters& c = counters_[from];
  c.bytes_sent += frame.size();
  c.header_bytes_sent += kHeaderBytes;
  c.messages_sent += 1;
  const uint32_t round = f.header.round;
  const uint8_t phase = f.header.phase;
  if (faults_ && faults_->lost(from, to, round, phase)) {
    c.messages_dropped += 1;  // the bytes were spent; the frame never arrives
    return;
  }
  if (record_links_)
    links_[from].push_back(
        {from, to, phase, frame.size(), delays_ ? delays_->delay(from, to, round, phase) : 0.0});
  do_send(from, to, round, phase, std::move(frame));
}

std::optional<Bytes> Transport::receive(int to, int from, uint32_t round, uint8_t phase) {
  MURMUR_ASSERT(to >= 0 && to < nodes() && from >= 0 && from < nodes());
  if (faults_ && faults_->lost(from, to, round, phase)) return std::nullopt;
  std::optional<Bytes> frame = do_receive(to, from, round, phase);
  if (frame) {
    ByteCounters& c = counters_[to];
    c.bytes_received += frame->size();
    c.header_bytes_received += kHeaderBytes;
    c.messages_received += 1;
  }
  return frame;
}

}  // namespace murmur::comm
