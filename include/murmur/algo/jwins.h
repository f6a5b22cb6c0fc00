// jwins's options (jwins.* keys; the algorithm is in src/algo/jwins.cc).
#pragma once

#include <string>
#include <vector>

namespace murmur::algo {

// JWINS (Dhasade et al. 2023): wavelet-domain sparsification with randomized cut-off.
struct JwinsOptions {
  std::string wavelet = "sym2";  // see compress::WaveletNames()
  int level = 4;
  // Cut-offs alpha, one drawn uniformly per node and round (the paper's list).
  std::vector<double> alpha_list = {0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 1.0};
  double metadata_cap = 0.5;  // alpha >= cap: send every coefficient and reset the accumulator
  bool accumulate_averaging = true;  // the accumulator also takes the changes averaging makes
  // jwins_share_counts.csv: per coefficient, the total over nodes, or every node's column.
  enum class ShareCounts { kTotal, kPerNode };
  ShareCounts share_counts = ShareCounts::kTotal;
  bool save_accumulator = false;  // also write every node's accumulator at the end
};

}  // namespace murmur::algo
