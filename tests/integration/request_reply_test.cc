// Request-reply (RIP-16) against a real name server + broker (ROCKETRPC_TEST_NAMESRV): our Producer asks, our
// PushConsumer answers through the broker's reply push.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "rocketrpc/producer.h"
#include "rocketrpc/push_consumer.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using testing::testNamesrv;
using testing::uniqueName;
using testing::waitUntil;

ProducerOptions producerOptions() {
  ProducerOptions o;
  o.namesrv_addr = testNamesrv();
  o.group = uniqueName("rr_producer");
  return o;
}

// A responder group on `topic` whose reply listener is `fn`.
std::unique_ptr<PushConsumer> startResponder(const std::string& topic, ReplyListener fn) {
  PushConsumerOptions o;
  o.namesrv_addr = testNamesrv();
  o.group = uniqueName("rr_responder");
  o.consume_from_where = ConsumeFromWhere::kFirstOffset;
  auto c = std::make_unique<PushConsumer>(o);
  c->subscribe(topic, "*");
  c->setReplyListener(std::move(fn));
  c->start();
  return c;
}

class RequestReplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ROCKETRPC_REQUIRE_CLUSTER();
    topic_ = uniqueName("rr_topic");
    producer_ = std::make_unique<Producer>(producerOptions());
    producer_->start();
    // Create the topic (auto-created from TBW102 on first send) so the responder has queues to pull.
    producer_->send(Message(topic_, "warm-up"));
  }
  void TearDown() override {
    if (responder_) responder_->shutdown();
    if (producer_) producer_->shutdown();
  }
  void startEcho() {
    responder_ = startResponder(topic_, [](const MessageExt& req) { return req.body(); });
  }
  // Waits until a request goes through (the responder has rebalanced and is pulling).
  void waitResponderReady() {
    bool ok = waitUntil(
        [&] {
          try {
            Message m(topic_, "ping");
            producer_->request(m, 2000ms);
            return true;
          } catch (const MQException&) {
            return false;
          }
        },
        60s);
    ASSERT_TRUE(ok) << "responder never answered";
  }

  std::string topic_;
  std::unique_ptr<Producer> producer_;
  std::unique_ptr<PushConsumer> responder_;
};

TEST_F(RequestReplyTest, SyncRequestGetsEchoReply) {
  startEcho();
  waitResponderReady();
  Message m(topic_, "hello world");
  m.putProperty("X-Trace", "t-1");
  MessageExt reply = producer_->request(m, 5000ms);
  EXPECT_EQ(reply.body(), "hello world");
  EXPECT_FALSE(reply.getProperty(property::kCorrelationId).empty());
  EXPECT_EQ(reply.getProperty(property::kMessageType), "reply");
  EXPECT_FALSE(reply.getProperty(property::kArriveTime).empty());
}

TEST_F(RequestReplyTest, AllSixFormsComplete) {
  startEcho();
  waitResponderReady();
  auto queues = producer_->fetchPublishMessageQueues(topic_);
  ASSERT_GE(queues.size(), 2u);
  SelectMessageQueueByHash by_hash;
  std::any key = std::string("order-42");

  EXPECT_EQ(producer_->request(Message(topic_, "f1"), 5000ms).body(), "f1");
  EXPECT_EQ(producer_->request(Message(topic_, "f3"), by_hash, key, 5000ms).body(), "f3");
  EXPECT_EQ(producer_->request(Message(topic_, "f5"), queues.back(), 5000ms).body(), "f5");

  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, int> calls;
  std::map<std::string, std::string> bodies;
  auto cb = [&](const std::string& name) {
    return [&, name](Outcome<MessageExt> o) {
      std::lock_guard<std::mutex> lock(mu);
      calls[name]++;
      bodies[name] = o.ok() ? o.value().body() : "error: " + o.errorMessage();
      cv.notify_all();
    };
  };
  producer_->request(Message(topic_, "f2"), cb("f2"), 5000ms);
  producer_->request(Message(topic_, "f4"), by_hash, key, cb("f4"), 5000ms);
  producer_->request(Message(topic_, "f6"), queues.front(), cb("f6"), 5000ms);
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, 20s, [&] { return calls.size() == 3; }));
  lock.unlock();
  std::this_thread::sleep_for(200ms);  // a second (wrong) invocation would land here
  lock.lock();
  for (const char* f : {"f2", "f4", "f6"}) {
    EXPECT_EQ(calls[f], 1) << f;
    EXPECT_EQ(bodies[f], f);
  }
  auto fut = producer_->requestAsync(Message(topic_, "future"), 5000ms);
  lock.unlock();
  EXPECT_EQ(fut.get().body(), "future");
}

TEST_F(RequestReplyTest, ThousandAsyncRequestsCompleteExactlyOnce) {
  startEcho();
  waitResponderReady();
  constexpr int kN = 1000;
  std::vector<std::atomic<int>> calls(kN);
  std::atomic<int> ok{0};
  std::atomic<int> done{0};
  for (int i = 0; i < kN; ++i) {
    std::string body = "req-" + std::to_string(i);
    producer_->request(
        Message(topic_, body),
        [&, i, body](Outcome<MessageExt> o) {
          calls[i].fetch_add(1);
          if (o.ok() && o.value().body() == body) ok.fetch_add(1);
          done.fetch_add(1);
        },
        30000ms);
  }
  ASSERT_TRUE(waitUntil([&] { return done.load() >= kN; }, 60s)) << "done=" << done.load();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(ok.load(), kN);
  for (int i = 0; i < kN; ++i) EXPECT_EQ(calls[i].load(), 1) << i;
  EXPECT_EQ(producer_->pendingRequests(), 0u);
}

TEST_F(RequestReplyTest, UnansweredRequestTimesOutNearItsDeadline) {
  // No responder on this topic.
  auto start = std::chrono::steady_clock::now();
  try {
    producer_->request(Message(topic_, "nobody home"), 700ms);
    FAIL() << "expected a timeout";
  } catch (const RequestTimeoutException& e) {
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_GE(elapsed, 700ms);
    EXPECT_LT(elapsed, 700ms + 900ms) << "timeout fired late: a scan, not a timer?";
    EXPECT_EQ(e.code(), ErrorCode::kRequestTimeout);
    EXPECT_NE(std::string(e.what()).find("OK, but wait reply message timeout"), std::string::npos) << e.what();
  }
  EXPECT_EQ(producer_->pendingRequests(), 0u);
}

TEST_F(RequestReplyTest, AsyncTimeoutIsReportedOnce) {
  std::atomic<int> calls{0};
  std::atomic<int> code{0};
  producer_->request(
      Message(topic_, "nobody"),
      [&](Outcome<MessageExt> o) {
        code = static_cast<int>(o.errorCode());
        calls++;
      },
      300ms);
  ASSERT_TRUE(waitUntil([&] { return calls.load() > 0; }, 10s));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(code.load(), static_cast<int>(ErrorCode::kRequestTimeout));
}

TEST_F(RequestReplyTest, UnsendableRequestIsASendErrorNotATimeout) {
  ProducerOptions o = producerOptions();
  o.namesrv_addr = "127.0.0.1:1";  // nothing listens there
  o.api_timeout = 1000ms;
  Producer p(o);
  p.start();
  try {
    p.request(Message(topic_, "x"), 5000ms);
    FAIL() << "expected an error";
  } catch (const RequestTimeoutException& e) {
    FAIL() << "reported as a timeout: " << e.what();
  } catch (const MQException& e) {
    EXPECT_TRUE(e.code() == ErrorCode::kSendFailed || e.code() == ErrorCode::kNoRoute) << errorCodeName(e.code());
  }
  std::atomic<int> code{-1};
  p.request(Message(topic_, "y"), [&](Outcome<MessageExt> out) { code = static_cast<int>(out.errorCode()); }, 5000ms);
  ASSERT_TRUE(waitUntil([&] { return code.load() >= 0; }, 10s));
  EXPECT_NE(code.load(), static_cast<int>(ErrorCode::kRequestTimeout));
}

TEST_F(RequestReplyTest, LargeCompressedBodiesRoundTrip) {
  startEcho();
  waitResponderReady();
  std::string body;
  for (int i = 0; body.size() < 64 * 1024; ++i) body += "line " + std::to_string(i) + " of a compressible body\n";
  MessageExt reply = producer_->request(Message(topic_, body), 10000ms);
  EXPECT_EQ(reply.body(), body);
  std::string binary(5000, '\0');
  for (size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>(i * 7919 % 251);
  EXPECT_EQ(producer_->request(Message(topic_, binary), 10000ms).body(), binary);
}

TEST_F(RequestReplyTest, HandlerExceptionBecomesReplyError) {
  responder_ = startResponder(topic_, [](const MessageExt& req) -> std::string {
    if (req.body() == "ping") return "pong";
    throw std::runtime_error("cannot handle " + req.body());
  });
  waitResponderReady();
  try {
    producer_->request(Message(topic_, "bad input"), 5000ms);
    FAIL() << "expected ReplyErrorException";
  } catch (const ReplyErrorException& e) {
    EXPECT_NE(std::string(e.what()).find("cannot handle bad input"), std::string::npos) << e.what();
  }
}

TEST_F(RequestReplyTest, ManualReplyFromMessageListener) {
  PushConsumerOptions o;
  o.namesrv_addr = testNamesrv();
  o.group = uniqueName("manual");
  o.consume_from_where = ConsumeFromWhere::kFirstOffset;
  auto consumer = std::make_unique<PushConsumer>(o);
  consumer->subscribe(topic_, "*");
  PushConsumer* raw = consumer.get();
  consumer->setMessageListener([raw](const std::vector<MessageExt>& msgs) {
    for (const auto& m : msgs) {
      if (m.getProperty(property::kReplyToClient).empty()) continue;
      raw->sendReply(createReplyMessage(m, "manual:" + m.body()));
    }
    return ConsumeStatus::kSuccess;
  });
  consumer->start();
  responder_ = std::move(consumer);
  MessageExt reply;
  ASSERT_TRUE(waitUntil(
      [&] {
        try {
          reply = producer_->request(Message(topic_, "abc"), 2000ms);
          return true;
        } catch (const MQException&) {
          return false;
        }
      },
      60s));
  EXPECT_EQ(reply.body(), "manual:abc");
}

TEST_F(RequestReplyTest, ShutdownFailsPendingRequestsWithClosed) {
  std::atomic<int> closed{0};
  std::atomic<int> calls{0};
  for (int i = 0; i < 50; ++i) {
    producer_->request(
        Message(topic_, "never answered"),
        [&](Outcome<MessageExt> o) {
          if (!o.ok() && o.errorCode() == ErrorCode::kClosed) closed++;
          calls++;
        },
        60000ms);
  }
  producer_->shutdown();
  ASSERT_TRUE(waitUntil([&] { return calls.load() == 50; }, 10s));
  EXPECT_EQ(closed.load(), 50);
  producer_->shutdown();  // idempotent
  EXPECT_THROW(producer_->request(Message(topic_, "late"), 1000ms), MQException);
}

TEST(ReplyMessageTest, CreateReplyMessageCopiesCorrelationProperties) {
  MessageExt req;
  req.setTopic("T");
  req.putProperty(property::kCluster, "DefaultCluster");
  req.putProperty(property::kCorrelationId, "c-1");
  req.putProperty(property::kReplyToClient, "127.0.0.1@x");
  req.putProperty(property::kTtl, "3000");
  req.putProperty("OTHER", "v");
  Message reply = createReplyMessage(req, "body");
  EXPECT_EQ(reply.topic(), "DefaultCluster_REPLY_TOPIC");
  EXPECT_EQ(reply.getProperty(property::kMessageType), "reply");
  EXPECT_EQ(reply.getProperty(property::kCorrelationId), "c-1");
  EXPECT_EQ(reply.getProperty(property::kReplyToClient), "127.0.0.1@x");
  EXPECT_EQ(reply.getProperty(property::kTtl), "3000");
  EXPECT_FALSE(reply.hasProperty("OTHER"));
  MessageExt no_cluster;
  no_cluster.putProperty(property::kReplyToClient, "x");
  EXPECT_THROW(createReplyMessage(no_cluster, "b"), MQException);
}

}  // namespace
}  // namespace rocketrpc
