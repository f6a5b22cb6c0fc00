#include "murmur/core/thread_pool.h"

#include <algorithm>
#include <utility>

#include "murmur/core/check.h"

namespace murmur {

ThreadPool::ThreadPool(int threads, std::function<void()> on_start)
    : threads_(std::max(1, threads)) {
  if (threads_ == 1) {
    if (on_start) on_start();
    return;
  }
  int started = 0;
  for (int t = 0; t < threads_; ++t) {
    workers_.emplace_back([this, on_start, &started] {
      if (on_start) on_start();
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++started;
      }
      done_cv_.notify_all();
      worker_loop();
    });
  }
  // Return only once every worker has run on_start.
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [&] { return started == threads_; });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& w : workers_) w.join();
}

int ThreadPool::hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
    if (stop_) return;
    seen = generation_;
    ++running_;
    while (next_ < n_) {
      size_t i = next_++;
      lock.unlock();
      try {
        (*fn_)(i);
      } catch (...) {
        lock.lock();
        if (!error_) error_ = std::current_exception();
        next_ = n_;  // stop handing out work
        continue;
      }
      lock.lock();
    }
    if (--running_ == 0) done_cv_.notify_all();
  }
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  if (workers_.empty()) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::unique_lock<std::mutex> lock(mu_);
  fn_ = &fn;
  n_ = n;
  next_ = 0;
  error_ = nullptr;
  ++generation_;
  work_cv_.notify_all();
  // Wait until every index was handed out and every worker that took one is done.
  done_cv_.wait(lock, [&] { return next_ >= n_ && running_ == 0; });
  fn_ = nullptr;
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

}  // namespace murmur
