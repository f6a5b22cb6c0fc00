// The MPI cluster and transport (see cluster.h for the threading and timeout rules).
//
// exchange(round, phase) moves one phase's frames between ranks:
//   1. to every other rank q, a header (u64 frame count, then one u64 size per frame) and
//      then each frame as its own message, all with MPI_Isend from the frame's own buffer
//      (no copy) and the tag of this exchange; a rank with nothing for q still sends the
//      header (count 0), so every rank knows when it has everything;
//   2. from every other rank, MPI_Iprobe for its header, then MPI_Irecv of each announced
//      frame into a buffer of the announced size; MPI's non-overtaking rule (same source,
//      tag and communicator) keeps header and frames in order;
//   3. poll MPI_Testall on all requests until done or the deadline (comm.timeout_s) passes.
// Received frames go into the receivers' mailboxes keyed by (round, phase, sender), so a
// receive is matched by (round, sender) whatever order frames arrive in. Every send is
// non-blocking and every rank both sends and receives one header per peer and phase, so no
// topology (directed, time-varying, trees) can deadlock. Frames between nodes of the same
// rank go straight to the mailbox, still encoded, so byte counts equal the in-process run.
#include <mpi.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <span>
#include <thread>

#include "../mailbox.h"
#include "murmur/comm/cluster.h"
#include "murmur/comm/framing.h"
#include "murmur/core/check.h"

namespace murmur::comm {
namespace {

using Clock = std::chrono::steady_clock;

void Check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw Error(murmur::detail::Concat("mpi: ", what, " failed: ", std::string(text, len)));
}

void FinalizeAtExit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

// Start-up is covered by a deadline too: MPI_Init waits for every rank of the job, and a rank
// that never gets there (stalled, stopped, its machine gone) would hang the others in it for
// ever. Nothing can return from inside MPI_Init, so when `timeout_s` passes first a watchdog
// thread prints the error and ends this process (exit status 1); mpirun then ends the job.
void EnsureInitialized(double timeout_s) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) return;
  std::mutex m;
  std::condition_variable cv;
  bool started = false;
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(m);
    if (cv.wait_for(lock, std::chrono::duration<double>(timeout_s), [&] { return started; }))
      return;
    std::fprintf(stderr,
                 "murmur: error: mpi: MPI_Init did not finish within comm.timeout_s = %g s: a "
                 "rank of this job did not start or hangs in its start-up\n",
                 timeout_s);
    std::fflush(stderr);
    std::_Exit(1);
  });
  int provided = 0;
  const int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  {
    std::lock_guard<std::mutex> lock(m);
    started = true;
  }
  cv.notify_one();
  watchdog.join();
  Check(rc, "MPI_Init_thread");
  MURMUR_CHECK(Error, provided >= MPI_THREAD_FUNNELED,
               "mpi: the MPI library offers no MPI_THREAD_FUNNELED support");
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  std::atexit(FinalizeAtExit);
}

// Polls `done` until it returns true; between polls yields the core (first ~50 ms), then
// sleeps 100 us. Returns false when `timeout_s` passes first.
// Time this process did not run (it was stopped, or starved for over half a second between
// two polls) does not count: the deadline is for the others.
template <typename Done>
bool PollUntil(Done done, double timeout_s) {
  const auto start = Clock::now();
  auto deadline = start + std::chrono::duration<double>(timeout_s);
  const auto spin_until = start + std::chrono::milliseconds(50);
  auto last = start;
  while (!done()) {
    const auto now = Clock::now();
    if (now - last > std::chrono::milliseconds(500)) deadline += now - last;
    last = now;
    if (now > deadline) return false;
    if (now < spin_until)
      sched_yield();
    else
      std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

// A duplicate of a communicator (so murmur's messages never match anyone else's), with this
// process's rank and the size; freed on destruction unless MPI is already finalized.
class DupComm {
 public:
  explicit DupComm(MPI_Comm parent) {
    Check(MPI_Comm_dup(parent, &comm_), "MPI_Comm_dup");
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  ~DupComm() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&comm_);
  }
  DupComm(const DupComm&) = delete;
  DupComm& operator=(const DupComm&) = delete;
  MPI_Comm get() const { return comm_; }
  int rank() const { return rank_; }
  int size() const { return size_; }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
};

int IntCount(size_t n, const char* what) {
  MURMUR_CHECK(Error, n <= static_cast<size_t>(INT_MAX), "mpi: ", what, " of ", n,
               " bytes exceeds one MPI message (2 GiB)");
  return static_cast<int>(n);
}

class MpiTransport final : public Transport {
 public:
  MpiTransport(const NodeMap& map, MPI_Comm world, double timeout_s)
      : Transport(map.nodes()), map_(map), boxes_(map.nodes()), timeout_s_(timeout_s), dup_(world) {
    MURMUR_ASSERT(dup_.size() == map.ranks());
    out_.resize(dup_.size());
  }
  std::string_view name() const override { return "mpi"; }
  double wait_seconds() const override { return wait_s_; }

  void exchange(uint32_t round, uint8_t phase) override {
    const auto t0 = Clock::now();
    const int tag = 1 + static_cast<int>(seq_++ % 30000);
    std::vector<MPI_Request> sends, recvs;
    std::vector<int> send_peer, recv_peer;  // peer rank of each request
    std::vector<std::vector<uint64_t>> headers(dup_.size());
    for (int q = 0; q < dup_.size(); ++q) {
      if (q == dup_.rank()) continue;
      std::vector<uint64_t>& h = headers[q];
      h = EncodeBatchHeader(out_[q]);
      sends.emplace_back();
      send_peer.push_back(q);
      Check(MPI_Isend(h.data(), IntCount(h.size() * 8, "header"), MPI_BYTE, q, tag, dup_.get(),
                      &sends.back()),
            "MPI_Isend");
      for (Bytes& f : out_[q]) {
        sends.emplace_back();
        send_peer.push_back(q);
        Check(MPI_Isend(f.data(), IntCount(f.size(), "frame"), MPI_BYTE, q, tag, dup_.get(),
                        &sends.back()),
              "MPI_Isend");
      }
    }
    std::vector<std::vector<Bytes>> in(dup_.size());
    std::vector<bool> have_header(dup_.size(), false);
    have_header[dup_.rank()] = true;
    int headers_left = dup_.size() - 1;
    bool recvs_done = false, sends_done = false;
    auto step = [&] {
      for (int q = 0; q < dup_.size() && headers_left > 0; ++q) {
        if (have_header[q]) continue;
        int flag = 0;
        MPI_Status st;
        Check(MPI_Iprobe(q, tag, dup_.get(), &flag, &st), "MPI_Iprobe");
        if (!flag) continue;
        int bytes = 0;
        MPI_Get_count(&st, MPI_BYTE, &bytes);
        Bytes raw(static_cast<size_t>(std::max(bytes, 0)));
        Check(MPI_Recv(raw.data(), bytes, MPI_BYTE, q, tag, dup_.get(), MPI_STATUS_IGNORE),
              "MPI_Recv");
        const std::vector<uint64_t> sizes = DecodeBatchHeader(raw, q, round, phase);
        in[q].resize(sizes.size());
        for (size_t k = 0; k < sizes.size(); ++k) {
          in[q][k] = buffer(sizes[k]);
          recvs.emplace_back();
          recv_peer.push_back(q);
          Check(MPI_Irecv(in[q][k].data(), static_cast<int>(sizes[k]), MPI_BYTE, q, tag, dup_.get(),
                          &recvs.back()),
                "MPI_Irecv");
        }
        have_header[q] = true;
        --headers_left;
      }
      if (headers_left == 0 && !recvs_done) {
        int flag = 0;
        Check(MPI_Testall(static_cast<int>(recvs.size()), recvs.data(), &flag, MPI_STATUSES_IGNORE),
              "MPI_Testall");
        recvs_done = flag != 0;
      }
      if (!sends_done) {
        int flag = 0;
        Check(MPI_Testall(static_cast<int>(sends.size()), sends.data(), &flag, MPI_STATUSES_IGNORE),
              "MPI_Testall");
        sends_done = flag != 0;
      }
      return recvs_done && sends_done;
    };
    // The last step() after the deadline: everything may have arrived meanwhile.
    if (!PollUntil(step, timeout_s_) && !step()) {
      int peer = -1;
      const char* what = "";
      for (int q = 0; q < dup_.size() && peer < 0; ++q)
        if (!have_header[q]) peer = q, what = "no message from";
      for (size_t k = 0; k < recvs.size() && peer < 0; ++k) {
        int flag = 0;
        MPI_Test(&recvs[k], &flag, MPI_STATUS_IGNORE);
        if (!flag) peer = recv_peer[k], what = "an incomplete message from";
      }
      for (size_t k = 0; k < sends.size() && peer < 0; ++k) {
        int flag = 0;
        MPI_Test(&sends[k], &flag, MPI_STATUS_IGNORE);
        if (!flag) peer = send_peer[k], what = "unfinished sends to";
      }
      // peer < 0: the tests above completed what was left; nobody is late after all.
      if (peer >= 0)
        throw TimeoutError(murmur::detail::Concat(
            "mpi: rank ", dup_.rank(), " waited ", timeout_s_, " s in round ", round, " phase ",
            static_cast<int>(phase), ": ", what, " rank ", peer, " (", map_.describe(peer),
            "); that rank died or hangs, or the network failed (comm.timeout_s)"));
    }
    for (int q = 0; q < dup_.size(); ++q) {
      for (Bytes& f : out_[q]) recycle(std::move(f));
      out_[q].clear();
      for (Bytes& f : in[q]) {
        const FrameView v = CheckDeliveredFrame(f, map_, q, dup_.rank(), round, phase);
        const int from = static_cast<int>(v.header.sender),
                  to = static_cast<int>(v.header.receiver);
        boxes_.put(from, to, round, phase, std::move(f));
      }
    }
    wait_s_ += std::chrono::duration<double>(Clock::now() - t0).count();
  }

 protected:
  void do_send(int from, int to, uint32_t round, uint8_t phase, Bytes frame) override {
    const int q = map_.owner(to);
    if (q == dup_.rank()) {
      boxes_.put(from, to, round, phase, std::move(frame));
      return;
    }
    std::lock_guard<std::mutex> lock(out_mu_);
    out_[q].push_back(std::move(frame));
  }
  std::optional<Bytes> do_receive(int to, int from, uint32_t round, uint8_t phase) override {
    return boxes_.take(to, from, round, phase);
  }

 private:
  // A receive buffer of `size` bytes: a recycled sent frame when one is large enough (its
  // bytes are overwritten by the receive, so shrinking it costs nothing), else a new one.
  // Saves zero-filling and page-faulting a fresh buffer per frame: gossip sends and
  // receives frames of the same sizes every round.
  Bytes buffer(size_t size) {
    for (size_t k = pool_.size(); k-- > 0;) {
      if (pool_[k].size() < size) continue;
      Bytes b = std::move(pool_[k]);
      pool_.erase(pool_.begin() + static_cast<std::ptrdiff_t>(k));
      pool_bytes_ -= b.size();
      b.resize(size);
      return b;
    }
    return Bytes(size);
  }
  void recycle(Bytes b) {
    constexpr size_t kMaxPoolBytes = size_t{256} << 20;
    if (b.empty() || pool_bytes_ + b.size() > kMaxPoolBytes) return;
    pool_bytes_ += b.size();
    pool_.push_back(std::move(b));
  }

  NodeMap map_;
  detail::Mailboxes boxes_;
  double timeout_s_;
  DupComm dup_;
  uint64_t seq_ = 0;
  double wait_s_ = 0.0;
  std::mutex out_mu_;
  std::vector<std::vector<Bytes>> out_;  // frames for each rank, queued until exchange()
  std::vector<Bytes> pool_;              // sent frames whose buffers receives reuse
  size_t pool_bytes_ = 0;
};

class MpiCluster final : public Cluster {
 public:
  explicit MpiCluster(double timeout_s)
      : timeout_s_(CheckedTimeout(timeout_s)), dup_(MPI_COMM_WORLD) {}
  std::string_view name() const override { return "mpi"; }
  int rank() const override { return dup_.rank(); }
  int size() const override { return dup_.size(); }
  std::unique_ptr<Transport> make_transport(const NodeMap& map) override {
    return std::make_unique<MpiTransport>(map, dup_.get(), timeout_s_);
  }

  // Point to point rather than MPI_Igather, so that rank 0 knows which rank it still waits
  // for and can name it when one dies or hangs (a collective only says that it is late).
  // Every rank sends its size, then its block, to rank 0 with fixed tags; MPI's
  // non-overtaking rule keeps successive gathers in order.
  std::vector<Bytes> gather(Bytes local, std::string_view what) override {
    constexpr int kSizeTag = 1, kDataTag = 2;
    const int ranks = dup_.size();
    if (dup_.rank() != 0) {
      const int64_t mine = static_cast<int64_t>(local.size());
      MPI_Request req[2];
      Check(MPI_Isend(&mine, 1, MPI_INT64_T, 0, kSizeTag, dup_.get(), &req[0]), "MPI_Isend");
      Check(MPI_Isend(local.data(), IntCount(local.size(), "gathered block"), MPI_BYTE, 0, kDataTag,
                      dup_.get(), &req[1]),
            "MPI_Isend");
      const int peers[2] = {0, 0};
      wait(req, peers, what);
      return {};
    }
    std::vector<int64_t> sizes(ranks, static_cast<int64_t>(local.size()));
    std::vector<MPI_Request> reqs(ranks - 1);
    std::vector<int> from(ranks - 1);
    for (int q = 1; q < ranks; ++q) {
      from[q - 1] = q;
      Check(MPI_Irecv(&sizes[q], 1, MPI_INT64_T, q, kSizeTag, dup_.get(), &reqs[q - 1]),
            "MPI_Irecv");
    }
    wait(reqs, from, what);
    std::vector<Bytes> out(ranks);
    out[0] = std::move(local);
    for (int q = 1; q < ranks; ++q) {
      out[q].resize(static_cast<size_t>(sizes[q]));
      Check(MPI_Irecv(out[q].data(), IntCount(out[q].size(), "gathered block"), MPI_BYTE, q,
                      kDataTag, dup_.get(), &reqs[q - 1]),
            "MPI_Irecv");
    }
    wait(reqs, from, what);
    return out;
  }

  // The flags gathered to rank 0, which sends their OR back to every rank (point to point, so
  // that a rank that died is named, as in gather).
  bool any(bool flag, std::string_view what) override {
    constexpr int kAnyTag = 3;
    const std::vector<Bytes> flags = gather(Bytes{static_cast<uint8_t>(flag ? 1 : 0)}, what);
    const int ranks = dup_.size();
    if (dup_.rank() != 0) {
      int32_t result = 0;
      MPI_Request req;
      Check(MPI_Irecv(&result, 1, MPI_INT32_T, 0, kAnyTag, dup_.get(), &req), "MPI_Irecv");
      const int peers[1] = {0};
      wait({&req, 1}, peers, what);
      return result != 0;
    }
    int32_t result = 0;
    for (const Bytes& b : flags) result |= (!b.empty() && b[0] != 0) ? 1 : 0;
    std::vector<MPI_Request> reqs(ranks - 1);
    std::vector<int> to(ranks - 1);
    for (int q = 1; q < ranks; ++q) {
      to[q - 1] = q;
      Check(MPI_Isend(&result, 1, MPI_INT32_T, q, kAnyTag, dup_.get(), &reqs[q - 1]), "MPI_Isend");
    }
    wait(reqs, to, what);
    return result != 0;
  }

 private:
  // Waits for every request; on timeout names the rank of the first unfinished one.
  void wait(std::span<MPI_Request> reqs, std::span<const int> peers, std::string_view what) {
    auto done = [&] {
      int flag = 0;
      Check(MPI_Testall(static_cast<int>(reqs.size()), reqs.data(), &flag, MPI_STATUSES_IGNORE),
            "MPI_Testall");
      return flag != 0;
    };
    if (PollUntil(done, timeout_s_) || done()) return;
    int peer = -1;
    for (size_t k = 0; k < reqs.size() && peer < 0; ++k) {
      int flag = 0;
      MPI_Test(&reqs[k], &flag, MPI_STATUS_IGNORE);
      if (!flag) peer = peers[k];
    }
    if (peer < 0) return;  // the tests above completed what was left
    throw TimeoutError(murmur::detail::Concat(
        "mpi: rank ", dup_.rank(), " waited ", timeout_s_, " s for rank ", peer, " to gather the ",
        what, "; that rank died or hangs, or the network failed (comm.timeout_s)"));
  }

  // Validates the timeout and initialises MPI before the communicator is duplicated.
  static double CheckedTimeout(double timeout_s) {
    MURMUR_CHECK(ConfigError, timeout_s > 0, "comm.timeout_s: must be > 0, got ", timeout_s);
    EnsureInitialized(timeout_s);
    return timeout_s;
  }

  double timeout_s_;
  DupComm dup_;
};

}  // namespace

bool MpiBuilt() { return true; }

std::unique_ptr<Cluster> MakeMpiCluster(double timeout_s) {
  return std::make_unique<MpiCluster>(timeout_s);
}

void AbortMpiIfRunning(int code) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, code);
}

}  // namespace murmur::comm
