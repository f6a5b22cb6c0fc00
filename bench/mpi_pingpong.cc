// MPI transport throughput against a plain MPI ping-pong (issue #6), in the same run.
//
//   mpirun -np 2 build/bench/murmur_bench_mpi [MiB=4] [iterations=20] [repeats=30]
//
// plain:     rank 0 MPI_Send(n bytes) -> rank 1 MPI_Recv, then back, into preallocated buffers.
// transport: node 0 (rank 0) sends an n-byte frame (32-byte header + payload) to node 1
//            (rank 1) in phase 0, node 1 sends it back in phase 1, through Transport::send,
//            exchange() and receive() (fresh receive buffers, the per-phase header message,
//            probing, the mailbox), i.e. what a run pays.
// Blocks of each alternate `repeats` times (so both see the same machine load); reported:
// the best block of each as one-way throughput, their ratio, and the median over the
// repeats of the ratio of adjacent blocks (transport / plain; the target is >= 0.9).
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "murmur/comm/cluster.h"
#include "murmur/comm/frame.h"

namespace {

using Clock = std::chrono::steady_clock;
using murmur::comm::Bytes;

double Plain(size_t bytes, int iterations, int rank) {
  std::vector<uint8_t> buf(bytes, 1);
  MPI_Barrier(MPI_COMM_WORLD);
  const auto t0 = Clock::now();
  for (int k = 0; k < iterations; ++k) {
    if (rank == 0) {
      MPI_Send(buf.data(), static_cast<int>(bytes), MPI_BYTE, 1, 0, MPI_COMM_WORLD);
      MPI_Recv(buf.data(), static_cast<int>(bytes), MPI_BYTE, 1, 0, MPI_COMM_WORLD,
               MPI_STATUS_IGNORE);
    } else {
      MPI_Recv(buf.data(), static_cast<int>(bytes), MPI_BYTE, 0, 0, MPI_COMM_WORLD,
               MPI_STATUS_IGNORE);
      MPI_Send(buf.data(), static_cast<int>(bytes), MPI_BYTE, 0, 0, MPI_COMM_WORLD);
    }
  }
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double ViaTransport(murmur::comm::Transport& t, size_t bytes, int iterations, int rank,
                    uint32_t& round) {
  murmur::comm::FrameHeader h;
  h.payload_bytes = static_cast<uint32_t>(bytes - murmur::comm::kHeaderBytes);
  Bytes frame;
  if (rank == 0) {
    frame.assign(bytes, 1);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  const auto t0 = Clock::now();
  for (int k = 0; k < iterations; ++k, ++round) {
    h.round = round;
    for (uint8_t phase = 0; phase < 2; ++phase) {
      const int from = phase == 0 ? 0 : 1, to = 1 - from;
      h.phase = phase;
      h.sender = from;
      h.receiver = to;
      if (rank == from) {
        murmur::comm::WriteHeader(h, frame);
        t.send(std::move(frame));
      }
      t.exchange(round, phase);
      if (rank == to) frame = std::move(*t.receive(to, from, round, phase));
    }
  }
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const double mib = argc > 1 ? std::atof(argv[1]) : 4.0;
  const int iterations = argc > 2 ? std::atoi(argv[2]) : 20;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 30;
  if (mib < 0.001 || iterations < 1 || repeats < 1) {
    std::fprintf(stderr,
                 "usage: murmur_bench_mpi [MiB >= 0.001] [iterations >= 1] [repeats >= 1]\n");
    return 2;
  }
  auto cluster = murmur::comm::MakeMpiCluster(60.0);  // initialises MPI (funneled)
  const int rank = cluster->rank();
  if (cluster->size() != 2) {
    if (rank == 0) std::fprintf(stderr, "murmur_bench_mpi: run with mpirun -np 2\n");
    return 2;
  }
  const size_t bytes = static_cast<size_t>(mib * 1024 * 1024);
  const murmur::comm::NodeMap map(2, 2, "block");
  auto transport = cluster->make_transport(map);
  uint32_t round = 0;
  Plain(bytes, 5, rank);  // warm-up
  ViaTransport(*transport, bytes, 5, rank, round);
  double best_plain = 1e30, best_transport = 1e30;
  std::vector<double> ratios;
  for (int r = 0; r < repeats; ++r) {
    const double p = Plain(bytes, iterations, rank);
    const double t = ViaTransport(*transport, bytes, iterations, rank, round);
    best_plain = std::min(best_plain, p);
    best_transport = std::min(best_transport, t);
    ratios.push_back(p / t);
  }
  std::sort(ratios.begin(), ratios.end());
  if (rank == 0) {
    const double one_way = 2.0 * iterations;
    const double plain_gbs = bytes * one_way / best_plain / 1e9;
    const double transport_gbs = bytes * one_way / best_transport / 1e9;
    std::printf("message %.2f MiB, %d round trips x %d blocks each (best block)\n", mib, iterations,
                repeats);
    std::printf("plain MPI_Send/MPI_Recv: %8.3f GB/s  (%.1f us one way)\n", plain_gbs,
                best_plain / one_way * 1e6);
    std::printf("murmur MPI transport:    %8.3f GB/s  (%.1f us one way)\n", transport_gbs,
                best_transport / one_way * 1e6);
    std::printf("ratio transport / plain: %.3f best blocks, %.3f median of %d adjacent pairs\n",
                transport_gbs / plain_gbs, ratios[ratios.size() / 2], repeats);
  }
  return 0;
}
