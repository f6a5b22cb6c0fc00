#include "murmur/comm/network_model.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

#include "murmur/core/check.h"
#include "murmur/core/rng.h"

namespace murmur::comm {

NetworkModel::NetworkModel(const NetworkOptions& o, int nodes, uint64_t seed)
    : o_(o), seed_(seed), slowdown_(nodes, 1.0) {
  MURMUR_CHECK(ConfigError, o.latency_s >= 0 && std::isfinite(o.latency_s),
               "network.latency_ms: must be >= 0");
  MURMUR_CHECK(ConfigError, o.bandwidth_bytes_s > 0 && std::isfinite(o.bandwidth_bytes_s),
               "network.bandwidth_mbps: must be > 0");
  MURMUR_CHECK(
      ConfigError,
      o.heterogeneity == "none" || o.heterogeneity == "uniform" || o.heterogeneity == "lognormal",
      "network.heterogeneity: '", o.heterogeneity, "' is not none, uniform or lognormal");
  MURMUR_CHECK(ConfigError, o.heterogeneity != "uniform" || (o.spread >= 0 && o.spread < 1),
               "network.spread: uniform factors in [1 - spread, 1 + spread] need spread in "
               "[0, 1), got ",
               o.spread);
  MURMUR_CHECK(ConfigError, o.stragglers >= 0 && o.stragglers <= nodes,
               "network.stragglers: ", o.stragglers, " is not in [0, run.nodes = ", nodes, "]");
  MURMUR_CHECK(ConfigError, o.straggler_slowdown > 0, "network.straggler_slowdown: must be > 0");
  std::vector<int> order(nodes);
  std::iota(order.begin(), order.end(), 0);
  Rng rng(seed, 0, Stream::kNetwork);
  rng.shuffle(std::span<int>(order));
  for (int k = 0; k < o.stragglers; ++k) slowdown_[order[k]] = o.straggler_slowdown;
}

// Factor of link (from, to) for latency (which = 0) or bandwidth (1); depends only on the
// seed and the link, not on the order links are asked for.
double NetworkModel::factor(int from, int to, int which) const {
  if (o_.heterogeneity == "none") return 1.0;
  const uint64_t link = (static_cast<uint64_t>(from) * nodes() + to) * 2 + which + 1;
  Rng rng(seed_, link, Stream::kNetwork);
  if (o_.heterogeneity == "uniform") return 1.0 + o_.spread * (2.0 * rng.uniform() - 1.0);
  return std::exp(o_.spread * rng.normal());
}

double NetworkModel::latency(int from, int to) const { return o_.latency_s * factor(from, to, 0); }
double NetworkModel::bandwidth(int from, int to) const {
  return o_.bandwidth_bytes_s * factor(from, to, 1);
}

double NetworkModel::round_seconds(std::span<const double> compute,
                                   std::span<const LinkRecord> links,
                                   std::span<double> finish) const {
  const int n = nodes();
  MURMUR_ASSERT(static_cast<int>(compute.size()) == n);
  std::vector<double> t(n), next;
  for (int i = 0; i < n; ++i) t[i] = compute[i] * slowdown_[i];
  std::vector<LinkRecord> sorted(links.begin(), links.end());
  if (o_.shared_uplink)
    std::stable_sort(sorted.begin(), sorted.end(), [](const LinkRecord& a, const LinkRecord& b) {
      return std::tie(a.phase, a.from, a.to) < std::tie(b.phase, b.from, b.to);
    });
  else
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const LinkRecord& a, const LinkRecord& b) { return a.phase < b.phase; });
  std::vector<double> uplink(n);  // shared_uplink: when each node's uplink is free again
  for (size_t k = 0; k < sorted.size();) {
    next = t;
    uplink = t;
    const uint8_t phase = sorted[k].phase;
    for (; k < sorted.size() && sorted[k].phase == phase; ++k) {
      const LinkRecord& r = sorted[k];
      MURMUR_ASSERT(r.from >= 0 && r.from < n && r.to >= 0 && r.to < n);
      const double transfer = static_cast<double>(r.bytes) / bandwidth(r.from, r.to);
      double arrival = 0.0;
      if (o_.shared_uplink) {
        uplink[r.from] += transfer;  // departs when the frames before it have left
        arrival = uplink[r.from] + latency(r.from, r.to) + r.delay;
      } else {
        arrival = t[r.from] + latency(r.from, r.to) + r.delay + transfer;
      }
      next[r.to] = std::max(next[r.to], arrival);
    }
    t.swap(next);
  }
  if (!finish.empty()) std::copy(t.begin(), t.end(), finish.begin());
  return n ? *std::max_element(t.begin(), t.end()) : 0.0;
}

}  // namespace murmur::comm
