#include "client/rebalance.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace rocketrpc::client {
namespace {

std::vector<MessageQueue> queues(const std::string& topic, const std::vector<std::string>& brokers,
                                 int per_broker) {
  std::vector<MessageQueue> out;
  for (const auto& b : brokers) {
    for (int i = 0; i < per_broker; ++i) out.push_back({topic, b, i});
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> cids(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("127.0.0.1@c" + std::to_string(i));
  std::sort(out.begin(), out.end());
  return out;
}

// --- allocateMessageQueueAveragely ---

TEST(AllocateAveragelyTest, EvenSplit) {
  auto mqs = queues("T", {"b"}, 4);
  auto ids = cids(2);
  EXPECT_EQ(allocateMessageQueueAveragely(ids[0], mqs, ids), (std::vector<MessageQueue>{mqs[0], mqs[1]}));
  EXPECT_EQ(allocateMessageQueueAveragely(ids[1], mqs, ids), (std::vector<MessageQueue>{mqs[2], mqs[3]}));
}

TEST(AllocateAveragelyTest, RemainderGoesToTheFirstConsumers) {
  auto mqs = queues("T", {"b"}, 5);
  auto ids = cids(2);
  EXPECT_EQ(allocateMessageQueueAveragely(ids[0], mqs, ids),
            (std::vector<MessageQueue>{mqs[0], mqs[1], mqs[2]}));
  EXPECT_EQ(allocateMessageQueueAveragely(ids[1], mqs, ids), (std::vector<MessageQueue>{mqs[3], mqs[4]}));
}

TEST(AllocateAveragelyTest, MoreConsumersThanQueues) {
  auto mqs = queues("T", {"b"}, 3);
  auto ids = cids(4);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(allocateMessageQueueAveragely(ids[i], mqs, ids), (std::vector<MessageQueue>{mqs[i]}));
  }
  EXPECT_TRUE(allocateMessageQueueAveragely(ids[3], mqs, ids).empty());
}

TEST(AllocateAveragelyTest, UnknownConsumerGetsNothing) {
  auto mqs = queues("T", {"b"}, 4);
  EXPECT_TRUE(allocateMessageQueueAveragely("someone-else", mqs, cids(2)).empty());
  EXPECT_TRUE(allocateMessageQueueAveragely(cids(1)[0], {}, cids(1)).empty());
}

TEST(AllocateAveragelyTest, SharesAreDisjointAndCoverEverything) {
  for (int nq = 1; nq <= 20; ++nq) {
    for (int nc = 1; nc <= 9; ++nc) {
      auto mqs = queues("T", {"a", "b"}, nq);
      auto ids = cids(nc);
      std::multiset<MessageQueue> seen;
      size_t largest = 0, smallest = mqs.size();
      for (const auto& id : ids) {
        auto mine = allocateMessageQueueAveragely(id, mqs, ids);
        largest = std::max(largest, mine.size());
        smallest = std::min(smallest, mine.size());
        seen.insert(mine.begin(), mine.end());
      }
      EXPECT_EQ(seen.size(), mqs.size()) << nq << " queues/broker, " << nc << " consumers";
      EXPECT_EQ(std::set<MessageQueue>(seen.begin(), seen.end()).size(), mqs.size());
      EXPECT_LE(largest - smallest, 1u);
    }
  }
}

// --- computePullFromWhere ---

class FakeQueries : public OffsetQueries {
 public:
  Result<int64_t> stored = Status::notFound("none");
  Result<int64_t> max = int64_t{500};
  Result<int64_t> searched = int64_t{42};
  int64_t searched_ts = -1;

  Result<int64_t> storedOffset(const MessageQueue&) override { return stored; }
  Result<int64_t> maxOffset(const MessageQueue&) override { return max; }
  Result<int64_t> searchOffset(const MessageQueue&, int64_t ts) override {
    searched_ts = ts;
    return searched;
  }
};

const MessageQueue kMq{"T", "b", 0};
const MessageQueue kRetryMq{"%RETRY%g", "b", 0};

TEST(ComputePullFromWhereTest, StoredOffsetWins) {
  FakeQueries q;
  q.stored = int64_t{77};
  for (auto where :
       {ConsumeFromWhere::kLastOffset, ConsumeFromWhere::kFirstOffset, ConsumeFromWhere::kTimestamp}) {
    auto r = computePullFromWhere(where, 1000, kMq, q);
    ASSERT_TRUE(r.isOk());
    EXPECT_EQ(*r, 77);
  }
}

TEST(ComputePullFromWhereTest, LastOffsetWithoutStoredOffset) {
  FakeQueries q;
  EXPECT_EQ(*computePullFromWhere(ConsumeFromWhere::kLastOffset, 0, kMq, q), 500);
  EXPECT_EQ(*computePullFromWhere(ConsumeFromWhere::kLastOffset, 0, kRetryMq, q), 0);
}

TEST(ComputePullFromWhereTest, FirstOffsetWithoutStoredOffset) {
  FakeQueries q;
  EXPECT_EQ(*computePullFromWhere(ConsumeFromWhere::kFirstOffset, 0, kMq, q), 0);
}

TEST(ComputePullFromWhereTest, TimestampWithoutStoredOffset) {
  FakeQueries q;
  EXPECT_EQ(*computePullFromWhere(ConsumeFromWhere::kTimestamp, 123456, kMq, q), 42);
  EXPECT_EQ(q.searched_ts, 123456);
  EXPECT_EQ(*computePullFromWhere(ConsumeFromWhere::kTimestamp, 123456, kRetryMq, q), 500);
}

TEST(ComputePullFromWhereTest, OtherErrorsAreReturned) {
  FakeQueries q;
  q.stored = Status::network("broker down");
  auto r = computePullFromWhere(ConsumeFromWhere::kFirstOffset, 0, kMq, q);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kNetwork);
  q.stored = Status::notFound("none");
  q.max = Status::timeout("slow");
  EXPECT_FALSE(computePullFromWhere(ConsumeFromWhere::kLastOffset, 0, kMq, q).isOk());
}

TEST(ConsumeTimestampTest, ParseAndFormatRoundTrip) {
  auto ms = parseConsumeTimestamp("20240229123456");
  ASSERT_TRUE(ms.isOk());
  EXPECT_EQ(*ms, 1709210096000);
  EXPECT_EQ(formatConsumeTimestamp(*ms), "20240229123456");
}

TEST(ConsumeTimestampTest, RejectsMalformedText) {
  EXPECT_FALSE(parseConsumeTimestamp("2024022912345").isOk());
  EXPECT_FALSE(parseConsumeTimestamp("2024-02-29 12:3").isOk());
  EXPECT_FALSE(parseConsumeTimestamp("20241329123456").isOk());
}

// --- RebalanceImpl ---

class FakeEnv : public RebalanceEnv {
 public:
  std::map<std::string, Result<std::vector<MessageQueue>>> topic_queues;
  Result<std::vector<std::string>> ids = std::vector<std::string>{};
  std::map<MessageQueue, Result<int64_t>> offsets;  // absent: 0
  std::set<MessageQueue> lockable;                  // queues lockBatch grants
  bool lock_fails = false;

  std::vector<std::pair<MessageQueue, int64_t>> dispatched;
  std::vector<MessageQueue> released;
  std::vector<MessageQueue> dirty_removed;
  std::vector<std::set<MessageQueue>> unlocked;

  Result<std::vector<MessageQueue>> subscribeQueues(const std::string& topic) override {
    auto it = topic_queues.find(topic);
    if (it == topic_queues.end()) return Status::notFound("no route for " + topic);
    return it->second;
  }
  Result<std::vector<std::string>> consumerIds(const std::string&) override { return ids; }
  void removeDirtyOffset(const MessageQueue& mq) override { dirty_removed.push_back(mq); }
  Result<int64_t> computePullFromWhere(const MessageQueue& mq) override {
    auto it = offsets.find(mq);
    return it == offsets.end() ? Result<int64_t>(int64_t{0}) : it->second;
  }
  void releaseOffset(const MessageQueue& mq) override { released.push_back(mq); }
  Result<std::set<MessageQueue>> lockBatch(const std::string&, const std::set<MessageQueue>& mqs) override {
    if (lock_fails) return Status::network("broker down");
    std::set<MessageQueue> out;
    for (const auto& mq : mqs) {
      if (lockable.count(mq)) out.insert(mq);
    }
    return out;
  }
  void unlockBatch(const std::string&, const std::set<MessageQueue>& mqs, bool) override {
    unlocked.push_back(mqs);
  }
  void dispatchPull(const MessageQueue& mq, std::shared_ptr<ProcessQueue>, int64_t next_offset) override {
    dispatched.emplace_back(mq, next_offset);
  }
};

RebalanceConfig clusteringConfig(const std::string& me, bool orderly = false) {
  RebalanceConfig c;
  c.group = "g";
  c.client_id = me;
  c.model = MessageModel::kClustering;
  c.orderly = orderly;
  c.unlock_wait = std::chrono::milliseconds(10);
  return c;
}

TEST(RebalanceImplTest, ClusteringTakesItsShareAndStartsPulls) {
  FakeEnv env;
  auto mqs = queues("T", {"b"}, 4);
  env.topic_queues.insert_or_assign("T", mqs);
  env.ids = std::vector<std::string>{"c2", "c1"};  // unsorted on purpose
  env.offsets.insert_or_assign(mqs[0], int64_t{10});
  env.offsets.insert_or_assign(mqs[1], int64_t{20});
  RebalanceImpl rb(clusteringConfig("c1"), env);
  EXPECT_TRUE(rb.doRebalance({"T"}));
  EXPECT_EQ(rb.assignedQueues(), (std::vector<MessageQueue>{mqs[0], mqs[1]}));
  ASSERT_EQ(env.dispatched.size(), 2u);
  EXPECT_EQ(env.dispatched[0], std::make_pair(mqs[0], int64_t{10}));
  EXPECT_EQ(env.dispatched[1], std::make_pair(mqs[1], int64_t{20}));
  EXPECT_EQ(env.dirty_removed.size(), 2u);
  // Same inputs: nothing changes, nothing restarts.
  EXPECT_FALSE(rb.doRebalance({"T"}));
  EXPECT_EQ(env.dispatched.size(), 2u);
}

TEST(RebalanceImplTest, MemberJoiningReleasesQueues) {
  FakeEnv env;
  auto mqs = queues("T", {"b"}, 4);
  env.topic_queues.insert_or_assign("T", mqs);
  env.ids = std::vector<std::string>{"c1"};
  RebalanceImpl rb(clusteringConfig("c1"), env);
  rb.doRebalance({"T"});
  EXPECT_EQ(rb.assignedQueues().size(), 4u);
  auto pq3 = rb.processQueue(mqs[3]);
  ASSERT_TRUE(pq3);

  env.ids = std::vector<std::string>{"c1", "c2"};
  EXPECT_TRUE(rb.doRebalance({"T"}));
  EXPECT_EQ(rb.assignedQueues(), (std::vector<MessageQueue>{mqs[0], mqs[1]}));
  EXPECT_TRUE(pq3->dropped());
  EXPECT_EQ(env.released, (std::vector<MessageQueue>{mqs[2], mqs[3]}));
  EXPECT_FALSE(rb.processQueue(mqs[3]));
}

TEST(RebalanceImplTest, UnknownMembersKeepTheCurrentAssignment) {
  FakeEnv env;
  auto mqs = queues("T", {"b"}, 2);
  env.topic_queues.insert_or_assign("T", mqs);
  env.ids = std::vector<std::string>{"c1"};
  RebalanceImpl rb(clusteringConfig("c1"), env);
  rb.doRebalance({"T"});
  env.ids = Status::timeout("broker slow");
  EXPECT_FALSE(rb.doRebalance({"T"}));
  EXPECT_EQ(rb.assignedQueues().size(), 2u);
  env.ids = std::vector<std::string>{};
  EXPECT_FALSE(rb.doRebalance({"T"}));
  EXPECT_EQ(rb.assignedQueues().size(), 2u);
}

TEST(RebalanceImplTest, MissingRouteSkipsTheTopic) {
  FakeEnv env;
  env.topic_queues.insert_or_assign("T", queues("T", {"b"}, 1));
  env.ids = std::vector<std::string>{"c1"};
  RebalanceImpl rb(clusteringConfig("c1"), env);
  EXPECT_TRUE(rb.doRebalance({"T", "%RETRY%g"}));
  EXPECT_EQ(rb.assignedQueues().size(), 1u);
}

TEST(RebalanceImplTest, QueueWithUnknownOffsetIsRetriedNextTime) {
  FakeEnv env;
  auto mqs = queues("T", {"b"}, 2);
  env.topic_queues.insert_or_assign("T", mqs);
  env.ids = std::vector<std::string>{"c1"};
  env.offsets.insert_or_assign(mqs[1], Status::network("broker down"));
  RebalanceImpl rb(clusteringConfig("c1"), env);
  rb.doRebalance({"T"});
  EXPECT_EQ(rb.assignedQueues(), (std::vector<MessageQueue>{mqs[0]}));
  env.offsets.insert_or_assign(mqs[1], int64_t{5});
  EXPECT_TRUE(rb.doRebalance({"T"}));
  EXPECT_EQ(rb.assignedQueues().size(), 2u);
  EXPECT_EQ(env.dispatched.back(), std::make_pair(mqs[1], int64_t{5}));
}

TEST(RebalanceImplTest, BroadcastingTakesEveryQueue) {
  FakeEnv env;
  auto mqs = queues("T", {"a", "b"}, 3);
  env.topic_queues.insert_or_assign("T", mqs);
  env.ids = Status::network("not asked in broadcasting");
  RebalanceConfig c = clusteringConfig("c1");
  c.model = MessageModel::kBroadcasting;
  RebalanceImpl rb(c, env);
  EXPECT_TRUE(rb.doRebalance({"T"}));
  EXPECT_EQ(rb.assignedQueues(), mqs);
}

TEST(RebalanceImplTest, RemovedProcessQueueIsReAdded) {
  FakeEnv env;
  auto mqs = queues("T", {"b"}, 1);
  env.topic_queues.insert_or_assign("T", mqs);
  env.ids = std::vector<std::string>{"c1"};
  RebalanceImpl rb(clusteringConfig("c1"), env);
  rb.doRebalance({"T"});
  auto pq = rb.processQueue(mqs[0]);
  EXPECT_FALSE(rb.removeProcessQueue(mqs[0], std::make_shared<ProcessQueue>()));  // not the current one
  EXPECT_TRUE(rb.removeProcessQueue(mqs[0], pq));
  EXPECT_TRUE(pq->dropped());
  EXPECT_TRUE(rb.assignedQueues().empty());
  EXPECT_TRUE(rb.doRebalance({"T"}));
  auto again = rb.processQueue(mqs[0]);
  ASSERT_TRUE(again);
  EXPECT_NE(again, pq);
  EXPECT_EQ(env.dispatched.size(), 2u);
}

TEST(RebalanceImplTest, StuckPullIsRecreated) {
  FakeEnv env;
  auto mqs = queues("T", {"b"}, 1);
  env.topic_queues.insert_or_assign("T", mqs);
  env.ids = std::vector<std::string>{"c1"};
  RebalanceImpl rb(clusteringConfig("c1"), env);
  rb.doRebalance({"T"});
  auto pq = rb.processQueue(mqs[0]);
  pq->setLastPullTime(ProcessQueue::Clock::now() - std::chrono::minutes(5));
  EXPECT_TRUE(rb.doRebalance({"T"}));
  EXPECT_TRUE(pq->dropped());
  auto fresh = rb.processQueue(mqs[0]);
  ASSERT_TRUE(fresh);
  EXPECT_NE(fresh, pq);
}

TEST(RebalanceImplTest, OrderlyAddsOnlyQueuesItCanLock) {
  FakeEnv env;
  auto mqs = queues("T", {"b"}, 2);
  env.topic_queues.insert_or_assign("T", mqs);
  env.ids = std::vector<std::string>{"c1"};
  env.lockable = {mqs[0]};
  RebalanceImpl rb(clusteringConfig("c1", /*orderly=*/true), env);
  rb.doRebalance({"T"});
  EXPECT_EQ(rb.assignedQueues(), (std::vector<MessageQueue>{mqs[0]}));
  EXPECT_TRUE(rb.processQueue(mqs[0])->locked());
  env.lockable.insert(mqs[1]);
  rb.doRebalance({"T"});
  EXPECT_EQ(rb.assignedQueues().size(), 2u);
}

TEST(RebalanceImplTest, OrderlyRemovalWaitsForTheRunningListener) {
  FakeEnv env;
  auto mqs = queues("T", {"b"}, 1);
  env.topic_queues.insert_or_assign("T", mqs);
  env.ids = std::vector<std::string>{"c1"};
  env.lockable = {mqs[0]};
  RebalanceImpl rb(clusteringConfig("c1", /*orderly=*/true), env);
  rb.doRebalance({"T"});
  auto pq = rb.processQueue(mqs[0]);
  ASSERT_TRUE(pq);

  env.ids = std::vector<std::string>{"c0", "c1"};  // c0 now owns the only queue
  {
    std::unique_lock<TimedMutex> consuming(pq->consumeMutex());
    std::thread t([&] { rb.doRebalance({"T"}); });  // another thread: try_lock must fail
    t.join();
  }
  EXPECT_TRUE(pq->dropped());
  EXPECT_TRUE(env.unlocked.empty());
  EXPECT_TRUE(rb.assignedQueues().empty());
  EXPECT_EQ(rb.processQueues().size(), 1u);  // kept until it can be unlocked

  rb.doRebalance({"T"});
  EXPECT_TRUE(rb.processQueues().empty());
  ASSERT_EQ(env.unlocked.size(), 1u);
  EXPECT_EQ(env.unlocked[0], std::set<MessageQueue>{mqs[0]});
}

TEST(RebalanceImplTest, LockAllRenewsAndRevokes) {
  FakeEnv env;
  auto mqs = queues("T", {"b"}, 2);
  env.topic_queues.insert_or_assign("T", mqs);
  env.ids = std::vector<std::string>{"c1"};
  env.lockable = {mqs[0], mqs[1]};
  RebalanceImpl rb(clusteringConfig("c1", /*orderly=*/true), env);
  rb.doRebalance({"T"});
  env.lockable = {mqs[1]};
  rb.lockAll();
  EXPECT_FALSE(rb.processQueue(mqs[0])->locked());
  EXPECT_TRUE(rb.processQueue(mqs[1])->locked());
  env.lock_fails = true;
  rb.lockAll();  // a failed renewal keeps the current state
  EXPECT_TRUE(rb.processQueue(mqs[1])->locked());
  EXPECT_TRUE(rb.lock(mqs[0]) == false);
  env.lock_fails = false;
  env.lockable = {mqs[0], mqs[1]};
  EXPECT_TRUE(rb.lock(mqs[0]));
  EXPECT_TRUE(rb.processQueue(mqs[0])->locked());
  rb.unlockAll(true);
  EXPECT_FALSE(rb.processQueue(mqs[0])->locked());
  ASSERT_EQ(env.unlocked.size(), 1u);
  EXPECT_EQ(env.unlocked[0].size(), 2u);
}

TEST(RebalanceImplTest, DestroyDropsEverything) {
  FakeEnv env;
  env.topic_queues.insert_or_assign("T", queues("T", {"b"}, 3));
  env.ids = std::vector<std::string>{"c1"};
  RebalanceImpl rb(clusteringConfig("c1"), env);
  rb.doRebalance({"T"});
  auto table = rb.destroy();
  EXPECT_EQ(table.size(), 3u);
  for (const auto& [mq, pq] : table) EXPECT_TRUE(pq->dropped());
  EXPECT_TRUE(rb.assignedQueues().empty());
}

TEST(RetryTopicTest, Names) {
  EXPECT_EQ(retryTopic("g"), "%RETRY%g");
  EXPECT_TRUE(isRetryTopic("%RETRY%g"));
  EXPECT_FALSE(isRetryTopic("T"));
  EXPECT_FALSE(isRetryTopic("%DLQ%g"));
}

}  // namespace
}  // namespace rocketrpc::client
