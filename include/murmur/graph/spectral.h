// Spectral properties of mixing matrices.
#pragma once

#include <cstdint>
#include <string>

#include "murmur/graph/topology.h"

namespace murmur::graph {

// Second-largest eigenvalue modulus of the product of the mixing matrices over one period
// (for a static topology: of W itself), i.e. the spectral radius of W - pi l^T where pi and
// l are W's right and left Perron vectors. Estimated by power iteration (Gelfand's formula),
// so it handles non-symmetric and time-varying matrices; accurate to about 1e-6 on the
// graphs murmur builds. O(iterations * edges).
double SecondEigenvalueModulus(const Topology& topology, int iterations = 3000, uint64_t seed = 1);
// 1 - SecondEigenvalueModulus: 1 for exact averaging, near 0 for slowly mixing graphs.
double SpectralGap(const Topology& topology);
// Smallest eigenvalue of a symmetric mixing matrix W (undirected graph, symmetric weights), by
// power iteration on I - W (positive semi-definite for a doubly stochastic W). The estimate
// approaches from above; accurate to about 1e-6 on the graphs murmur builds. D² needs it
// above -1/3.
double SmallestEigenvalue(const Graph& g, int iterations = 5000, uint64_t seed = 1);

}  // namespace murmur::graph

namespace murmur::graph {
// Human-readable report for `murmur topology`: kind, degrees, diameter, spectral gap, and
// (with_edges) the edge list, one "i j" line per edge (i < j when undirected, i -> j when
// directed), per round of the period for time-varying graphs.
std::string DescribeTopology(const Topology& topology, bool with_edges);
}  // namespace murmur::graph
