// ClippedGossip's options (src/algo/clipped_gossip.cc; keys clipped_gossip.*).
#pragma once

namespace murmur::algo {

struct ClippedGossipOptions {
  // The clipping radius tau; 0 = adaptive every round (the (clip_count + 1)-th largest distance
  // to the neighbours that sent), infinity = no clipping (D-PSGD).
  double radius = 0.0;
  int clip_count = 1;
};

}  // namespace murmur::algo
