// Partitioners. All draw from Rng(seed, 0, Stream::kPartition).
//
// dirichlet follows the scheme common to NIID-Bench, FedML and the RelaySGD code: for every
// class, shuffle its samples and cut them by proportions p ~ Dir(alpha * 1_n), where nodes
// that already hold >= N/n samples get proportion 0 (keeps sizes balanced); the whole draw is
// repeated until every node has at least min_samples.
#include "murmur/data/partition.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <tuple>

namespace murmur::data {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<std::vector<int64_t>> Iid(const Dataset& d, const PartitionOptions& o, Rng& rng) {
  std::vector<int64_t> all(d.size);
  std::iota(all.begin(), all.end(), 0);
  rng.shuffle(std::span<int64_t>(all));
  std::vector<std::vector<int64_t>> parts(o.nodes);
  const int64_t per = d.size / o.nodes, extra = d.size % o.nodes;
  int64_t pos = 0;
  for (int i = 0; i < o.nodes; ++i) {
    const int64_t len = per + (i < extra ? 1 : 0);
    parts[i].assign(all.begin() + pos, all.begin() + pos + len);
    pos += len;
  }
  return parts;
}

std::vector<std::vector<int64_t>> Shards(const Dataset& d, const PartitionOptions& o, Rng& rng) {
  MURMUR_CHECK(ConfigError, o.shards_per_node >= 1, "partition.shards_per_node: must be >= 1");
  const int64_t shards = int64_t{o.nodes} * o.shards_per_node;
  MURMUR_CHECK(ConfigError, shards <= d.size, "partition.shards_per_node: ", shards,
               " shards but only ", d.size, " samples");
  std::vector<int64_t> all(d.size);
  std::iota(all.begin(), all.end(), 0);
  std::stable_sort(all.begin(), all.end(),
                   [&](int64_t a, int64_t b) { return d.labels[a] < d.labels[b]; });
  std::vector<int64_t> shard_ids(shards);
  std::iota(shard_ids.begin(), shard_ids.end(), 0);
  rng.shuffle(std::span<int64_t>(shard_ids));
  std::vector<std::vector<int64_t>> parts(o.nodes);
  for (int64_t s = 0; s < shards; ++s) {
    const int64_t id = shard_ids[s];
    const int64_t begin = id * d.size / shards, end = (id + 1) * d.size / shards;
    auto& p = parts[s / o.shards_per_node];
    p.insert(p.end(), all.begin() + begin, all.begin() + end);
  }
  return parts;
}

std::vector<std::vector<int64_t>> Dirichlet(const Dataset& d, const PartitionOptions& o, Rng& rng) {
  MURMUR_CHECK(ConfigError, o.alpha > 0.0, "partition.alpha: must be > 0 (inf: equal shares), got ",
               o.alpha);
  std::vector<std::vector<int64_t>> by_class(d.num_classes);
  for (int64_t i = 0; i < d.size; ++i) by_class[d.labels[i]].push_back(i);
  const double cap = static_cast<double>(d.size) / o.nodes;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    std::vector<std::vector<int64_t>> parts(o.nodes);
    for (auto& cls : by_class) {
      std::vector<int64_t> idx = cls;
      rng.shuffle(std::span<int64_t>(idx));
      // p ~ Dir(alpha) from Gamma draws. Below alpha ~ 1e-4 every draw underflows to 0 in
      // linear space: then the proportions come from the draws' logarithms. (Linear space is
      // kept where it is exact, so partitions stay those murmur has always drawn.)
      // alpha = inf is the limit: equal proportions.
      std::vector<double> p(o.nodes, 0.0), log_p(o.nodes, -kInf);
      double top = 0.0, log_top = -kInf;
      for (int i = 0; i < o.nodes; ++i) {
        if (std::isinf(o.alpha)) {
          p[i] = 1.0;
          log_p[i] = 0.0;
        } else {
          std::tie(p[i], log_p[i]) = rng.gamma_and_log(o.alpha);
        }
        if (static_cast<double>(parts[i].size()) >= cap) p[i] = 0.0, log_p[i] = -kInf;
        top = std::max(top, p[i]);
        log_top = std::max(log_top, log_p[i]);
      }
      if (top < 1e-200 && !std::isinf(log_top))
        for (int i = 0; i < o.nodes; ++i) p[i] = std::exp(log_p[i] - log_top);
      double sum = 0.0;
      for (double v : p) sum += v;
      if (sum <= 0.0) {  // every node full: spread evenly
        std::fill(p.begin(), p.end(), 1.0);
        sum = o.nodes;
      }
      double acc = 0.0;
      size_t begin = 0;
      for (int i = 0; i < o.nodes; ++i) {
        acc += p[i] / sum;
        const size_t end = i + 1 == o.nodes
                               ? idx.size()
                               : static_cast<size_t>(acc * static_cast<double>(idx.size()));
        if (end > begin) parts[i].insert(parts[i].end(), idx.begin() + begin, idx.begin() + end);
        begin = std::max(begin, end);
      }
    }
    bool ok = true;
    for (auto& p : parts) ok = ok && static_cast<int64_t>(p.size()) >= o.min_samples;
    if (ok) return parts;
  }
  MURMUR_FAIL(ConfigError, "partition: dirichlet(alpha=", o.alpha, ") gave some node fewer than ",
              o.min_samples, " samples in 1000 draws; raise partition.alpha or lower ",
              "partition.min_samples");
}

// Whole users, dealt round-robin to the nodes in a seeded random order.
std::vector<std::vector<int64_t>> Natural(const Dataset& d, const PartitionOptions& o, Rng& rng) {
  MURMUR_CHECK(ConfigError, !d.owners.empty(),
               "partition.name: natural needs data with users "
               "(data.name = leaf, or npy with train_owner.npy); dataset '",
               d.name, "' has none");
  std::vector<std::vector<int64_t>> by_user(d.users.size());
  for (int64_t i = 0; i < d.size; ++i) by_user[d.owners[i]].push_back(i);
  std::vector<int64_t> users;
  for (size_t u = 0; u < by_user.size(); ++u)
    if (!by_user[u].empty()) users.push_back(static_cast<int64_t>(u));
  MURMUR_CHECK(ConfigError, static_cast<int64_t>(users.size()) >= o.nodes,
               "partition.name: natural: the training set has ", users.size(), " users for ",
               o.nodes, " nodes; every node needs at least one whole user (lower run.nodes)");
  rng.shuffle(std::span<int64_t>(users));
  std::vector<std::vector<int64_t>> parts(o.nodes);
  for (size_t k = 0; k < users.size(); ++k) {
    auto& p = parts[k % o.nodes];
    const auto& samples = by_user[users[k]];
    p.insert(p.end(), samples.begin(), samples.end());
  }
  return parts;
}

}  // namespace

std::string UserMappingCsv(const Dataset& train, const std::vector<std::vector<int64_t>>& parts) {
  std::vector<int> node(train.users.size(), -1);
  std::vector<int64_t> count(train.users.size(), 0);
  for (size_t i = 0; i < parts.size(); ++i)
    for (int64_t s : parts[i]) {
      node[train.owners[s]] = static_cast<int>(i);
      ++count[train.owners[s]];
    }
  std::string out = "user,node,samples\n";
  for (size_t u = 0; u < node.size(); ++u) {
    if (node[u] < 0) continue;
    std::string name = train.users[u];  // quoted when CSV needs it
    if (name.find_first_of(",\"\n") != std::string::npos) {
      std::string q = "\"";
      for (char c : name) q += c == '"' ? std::string("\"\"") : std::string(1, c);
      name = q + "\"";
    }
    out += name + "," + std::to_string(node[u]) + "," + std::to_string(count[u]) + "\n";
  }
  return out;
}

const Registry<Partitioner>& PartitionerRegistry() {
  static const Registry<Partitioner> registry = [] {
    Registry<Partitioner> r("partitioner");
    r.add("iid", "uniform random split into equal parts", Iid);
    r.add("shards", "sort by label, give each node partition.shards_per_node random shards",
          Shards);
    r.add("dirichlet", "per-class proportions drawn from Dir(partition.alpha): label skew",
          Dirichlet);
    r.add("natural",
          "whole users of the data (LEAF users, npy train_owner.npy) dealt round-robin to the "
          "nodes in a seeded random order; the mapping is written to users.csv",
          Natural);
    return r;
  }();
  return registry;
}

std::vector<std::vector<int64_t>> Partition(const Dataset& train, const PartitionOptions& o) {
  MURMUR_CHECK(ConfigError, o.nodes >= 1 && o.nodes <= train.size, "run.nodes: ", o.nodes,
               " nodes but the training set has ", train.size, " samples");
  const Partitioner& partition = PartitionerRegistry().get(o.name, "partition.name").value;
  Rng rng(o.seed, 0, Stream::kPartition);
  std::vector<std::vector<int64_t>> parts = partition(train, o, rng);
  for (auto& p : parts) std::sort(p.begin(), p.end());
  return parts;
}

NodeLoader::NodeLoader(const Dataset& data, std::vector<int64_t> indices, Rng rng)
    : data_(data), indices_(std::move(indices)), order_(indices_), rng_(rng) {
  MURMUR_CHECK(ConfigError, !indices_.empty(), "a node was given no training samples");
  rng_.shuffle(std::span<int64_t>(order_));
}

void NodeLoader::next_batch(int batch, float* x, int64_t* y) {
  data_.gather(next_indices(batch), x, y);
}

std::span<const int64_t> NodeLoader::next_indices(int batch) {
  batch_idx_.resize(batch);
  for (int b = 0; b < batch; ++b) {
    if (pos_ == order_.size()) {
      pos_ = 0;
      ++epoch_;
      rng_.shuffle(std::span<int64_t>(order_));
    }
    batch_idx_[b] = order_[pos_++];
  }
  return batch_idx_;
}

void NodeLoader::checkpoint(StateIo& io) {
  io.fixed(std::span<int64_t>(order_), "the epoch order");
  io.value(pos_);
  io.value(epoch_);
  io.rng(rng_);
  MURMUR_CHECK(IoError, pos_ <= order_.size(), io.what(), ": position ", pos_,
               " past the end of an epoch of ", order_.size(), " samples");
  for (int64_t k : order_)
    MURMUR_CHECK(IoError, k >= 0 && k < data_.size, io.what(), ": sample ", k, " outside [0, ",
                 data_.size, ")");
}

}  // namespace murmur::data
