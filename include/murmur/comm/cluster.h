// Where the nodes of a run live: which process (rank) simulates which nodes, the transport
// between them, and the few collective operations the runner needs to write one set of
// outputs. The local cluster is this process alone (one rank, every node); the MPI cluster
// spreads the nodes over the ranks of MPI_COMM_WORLD (mpirun -np P murmur run ...).
//
// MPI details (src/comm/mpi/mpi_cluster.cc): MPI is initialised with MPI_THREAD_FUNNELED and
// every MPI call is made from the thread that created the cluster (the runner's main
// thread): node-parallel sends only queue frames; exchange() and the collectives below run
// on that thread. Every wait is bounded by the timeout, so a rank that died or hangs, or a
// broken network, ends the run with an error naming the peer rank and the round, never a
// hang.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "murmur/comm/frame.h"
#include "murmur/comm/transport.h"
#include "murmur/core/check.h"

namespace murmur::comm {

// Nodes 0..nodes-1 over ranks 0..ranks-1. block: rank r holds a contiguous range, the first
// nodes % ranks ranks one node more; cyclic: node i lives on rank i % ranks.
class NodeMap {
 public:
  NodeMap(int nodes, int ranks, std::string_view mapping);
  int nodes() const { return nodes_; }
  int ranks() const { return static_cast<int>(local_.size()); }
  int owner(int node) const { return owner_[node]; }
  const std::vector<int>& local(int rank) const { return local_[rank]; }
  // "nodes 4-7" / "node 3" / "nodes 1, 4, 7" for messages.
  std::string describe(int rank) const;

 private:
  int nodes_;
  std::vector<int> owner_;
  std::vector<std::vector<int>> local_;
};

// Thrown when a wait for another process passes its deadline.
class TimeoutError : public Error {
 public:
  using Error::Error;
};

class Cluster {
 public:
  virtual ~Cluster() = default;
  virtual std::string_view name() const = 0;  // "inproc" or "mpi"
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // The transport between the nodes of `map` (map.ranks() == size()).
  virtual std::unique_ptr<Transport> make_transport(const NodeMap& map) = 0;
  // Every rank's `local` at rank 0, in rank order; an empty vector on other ranks.
  // Collective: every rank calls it, in the same order. `what` names the data in errors.
  virtual std::vector<Bytes> gather(Bytes local, std::string_view what) = 0;
  // True on every rank when `flag` is true on any rank (a stop request). Collective.
  virtual bool any(bool flag, std::string_view what) = 0;
};

// This process alone.
std::unique_ptr<Cluster> MakeLocalCluster();

// Whether this build has the MPI transport (MURMUR_WITH_MPI).
bool MpiBuilt();
// The ranks of MPI_COMM_WORLD; initialises MPI on first use. `timeout_s` bounds every wait.
// Throws ConfigError when built without MPI.
std::unique_ptr<Cluster> MakeMpiCluster(double timeout_s);
// After an error on one rank: when MPI is running, MPI_Abort (ends every rank); else returns.
void AbortMpiIfRunning(int code);

}  // namespace murmur::comm
