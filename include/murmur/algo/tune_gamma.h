// Choosing the consensus step gamma of CHOCO-SGD and Sparse-Push without hand tuning.
//
// As Koloskova et al. (ICLR 2020) tune it: run the algorithm's compressed gossip (no
// training) on seeded standard-normal vectors, one per node, for a fixed number of rounds
// at every gamma of a log grid, and keep the gamma with the smallest final consensus error
// ||x - mean||^2 / ||x0 - mean0||^2 (for push-sum algorithms x is the de-biased z = x / w),
// erring to the small side among near-ties (BestGamma).
// Deterministic: the same options give the same table. Single-threaded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "murmur/algo/algorithm.h"

namespace murmur::algo {

struct TuneGammaOptions {
  // choco, sparse_push or scsp (scsp is tuned as sparse_push: averaging is not gossip).
  std::string algorithm = "choco";
  // Length of the test vectors; the compressor's ratio applies to it as to the model.
  int64_t dim = 4096;
  // Gossip rounds per gamma.
  int rounds = 200;
  // Gammas to try; empty = 2^0, 2^-1, ..., 2^-10.
  std::vector<double> grid;
};

struct GammaResult {
  double gamma = 0.0;
  // Relative final consensus error; +inf when the gossip diverged.
  double error = 0.0;
};

// ctx supplies the topology, compression and seed (ctx.dim and ctx.gamma are ignored).
std::vector<GammaResult> TuneGamma(const AlgorithmContext& ctx, const TuneGammaOptions& options);
// Errors within this factor of the smallest count as equally good.
inline constexpr double kGammaErrorSlack = 1.1;
// The smallest gamma whose error is within kGammaErrorSlack of the smallest error. Near its
// optimum the final error is flat in gamma while training adds a perturbation every round
// that pushes large gammas over the stability edge (CHOCO-SGD with top-1% and the
// Gaussian-optimal gamma diverged on label-skewed Fashion-MNIST; EXPERIMENTS.md), so among
// equally good gammas the smallest is the safe choice.
double BestGamma(const std::vector<GammaResult>& results);

}  // namespace murmur::algo
