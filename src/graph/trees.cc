// Spanning trees for relay algorithms.
#include <algorithm>
#include <deque>

#include "murmur/graph/topology.h"

namespace murmur::graph {

bool IsTree(const Graph& g) {
  if (g.directed) return false;
  return g.directed_edges() == 2 * static_cast<int64_t>(g.n - 1) && IsStronglyConnected(g);
}

Graph ChainTree(int n) {
  std::vector<std::pair<int, int>> e;
  for (int i = 0; i + 1 < n; ++i) e.emplace_back(i, i + 1);
  return GraphFromEdges(n, false, e);
}

Graph BinaryTree(int n, bool mirrored) {
  auto id = [&](int i) { return mirrored ? n - 1 - i : i; };
  std::vector<std::pair<int, int>> e;
  for (int i = 1; i < n; ++i) e.emplace_back(id((i - 1) / 2), id(i));
  return GraphFromEdges(n, false, e);
}

Graph BfsSpanningTree(const Graph& g, int root) {
  MURMUR_CHECK(ConfigError, root >= 0 && root < g.n, "relaysum.root: node ", root,
               " is outside [0, ", g.n, ")");
  // Undirected view: a directed edge can carry relay messages both ways only if both
  // directions exist, but a spanning tree of the connectivity is what users ask for.
  std::vector<std::vector<int>> adj(g.n);
  for (int i = 0; i < g.n; ++i) {
    for (int j : g.out[i]) {
      adj[i].push_back(j);
      adj[j].push_back(i);
    }
  }
  for (auto& a : adj) std::sort(a.begin(), a.end());
  std::vector<int> parent(g.n, -2);
  parent[root] = -1;
  std::deque<int> q{root};
  std::vector<std::pair<int, int>> e;
  while (!q.empty()) {
    const int u = q.front();
    q.pop_front();
    for (int v : adj[u]) {
      if (parent[v] != -2) continue;
      parent[v] = u;
      e.emplace_back(u, v);
      q.push_back(v);
    }
  }
  MURMUR_CHECK(ConfigError, static_cast<int>(e.size()) == g.n - 1,
               "relaysum.spanning_tree: the graph is not connected (", e.size() + 1, " of ", g.n,
               " nodes reachable from node ", root, ")");
  return GraphFromEdges(g.n, false, e);
}

}  // namespace murmur::graph
