#include "client/permits.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

namespace rocketrpc::client {
namespace {

using namespace std::chrono_literals;

TEST(PermitsTest, OverTheCapFailsAtOnceWithOverLimitNamingTheOption) {
  Permits p(2, "max_async_in_flight");
  EXPECT_TRUE(p.acquire(0ms).isOk());
  EXPECT_TRUE(p.acquire(0ms).isOk());
  Status s = p.acquire(0ms);
  EXPECT_EQ(s.code(), StatusCode::kOverLimit);
  EXPECT_NE(s.message().find("max_async_in_flight"), std::string::npos) << s.toString();
  p.release();
  EXPECT_TRUE(p.acquire(0ms).isOk());
  EXPECT_EQ(p.inUse(), 2u);
}

TEST(PermitsTest, WaiterGetsAPermitWhenOneIsReleased) {
  Permits p(1, "cap");
  ASSERT_TRUE(p.acquire(0ms).isOk());
  auto waiter = std::async(std::launch::async, [&] { return p.acquire(60s); });
  p.release();  // whether the waiter is already waiting or not, it gets this permit
  EXPECT_TRUE(waiter.get().isOk());
  EXPECT_EQ(p.inUse(), 1u);
}

TEST(PermitsTest, WaitEndsWithOverLimitWhenNothingIsReleased) {
  Permits p(1, "cap");
  ASSERT_TRUE(p.acquire(0ms).isOk());
  EXPECT_EQ(p.acquire(20ms).code(), StatusCode::kOverLimit);
}

TEST(PermitsTest, CloseWakesWaitersWithClosed) {
  Permits p(1, "cap");
  ASSERT_TRUE(p.acquire(0ms).isOk());
  auto waiter = std::async(std::launch::async, [&] { return p.acquire(std::chrono::hours(1)); });
  p.close();
  EXPECT_EQ(waiter.get().code(), StatusCode::kClosed);
  EXPECT_EQ(p.acquire(0ms).code(), StatusCode::kClosed);
}

}  // namespace
}  // namespace rocketrpc::client
