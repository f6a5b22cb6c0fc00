// Second-eigenvalue modulus by power iteration on W - pi l^T.
//
// For a (possibly non-symmetric) stochastic matrix W with right Perron vector pi (W pi = pi)
// and left Perron vector l (l^T W = l^T), W^k -> pi l^T / (l^T pi), and the rate is the
// spectral radius of W - pi l^T / (l^T pi). We estimate that radius with Gelfand's formula
// rho = lim ||A^k x||^(1/k) from the growth of a random vector over the second half of the
// iterations, renormalising as we go. Time-varying topologies use the product over a period.
#include "murmur/graph/spectral.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <numeric>
#include <sstream>
#include <string>

#include "murmur/core/rng.h"

namespace murmur::graph {
namespace {

// y = W x for the round graph g (receiver-side weights).
void Apply(const Graph& g, const std::vector<double>& x, std::vector<double>& y) {
  for (int i = 0; i < g.n; ++i) {
    double s = g.w_self[i] * x[i];
    for (size_t k = 0; k < g.in[i].size(); ++k) s += g.w_in[i][k] * x[g.in[i][k]];
    y[i] = s;
  }
}

// y = W^T x.
void ApplyT(const Graph& g, const std::vector<double>& x, std::vector<double>& y) {
  for (int i = 0; i < g.n; ++i) y[i] = g.w_self[i] * x[i];
  for (int i = 0; i < g.n; ++i)
    for (size_t k = 0; k < g.in[i].size(); ++k) y[g.in[i][k]] += g.w_in[i][k] * x[i];
}

void ApplyPeriod(const Topology& t, bool transpose, std::vector<double>& x,
                 std::vector<double>& tmp) {
  const int p = t.period();
  for (int r = 0; r < p; ++r) {
    const Graph& g = t.at(transpose ? p - 1 - r : r);
    transpose ? ApplyT(g, x, tmp) : Apply(g, x, tmp);
    x.swap(tmp);
  }
}

double Norm(const std::vector<double>& x) {
  double s = 0.0;
  for (double v : x) s += v * v;
  return std::sqrt(s);
}

// Power iterations for each Perron vector.
constexpr int kPerronIterations = 5000;

std::vector<double> Perron(const Topology& t, bool left) {
  const int n = t.nodes();
  std::vector<double> x(n, 1.0 / n), tmp(n);
  for (int it = 0; it < kPerronIterations; ++it) {
    ApplyPeriod(t, left, x, tmp);
    const double s = std::accumulate(x.begin(), x.end(), 0.0);
    for (double& v : x) v /= s;
  }
  return x;
}

}  // namespace

double SecondEigenvalueModulus(const Topology& t, int iterations, uint64_t seed) {
  const int n = t.nodes();
  if (n <= 1) return 0.0;
  const std::vector<double> pi = Perron(t, false), l = Perron(t, true);
  const double lpi = std::inner_product(l.begin(), l.end(), pi.begin(), 0.0);
  auto deflate = [&](std::vector<double>& x) {  // x -= pi (l^T x) / (l^T pi)
    const double c = std::inner_product(l.begin(), l.end(), x.begin(), 0.0) / lpi;
    for (int i = 0; i < n; ++i) x[i] -= pi[i] * c;
  };
  Rng rng(seed, 0, Stream::kTopology);
  std::vector<double> x(n), tmp(n);
  for (double& v : x) v = rng.normal();
  deflate(x);
  double log_growth = 0.0;
  const int half = iterations / 2;
  for (int it = 0; it < iterations; ++it) {
    ApplyPeriod(t, false, x, tmp);
    deflate(x);
    const double norm = Norm(x);
    if (norm < 1e-280) return 0.0;  // nilpotent part: exact averaging
    for (double& v : x) v /= norm;
    if (it >= half) log_growth += std::log(norm);
  }
  const double per_period = std::exp(log_growth / (iterations - half));
  return std::pow(per_period, 1.0 / t.period());
}

double SmallestEigenvalue(const Graph& g, int iterations, uint64_t seed) {
  const int n = g.n;
  if (n <= 1) return n == 1 ? g.w_self[0] : 1.0;
  Rng rng(seed, 1, Stream::kTopology);
  std::vector<double> x(n), wx(n);
  for (double& v : x) v = rng.normal();
  double rayleigh = 0.0;
  for (int it = 0; it < iterations; ++it) {
    const double norm = Norm(x);
    if (norm == 0.0) return 1.0;
    for (double& v : x) v /= norm;
    Apply(g, x, wx);
    rayleigh = 0.0;  // x^T (I - W) x with ||x|| = 1
    for (int i = 0; i < n; ++i) {
      wx[i] = x[i] - wx[i];
      rayleigh += x[i] * wx[i];
    }
    x.swap(wx);
  }
  return 1.0 - rayleigh;
}

double SpectralGap(const Topology& topology) { return 1.0 - SecondEigenvalueModulus(topology); }

}  // namespace murmur::graph

namespace murmur::graph {

// Steps (edge visits) DescribeTopology spends on one exact figure: a few seconds.
constexpr double kWorkBudget = 3e9;

std::string DescribeTopology(const Topology& t, bool with_edges) {
  std::ostringstream os;
  const int n = t.nodes();
  os << "topology: " << t.name() << "\n"
     << "nodes: " << n << "\n"
     << "directed: " << (t.directed() ? "yes" : "no") << "\n"
     << "time-varying: "
     << (t.time_varying() ? "yes, period " + std::to_string(t.period()) : std::string("no"))
     << "\n";
  for (int r = 0; r < t.period(); ++r) {
    const Graph& g = t.at(r);
    size_t omin = SIZE_MAX, omax = 0, imin = SIZE_MAX, imax = 0;
    for (int i = 0; i < n; ++i) {
      omin = std::min(omin, g.out[i].size());
      omax = std::max(omax, g.out[i].size());
      imin = std::min(imin, g.in[i].size());
      imax = std::max(imax, g.in[i].size());
    }
    const int64_t e = g.directed_edges();
    const std::string prefix = t.time_varying() ? "round " + std::to_string(r) + " " : "";
    os << prefix << "edges: " << (g.directed ? e : e / 2)
       << (g.directed ? " directed" : " undirected") << "\n"
       << prefix << "out-degree min/mean/max: " << omin << " / " << static_cast<double>(e) / n
       << " / " << omax << "\n";
    if (g.directed) os << prefix << "in-degree min/max: " << imin << " / " << imax << "\n";
    // Exact diameter: a breadth-first search from every node, n * edges steps. Beyond the
    // budget, a lower bound from a few sources, said as such.
    if (static_cast<double>(n) * static_cast<double>(e) <= kWorkBudget) {
      const int diam = Diameter(g);
      os << prefix << "diameter: "
         << (diam < 0 ? std::string("infinite (not strongly connected)") : std::to_string(diam))
         << "\n";
    } else {
      int bound = 0;
      for (int k = 0; k < 16; ++k)
        for (int d : HopDistances(g, static_cast<int>(static_cast<int64_t>(k) * n / 16)))
          bound = std::max(bound, d);
      os << prefix << "diameter: >= " << bound
         << " (eccentricity of 16 nodes; the exact value takes n * edges = "
         << static_cast<double>(n) * static_cast<double>(e) << " steps)\n";
    }
  }
  // Power iteration: the two Perron vectors, then the deflated iterations, each a product
  // with every round's W over every edge.
  constexpr int kIterations = 3000;
  double work = 0;
  for (int r = 0; r < t.period(); ++r)
    work += (2.0 * kPerronIterations + kIterations) * (t.at(r).directed_edges() + n);
  if (work <= kWorkBudget) {
    const double lambda2 = SecondEigenvalueModulus(t, kIterations);
    os << "second eigenvalue modulus |lambda_2|: " << lambda2 << "\n"
       << "spectral gap 1 - |lambda_2|: " << 1.0 - lambda2
       << (t.time_varying() ? " (per round, from the product over one period)" : "") << "\n";
  } else {
    os << "spectral gap: not computed (power iteration would take about " << work
       << " multiply-adds, over the budget of " << kWorkBudget << ")\n";
  }
  if (with_edges) {
    for (int r = 0; r < t.period(); ++r) {
      const Graph& g = t.at(r);
      os << "# edges" << (t.time_varying() ? " of round " + std::to_string(r) : std::string())
         << "\n";
      for (int i = 0; i < n; ++i)
        for (int j : g.out[i])
          if (g.directed || i < j) os << i << " " << j << "\n";
    }
  }
  return os.str();
}

}  // namespace murmur::graph
