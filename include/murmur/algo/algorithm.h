// The decentralized-algorithm interface.
//
// A round is: every node runs its local steps (the runner), then the algorithm's
// communication phases. For each phase p the runner calls send(p, round, i, x_i) for every
// node (in parallel), waits until all sends are done, then calls receive(p, round, i, x_i)
// for every node (in parallel). x_i is node i's flat model vector; an algorithm may rewrite
// it in receive (and in send, for its own copy). Algorithms keep per-node state indexed by
// node id; a call for node i touches only node i's state, so calls for different nodes may
// run concurrently. Incoming messages are always combined in sender-id order, so results do
// not depend on thread count.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "murmur/comm/transport.h"
#include "murmur/compress/compressor.h"
#include "murmur/core/registry.h"
#include "murmur/graph/topology.h"

namespace murmur::algo {

struct AlgorithmContext {
  int nodes = 0;
  int64_t dim = 0;  // length of every x_i
  uint64_t seed = 1;
  const graph::Topology* topology = nullptr;  // outlives the algorithm
  comm::Transport* transport = nullptr;       // outlives the algorithm
  // Compression settings (compression.*); algorithms without compression require "none".
  std::string compression = "none";
  compress::CompressorOptions compressor;
};

class Algorithm {
 public:
  virtual ~Algorithm() = default;
  virtual std::string_view name() const = 0;
  // Number of communication phases per round.
  virtual int phases() const { return 1; }
  virtual void send(int phase, uint32_t round, int node, std::span<float> x) = 0;
  virtual void receive(int phase, uint32_t round, int node, std::span<float> x) = 0;
};

using AlgorithmFactory = std::function<std::unique_ptr<Algorithm>(const AlgorithmContext&)>;
const Registry<AlgorithmFactory>& AlgorithmRegistry();
std::unique_ptr<Algorithm> MakeAlgorithm(const std::string& name, const AlgorithmContext& ctx);

// Factories of the built-ins (also reachable through the registry).
std::unique_ptr<Algorithm> MakeDpsgd(const AlgorithmContext& ctx);
std::unique_ptr<Algorithm> MakeAllReduce(const AlgorithmContext& ctx);
std::unique_ptr<Algorithm> MakeLocal(const AlgorithmContext& ctx);

}  // namespace murmur::algo
