#include "murmur/comm/faults.h"

#include <charconv>
#include <utility>

#include "murmur/core/check.h"
#include "murmur/core/rng.h"

namespace murmur::comm {
namespace {

// Parses an integer from [p, end) and advances p; false when there is none.
bool Int(const char*& p, const char* end, int64_t& out) {
  auto [q, ec] = std::from_chars(p, end, out);
  if (ec != std::errc() || q == p) return false;
  p = q;
  return true;
}

}  // namespace

LinkDown FaultOptions::ParseLinkDown(const std::string& text, const std::string& key) {
  LinkDown l;
  const char *p = text.data(), *end = p + text.size();
  int64_t a = 0, b = 0;
  bool ok = Int(p, end, a) && p < end && (*p == '-' || *p == '>');
  if (ok) l.both_ways = *p++ == '-';
  ok = ok && Int(p, end, b) && p < end && *p++ == '@' && Int(p, end, l.from) && p < end &&
       *p++ == ':' && Int(p, end, l.to) && p == end;
  MURMUR_CHECK(ConfigError, ok, key, ": '", text,
               "' is not a link interval; write A-B@R0:R1 (both directions) or A>B@R0:R1, "
               "down in rounds [R0, R1)");
  MURMUR_CHECK(ConfigError, a >= 0 && b >= 0 && a != b && l.from >= 0 && l.to > l.from, key, ": '",
               text, "' needs two different nodes and rounds R0 < R1");
  l.a = static_cast<int>(a);
  l.b = static_cast<int>(b);
  return l;
}

Crash FaultOptions::ParseCrash(const std::string& text, const std::string& key) {
  Crash c;
  const char *p = text.data(), *end = p + text.size();
  int64_t node = 0;
  bool ok = Int(p, end, node) && p < end && *p++ == '@' && Int(p, end, c.round);
  if (ok && p < end) ok = *p++ == ':' && Int(p, end, c.rejoin) && p == end;
  MURMUR_CHECK(ConfigError, ok, key, ": '", text,
               "' is not a crash; write NODE@ROUND (down from ROUND on) or NODE@ROUND:REJOIN");
  MURMUR_CHECK(ConfigError, node >= 0 && c.round >= 0 && (c.rejoin < 0 || c.rejoin > c.round), key,
               ": '", text, "' needs a node >= 0 and ROUND < REJOIN");
  c.node = static_cast<int>(node);
  return c;
}

FaultModel::FaultModel(FaultOptions options, int nodes, uint64_t seed)
    : o_(std::move(options)), seed_(DeriveSeed(seed, 0, Stream::kFaults)) {
  MURMUR_CHECK(ConfigError, o_.loss >= 0.0 && o_.loss < 1.0, "faults.loss: must be in [0, 1), got ",
               o_.loss);
  MURMUR_CHECK(ConfigError, o_.delay_prob >= 0.0 && o_.delay_prob <= 1.0,
               "faults.delay_prob: must be in [0, 1], got ", o_.delay_prob);
  for (const LinkDown& l : o_.link_down)
    MURMUR_CHECK(ConfigError, l.a < nodes && l.b < nodes, "faults.link_down: link ", l.a, "-", l.b,
                 " names a node outside [0, ", nodes, ")");
  std::vector<int> crashed(nodes, 0);
  for (const Crash& c : o_.crashes) {
    MURMUR_CHECK(ConfigError, c.node < nodes, "faults.crash: node ", c.node, " outside [0, ", nodes,
                 ")");
    MURMUR_CHECK(ConfigError, ++crashed[c.node] == 1, "faults.crash: node ", c.node,
                 " is listed twice");
  }
  active_ = o_.loss > 0.0 || !o_.link_down.empty() || !o_.crashes.empty();
}

void FaultModel::set_offline(uint32_t round, std::vector<bool> offline) {
  offline_round_ = round;
  offline_ = std::move(offline);
  active_ = true;
}

bool FaultModel::down(int node, uint32_t round) const {
  if (!offline_.empty() && round == offline_round_ && offline_[node]) return true;
  for (const Crash& c : o_.crashes)
    if (c.node == node && round >= c.round && (c.rejoin < 0 || round < c.rejoin)) return true;
  return false;
}

double FaultModel::draw(int from, int to, uint32_t round, uint8_t phase, uint64_t purpose) const {
  uint64_t z = MixBits(seed_ ^ MixBits((uint64_t(uint32_t(from)) << 32) | uint32_t(to)));
  z = MixBits(z ^ MixBits((uint64_t{round} << 16) | (uint64_t{phase} << 8) | purpose));
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

bool FaultModel::lost(int from, int to, uint32_t round, uint8_t phase) const {
  if (!active_) return false;
  if (down(from, round) || down(to, round)) return true;
  for (const LinkDown& l : o_.link_down)
    if (round >= l.from && round < l.to &&
        ((l.a == from && l.b == to) || (l.both_ways && l.a == to && l.b == from)))
      return true;
  return o_.loss > 0.0 && draw(from, to, round, phase, 1) < o_.loss;
}

double FaultModel::delay(int from, int to, uint32_t round, uint8_t phase) const {
  if (o_.delay_prob <= 0.0 || o_.delay_seconds <= 0.0) return 0.0;
  return draw(from, to, round, phase, 2) < o_.delay_prob ? o_.delay_seconds : 0.0;
}

}  // namespace murmur::comm
