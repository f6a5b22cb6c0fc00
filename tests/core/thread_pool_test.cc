#include "murmur/core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>

#include "murmur/core/check.h"

namespace murmur {
namespace {

class ThreadPoolTest : public ::testing::TestWithParam<int> {};

TEST_P(ThreadPoolTest, RunsEveryIndexOnce) {
  std::atomic<int> started{0};
  ThreadPool pool(GetParam(), [&] { ++started; });
  EXPECT_EQ(started.load(), GetParam());
  for (int rep = 0; rep < 50; ++rep) {
    std::vector<int> hits(97, 0);
    pool.parallel_for(hits.size(), [&](size_t i) { ++hits[i]; });
    for (int h : hits) ASSERT_EQ(h, 1);
  }
}

TEST_P(ThreadPoolTest, RethrowsFirstErrorAndStaysUsable) {
  ThreadPool pool(GetParam());
  EXPECT_THROW(pool.parallel_for(10,
                                 [](size_t i) {
                                   if (i == 3) MURMUR_FAIL(DataError, "node 3 failed");
                                 }),
               DataError);
  std::atomic<int> n{0};
  pool.parallel_for(10, [&](size_t) { ++n; });
  EXPECT_EQ(n.load(), 10);
}

INSTANTIATE_TEST_SUITE_P(Threads, ThreadPoolTest, ::testing::Values(1, 2, 4));

}  // namespace
}  // namespace murmur
