// Communication topologies: static, directed and time-varying graphs with mixing weights.
//
// A Topology yields, for every round, a weighted directed Graph. Undirected graphs store
// each edge in both directions. Weights are receiver-side: node i combines its own vector
// with weight w_self[i] and the vector of in-neighbour in[i][k] with weight w_in[i][k].
// Topologies are immutable after construction and safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "murmur/core/registry.h"
#include "murmur/core/rng.h"

namespace murmur::graph {

struct Graph {
  int n = 0;
  bool directed = false;
  std::vector<std::vector<int>> out;      // sorted out-neighbours, self excluded
  std::vector<std::vector<int>> in;       // sorted in-neighbours, self excluded
  std::vector<double> w_self;             // mixing weight of a node's own vector
  std::vector<std::vector<double>> w_in;  // aligned with `in`

  int64_t directed_edges() const;  // an undirected edge counts twice
  // Weight node i gives to node j (0 when j is not an in-neighbour and j != i).
  double weight(int i, int j) const;
};

// How mixing weights are derived from the graph.
enum class WeightScheme {
  kMetropolisHastings,  // w_ij = 1/(1+max(d_i,d_j)); symmetric, doubly stochastic
  kUniform,             // w_ij = 1/(1+d_i); doubly stochastic only on regular graphs
  kMaxDegree,           // w_ij = 1/(1+d_max); symmetric, doubly stochastic
  kColumn,              // w_ij = 1/(1+outdeg_j); column stochastic (push-sum)
};
WeightScheme ParseWeightScheme(const std::string& name, const std::string& key);
std::string_view WeightSchemeName(WeightScheme scheme);

// Builds adjacency from an edge list. Undirected edges are added both ways; duplicates and
// self loops are dropped.
Graph GraphFromEdges(int n, bool directed, const std::vector<std::pair<int, int>>& edges);
// Fills g.w_self / g.w_in. Throws ConfigError when the scheme does not apply (e.g.
// Metropolis-Hastings on a directed graph).
void AssignWeights(Graph& g, WeightScheme scheme);

bool IsStronglyConnected(const Graph& g);
// Hops from `src` to every node along out-edges (-1 where unreachable).
std::vector<int> HopDistances(const Graph& g, int src);
// Longest shortest path over out-edges; -1 when not strongly connected.
int Diameter(const Graph& g);
// Largest |row sum - 1| and |column sum - 1| of the mixing matrix.
double RowStochasticError(const Graph& g);
double ColumnStochasticError(const Graph& g);

struct TopologyOptions {
  std::string name = "ring";
  int nodes = 16;
  // Degree of `regular` (n*degree must be even, degree < n).
  int degree = 4;
  // Edge probability of `erdos_renyi`; 0 picks 2 ln(n)/n.
  double edge_prob = 0.0;
  // Mixing weights; empty picks metropolis_hastings (undirected) or column (directed).
  std::string weights;
  // Seed for random graphs.
  uint64_t seed = 1;
  // k_peer_exponential: out-peers per round (1 = one_peer_exponential, ceil(log2 n) =
  // directed_exponential every round).
  int peers = 2;
  // file: path of an edge list, one edge "u v" per line (0-based node ids < nodes; '#'
  // starts a comment). Duplicate edges and self loops are errors.
  std::string file;
  // file: whether "u v" means u -> v only (true) or both directions (false).
  bool directed = false;
};

// Reads an edge list (the format of TopologyOptions::file). Throws IoError when the file
// cannot be read and ConfigError naming file:line on a malformed line, an id outside
// [0, nodes), a self loop or a duplicate edge.
std::vector<std::pair<int, int>> ReadEdgeList(const std::string& path, int nodes, bool directed);

// Spanning trees, for relay algorithms (RelaySum). A tree is an undirected Graph.
// Whether g is undirected, connected and has exactly n - 1 edges.
bool IsTree(const Graph& g);
// The path 0 - 1 - ... - n-1.
Graph ChainTree(int n);
// The heap-ordered binary tree: node i's children are 2i+1 and 2i+2. Mirrored, node i plays
// the role of n-1-i, so leaves of one tree are mostly inner nodes of the other (the double
// binary trees of Sanders et al., used by RelaySGD).
Graph BinaryTree(int n, bool mirrored);
// Breadth-first spanning tree of g's undirected view from `root` (neighbours visited in id
// order; a node hangs off the first node that reaches it). Throws ConfigError when g is not
// connected.
Graph BfsSpanningTree(const Graph& g, int root);

class Topology {
 public:
  Topology(std::string name, std::vector<Graph> period);
  // A topology made of spanning trees (chain, binary_tree, double_binary_tree) also carries
  // them: relay algorithms send along each tree, the graph is their union.
  Topology(std::string name, std::vector<Graph> period, std::vector<Graph> trees);
  const std::vector<Graph>& trees() const { return trees_; }
  const std::string& name() const { return name_; }
  int nodes() const { return period_.front().n; }
  bool directed() const { return period_.front().directed; }
  bool time_varying() const { return period_.size() > 1; }
  // Number of distinct graphs before the sequence repeats.
  int period() const { return static_cast<int>(period_.size()); }
  const Graph& at(uint64_t round) const { return period_[round % period_.size()]; }

 private:
  std::string name_;
  std::vector<Graph> period_;
  std::vector<Graph> trees_;
};

using TopologyFactory = std::function<std::unique_ptr<Topology>(const TopologyOptions&)>;
// All built-in topologies, registered on first use.
const Registry<TopologyFactory>& TopologyRegistry();
// A random simple d-regular undirected graph on n nodes (n * d even, 1 <= d < n), without
// weights, drawn with `rng`; nullopt when 10,000 draws found none (connected: only connected
// graphs count). The "regular" topology and Epidemic Learning's per-round graphs use it.
std::optional<Graph> RandomRegularGraph(int n, int d, Rng& rng, bool connected);

// Builds, weights and validates (connected, stochastic) the named topology.
std::unique_ptr<Topology> MakeTopology(const TopologyOptions& options);

}  // namespace murmur::graph
