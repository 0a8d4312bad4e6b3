// PushConsumer against a real name server + broker (ROCKETRPC_TEST_NAMESRV): delivery, tag filtering, orderly
// consumption, redelivery through the retry topic, queue sharing within a group, and where a group starts.
#include "rocketrpc/push_consumer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "rocketrpc/producer.h"
#include "support/admin.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using testing::testNamesrv;
using testing::uniqueName;
using testing::waitUntil;

/// Thread-safe record of what a listener saw.
class Received {
 public:
  void add(const MessageExt& m) {
    std::lock_guard<std::mutex> lock(mu_);
    ++count_by_id_[m.msgId()];
    bodies_.push_back(m.body());
    tags_.insert(m.tags());
    topics_.insert(m.topic());
  }
  size_t distinct() const {
    std::lock_guard<std::mutex> lock(mu_);
    return count_by_id_.size();
  }
  size_t total() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_.size();
  }
  std::map<std::string, int> countsById() const {
    std::lock_guard<std::mutex> lock(mu_);
    return count_by_id_;
  }
  std::vector<std::string> bodies() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }
  std::set<std::string> tags() const {
    std::lock_guard<std::mutex> lock(mu_);
    return tags_;
  }
  std::set<std::string> topics() const {
    std::lock_guard<std::mutex> lock(mu_);
    return topics_;
  }
  bool hasBody(const std::string& body) const {
    std::lock_guard<std::mutex> lock(mu_);
    return std::find(bodies_.begin(), bodies_.end(), body) != bodies_.end();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, int> count_by_id_;
  std::vector<std::string> bodies_;
  std::set<std::string> tags_;
  std::set<std::string> topics_;
};

class PushConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ROCKETRPC_REQUIRE_CLUSTER();
    ProducerOptions o;
    o.namesrv_addr = testNamesrv();
    o.group = uniqueName("pc_producer");
    producer_ = std::make_unique<Producer>(o);
    producer_->start();
    topic_ = uniqueName("pc_topic");
  }
  void TearDown() override {
    for (auto& c : consumers_) c->shutdown();
    consumers_.clear();
    if (producer_) producer_->shutdown();
  }

  /// Creates the topic with `queues` queues on every broker and waits for its route.
  void createTopic(int queues) {
    auto r = testing::createTopicOnAllBrokers(testNamesrv(), topic_, queues);
    ASSERT_TRUE(r.isOk()) << r.status().toString();
  }

  PushConsumerOptions consumerOptions(const std::string& group) {
    PushConsumerOptions o;
    o.namesrv_addr = testNamesrv();
    o.group = group;
    o.consume_from_where = ConsumeFromWhere::kFirstOffset;
    o.rebalance_interval = 2s;  // pick up the retry topic and group changes quickly
    o.persist_offset_interval = 1s;
    return o;
  }

  PushConsumer& startConsumer(PushConsumerOptions o, const std::string& expression,
                              MessageListenerConcurrently listener) {
    auto c = std::make_unique<PushConsumer>(std::move(o));
    c->subscribe(topic_, expression);
    c->setMessageListener(std::move(listener));
    c->start();
    consumers_.push_back(std::move(c));
    return *consumers_.back();
  }

  std::vector<MessageQueue> topicQueues(const PushConsumer& c) const {
    std::vector<MessageQueue> out;
    for (const auto& mq : c.assignedQueues()) {
      if (mq.topic == topic_) out.push_back(mq);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::unique_ptr<Producer> producer_;
  std::string topic_;
  std::vector<std::unique_ptr<PushConsumer>> consumers_;
};

TEST_F(PushConsumerTest, ConsumesEveryMessageExactlyOnce) {
  std::set<std::string> sent_ids;
  for (int i = 0; i < 100; ++i) {
    sent_ids.insert(producer_->send(Message(topic_, "TagA", "m" + std::to_string(i))).msg_id);
  }
  ASSERT_EQ(sent_ids.size(), 100u);

  Received got;
  auto& consumer =
      startConsumer(consumerOptions(uniqueName("pc_once")), "*", [&](const std::vector<MessageExt>& msgs) {
        for (const auto& m : msgs) got.add(m);
        return ConsumeStatus::kSuccess;
      });
  ASSERT_TRUE(waitUntil([&] { return got.distinct() >= 100; }, 60s)) << "received " << got.distinct();
  consumer.shutdown();

  auto counts = got.countsById();
  EXPECT_EQ(counts.size(), 100u);
  for (const auto& id : sent_ids) EXPECT_EQ(counts[id], 1) << "message " << id;
  EXPECT_EQ(got.total(), 100u);
  EXPECT_EQ(got.topics(), std::set<std::string>{topic_});
}

TEST_F(PushConsumerTest, TagExpressionFiltersMessages) {
  producer_->send(Message(topic_, "TagC", "create"));  // creates the topic; filtered out below
  auto queues = producer_->fetchPublishMessageQueues(topic_);
  ASSERT_FALSE(queues.empty());
  const MessageQueue mq = queues.front();  // one queue: the last message proves all earlier ones were pulled
  const char* tags[] = {"TagA", "TagB", "TagC"};
  for (int i = 0; i < 30; ++i) producer_->send(Message(topic_, tags[i % 3], "t" + std::to_string(i)), mq);
  producer_->send(Message(topic_, "TagA", "last"), mq);

  Received got;
  startConsumer(consumerOptions(uniqueName("pc_tags")), "TagA || TagB",
                [&](const std::vector<MessageExt>& msgs) {
                  for (const auto& m : msgs) got.add(m);
                  return ConsumeStatus::kSuccess;
                });
  ASSERT_TRUE(waitUntil([&] { return got.total() >= 21 && got.hasBody("last"); }, 60s)) << got.total();
  EXPECT_EQ(got.tags(), (std::set<std::string>{"TagA", "TagB"}));
  EXPECT_EQ(got.total(), 21u);
}

TEST_F(PushConsumerTest, OrderlyListenerKeepsPerKeyOrder) {
  createTopic(4);
  constexpr int kKeys = 8;
  constexpr int kPerKey = 25;
  SelectMessageQueueByHash by_key;
  for (int seq = 0; seq < kPerKey; ++seq) {
    for (int k = 0; k < kKeys; ++k) {
      std::string key = "key" + std::to_string(k);
      producer_->send(Message(topic_, "TagA", key + ":" + std::to_string(seq)), by_key, std::any(key));
    }
  }

  std::mutex mu;
  std::map<std::string, std::vector<int>> seqs;
  std::map<MessageQueue, int> active;  // listener calls running per queue
  std::atomic<int> overlaps{0};
  std::atomic<int> total{0};
  auto consumer = std::make_unique<PushConsumer>(consumerOptions(uniqueName("pc_orderly")));
  consumer->subscribe(topic_, "*");
  consumer->setMessageListener([&](const std::vector<MessageExt>& msgs) {
    MessageQueue mq{msgs.front().topic(), msgs.front().brokerName(), msgs.front().queueId()};
    {
      std::lock_guard<std::mutex> lock(mu);
      if (active[mq]++ > 0) overlaps++;
    }
    std::this_thread::sleep_for(1ms);  // widen the window for overlapping calls
    {
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& m : msgs) {
        auto colon = m.body().find(':');
        seqs[m.body().substr(0, colon)].push_back(std::stoi(m.body().substr(colon + 1)));
      }
      active[mq]--;
    }
    total += static_cast<int>(msgs.size());
    return OrderlyConsumeStatus::kSuccess;
  });
  consumer->start();
  consumers_.push_back(std::move(consumer));

  ASSERT_TRUE(waitUntil([&] { return total.load() >= kKeys * kPerKey; }, 60s)) << total.load();
  consumers_.back()->shutdown();
  EXPECT_EQ(overlaps.load(), 0);
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(seqs.size(), static_cast<size_t>(kKeys));
  for (const auto& [key, got] : seqs) {
    std::vector<int> expected(kPerKey);
    for (int i = 0; i < kPerKey; ++i) expected[i] = i;
    EXPECT_EQ(got, expected) << key;
  }
}

TEST_F(PushConsumerTest, OrderlySuspendRetriesTheSameMessagesInOrder) {
  createTopic(1);
  for (int i = 0; i < 5; ++i) producer_->send(Message(topic_, "TagA", std::to_string(i)));

  std::mutex mu;
  std::vector<std::pair<std::string, int>> calls;  // body, reconsumeTimes
  std::atomic<bool> failed_once{false};
  std::atomic<int> done{0};
  PushConsumerOptions o = consumerOptions(uniqueName("pc_suspend"));
  o.suspend_current_queue_time = 100ms;
  auto consumer = std::make_unique<PushConsumer>(o);
  consumer->subscribe(topic_, "*");
  consumer->setMessageListener([&](const std::vector<MessageExt>& msgs) {
    std::lock_guard<std::mutex> lock(mu);
    calls.emplace_back(msgs.front().body(), msgs.front().reconsumeTimes());
    if (msgs.front().body() == "2" && !failed_once.exchange(true)) {
      return OrderlyConsumeStatus::kSuspendCurrentQueueAMoment;
    }
    done++;
    return OrderlyConsumeStatus::kSuccess;
  });
  consumer->start();
  consumers_.push_back(std::move(consumer));
  ASSERT_TRUE(waitUntil([&] { return done.load() >= 5; }, 60s));
  std::lock_guard<std::mutex> lock(mu);
  std::vector<std::pair<std::string, int>> expected{{"0", 0}, {"1", 0}, {"2", 0},
                                                    {"2", 1}, {"3", 0}, {"4", 0}};
  EXPECT_EQ(calls, expected);
}

TEST_F(PushConsumerTest, FailedMessageIsRedeliveredThroughTheRetryTopic) {
  producer_->send(Message(topic_, "TagA", "warm-up"));
  Received got;
  std::mutex mu;
  std::map<std::string, std::vector<int>> deliveries;  // body -> reconsumeTimes of each delivery
  startConsumer(consumerOptions(uniqueName("pc_retry")), "*", [&](const std::vector<MessageExt>& msgs) {
    std::lock_guard<std::mutex> lock(mu);
    bool fail = false;
    for (const auto& m : msgs) {
      got.add(m);
      auto& d = deliveries[m.body()];
      d.push_back(m.reconsumeTimes());
      if (m.body().rfind("retry", 0) == 0 && d.size() == 1) fail = true;
    }
    return fail ? ConsumeStatus::kReconsumeLater : ConsumeStatus::kSuccess;
  });
  std::set<std::string> ids;
  for (int i = 0; i < 3; ++i)
    ids.insert(producer_->send(Message(topic_, "TagA", "retry" + std::to_string(i))).msg_id);

  // The broker delays the first retry by level 3 (10 s).
  ASSERT_TRUE(waitUntil(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        for (int i = 0; i < 3; ++i) {
          auto it = deliveries.find("retry" + std::to_string(i));
          if (it == deliveries.end() || it->second.size() < 2) return false;
        }
        return true;
      },
      90s));
  std::lock_guard<std::mutex> lock(mu);
  for (int i = 0; i < 3; ++i) {
    const auto& d = deliveries["retry" + std::to_string(i)];
    ASSERT_GE(d.size(), 2u);
    EXPECT_EQ(d[0], 0);
    EXPECT_EQ(d[1], 1);
  }
  auto counts = got.countsById();
  for (const auto& id : ids) EXPECT_EQ(counts[id], 2) << "redelivery keeps the message id";
  EXPECT_EQ(got.topics(), std::set<std::string>{topic_})
      << "retry messages are shown with their original topic";
}

TEST_F(PushConsumerTest, TwoMembersSplitTheQueues) {
  createTopic(4);
  const std::string group = uniqueName("pc_split");
  Received a, b;
  auto& c1 = startConsumer(consumerOptions(group), "*", [&](const std::vector<MessageExt>& msgs) {
    for (const auto& m : msgs) a.add(m);
    return ConsumeStatus::kSuccess;
  });
  auto& c2 = startConsumer(consumerOptions(group), "*", [&](const std::vector<MessageExt>& msgs) {
    for (const auto& m : msgs) b.add(m);
    return ConsumeStatus::kSuccess;
  });
  ASSERT_NE(c1.clientId(), c2.clientId());

  auto all = producer_->fetchPublishMessageQueues(topic_);
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), 4u);
  // A rebalance drops and starts queues one at a time, so a member may briefly hold 3 while the other holds 1
  // (a disjoint cover, but not the allocation). Wait for the settled state: two each, together all four.
  ASSERT_TRUE(waitUntil(
      [&] {
        auto q1 = topicQueues(c1);
        auto q2 = topicQueues(c2);
        if (q1.size() != 2 || q2.size() != 2) return false;
        std::vector<MessageQueue> u;
        std::set_union(q1.begin(), q1.end(), q2.begin(), q2.end(), std::back_inserter(u));
        return u == all;
      },
      60s))
      << "c1 has " << topicQueues(c1).size() << ", c2 has " << topicQueues(c2).size();

  for (int i = 0; i < 100; ++i) producer_->send(Message(topic_, "TagA", "s" + std::to_string(i)));
  ASSERT_TRUE(waitUntil([&] { return a.distinct() + b.distinct() >= 100; }, 60s))
      << a.distinct() << " + " << b.distinct();
  EXPECT_GT(a.distinct(), 0u);
  EXPECT_GT(b.distinct(), 0u);
  std::set<std::string> ids;
  for (const auto& [id, n] : a.countsById()) ids.insert(id);
  for (const auto& [id, n] : b.countsById()) ids.insert(id);
  EXPECT_EQ(ids.size(), 100u);
}

TEST_F(PushConsumerTest, GroupResumesFromItsCommittedOffset) {
  const std::string group = uniqueName("pc_resume");
  for (int i = 0; i < 10; ++i) producer_->send(Message(topic_, "TagA", "first" + std::to_string(i)));

  Received first;
  auto& c1 = startConsumer(consumerOptions(group), "*", [&](const std::vector<MessageExt>& msgs) {
    for (const auto& m : msgs) first.add(m);
    return ConsumeStatus::kSuccess;
  });
  ASSERT_TRUE(waitUntil([&] { return first.distinct() >= 10; }, 60s));
  c1.shutdown();  // commits the offsets

  for (int i = 0; i < 10; ++i) producer_->send(Message(topic_, "TagA", "second" + std::to_string(i)));

  // Same group, consume-from-last: starts at the committed offsets, so only the second batch arrives.
  Received resumed;
  PushConsumerOptions last = consumerOptions(group);
  last.consume_from_where = ConsumeFromWhere::kLastOffset;
  startConsumer(last, "*", [&](const std::vector<MessageExt>& msgs) {
    for (const auto& m : msgs) resumed.add(m);
    return ConsumeStatus::kSuccess;
  });
  ASSERT_TRUE(waitUntil([&] { return resumed.distinct() >= 10; }, 60s)) << resumed.distinct();
  for (const auto& body : resumed.bodies()) EXPECT_EQ(body.rfind("second", 0), 0u) << body;

  // A new group from the first offset sees everything.
  Received fresh;
  startConsumer(consumerOptions(uniqueName("pc_first")), "*", [&](const std::vector<MessageExt>& msgs) {
    for (const auto& m : msgs) fresh.add(m);
    return ConsumeStatus::kSuccess;
  });
  ASSERT_TRUE(waitUntil([&] { return fresh.distinct() >= 20; }, 60s)) << fresh.distinct();
  EXPECT_EQ(fresh.distinct(), 20u);
}

TEST_F(PushConsumerTest, OrderlyMessageOutOfRetriesGoesToTheDeadLetterQueue) {
  createTopic(1);
  producer_->send(Message(topic_, "TagA", "bad"));
  producer_->send(Message(topic_, "TagA", "after"));

  std::mutex mu;
  std::vector<std::pair<std::string, int>> calls;
  std::atomic<bool> after_done{false};
  PushConsumerOptions o = consumerOptions(uniqueName("pc_dlq"));
  o.suspend_current_queue_time = 50ms;
  o.max_reconsume_times = 2;
  auto consumer = std::make_unique<PushConsumer>(o);
  consumer->subscribe(topic_, "*");
  consumer->setMessageListener([&](const std::vector<MessageExt>& msgs) {
    std::lock_guard<std::mutex> lock(mu);
    calls.emplace_back(msgs.front().body(), msgs.front().reconsumeTimes());
    if (msgs.front().body() == "bad") return OrderlyConsumeStatus::kSuspendCurrentQueueAMoment;
    after_done = true;
    return OrderlyConsumeStatus::kSuccess;
  });
  consumer->start();
  consumers_.push_back(std::move(consumer));
  ASSERT_TRUE(waitUntil([&] { return after_done.load(); }, 60s));
  std::lock_guard<std::mutex> lock(mu);
  std::vector<std::pair<std::string, int>> expected{{"bad", 0}, {"bad", 1}, {"bad", 2}, {"after", 0}};
  EXPECT_EQ(calls, expected);
}

TEST_F(PushConsumerTest, FlowControlPausesPullsWithoutLosingMessages) {
  createTopic(1);
  for (int i = 0; i < 60; ++i) producer_->send(Message(topic_, "TagA", "f" + std::to_string(i)));
  PushConsumerOptions o = consumerOptions(uniqueName("pc_flow"));
  o.pull_threshold_for_queue = 2;
  o.pull_batch_size = 4;
  o.consume_threads = 2;
  Received got;
  startConsumer(o, "*", [&](const std::vector<MessageExt>& msgs) {
    std::this_thread::sleep_for(2ms);  // slower than the pulls
    for (const auto& m : msgs) got.add(m);
    return ConsumeStatus::kSuccess;
  });
  ASSERT_TRUE(waitUntil([&] { return got.distinct() >= 60; }, 60s)) << got.distinct();
  EXPECT_EQ(got.total(), 60u);
}

TEST_F(PushConsumerTest, BroadcastingDeliversEveryMessageToEveryMember) {
  auto dir = std::filesystem::temp_directory_path() / uniqueName("pc_offsets");
  ::setenv("ROCKETRPC_OFFSET_STORE_DIR", dir.c_str(), 1);
  createTopic(2);
  const std::string group = uniqueName("pc_broadcast");
  Received a, b;
  PushConsumerOptions o = consumerOptions(group);
  o.message_model = MessageModel::kBroadcasting;
  auto& c1 = startConsumer(o, "*", [&](const std::vector<MessageExt>& msgs) {
    for (const auto& m : msgs) a.add(m);
    return ConsumeStatus::kSuccess;
  });
  auto& c2 = startConsumer(o, "*", [&](const std::vector<MessageExt>& msgs) {
    for (const auto& m : msgs) b.add(m);
    return ConsumeStatus::kSuccess;
  });
  ASSERT_TRUE(waitUntil([&] { return topicQueues(c1).size() == 2 && topicQueues(c2).size() == 2; }, 60s));
  for (int i = 0; i < 20; ++i) producer_->send(Message(topic_, "TagA", "b" + std::to_string(i)));
  ASSERT_TRUE(waitUntil([&] { return a.distinct() >= 20 && b.distinct() >= 20; }, 60s))
      << a.distinct() << " / " << b.distinct();
  EXPECT_EQ(a.countsById(), b.countsById());
  c1.shutdown();
  // Each member keeps its own offsets in a local file named after its client id.
  EXPECT_TRUE(std::filesystem::exists(dir / c1.clientId() / group / "offsets.json"));
  c2.shutdown();
  ::unsetenv("ROCKETRPC_OFFSET_STORE_DIR");
  std::filesystem::remove_all(dir);
}

// Issue #11: a consumer starts before its topic exists (as Java's does) and consumes it once created
// (start_order_test.cc); until then it has no queues.
TEST_F(PushConsumerTest, StartSucceedsForATopicThatDoesNotExistYet) {
  auto c = std::make_unique<PushConsumer>(consumerOptions(uniqueName("pc_noroute")));
  c->subscribe(uniqueName("pc_missing_topic"), "*");
  c->setMessageListener([](const std::vector<MessageExt>&) { return ConsumeStatus::kSuccess; });
  EXPECT_NO_THROW(c->start());
  for (const auto& mq : c->assignedQueues()) EXPECT_EQ(mq.topic.rfind("%RETRY%", 0), 0u) << mq.toString();
  c->shutdown();
}

TEST(PushConsumerOptionsTest, InvalidOptionsAreRejected) {
  PushConsumerOptions o;
  o.namesrv_addr = "127.0.0.1:9876";
  o.group = "bad group!";
  EXPECT_THROW(PushConsumer{o}, MQException);
  o.group = std::string(256, 'g');
  EXPECT_THROW(PushConsumer{o}, MQException);
  o.group = "ok_group";
  o.consume_threads = 0;
  EXPECT_THROW(PushConsumer{o}, MQException);
  o.consume_threads = 4;
  o.consume_timestamp = "yesterday";
  EXPECT_THROW(PushConsumer{o}, MQException);
  o.consume_timestamp.clear();
  PushConsumer ok(o);
  EXPECT_THROW(ok.subscribe("bad topic", "*"), MQException);
  try {
    ok.start();  // no listener, no subscription
    FAIL();
  } catch (const MQException& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  }
  ok.subscribe("T", "*");
  EXPECT_THROW(ok.start(), MQException);  // still no listener
  EXPECT_TRUE(ok.assignedQueues().empty());
  ok.shutdown();
  ok.shutdown();
}

}  // namespace
}  // namespace rocketrpc
