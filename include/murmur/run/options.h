// Translation of a Config into the option structs of each module, in one place, so the
// runner, benchmarks and tools read the keys the same way.
#pragma once

#include "murmur/algo/algorithm.h"
#include "murmur/comm/faults.h"
#include "murmur/comm/network_model.h"
#include "murmur/compress/compressor.h"
#include "murmur/data/dataset.h"
#include "murmur/data/partition.h"
#include "murmur/graph/topology.h"
#include "murmur/run/config.h"
#include "murmur/train/node_model.h"

namespace murmur::run {

data::DataOptions DataOptionsFrom(const Config& c);
data::PartitionOptions PartitionOptionsFrom(const Config& c);
graph::TopologyOptions TopologyOptionsFrom(const Config& c);
train::ModelOptions ModelOptionsFrom(const Config& c);
train::OptimizerOptions OptimizerOptionsFrom(const Config& c);
compress::CompressorOptions CompressorOptionsFrom(const Config& c);
algo::RelayOptions RelayOptionsFrom(const Config& c);
algo::VoteOptions VoteOptionsFrom(const Config& c);
algo::JwinsOptions JwinsOptionsFrom(const Config& c);
comm::NetworkOptions NetworkOptionsFrom(const Config& c);
comm::FaultOptions FaultOptionsFrom(const Config& c);  // [faults]
// run.threads, with 0 resolved to the hardware threads shared by the `processes_here`
// murmur processes on this machine (MPI ranks), capped at the nodes this process runs
// (`local_nodes`; 0 = run.nodes); at least 1.
int ThreadsFrom(const Config& c, int processes_here = 1, int local_nodes = 0);

}  // namespace murmur::run
