// relaysum's options (relaysum.* keys; the algorithm is in src/algo/relaysum.cc).
#pragma once

namespace murmur::algo {

// RelaySum (Vogels et al. 2021): what is relayed, how it is normalised, and over which tree.
struct RelayOptions {
  // model: relay models, fill missing contributions with the initial model (RelaySGD);
  // grad: relay local updates, missing ones count as 0 (RelaySum/Grad);
  // mix: relay beta * x + update and keep (1 - beta) of the own model (RelaySum/Mix).
  enum class Variant { kModel, kGrad, kMix };
  Variant variant = Variant::kModel;
  double beta = 0.5;  // mix: consensus strength in (0, 1]; 1 is the model variant
  // Divide by the number of nodes n (the papers' choice) or by the count of contributions
  // received so far.
  enum class Normalize { kNodes, kCounts };
  Normalize normalize = Normalize::kNodes;
  // topology: relay over the topology itself (a tree topology, or any graph that is a tree);
  // bfs: over the breadth-first spanning tree of the topology from `root`.
  enum class Tree { kTopology, kBfs };
  Tree spanning_tree = Tree::kTopology;
  int root = 0;
};

}  // namespace murmur::algo
