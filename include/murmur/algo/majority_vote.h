// majority_vote's options (vote.* keys; the algorithm is in src/algo/majority_vote.cc).
#pragma once

#include <cstdint>

#include "murmur/compress/codecs.h"

namespace murmur::algo {

// Sparse SGD with majority voting (Ozfatura et al. 2020).
struct VoteOptions {
  // server: node `server` tallies the votes and averages; all_to_all: every node does.
  enum class Mode { kServer, kAllToAll };
  Mode mode = Mode::kServer;
  int server = 0;
  double mask_ratio = 0.01;  // K = ceil(mask_ratio * d) coordinates sent per round (per layer)
  double vote_ratio = 0.0;   // K_v = ceil(vote_ratio * d) votes per node; 0 = mask_ratio
  int64_t mask_reuse = 1;    // vote every R rounds, reuse the mask in between
  bool layerwise = false;    // vote and select per tensor (AlgorithmContext::segments)
  // How the values on the mask are written, both directions (server mode): f32 (exact), f16,
  // bf16, or quant (value_bits bits per value and one f32 scale per message). What the rounding
  // leaves behind stays in the worker's accumulator (uplink) or in the server's error memory
  // (downlink), so it is sent later rather than lost.
  compress::ValueCodec value_codec = compress::ValueCodec::kF32;
  int value_bits = 8;
  // Momentum correction with momentum factor masking (Lin et al., Deep Gradient Compression,
  // 2018): u = momentum * u + (the local steps' change), a += u, and both a and u are cleared
  // on the mask once sent. 0 = off (the change goes into a directly).
  double momentum = 0.0;
  // The accumulators hold the local steps' changes, which carry the learning rate. With
  // rescale_memory, when the rate changes from one round to the next (train.lr_decay_rounds,
  // train.warmup_rounds) every node's accumulator (and velocity, and the server's error
  // memory) is multiplied by new rate / old rate, so what was left at the old rate is sent at
  // the new one, as if the memory held gradients and the rate were applied when it is sent.
  // Needs AlgorithmContext::learning_rate.
  bool rescale_memory = false;
  // Global momentum (heavy ball on the common update): every node keeps the same velocity
  // w = global_momentum * w + (the round's mean on the mask) and moves its model by w, on
  // every coordinate. With mask_ratio = 1 this is all-reduce SGD with momentum; 0 = off.
  double global_momentum = 0.0;
  // Server mode: two exchanges per round instead of four. A worker's values on this round's
  // mask travel with its vote for the next mask; the server's mean travels with the next
  // mask. Half the frame headers; the mask is voted one round earlier.
  bool pipeline = false;
};

}  // namespace murmur::algo
