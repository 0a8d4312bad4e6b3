// Producer sends against a real name server + broker (ROCKETRPC_TEST_NAMESRV).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "rocketrpc/producer.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;

class ProducerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ROCKETRPC_REQUIRE_CLUSTER();
    ProducerOptions o;
    o.namesrv_addr = testing::testNamesrv();
    o.group = testing::uniqueName("producer_test");
    producer_ = std::make_unique<Producer>(o);
    producer_->start();
    topic_ = testing::uniqueName("ptopic");
  }
  std::unique_ptr<Producer> producer_;
  std::string topic_;
};

TEST_F(ProducerTest, SyncSendReturnsIdsQueueAndOffset) {
  SendResult first = producer_->send(Message(topic_, "TagA", "one"));
  EXPECT_EQ(first.status, SendStatus::kSendOk);
  EXPECT_EQ(first.msg_id.size(), 32u);
  EXPECT_EQ(first.offset_msg_id.size(), 32u);
  EXPECT_EQ(first.message_queue.topic, topic_);
  EXPECT_FALSE(first.message_queue.broker_name.empty());
  auto mq = first.message_queue;
  SendResult a = producer_->send(Message(topic_, "x"), mq);
  SendResult b = producer_->send(Message(topic_, "y"), mq);
  EXPECT_EQ(b.queue_offset, a.queue_offset + 1);
  EXPECT_NE(a.msg_id, b.msg_id);
}

TEST_F(ProducerTest, AsyncSendCallsBackOnce) {
  producer_->send(Message(topic_, "create"));
  std::atomic<int> ok{0}, calls{0};
  for (int i = 0; i < 200; ++i) {
    producer_->send(Message(topic_, "m" + std::to_string(i)), [&](Outcome<SendResult> r) {
      if (r.ok()) ok++;
      calls++;
    });
  }
  ASSERT_TRUE(testing::waitUntil([&] { return calls.load() == 200; }, 30s));
  EXPECT_EQ(ok.load(), 200);
}

TEST_F(ProducerTest, SelectorAndOnewayAndBatch) {
  producer_->send(Message(topic_, "create"));
  auto queues = producer_->fetchPublishMessageQueues(topic_);
  ASSERT_FALSE(queues.empty());
  FunctionSelector last([](const std::vector<MessageQueue>& qs, const Message&, const std::any&) { return qs.back(); });
  SendResult r = producer_->send(Message(topic_, "sel"), last, std::any());
  EXPECT_EQ(r.message_queue, queues.back());
  EXPECT_NO_THROW(producer_->sendOneway(Message(topic_, "oneway")));
  std::vector<Message> batch;
  for (int i = 0; i < 10; ++i) batch.emplace_back(topic_, "batch-" + std::to_string(i));
  SendResult br = producer_->send(batch, queues.front());
  EXPECT_EQ(br.status, SendStatus::kSendOk);
  EXPECT_EQ(std::count(br.msg_id.begin(), br.msg_id.end(), ','), 9);
  SendResult after = producer_->send(Message(topic_, "after"), queues.front());
  EXPECT_EQ(after.queue_offset, br.queue_offset + 10);
}

// A request's reply-to property is the client id ("<ip>@<instance_name>"): a separator byte in it would split the
// property on the wire and the reply could never come back. Refused at once, as in the message's own properties.
TEST_F(ProducerTest, ARequestWhoseClientIdHasAPropertySeparatorIsRefusedBeforeSending) {
  ProducerOptions o;
  o.namesrv_addr = testing::testNamesrv();
  o.group = testing::uniqueName("producer_test");
  o.instance_name = "split\x02here";
  Producer producer(o);
  producer.start();
  try {
    producer.request(Message(topic_, "x"), 60s);
    FAIL() << "sent";
  } catch (const MQException& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
    EXPECT_NE(std::string(e.what()).find("contains a \\x01 or \\x02 byte"), std::string::npos) << e.what();
  }
}

TEST_F(ProducerTest, InvalidArgumentsAreRejectedBeforeSending) {
  try {
    producer_->send(Message("bad topic!", "x"));
    FAIL();
  } catch (const MQException& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  }
  try {  // empty bodies are refused, as by the Java client (Apache RocketMQ 5.x brokers fail on them)
    producer_->send(Message(topic_, ""));
    FAIL();
  } catch (const MQException& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("body is empty"), std::string::npos) << e.what();
  }
  std::string big(5 * 1024 * 1024, 'x');
  try {
    producer_->send(Message(topic_, big));
    FAIL();
  } catch (const MQException& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  }
  ProducerOptions bad;
  bad.namesrv_addr = testing::testNamesrv();
  bad.group = "has space";
  EXPECT_THROW(Producer{bad}, MQException);
  ProducerOptions not_started;
  not_started.namesrv_addr = testing::testNamesrv();
  not_started.group = "g";
  Producer idle(not_started);
  try {
    idle.send(Message(topic_, "x"));
    FAIL();
  } catch (const MQException& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotStarted);
  }
}

}  // namespace
}  // namespace rocketrpc
