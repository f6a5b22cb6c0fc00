// In-process transport: one mailbox per receiver, keyed by (round, phase, sender).
#include <map>
#include <mutex>
#include <tuple>

#include "murmur/comm/transport.h"
#include "murmur/core/check.h"

namespace murmur::comm {
namespace {

class InProcessTransport final : public Transport {
 public:
  explicit InProcessTransport(int nodes) : Transport(nodes), boxes_(nodes) {}
  std::string_view name() const override { return "inproc"; }

 protected:
  void do_send(int from, int to, uint32_t round, uint8_t phase, Bytes frame) override {
    Mailbox& box = boxes_[to];
    std::lock_guard<std::mutex> lock(box.mu);
    auto [it, inserted] = box.frames.try_emplace(Key{round, phase, from}, std::move(frame));
    MURMUR_CHECK(ProtocolError, inserted, "node ", from, " sent node ", to,
                 " two messages in round ", round, " phase ", static_cast<int>(phase));
  }

  std::optional<Bytes> do_receive(int to, int from, uint32_t round, uint8_t phase) override {
    Mailbox& box = boxes_[to];
    std::lock_guard<std::mutex> lock(box.mu);
    auto it = box.frames.find(Key{round, phase, from});
    if (it == box.frames.end()) return std::nullopt;
    Bytes out = std::move(it->second);
    box.frames.erase(it);
    return out;
  }

 private:
  using Key = std::tuple<uint32_t, uint8_t, int>;
  struct Mailbox {
    std::mutex mu;
    std::map<Key, Bytes> frames;
  };
  std::vector<Mailbox> boxes_;
};

}  // namespace

std::unique_ptr<Transport> MakeInProcessTransport(int nodes) {
  return std::make_unique<InProcessTransport>(nodes);
}

}  // namespace murmur::comm
