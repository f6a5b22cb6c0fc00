#include "murmur/comm/cluster.h"

#include "murmur/core/check.h"

namespace murmur::comm {

NodeMap::NodeMap(int nodes, int ranks, std::string_view mapping) : nodes_(nodes) {
  MURMUR_CHECK(ConfigError, ranks >= 1, "need at least one rank, got ", ranks);
  MURMUR_CHECK(ConfigError, nodes >= ranks, "run.nodes = ", nodes, " is fewer than the ", ranks,
               " MPI ranks; every rank needs at least one node (start fewer ranks)");
  MURMUR_CHECK(ConfigError, mapping == "block" || mapping == "cyclic", "comm.mapping: '", mapping,
               "' is not block or cyclic");
  owner_.resize(nodes);
  local_.resize(ranks);
  const int base = nodes / ranks, extra = nodes % ranks;
  for (int i = 0, r = 0, filled = 0; i < nodes; ++i) {
    int owner = i % ranks;
    if (mapping == "block") {
      if (filled == base + (r < extra ? 1 : 0)) ++r, filled = 0;
      owner = r;
      ++filled;
    }
    owner_[i] = owner;
    local_[owner].push_back(i);
  }
}

std::string NodeMap::describe(int rank) const {
  const std::vector<int>& v = local_[rank];
  if (v.size() == 1) return "node " + std::to_string(v[0]);
  if (v.back() - v.front() + 1 == static_cast<int>(v.size()))
    return "nodes " + std::to_string(v.front()) + "-" + std::to_string(v.back());
  std::string s = "nodes ";
  for (size_t k = 0; k < v.size(); ++k) s += (k ? ", " : "") + std::to_string(v[k]);
  return s;
}

namespace {

class LocalCluster final : public Cluster {
 public:
  std::string_view name() const override { return "inproc"; }
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::unique_ptr<Transport> make_transport(const NodeMap& map) override {
    return MakeInProcessTransport(map.nodes());
  }
  std::vector<Bytes> gather(Bytes local, std::string_view) override {
    std::vector<Bytes> all;
    all.push_back(std::move(local));
    return all;
  }
  bool any(bool flag, std::string_view) override { return flag; }
};

}  // namespace

std::unique_ptr<Cluster> MakeLocalCluster() { return std::make_unique<LocalCluster>(); }

#ifndef MURMUR_WITH_MPI
bool MpiBuilt() { return false; }
std::unique_ptr<Cluster> MakeMpiCluster(double) {
  throw ConfigError(
      "comm.transport = \"mpi\" (or a run under mpirun): this murmur was built without MPI; "
      "install libopenmpi-dev and reconfigure (cmake -DMURMUR_WITH_MPI=ON)");
}
void AbortMpiIfRunning(int) {}
#endif

}  // namespace murmur::comm
