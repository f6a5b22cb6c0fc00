// Built-in topologies. Random graphs draw from Rng(seed, 0, Stream::kTopology) and retry
// until the graph is simple and connected, so a seed always gives the same graph.
#include "murmur/graph/topology.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>

#include "murmur/core/rng.h"

namespace murmur::graph {

Topology::Topology(std::string name, std::vector<Graph> period)
    : name_(std::move(name)), period_(std::move(period)) {
  MURMUR_ASSERT(!period_.empty());
}

Topology::Topology(std::string name, std::vector<Graph> period, std::vector<Graph> trees)
    : Topology(std::move(name), std::move(period)) {
  trees_ = std::move(trees);
  for (const Graph& t : trees_) MURMUR_ASSERT(t.n == nodes() && IsTree(t));
}

namespace {

using Edges = std::vector<std::pair<int, int>>;

std::unique_ptr<Topology> Static(const std::string& name, int n, bool directed, const Edges& e) {
  std::vector<Graph> g;
  g.push_back(GraphFromEdges(n, directed, e));
  return std::make_unique<Topology>(name, std::move(g));
}

int Log2Ceil(int n) {
  int k = 0;
  while ((1 << k) < n) ++k;
  return k;
}

std::unique_ptr<Topology> Ring(const TopologyOptions& o) {
  Edges e;
  for (int i = 0; i < o.nodes; ++i) e.emplace_back(i, (i + 1) % o.nodes);
  return Static("ring", o.nodes, false, e);
}

std::unique_ptr<Topology> DirectedRing(const TopologyOptions& o) {
  Edges e;
  for (int i = 0; i < o.nodes; ++i) e.emplace_back(i, (i + 1) % o.nodes);
  return Static("directed_ring", o.nodes, true, e);
}

std::unique_ptr<Topology> Torus(const TopologyOptions& o) {
  const int n = o.nodes;
  int rows = static_cast<int>(std::sqrt(static_cast<double>(n)));
  while (rows > 1 && n % rows != 0) --rows;
  const int cols = n / rows;
  Edges e;
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const int i = r * cols + c;
      e.emplace_back(i, r * cols + (c + 1) % cols);
      e.emplace_back(i, ((r + 1) % rows) * cols + c);
    }
  }
  return Static("torus", n, false, e);
}

// Graphs beyond this many undirected edges (about 4 GB of adjacency and weights) are refused
// before anything is allocated: they would end in bad_alloc after minutes.
constexpr double kMaxEdges = 5e7;
void CheckEdges(const char* name, int n, double edges, const char* advice) {
  MURMUR_CHECK(ConfigError, edges <= kMaxEdges, "topology.name: '", name, "' on ", n, " nodes has ",
               edges, " edges, more than murmur builds (", kMaxEdges, "); ", advice);
}

std::unique_ptr<Topology> Complete(const TopologyOptions& o) {
  CheckEdges("complete", o.nodes, 0.5 * o.nodes * (o.nodes - 1.0),
             "allreduce averages exactly on any topology, or use a sparse graph");
  Edges e;
  for (int i = 0; i < o.nodes; ++i)
    for (int j = i + 1; j < o.nodes; ++j) e.emplace_back(i, j);
  return Static("complete", o.nodes, false, e);
}

std::unique_ptr<Topology> Star(const TopologyOptions& o) {
  Edges e;
  for (int i = 1; i < o.nodes; ++i) e.emplace_back(0, i);
  return Static("star", o.nodes, false, e);
}

std::unique_ptr<Topology> Exponential(const TopologyOptions& o) {
  Edges e;
  for (int i = 0; i < o.nodes; ++i)
    for (int hop = 1; hop < o.nodes; hop *= 2) e.emplace_back(i, (i + hop) % o.nodes);
  return Static("exponential", o.nodes, false, e);
}

std::unique_ptr<Topology> OnePeerExponential(const TopologyOptions& o) {
  const int n = o.nodes;
  std::vector<Graph> period;
  for (int k = 0; k < std::max(1, Log2Ceil(n)); ++k) {
    Edges e;
    for (int i = 0; i < n; ++i) e.emplace_back(i, (i + (1 << k)) % n);
    period.push_back(GraphFromEdges(n, true, e));
  }
  return std::make_unique<Topology>("one_peer_exponential", std::move(period));
}

std::unique_ptr<Topology> DirectedExponential(const TopologyOptions& o) {
  Edges e;
  for (int i = 0; i < o.nodes; ++i)
    for (int hop = 1; hop < o.nodes; hop *= 2) e.emplace_back(i, (i + hop) % o.nodes);
  return Static("directed_exponential", o.nodes, true, e);
}

// Round t: i -> i + 2^((t k + j) mod L) for j < k, L = ceil(log2 n): every node cycles
// through its L exponential peers, k of them per round (Assran et al. 2019 use k = 1).
std::unique_ptr<Topology> KPeerExponential(const TopologyOptions& o) {
  const int n = o.nodes, levels = std::max(1, Log2Ceil(n));
  MURMUR_CHECK(ConfigError, o.peers >= 1 && o.peers <= levels, "topology.peers: must be in [1, ",
               levels, "] for ", n, " nodes (ceil(log2 n) peers in all), got ", o.peers);
  std::vector<Graph> period;
  for (int t = 0; t < levels; ++t) {
    Edges e;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < o.peers; ++j)
        e.emplace_back(i, (i + (1 << ((t * o.peers + j) % levels))) % n);
    period.push_back(GraphFromEdges(n, true, e));
  }
  return std::make_unique<Topology>("k_peer_exponential", std::move(period));
}

std::unique_ptr<Topology> File(const TopologyOptions& o) {
  MURMUR_CHECK(ConfigError, !o.file.empty(),
               "topology.file: topology 'file' needs the path of an edge list");
  return Static("file", o.nodes, o.directed, ReadEdgeList(o.file, o.nodes, o.directed));
}

std::unique_ptr<Topology> Trees(const std::string& name, std::vector<Graph> trees) {
  std::vector<std::pair<int, int>> e;
  for (const Graph& t : trees)
    for (int i = 0; i < t.n; ++i)
      for (int j : t.out[i])
        if (i < j) e.emplace_back(i, j);
  std::vector<Graph> period{GraphFromEdges(trees.front().n, false, e)};
  return std::make_unique<Topology>(name, std::move(period), std::move(trees));
}

std::unique_ptr<Topology> Chain(const TopologyOptions& o) {
  return Trees("chain", {ChainTree(o.nodes)});
}

std::unique_ptr<Topology> BinaryTreeTopology(const TopologyOptions& o) {
  return Trees("binary_tree", {BinaryTree(o.nodes, false)});
}

std::unique_ptr<Topology> DoubleBinaryTree(const TopologyOptions& o) {
  return Trees("double_binary_tree", {BinaryTree(o.nodes, false), BinaryTree(o.nodes, true)});
}

std::unique_ptr<Topology> Regular(const TopologyOptions& o) {
  const int n = o.nodes, d = o.degree;
  MURMUR_CHECK(ConfigError, d >= 1 && d < n, "topology.degree: must be in [1, ", n - 1, "] for ", n,
               " nodes, got ", d);
  MURMUR_CHECK(ConfigError, (static_cast<int64_t>(n) * d) % 2 == 0,
               "topology.degree: nodes * degree must be even for a regular graph, got ", n, " * ",
               d);
  CheckEdges("regular", n, 0.5 * n * d, "lower topology.degree");
  Rng rng(o.seed, 0, Stream::kTopology);
  std::optional<Graph> g = RandomRegularGraph(n, d, rng, /*connected=*/true);
  MURMUR_CHECK(ConfigError, g.has_value(), "topology: could not draw a connected ", d,
               "-regular graph on ", n, " nodes");
  std::vector<Graph> period{std::move(*g)};
  return std::make_unique<Topology>("regular", std::move(period));
}

std::unique_ptr<Topology> ErdosRenyi(const TopologyOptions& o) {
  const int n = o.nodes;
  double p = o.edge_prob;
  if (p <= 0.0) p = std::min(1.0, 2.0 * std::log(std::max(2, n)) / n);
  MURMUR_CHECK(ConfigError, p > 0.0 && p <= 1.0, "topology.edge_prob: must be in (0, 1], got ",
               o.edge_prob);
  // One draw per pair of nodes: bounded like the edges.
  CheckEdges("erdos_renyi", n, std::max(p, 1.0 / 64) * 0.5 * n * (n - 1.0),
             "lower topology.edge_prob or run.nodes");
  Rng rng(o.seed, 0, Stream::kTopology);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    Edges e;
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j)
        if (rng.uniform() < p) e.emplace_back(i, j);
    Graph g = GraphFromEdges(n, false, e);
    if (!IsStronglyConnected(g)) continue;
    std::vector<Graph> period{std::move(g)};
    return std::make_unique<Topology>("erdos_renyi", std::move(period));
  }
  MURMUR_FAIL(ConfigError, "topology.edge_prob: ", p, " gave no connected graph on ", n,
              " nodes in 1000 draws; raise it");
}

Registry<TopologyFactory> MakeBuiltins() {
  Registry<TopologyFactory> r("topology");
  r.add("ring", "undirected ring: i <-> i+1", Ring);
  r.add("chain", "path 0 - 1 - ... - n-1 (a spanning tree)", Chain);
  r.add("binary_tree", "heap-ordered binary tree: i <-> 2i+1, 2i+2 (a spanning tree)",
        BinaryTreeTopology);
  r.add("double_binary_tree",
        "union of the binary tree and its mirror (i plays n-1-i); relaysum sends half the "
        "parameters along each tree",
        DoubleBinaryTree);
  r.add("torus", "2-D torus, rows x cols with rows the largest divisor <= sqrt(n)", Torus);
  r.add("complete", "every pair of nodes connected", Complete);
  r.add("star", "node 0 connected to every other node", Star);
  r.add("regular", "random connected d-regular graph (topology.degree)", Regular);
  r.add("erdos_renyi", "connected G(n, p) random graph (topology.edge_prob)", ErdosRenyi);
  r.add("exponential", "static exponential graph: i <-> i + 2^k (undirected)", Exponential);
  r.add("directed_ring", "directed ring: i -> i+1", DirectedRing);
  r.add("directed_exponential", "static directed exponential graph: i -> i + 2^k for all k",
        DirectedExponential);
  r.add("k_peer_exponential",
        "time-varying directed: each round i -> topology.peers of its exponential peers, in turn",
        KPeerExponential);
  r.add("file", "edge list read from topology.file (topology.directed: one-way edges)", File);
  r.add("one_peer_exponential",
        "time-varying directed: in round t, i -> i + 2^(t mod ceil(log2 n))", OnePeerExponential);
  return r;
}

}  // namespace

std::vector<std::pair<int, int>> ReadEdgeList(const std::string& path, int nodes, bool directed) {
  std::ifstream in(path);
  MURMUR_CHECK(IoError, in.good(), "topology.file: cannot open '", path, "'");
  Edges edges;
  std::set<std::pair<int, int>> seen;
  std::string line;
  for (int lineno = 1; std::getline(in, line); ++lineno) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream ss(line);
    std::string a, b, extra;
    if (!(ss >> a)) continue;  // blank or comment
    const std::string where = path + ":" + std::to_string(lineno);
    MURMUR_CHECK(ConfigError, (ss >> b) && !(ss >> extra), where,
                 ": expected two node ids \"u v\", got '", line, "'");
    auto id = [&](const std::string& t) {
      MURMUR_CHECK(
          ConfigError,
          !t.empty() && t.size() <= 9 && t.find_first_not_of("0123456789") == std::string::npos,
          where, ": '", t, "' is not a node id (a non-negative integer)");
      const int v = std::stoi(t);
      MURMUR_CHECK(ConfigError, v < nodes, where, ": node id ", v, " is outside [0, ", nodes,
                   ") (run.nodes = ", nodes, ")");
      return v;
    };
    const int u = id(a), v = id(b);
    MURMUR_CHECK(ConfigError, u != v, where, ": self loop ", u, " ", v,
                 " (mixing weights give every node its own weight already)");
    const auto key =
        directed ? std::make_pair(u, v) : std::make_pair(std::min(u, v), std::max(u, v));
    MURMUR_CHECK(ConfigError, seen.insert(key).second, where, ": duplicate edge ", u, " ", v,
                 directed ? "" : " (edges are undirected: 'u v' and 'v u' are the same edge)");
    edges.emplace_back(u, v);
  }
  MURMUR_CHECK(IoError, !in.bad(), "topology.file: error reading '", path, "'");
  MURMUR_CHECK(ConfigError, !edges.empty(), "topology.file: '", path, "' has no edges");
  return edges;
}

const Registry<TopologyFactory>& TopologyRegistry() {
  static const Registry<TopologyFactory> registry = MakeBuiltins();
  return registry;
}

std::unique_ptr<Topology> MakeTopology(const TopologyOptions& options) {
  MURMUR_CHECK(ConfigError, options.nodes >= 1, "run.nodes: must be >= 1, got ", options.nodes);
  auto topo = TopologyRegistry().get(options.name, "topology.name").value(options);
  // Weights are assigned per round graph; validate stochasticity and connectivity.
  std::vector<Graph> period;
  Graph unite;
  Edges all;
  for (int r = 0; r < topo->period(); ++r) {
    Graph g = topo->at(r);
    WeightScheme scheme =
        options.weights.empty()
            ? (g.directed ? WeightScheme::kColumn : WeightScheme::kMetropolisHastings)
            : ParseWeightScheme(options.weights, "topology.weights");
    AssignWeights(g, scheme);
    const double err =
        scheme == WeightScheme::kColumn ? ColumnStochasticError(g) : RowStochasticError(g);
    MURMUR_ASSERT(err < 1e-9, "mixing weights of ", options.name, " not stochastic: ", err);
    for (int i = 0; i < g.n; ++i)
      for (int j : g.out[i]) all.emplace_back(i, j);
    period.push_back(std::move(g));
  }
  MURMUR_CHECK(ConfigError, IsStronglyConnected(GraphFromEdges(options.nodes, true, all)),
               "topology.name: '", options.name, "' on ", options.nodes,
               " nodes is not (strongly) connected");
  return std::make_unique<Topology>(topo->name(), std::move(period), topo->trees());
}

std::optional<Graph> RandomRegularGraph(int n, int d, Rng& rng, bool connected) {
  MURMUR_ASSERT(d >= 1 && d < n && (static_cast<int64_t>(n) * d) % 2 == 0);
  // Pairing model with restarts: pair up n*d stubs at random, keep the graph only if it is
  // simple (and connected, when asked). Stubs that would form a loop or duplicate are re-drawn
  // a few times before restarting, which keeps the restart rate low for larger degrees.
  for (int attempt = 0; attempt < 10000; ++attempt) {
    std::vector<int> stubs;
    for (int i = 0; i < n; ++i)
      for (int k = 0; k < d; ++k) stubs.push_back(i);
    std::vector<std::vector<int>> adj(n);
    bool ok = true;
    while (!stubs.empty() && ok) {
      ok = false;
      for (int tries = 0; tries < 100; ++tries) {
        size_t a = rng.uniform_int(stubs.size()), b = rng.uniform_int(stubs.size());
        int u = stubs[a], v = stubs[b];
        if (a == b || u == v || std::find(adj[u].begin(), adj[u].end(), v) != adj[u].end())
          continue;
        adj[u].push_back(v);
        adj[v].push_back(u);
        if (a < b) std::swap(a, b);
        stubs.erase(stubs.begin() + a);
        stubs.erase(stubs.begin() + b);
        ok = true;
        break;
      }
    }
    if (!ok) continue;
    Edges e;
    for (int u = 0; u < n; ++u)
      for (int v : adj[u])
        if (u < v) e.emplace_back(u, v);
    Graph g = GraphFromEdges(n, false, e);
    if (connected && !IsStronglyConnected(g)) continue;
    return g;
  }
  return std::nullopt;
}

}  // namespace murmur::graph
