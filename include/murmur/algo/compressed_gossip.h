// choco, sparse_push and scsp's options (their algorithm.* keys; the algorithms are in
// src/algo/compressed_gossip.cc).
#pragma once

#include <cstdint>

namespace murmur::algo {

struct GossipOptions {
  // Consensus step size in (0, 1]. 0 = tuned when the algorithm is built (its plugin runs the
  // tuner of tune_gamma.h first and hands the result to the algorithm).
  double gamma = 0.0;
  // Steps per octave of the tuner's log grid of gamma.
  int gamma_steps_per_octave = 1;
  // scsp: an exact global average of the models every N rounds (0 = never) and after the last
  // round. Each average costs one all-reduce: 2 (n-1)/n * 4d payload bytes per node.
  int64_t average_every = 0;
  bool final_average = true;
  // The public copies start from the common initial model (AlgorithmContext::initial_model),
  // when there is one, else from 0 (as in the papers).
  bool copies_from_initial = true;
};

}  // namespace murmur::algo
