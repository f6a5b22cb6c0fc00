#include <algorithm>
#include <cmath>
#include <deque>
#include <set>

#include "murmur/core/enum_names.h"
#include "murmur/graph/topology.h"

namespace murmur::graph {

int64_t Graph::directed_edges() const {
  int64_t e = 0;
  for (auto& o : out) e += static_cast<int64_t>(o.size());
  return e;
}

double Graph::weight(int i, int j) const {
  if (i == j) return w_self[i];
  auto it = std::lower_bound(in[i].begin(), in[i].end(), j);
  if (it == in[i].end() || *it != j) return 0.0;
  return w_in[i][it - in[i].begin()];
}

namespace {
constexpr EnumNames<WeightScheme, 4> kWeightNames = {
    {{WeightScheme::kMetropolisHastings, "metropolis_hastings"},
     {WeightScheme::kUniform, "uniform"},
     {WeightScheme::kMaxDegree, "max_degree"},
     {WeightScheme::kColumn, "column"}}};
}  // namespace

WeightScheme ParseWeightScheme(const std::string& name, const std::string& key) {
  return ParseEnum(kWeightNames, name, key, "weight scheme");
}

std::string_view WeightSchemeName(WeightScheme scheme) { return EnumName(kWeightNames, scheme); }

Graph GraphFromEdges(int n, bool directed, const std::vector<std::pair<int, int>>& edges) {
  MURMUR_CHECK(ConfigError, n >= 1, "a graph needs at least one node, got ", n);
  Graph g;
  g.n = n;
  g.directed = directed;
  g.out.resize(n);
  g.in.resize(n);
  for (auto [a, b] : edges) {
    MURMUR_CHECK(ConfigError, a >= 0 && a < n && b >= 0 && b < n, "edge ", a, "->", b,
                 " names a node outside [0, ", n, ")");
    if (a == b) continue;
    g.out[a].push_back(b);
    g.in[b].push_back(a);
    if (!directed) {
      g.out[b].push_back(a);
      g.in[a].push_back(b);
    }
  }
  // Sorted, without duplicates (an edge listed twice is one edge).
  for (auto* lists : {&g.out, &g.in})
    for (std::vector<int>& l : *lists) {
      std::sort(l.begin(), l.end());
      l.erase(std::unique(l.begin(), l.end()), l.end());
      l.shrink_to_fit();
    }
  return g;
}

void AssignWeights(Graph& g, WeightScheme scheme) {
  const int n = g.n;
  MURMUR_CHECK(ConfigError,
               !g.directed || scheme == WeightScheme::kColumn || scheme == WeightScheme::kUniform,
               "topology.weights: '", WeightSchemeName(scheme),
               "' needs an undirected graph; directed graphs use 'column' (push-sum)");
  size_t dmax = 0;
  for (auto& o : g.out) dmax = std::max(dmax, o.size());
  g.w_self.assign(n, 0.0);
  g.w_in.assign(n, {});
  for (int i = 0; i < n; ++i) {
    const double di = static_cast<double>(g.in[i].size());
    g.w_in[i].resize(g.in[i].size());
    double sum = 0.0;
    for (size_t k = 0; k < g.in[i].size(); ++k) {
      const int j = g.in[i][k];
      double w = 0.0;
      switch (scheme) {
        case WeightScheme::kMetropolisHastings:
          w = 1.0 / (1.0 + std::max(di, static_cast<double>(g.in[j].size())));
          break;
        case WeightScheme::kUniform:
          w = 1.0 / (1.0 + di);
          break;
        case WeightScheme::kMaxDegree:
          w = 1.0 / (1.0 + static_cast<double>(dmax));
          break;
        case WeightScheme::kColumn:
          w = 1.0 / (1.0 + static_cast<double>(g.out[j].size()));
          break;
      }
      g.w_in[i][k] = w;
      sum += w;
    }
    g.w_self[i] = scheme == WeightScheme::kColumn
                      ? 1.0 / (1.0 + static_cast<double>(g.out[i].size()))
                      : 1.0 - sum;
  }
}

std::vector<int> HopDistances(const Graph& g, int src) {
  std::vector<int> dist(g.n, -1);
  std::deque<int> q{src};
  dist[src] = 0;
  while (!q.empty()) {
    int u = q.front();
    q.pop_front();
    for (int v : g.out[u]) {
      if (dist[v] < 0) {
        dist[v] = dist[u] + 1;
        q.push_back(v);
      }
    }
  }
  return dist;
}

bool IsStronglyConnected(const Graph& g) {
  if (g.n <= 1) return true;
  // Reachable from 0 along out-edges and along in-edges.
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<char> seen(g.n, 0);
    std::vector<int> stack{0};
    seen[0] = 1;
    int count = 1;
    while (!stack.empty()) {
      int u = stack.back();
      stack.pop_back();
      for (int v : pass == 0 ? g.out[u] : g.in[u]) {
        if (!seen[v]) {
          seen[v] = 1;
          ++count;
          stack.push_back(v);
        }
      }
    }
    if (count != g.n) return false;
  }
  return true;
}

int Diameter(const Graph& g) {
  int diam = 0;
  for (int s = 0; s < g.n; ++s) {
    for (int d : HopDistances(g, s)) {
      if (d < 0) return -1;
      diam = std::max(diam, d);
    }
  }
  return diam;
}

double RowStochasticError(const Graph& g) {
  double err = 0.0;
  for (int i = 0; i < g.n; ++i) {
    double s = g.w_self[i];
    for (double w : g.w_in[i]) s += w;
    err = std::max(err, std::abs(s - 1.0));
  }
  return err;
}

double ColumnStochasticError(const Graph& g) {
  std::vector<double> col(g.w_self.begin(), g.w_self.end());
  for (int i = 0; i < g.n; ++i)
    for (size_t k = 0; k < g.in[i].size(); ++k) col[g.in[i][k]] += g.w_in[i][k];
  double err = 0.0;
  for (double s : col) err = std::max(err, std::abs(s - 1.0));
  return err;
}

}  // namespace murmur::graph
