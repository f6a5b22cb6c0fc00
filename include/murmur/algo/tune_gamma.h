// Choosing the consensus step gamma of CHOCO-SGD and Sparse-Push without hand tuning.
//
// As Koloskova et al. (ICLR 2020) tune it: run the algorithm's compressed gossip (no
// training) on seeded standard-normal vectors, one per node, for a fixed number of rounds
// at every gamma of a log grid, and compare the final consensus errors
// ||x - mean||^2 / ||x0 - mean0||^2 (for push-sum algorithms x is the de-biased z = x / w).
// Two additions, both from what training runs showed (EXPERIMENTS.md, issue #4):
//  - Stability. With a biased compressor (top-k) a gamma can shrink the error for the first
//    few hundred rounds and then grow without bound: CHOCO top-2% on a 16-node ring at
//    gamma 0.125 is at 0.003 after 500 rounds and 0.3 after 2000, at 0.25 it is at 1e12. The
//    same gammas diverged in training. So every gamma keeps gossiping to stability_rounds,
//    and one whose error did not shrink by at least 10% over the second half of them
//    (unless it is down at float round-off) is unstable and never picked: growing, or
//    stalled (Sparse-Push top-1% at 0.125 sits at 0.046 from round 1000 on).
//  - Among the stable gammas whose error after `rounds` is within kGammaErrorSlack of the
//    smallest, the largest is picked: near-ties in this error hide a faster early
//    contraction of the larger gamma, and training, which perturbs the models every round,
//    profits from it (Sparse-Push top-5% on the one-peer exponential graph: 0.25 instead of
//    0.125, 0.6 points better on Fashion-MNIST).
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
  // Gossip rounds after which the errors are compared.
  int rounds = 200;
  // Stability check: every gamma runs on to this many rounds (if more than `rounds`); 0 = no
  // check.
  int stability_rounds = 2000;
  // Gammas to try; empty = the log grid 2^0 ... 2^-10 with this many steps per octave (1:
  // 2^0, 2^-1, ...; 2: 2^0, 2^-0.5, 2^-1, ...).
  std::vector<double> grid;
  int steps_per_octave = 1;
};

struct GammaResult {
  double gamma = 0.0;
  // Relative consensus error after `rounds`; +inf when the gossip diverged.
  double error = 0.0;
  // Relative error after stability_rounds (= error without a stability check) and whether
  // the gamma passed the check.
  double long_error = 0.0;
  bool stable = true;
};

// ctx supplies the topology, compression and seed (ctx.dim and the gamma of its options are
// ignored).
std::vector<GammaResult> TuneGamma(const AlgorithmContext& ctx, const TuneGammaOptions& options);
// Errors within this factor of the smallest count as equally good.
inline constexpr double kGammaErrorSlack = 2.0;
// A stable gamma's error after stability_rounds is at most this times its error at half
// of them.
inline constexpr double kGammaStableShrink = 0.9;
// Below this relative error the gossip has reached float round-off: no longer a test of
// stability.
inline constexpr double kGammaErrorFloor = 1e-10;
// The largest stable gamma whose error is within kGammaErrorSlack of the smallest error of
// the stable ones; the smallest gamma when none is stable.
double BestGamma(const std::vector<GammaResult>& results);

}  // namespace murmur::algo
