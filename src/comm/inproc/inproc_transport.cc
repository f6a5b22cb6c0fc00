// In-process transport: one mailbox per receiver, keyed by (round, phase, sender).
#include "../mailbox.h"
#include "murmur/comm/transport.h"

namespace murmur::comm {
namespace {

class InProcessTransport final : public Transport {
 public:
  explicit InProcessTransport(int nodes) : Transport(nodes), boxes_(nodes) {}
  std::string_view name() const override { return "inproc"; }

 protected:
  void do_send(int from, int to, uint32_t round, uint8_t phase, Bytes frame) override {
    boxes_.put(from, to, round, phase, std::move(frame));
  }
  std::optional<Bytes> do_receive(int to, int from, uint32_t round, uint8_t phase) override {
    return boxes_.take(to, from, round, phase);
  }

 private:
  detail::Mailboxes boxes_;
};

}  // namespace

std::unique_ptr<Transport> MakeInProcessTransport(int nodes) {
  return std::make_unique<InProcessTransport>(nodes);
}

}  // namespace murmur::comm
