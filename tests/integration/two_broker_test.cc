// Request-reply across a two-broker Apache RocketMQ cluster (one name server, two broker processes): requests
// spread over both brokers and every reply still reaches its requester, whichever broker pushes it.
// Run by scripts/run-tests.sh against `apache-rocketmq.sh start --brokers 2` (ROCKETRPC_TEST_BROKERS=2).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>

#include "rocketrpc/producer.h"
#include "rocketrpc/push_consumer.h"
#include "support/admin.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;

TEST(TwoBrokerTest, RequestsSpreadOverBothBrokersAndAllRepliesArrive) {
  ROCKETRPC_REQUIRE_CLUSTER();
  const std::string ns = testing::testNamesrv();
  const std::string topic = testing::uniqueName("two_broker");
  auto brokers = testing::createTopicOnAllBrokers(ns, topic, 4);
  ASSERT_TRUE(brokers.isOk()) << brokers.status().toString();
  ASSERT_EQ(*brokers, 2) << "expected a two-broker cluster";

  PushConsumerOptions co;
  co.namesrv_addr = ns;
  co.group = testing::uniqueName("two_broker_resp");
  co.consume_from_where = ConsumeFromWhere::kFirstOffset;
  PushConsumer responder(co);
  responder.subscribe(topic, "*");
  responder.setReplyListener([](const MessageExt& m) { return m.brokerName() + ":" + m.body(); });
  responder.start();

  ProducerOptions po;
  po.namesrv_addr = ns;
  po.group = testing::uniqueName("two_broker_req");
  Producer producer(po);
  producer.start();
  auto queues = producer.fetchPublishMessageQueues(topic);
  std::set<std::string> names;
  for (const auto& q : queues) names.insert(q.broker_name);
  ASSERT_EQ(names.size(), 2u);

  // Warm up: until a request to each broker is answered.
  for (const auto& name : names) {
    MessageQueue target;
    for (const auto& q : queues) {
      if (q.broker_name == name) target = q;
    }
    ASSERT_TRUE(testing::waitUntil(
        [&] {
          try {
            producer.request(Message(topic, "warm"), target, 2000ms);
            return true;
          } catch (const MQException&) {
            return false;
          }
        },
        90s))
        << "no reply through " << name;
  }

  constexpr int kN = 200;
  std::mutex mu;
  std::map<std::string, int> by_broker;
  std::atomic<int> ok{0}, done{0};
  for (int i = 0; i < kN; ++i) {
    std::string body = "r" + std::to_string(i);
    producer.request(
        Message(topic, body),
        [&, body](Outcome<MessageExt> o) {
          if (o.ok()) {
            const std::string& b = o.value().body();
            auto colon = b.rfind(':');
            if (colon != std::string::npos && b.substr(colon + 1) == body) {
              ok++;
              std::lock_guard<std::mutex> lock(mu);
              by_broker[b.substr(0, colon)]++;
            }
          }
          done++;
        },
        20000ms);
  }
  ASSERT_TRUE(testing::waitUntil([&] { return done.load() == kN; }, 90s));
  EXPECT_EQ(ok.load(), kN);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(by_broker.size(), 2u);
  for (const auto& [b, n] : by_broker) EXPECT_GT(n, kN / 4) << b;
  producer.shutdown();
  responder.shutdown();
}

}  // namespace
}  // namespace rocketrpc
