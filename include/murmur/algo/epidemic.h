// Epidemic Learning's options (src/algo/epidemic.cc; keys epidemic.*).
#pragma once

namespace murmur::algo {

struct EpidemicOptions {
  // oracle: the round's graph is a random `peers`-regular graph (EL-Oracle); local: every node
  // draws its `peers` receivers among its out-neighbours (EL-Local).
  enum class Variant { kOracle, kLocal };
  Variant variant = Variant::kOracle;
  int peers = 3;  // s: receivers of every node's model per round
};

}  // namespace murmur::algo
