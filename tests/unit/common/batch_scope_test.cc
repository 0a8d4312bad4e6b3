// BatchScope: wake-ups deferred to the end of a thread's batch, each distinct one once.
#include "common/batch_scope.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace rocketrpc {
namespace {

struct Counter {
  int wakes = 0;
  std::vector<int>* order = nullptr;
  int id = 0;
};

void wake(void* target) {
  auto* c = static_cast<Counter*>(target);
  ++c->wakes;
  if (c->order) c->order->push_back(c->id);
}

TEST(BatchScopeTest, OutsideAScopeNothingIsDeferred) {
  Counter c;
  EXPECT_FALSE(BatchScope::defer(&wake, &c));
  EXPECT_EQ(c.wakes, 0);
}

TEST(BatchScopeTest, EachDistinctWakeRunsOnceWhenTheScopeEndsInTheOrderFirstDeferred) {
  std::vector<int> order;
  Counter a{0, &order, 1};
  Counter b{0, &order, 2};
  {
    BatchScope scope;
    EXPECT_TRUE(BatchScope::defer(&wake, &b));
    EXPECT_TRUE(BatchScope::defer(&wake, &a));
    EXPECT_TRUE(BatchScope::defer(&wake, &b));
    EXPECT_TRUE(BatchScope::defer(&wake, &a));
    EXPECT_EQ(a.wakes + b.wakes, 0);  // nothing before the end
  }
  EXPECT_EQ(a.wakes, 1);
  EXPECT_EQ(b.wakes, 1);
  EXPECT_EQ(order, (std::vector<int>{2, 1}));
  // The scope is closed: a later defer declines.
  EXPECT_FALSE(BatchScope::defer(&wake, &a));
}

TEST(BatchScopeTest, ANestedScopeJoinsTheOutermost) {
  Counter c;
  {
    BatchScope outer;
    {
      BatchScope inner;
      EXPECT_TRUE(BatchScope::defer(&wake, &c));
    }
    EXPECT_EQ(c.wakes, 0);  // the inner scope's end runs nothing
  }
  EXPECT_EQ(c.wakes, 1);
}

TEST(BatchScopeTest, ScopesArePerThread) {
  Counter c;
  BatchScope scope;
  bool deferred_elsewhere = true;
  std::thread other([&] { deferred_elsewhere = BatchScope::defer(&wake, &c); });
  other.join();
  EXPECT_FALSE(deferred_elsewhere);
}

TEST(BatchScopeTest, BeyondItsCapacityDeferDeclinesAndTheCallerWakesAtOnce) {
  std::vector<Counter> counters(64);
  size_t deferred = 0;
  {
    BatchScope scope;
    for (auto& c : counters) {
      if (BatchScope::defer(&wake, &c)) {
        ++deferred;
      } else {
        wake(&c);  // what a caller does when defer declines
      }
    }
    EXPECT_GT(deferred, 0u);
    EXPECT_LT(deferred, counters.size());
  }
  for (const auto& c : counters) EXPECT_EQ(c.wakes, 1);
}

// A wake-up that itself runs code opening a scope and deferring (a put completing inside a wake-up) is not lost.
Counter g_late;
void wakeAndDeferAgain(void* target) {
  wake(target);
  BatchScope scope;
  EXPECT_TRUE(BatchScope::defer(&wake, &g_late));
}

TEST(BatchScopeTest, AWakeUpMayOpenAScopeOfItsOwn) {
  Counter c;
  g_late = Counter{};
  {
    BatchScope scope;
    EXPECT_TRUE(BatchScope::defer(&wakeAndDeferAgain, &c));
  }
  EXPECT_EQ(c.wakes, 1);
  EXPECT_EQ(g_late.wakes, 1);
}

}  // namespace
}  // namespace rocketrpc
