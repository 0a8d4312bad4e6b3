// Plain messaging between the Apache Java client 4.9.8 (java-peer/) and rocketrpc through the broker under
// test: a Java DefaultMQProducer's messages (keys, tags, user properties) reach a rocketrpc PushConsumer, a
// rocketrpc Producer's messages reach a Java concurrent push consumer, and a Java orderly push consumer
// (MessageListenerOrderly) sees every queue in order. Request-reply in both directions is in
// interop_java_test.cc and rpc_java_interop_test.cc. Needs Java and ROCKETRPC_JAVA_PEER_JAR; the cluster is
// ROCKETRPC_TEST_NAMESRV or the broker of support/test_broker.h.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "rocketrpc/producer.h"
#include "rocketrpc/push_consumer.h"
#include "support/admin.h"
#include "support/subprocess.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using testing::Subprocess;
using testing::testNamesrv;
using testing::uniqueName;

const char* kNonAscii = "h\xC3\xA9llo w\xC3\xB6rld \xE2\x9C\x93";  // "héllo wörld ✓"

// One message as `java-peer consume --meta` prints it: MSG <body>, PROP X-..=.. lines, META ... line.
struct JavaReceived {
  std::string body;
  std::map<std::string, std::string> props;
  std::string queue;  // <brokerName>:<queueId>
  int64_t offset = -1;
  std::string tags;
  std::string keys;
};

std::vector<JavaReceived> parseConsumeOutput(const std::string& out) {
  std::vector<JavaReceived> msgs;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MSG ", 0) == 0) {
      msgs.push_back(JavaReceived{line.substr(4)});
    } else if (line.rfind("PROP ", 0) == 0 && !msgs.empty()) {
      auto eq = line.find('=');
      if (eq != std::string::npos) msgs.back().props[line.substr(5, eq - 5)] = line.substr(eq + 1);
    } else if (line.rfind("META ", 0) == 0 && !msgs.empty()) {
      std::istringstream fields(line.substr(5));
      std::string f;
      while (fields >> f) {
        auto eq = f.find('=');
        if (eq == std::string::npos) continue;
        std::string k = f.substr(0, eq), v = f.substr(eq + 1);
        if (k == "queue") msgs.back().queue = v;
        if (k == "offset") msgs.back().offset = std::stoll(v);
        if (k == "tags") msgs.back().tags = v;
        if (k == "keys") msgs.back().keys = v;
      }
    }
  }
  return msgs;
}

class JavaMessagingInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    ROCKETRPC_REQUIRE_CLUSTER();
    jar_ = testing::envOr("ROCKETRPC_JAVA_PEER_JAR", "");
    ASSERT_FALSE(jar_.empty()) << "ROCKETRPC_JAVA_PEER_JAR not set";
    topic_ = uniqueName("java_msg");
    auto created = testing::createTopicOnAllBrokers(testNamesrv(), topic_, 4);
    ASSERT_TRUE(created.isOk()) << created.status().toString();
  }
  Subprocess java(std::vector<std::string> args) {
    std::vector<std::string> argv{"java", "-jar", jar_};
    argv.insert(argv.end(), args.begin(), args.end());
    return Subprocess(std::move(argv));
  }
  std::unique_ptr<Producer> startProducer() {
    ProducerOptions o;
    o.namesrv_addr = testNamesrv();
    o.group = uniqueName("java_msg_prod");
    auto p = std::make_unique<Producer>(o);
    p->start();
    return p;
  }
  std::string jar_, topic_;
};

TEST_F(JavaMessagingInterop, JavaProducerReachesRocketrpcPushConsumer) {
  constexpr int kCount = 40;
  std::mutex mu;
  std::map<std::string, MessageExt> got;  // body -> message
  int calls_with_wrong_tag = 0;
  PushConsumerOptions co;
  co.namesrv_addr = testNamesrv();
  co.group = uniqueName("java_msg_cpp_cons");
  co.consume_from_where = ConsumeFromWhere::kFirstOffset;
  PushConsumer consumer(co);
  consumer.subscribe(topic_, "TagA");
  consumer.setMessageListener([&](const std::vector<MessageExt>& msgs) {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& m : msgs) {
      if (m.tags() != "TagA") ++calls_with_wrong_tag;
      got.emplace(m.body(), m);
    }
    return ConsumeStatus::kSuccess;
  });
  consumer.start();

  // Messages of another tag first: the subscription must filter them out.
  auto other = java({"produce", "-n", testNamesrv(), "-t", topic_, "--count", "5", "--tag", "TagB", "--body",
                     "filtered-out", "--group", uniqueName("java_prod_b")});
  auto rc = other.wait(180s);
  ASSERT_TRUE(rc.has_value()) << other.output();
  ASSERT_EQ(*rc, 0) << other.output();
  auto producer = java({"produce", "-n", testNamesrv(), "-t", topic_, "--count", std::to_string(kCount),
                        "--tag", "TagA", "--key", "jkey-{i}", "--prop", std::string("X-Name=") + kNonAscii,
                        "--prop", "X-Origin=java", "--group", uniqueName("java_prod_a")});
  rc = producer.wait(180s);
  ASSERT_TRUE(rc.has_value()) << producer.output();
  ASSERT_EQ(*rc, 0) << producer.output();
  EXPECT_NE(producer.output().find("sent=" + std::to_string(kCount) + " errors=0"), std::string::npos)
      << producer.output();

  bool all = testing::waitUntil(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return got.size() >= static_cast<size_t>(kCount);
      },
      120s);
  consumer.shutdown();
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_TRUE(all) << "received " << got.size() << " of " << kCount;
  EXPECT_EQ(calls_with_wrong_tag, 0);
  EXPECT_EQ(got.count("filtered-out"), 0u);
  for (int i = 1; i <= kCount; ++i) {
    auto it = got.find("message-" + std::to_string(i));
    ASSERT_NE(it, got.end()) << "message-" << i << " missing";
    const MessageExt& m = it->second;
    EXPECT_EQ(m.topic(), topic_);
    EXPECT_EQ(m.tags(), "TagA");
    EXPECT_EQ(m.keys(), "jkey-" + std::to_string(i));
    EXPECT_EQ(m.getProperty("X-Name"), kNonAscii);
    EXPECT_EQ(m.getProperty("X-Origin"), "java");
    EXPECT_FALSE(m.msgId().empty());
  }
}

TEST_F(JavaMessagingInterop, RocketrpcProducerReachesJavaConcurrentConsumer) {
  constexpr int kCount = 40;
  auto producer = startProducer();
  for (int i = 1; i <= kCount; ++i) {
    Message m(topic_, "TagC", "cpp-" + std::to_string(i));
    m.setKeys("ckey-" + std::to_string(i));
    m.putProperty("X-Name", kNonAscii);
    m.putProperty("X-Index", std::to_string(i));
    producer->send(m);
  }
  producer->shutdown();

  auto consumer =
      java({"consume", "-n", testNamesrv(), "-t", topic_, "-g", uniqueName("java_cons"), "--count",
            std::to_string(kCount), "--tag", "TagC", "--meta", "--timeout-ms", "120000"});
  auto rc = consumer.wait(180s);
  ASSERT_TRUE(rc.has_value()) << "java consumer hung: " << consumer.output();
  EXPECT_EQ(*rc, 0) << consumer.output();
  EXPECT_NE(consumer.output().find("received=" + std::to_string(kCount)), std::string::npos)
      << consumer.output();
  std::map<std::string, JavaReceived> by_body;
  for (auto& m : parseConsumeOutput(consumer.output())) by_body[m.body] = m;
  ASSERT_EQ(by_body.size(), static_cast<size_t>(kCount)) << consumer.output();
  for (int i = 1; i <= kCount; ++i) {
    auto it = by_body.find("cpp-" + std::to_string(i));
    ASSERT_NE(it, by_body.end()) << "cpp-" << i << " missing: " << consumer.output();
    EXPECT_EQ(it->second.props["X-Name"], kNonAscii);
    EXPECT_EQ(it->second.props["X-Index"], std::to_string(i));
    EXPECT_EQ(it->second.tags, "TagC");
    EXPECT_EQ(it->second.keys, "ckey-" + std::to_string(i));
  }
}

TEST_F(JavaMessagingInterop, JavaOrderlyConsumerSeesEveryQueueInOrder) {
  // 6 orders of 20 steps, interleaved; each order goes to one queue (hash of the order id), as ordered
  // messages are sent with the Java client's MessageQueueSelector.
  constexpr int kOrders = 6, kSteps = 20;
  auto producer = startProducer();
  SelectMessageQueueByHash by_order;
  std::map<std::string, std::string> queue_of_order;  // "order-k" -> "<broker>:<queueId>"
  for (int step = 0; step < kSteps; ++step) {
    for (int k = 0; k < kOrders; ++k) {
      std::string order = "order-" + std::to_string(k);
      Message m(topic_, "TagO", order + ":" + std::to_string(step));
      m.setKeys(order);
      SendResult r = producer->send(m, by_order, std::any(order));
      std::string q = r.message_queue.broker_name + ":" + std::to_string(r.message_queue.queue_id);
      auto [it, inserted] = queue_of_order.emplace(order, q);
      ASSERT_EQ(it->second, q) << order << " changed queue";
    }
  }
  producer->shutdown();

  // Everything is stored before the consumer starts, so its four threads have whole batches of every queue to
  // race on; only the orderly listener's per-queue lock keeps each queue in order.
  auto consumer =
      java({"consume", "-n", testNamesrv(), "-t", topic_, "-g", uniqueName("java_orderly"), "--count",
            std::to_string(kOrders * kSteps), "--orderly", "--meta", "--timeout-ms", "120000"});
  auto rc = consumer.wait(180s);
  ASSERT_TRUE(rc.has_value()) << "java consumer hung: " << consumer.output();
  EXPECT_EQ(*rc, 0) << consumer.output();
  auto msgs = parseConsumeOutput(consumer.output());
  ASSERT_EQ(msgs.size(), static_cast<size_t>(kOrders * kSteps)) << consumer.output();
  std::map<std::string, int64_t> last_offset;  // queue -> offset of the last message seen
  std::map<std::string, int> next_step;        // order -> step expected next
  for (const auto& m : msgs) {
    auto colon = m.body.find(':');
    ASSERT_NE(colon, std::string::npos) << m.body;
    std::string order = m.body.substr(0, colon);
    int step = std::stoi(m.body.substr(colon + 1));
    EXPECT_EQ(step, next_step[order]) << order << " out of order in:\n" << consumer.output();
    next_step[order] = step + 1;
    EXPECT_EQ(m.queue, queue_of_order[order]) << m.body;
    EXPECT_EQ(m.keys, order);
    auto last = last_offset.find(m.queue);
    if (last != last_offset.end()) EXPECT_GT(m.offset, last->second) << m.queue << " went backwards";
    last_offset[m.queue] = m.offset;
  }
  for (int k = 0; k < kOrders; ++k) EXPECT_EQ(next_step["order-" + std::to_string(k)], kSteps) << k;
}

}  // namespace
}  // namespace rocketrpc
