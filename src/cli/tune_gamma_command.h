// `murmur tune-gamma`: the consensus step of CHOCO-SGD / Sparse-Push for a topology and
// compressor, without training.
#pragma once

#include <cstdint>
#include <string>

#include "murmur/algo/tune_gamma.h"
#include "murmur/compress/compressor.h"
#include "murmur/graph/topology.h"

namespace murmur::cli {

// Prints one line per gamma (final relative consensus error) and the best gamma. Returns
// the exit code.
int TuneGammaCommand(const graph::TopologyOptions& topology, const std::string& compressor,
                     const compress::CompressorOptions& copt, const algo::TuneGammaOptions& options,
                     uint64_t seed);

}  // namespace murmur::cli
