#include "common/thread_guard.h"

#include <gtest/gtest.h>

#include <future>
#include <stdexcept>

#include "common/executor.h"

namespace rocketrpc {
namespace {

TEST(ThreadGuardTest, RunGuardedCatchesCountsAndReports) {
  const uint64_t before = caughtExceptionCount();
  EXPECT_TRUE(runGuarded("test", [] {}));
  EXPECT_FALSE(runGuarded("test", [] { throw std::runtime_error("boom"); }));
  EXPECT_FALSE(runGuarded("test", [] { throw 42; }));
  EXPECT_EQ(caughtExceptionCount(), before + 2);
}

TEST(ThreadGuardTest, APoolTaskThatThrowsDoesNotStopThePool) {
  const uint64_t before = caughtExceptionCount();
  ThreadPool pool("guard-test", 1);
  ASSERT_TRUE(pool.post([] { throw std::runtime_error("task bug"); }));
  std::promise<void> ran;
  ASSERT_TRUE(pool.post([&ran] { ran.set_value(); }));
  ran.get_future().get();  // the same (only) thread ran the next task
  EXPECT_EQ(caughtExceptionCount(), before + 1);
  pool.shutdown();
}

}  // namespace
}  // namespace rocketrpc
