// Quasi-global momentum (Lin, Kong, Stich, Jaggi, "Quasi-Global Momentum: Accelerating
// Decentralized Deep Learning on Heterogeneous Data", ICML 2021; QG-DSGDm).
//
// With label skew, heavy-ball momentum on each node's own gradients points at the node's own
// optimum and drags the models apart. QG-DSGDm builds the momentum buffer from how the
// node's model actually moved over the last round, local steps and averaging together:
//   d = (x_before - x_after) / (lr * steps),   m = mu * m + (1 - mu) * d,
// and the next round's steps use the optimizer's usual heavy ball (or Nesterov) on top of m:
// buffer = beta * m + g. The averaging's share of the move carries the neighbours'
// directions into every node's momentum. The state between rounds is the optimizer's
// momentum buffer itself (it is set to m after every round), so checkpoints need nothing new.
//
// Torch-free: the runner hands in the model and the buffer as spans.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace murmur::train {

class QuasiGlobalMomentum {
 public:
  // mu: the averaging factor of m (the runner passes train.momentum, as the paper does).
  explicit QuasiGlobalMomentum(double mu) : mu_(mu) {}
  // Before the round's local steps: remembers the trainable part of x (the first
  // buffer.size() values) and the current buffer m.
  void begin_round(std::span<const float> x, std::span<const float> buffer);
  // After the round's communication: m = mu m + (1 - mu) (x_before - x) / (lr * steps),
  // returned for the optimizer's buffer (NodeModel::set_optimizer_state). With
  // lr * steps = 0 the move says nothing about a direction and m is kept.
  std::span<const float> end_round(std::span<const float> x, double lr, int steps);

 private:
  double mu_;
  std::vector<float> x_before_, m_;
};

}  // namespace murmur::train
