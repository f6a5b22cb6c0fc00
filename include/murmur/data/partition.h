// Partitioning a training set across nodes, and per-node batch loading.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "murmur/core/registry.h"
#include "murmur/core/rng.h"
#include "murmur/core/state_io.h"
#include "murmur/data/dataset.h"

namespace murmur::data {

struct PartitionOptions {
  // iid: uniform random split of equal sizes. shards: sort by label, cut into
  // nodes * shards_per_node shards, give each node shards_per_node random shards.
  // dirichlet: per class, split its samples by proportions drawn from Dir(alpha).
  // natural: whole users of the data (LEAF users, npy owners) dealt to the nodes.
  std::string name = "iid";
  int nodes = 16;
  // Concentration of dirichlet: small alpha = each node sees few classes.
  double alpha = 0.5;
  int shards_per_node = 2;
  // dirichlet redraws until every node has at least this many samples.
  int64_t min_samples = 10;
  uint64_t seed = 1;
};

// Per-node sample indices into `train`, each sorted ascending. Throws ConfigError when the
// options cannot be met (e.g. more nodes than samples).
std::vector<std::vector<int64_t>> Partition(const Dataset& train, const PartitionOptions& o);
// How the training samples are split: node i's sample indices, from the options and the
// partition's random stream.
// "user,node,samples" lines of a natural partition (data with users), for users.csv.
std::string UserMappingCsv(const Dataset& train, const std::vector<std::vector<int64_t>>& parts);
using Partitioner = std::function<std::vector<std::vector<int64_t>>(
    const Dataset& train, const PartitionOptions& options, Rng& rng)>;
const Registry<Partitioner>& PartitionerRegistry();

// Hands out a node's samples in a deterministic shuffled order, reshuffling each epoch.
class NodeLoader {
 public:
  NodeLoader(const Dataset& data, std::vector<int64_t> indices, Rng rng);
  // Fills x[batch * sample_dim] and y[batch] with the next batch (wrapping across epochs).
  // Float data only (Dataset::gather).
  void next_batch(int batch, float* x, int64_t* y);
  // The sample indices of the next batch (valid until the next call).
  std::span<const int64_t> next_indices(int batch);
  const std::vector<int64_t>& indices() const { return indices_; }
  const Dataset& data() const { return data_; }
  int64_t epoch() const { return epoch_; }
  // Saves or loads (io.loading()) the position in the epoch, its order and the shuffle RNG.
  void checkpoint(StateIo& io);

 private:
  const Dataset& data_;
  std::vector<int64_t> indices_, order_, batch_idx_;
  size_t pos_ = 0;
  int64_t epoch_ = 0;
  Rng rng_;
};

}  // namespace murmur::data
