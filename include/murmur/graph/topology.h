// Communication topologies: static, directed and time-varying graphs with mixing weights.
//
// A Topology yields, for every round, a weighted directed Graph. Undirected graphs store
// each edge in both directions. Weights are receiver-side: node i combines its own vector
// with weight w_self[i] and the vector of in-neighbour in[i][k] with weight w_in[i][k].
// Topologies are immutable after construction and safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "murmur/core/registry.h"

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

class Topology {
 public:
  Topology(std::string name, std::vector<Graph> period);
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
};

using TopologyFactory = std::function<std::unique_ptr<Topology>(const TopologyOptions&)>;
// All built-in topologies, registered on first use.
const Registry<TopologyFactory>& TopologyRegistry();
// Builds, weights and validates (connected, stochastic) the named topology.
std::unique_ptr<Topology> MakeTopology(const TopologyOptions& options);

}  // namespace murmur::graph
