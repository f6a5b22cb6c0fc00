// A fixed pool of worker threads for node-parallel work.
//
// parallel_for(n, fn) runs fn(i) for every i in [0, n) and returns when all are done;
// indices are handed out dynamically, so fn must only touch state owned by index i (or
// synchronise itself). The first exception thrown by any fn is rethrown on the caller.
// With threads == 1 everything runs inline on the calling thread. Not reentrant: call
// parallel_for from one thread at a time.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace murmur {

class ThreadPool {
 public:
  // on_start runs once on each worker thread (and on the calling thread when threads == 1)
  // before any task, e.g. to pin torch's intra-op threads to 1. The constructor returns
  // after every worker has run it.
  explicit ThreadPool(int threads, std::function<void()> on_start = {});
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return threads_; }
  void parallel_for(size_t n, const std::function<void(size_t)>& fn);

  // Number of hardware threads (at least 1).
  static int hardware_threads();

 private:
  void worker_loop();

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  const std::function<void(size_t)>* fn_ = nullptr;
  size_t n_ = 0, next_ = 0, running_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace murmur
