#include "client/process_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace rocketrpc::client {
namespace {

MessageExt msgAt(int64_t offset, std::string body = "x") {
  MessageExt m;
  m.setTopic("T");
  m.setQueueOffset(offset);
  m.setBody(std::move(body));
  return m;
}

std::vector<MessageExt> range(int64_t from, int64_t to) {
  std::vector<MessageExt> out;
  for (int64_t o = from; o < to; ++o) out.push_back(msgAt(o));
  return out;
}

TEST(ProcessQueueTest, RemoveReturnsSmallestRemainingOffset) {
  ProcessQueue pq;
  pq.putMessages(range(10, 15));
  EXPECT_EQ(pq.cachedCount(), 5u);
  EXPECT_EQ(pq.removeMessages({msgAt(11), msgAt(12)}), 10);  // 10 still pending
  EXPECT_EQ(pq.removeMessages({msgAt(10)}), 13);
  EXPECT_EQ(pq.cachedCount(), 2u);
}

TEST(ProcessQueueTest, RemoveAllReturnsMaxPlusOne) {
  ProcessQueue pq;
  pq.putMessages(range(0, 4));
  EXPECT_EQ(pq.removeMessages(range(0, 4)), 4);
  EXPECT_EQ(pq.cachedCount(), 0u);
  EXPECT_EQ(pq.cachedBytes(), 0u);
  EXPECT_FALSE(pq.hasCachedMessages());
}

TEST(ProcessQueueTest, RemoveFromEmptyQueueReturnsMinusOne) {
  ProcessQueue pq;
  EXPECT_EQ(pq.removeMessages(range(0, 2)), -1);
}

TEST(ProcessQueueTest, DuplicateOffsetsAreCachedOnce) {
  ProcessQueue pq;
  pq.putMessages(range(0, 3));
  pq.putMessages(range(1, 4));
  EXPECT_EQ(pq.cachedCount(), 4u);
  EXPECT_EQ(pq.cachedBytes(), 4u);
}

TEST(ProcessQueueTest, TracksBytesAndSpan) {
  ProcessQueue pq;
  pq.putMessages({msgAt(5, "hello"), msgAt(9, "abc")});
  EXPECT_EQ(pq.cachedBytes(), 8u);
  EXPECT_EQ(pq.maxSpan(), 4);
  EXPECT_EQ(pq.minCachedOffset(), 5);
  EXPECT_EQ(pq.maxCachedOffset(), 9);
  pq.removeMessages({msgAt(5)});
  EXPECT_EQ(pq.cachedBytes(), 3u);
  EXPECT_EQ(pq.maxSpan(), 0);
}

TEST(ProcessQueueTest, DispatchFlagIsSetOnceUntilTakeFindsNothing) {
  ProcessQueue pq;
  EXPECT_TRUE(pq.putMessages(range(0, 2)));
  EXPECT_FALSE(pq.putMessages(range(2, 3)));  // a consume task is already due
  EXPECT_EQ(pq.takeMessages(10).size(), 3u);
  EXPECT_TRUE(pq.takeMessages(10).empty());  // clears the consuming mark
  EXPECT_TRUE(pq.putMessages(range(3, 4)));
}

TEST(ProcessQueueTest, PutWithNoMessagesDoesNotDispatch) {
  ProcessQueue pq;
  EXPECT_FALSE(pq.putMessages({}));
}

TEST(ProcessQueueTest, OrderlyTakeCommit) {
  ProcessQueue pq;
  pq.putMessages(range(100, 105));
  auto first = pq.takeMessages(2);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].queueOffset(), 100);
  EXPECT_EQ(first[1].queueOffset(), 101);
  EXPECT_EQ(pq.cachedCount(), 5u);  // still counted while being consumed
  EXPECT_EQ(pq.commit(), 102);
  EXPECT_EQ(pq.cachedCount(), 3u);
  EXPECT_EQ(pq.commit(), -1);  // nothing in the consuming set
}

TEST(ProcessQueueTest, OrderlyConsumeAgainKeepsUpdatedMessages) {
  ProcessQueue pq;
  pq.putMessages(range(0, 3));
  auto batch = pq.takeMessages(2);
  for (auto& m : batch) m.setReconsumeTimes(m.reconsumeTimes() + 1);
  pq.makeMessagesToConsumeAgain(batch);
  auto again = pq.takeMessages(3);
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again[0].queueOffset(), 0);
  EXPECT_EQ(again[0].reconsumeTimes(), 1);
  EXPECT_EQ(again[1].reconsumeTimes(), 1);
  EXPECT_EQ(again[2].reconsumeTimes(), 0);
  EXPECT_EQ(pq.commit(), 3);
  EXPECT_EQ(pq.cachedCount(), 0u);
}

TEST(ProcessQueueTest, RollbackReturnsTheConsumingSet) {
  ProcessQueue pq;
  pq.putMessages(range(0, 3));
  (void)pq.takeMessages(3);
  EXPECT_FALSE(pq.hasCachedMessages());
  pq.rollback();
  EXPECT_TRUE(pq.hasCachedMessages());
  EXPECT_EQ(pq.takeMessages(1)[0].queueOffset(), 0);
}

TEST(ProcessQueueTest, LockExpiresAfterMaxLiveTime) {
  ProcessQueue pq;
  auto t0 = ProcessQueue::Clock::now();
  pq.setLocked(true, t0);
  EXPECT_TRUE(pq.locked());
  EXPECT_FALSE(pq.lockExpired(t0 + std::chrono::seconds(29)));
  EXPECT_TRUE(pq.lockExpired(t0 + std::chrono::seconds(31)));
  pq.setLocked(false);
  EXPECT_FALSE(pq.locked());
}

TEST(ProcessQueueTest, PullExpiresAfterIdleTime) {
  ProcessQueue pq;
  auto t0 = ProcessQueue::Clock::now();
  pq.setLastPullTime(t0);
  EXPECT_FALSE(pq.pullExpired(t0 + std::chrono::seconds(119)));
  EXPECT_TRUE(pq.pullExpired(t0 + std::chrono::seconds(121)));
}

TEST(ProcessQueueTest, AccumulatedCountFromMaxOffsetProperty) {
  ProcessQueue pq;
  auto msgs = range(0, 3);
  for (auto& m : msgs) m.putProperty(property::kMaxOffset, "10");
  pq.putMessages(msgs);
  EXPECT_EQ(pq.accumulatedCount(), 8);  // 10 - last offset 2
}

TEST(ProcessQueueTest, ClearForgetsEverything) {
  ProcessQueue pq;
  pq.putMessages(range(0, 3));
  (void)pq.takeMessages(1);
  pq.clear();
  EXPECT_EQ(pq.cachedCount(), 0u);
  EXPECT_EQ(pq.cachedBytes(), 0u);
  EXPECT_EQ(pq.removeMessages(range(0, 3)), -1);
}

TEST(TimedMutexTest, TryLockForTimesOutWhileHeldElsewhere) {
  TimedMutex mu;
  mu.lock();
  bool got = true;
  std::thread t([&] { got = mu.try_lock_for(std::chrono::milliseconds(20)); });
  t.join();
  EXPECT_FALSE(got);
  EXPECT_FALSE(mu.try_lock());
  mu.unlock();
  std::thread t2([&] {
    got = mu.try_lock_for(std::chrono::milliseconds(20));
    if (got) mu.unlock();
  });
  t2.join();
  EXPECT_TRUE(got);
}

TEST(TimedMutexTest, WaiterGetsTheLockWhenReleased) {
  TimedMutex mu;
  mu.lock();
  bool got = false;
  std::thread t([&] {
    got = mu.try_lock_for(std::chrono::seconds(10));
    if (got) mu.unlock();
  });
  mu.unlock();
  t.join();
  EXPECT_TRUE(got);
}

TEST(ProcessQueueTest, DroppedFlag) {
  ProcessQueue pq;
  EXPECT_FALSE(pq.dropped());
  pq.setDropped(true);
  EXPECT_TRUE(pq.dropped());
}

}  // namespace
}  // namespace rocketrpc::client
