// rocketrpc-broker in-process (BrokerServer on 127.0.0.1:0, name server on the same port, temp store) with
// our Producer and PushConsumer: send/consume, long-poll wake-up latency, request-reply through the reply
// push, orderly consumption with queue locks, delayed retry, metrics, and name-server answers.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "broker/broker_context.h"
#include "broker/broker_server.h"
#include "namesrv/name_server.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/route_data.h"
#include "remoting/transport.h"
#include "rocketrpc/producer.h"
#include "rocketrpc/push_consumer.h"
#include "support/test_broker.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using testing::uniqueName;
using testing::waitUntil;

class BrokerRoundTripTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / uniqueName("broker_rt");
    broker::BrokerConfig config;
    testing::relaxDiskLimits(config);
    config.listen_port = 0;
    config.store_path_root_dir = dir_.string();
    config.broker_name = "broker-rt";
    config.message_delay_level = "1s 1s 1s 1s 1s";  // fast retries for the redelivery test
    server_ = std::make_unique<broker::BrokerServer>(config);
    ASSERT_TRUE(server_->start().isOk());
    namesrv_ = server_->address();
  }
  void TearDown() override {
    for (auto& c : consumers_) c->shutdown();
    if (producer_) producer_->shutdown();
    server_->shutdown();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Producer& producer() {
    if (!producer_) {
      ProducerOptions o;
      o.namesrv_addr = namesrv_;
      o.group = uniqueName("pg");
      producer_ = std::make_unique<Producer>(o);
      producer_->start();
    }
    return *producer_;
  }
  PushConsumerOptions consumerOptions() {
    PushConsumerOptions o;
    o.namesrv_addr = namesrv_;
    o.group = uniqueName("cg");
    o.consume_from_where = ConsumeFromWhere::kFirstOffset;
    o.rebalance_interval = 1000ms;
    o.persist_offset_interval = 200ms;
    return o;
  }
  PushConsumer& addConsumer(std::unique_ptr<PushConsumer> c) {
    consumers_.push_back(std::move(c));
    return *consumers_.back();
  }

  std::filesystem::path dir_;
  std::unique_ptr<broker::BrokerServer> server_;
  std::string namesrv_;
  std::unique_ptr<Producer> producer_;
  std::vector<std::unique_ptr<PushConsumer>> consumers_;
};

TEST_F(BrokerRoundTripTest, NameServerServesRoutesClusterInfoAndTopicMiss) {
  remoting::RemotingClient client;
  client.start();
  auto route_req = remoting::RemotingCommand::request(remoting::request_code::kGetRouteInfoByTopic);
  route_req.set("topic", "TBW102");
  auto route = client.invokeSync(namesrv_, route_req, 3s);
  ASSERT_TRUE(route.isOk());
  ASSERT_EQ(route->code, 0);
  auto parsed = remoting::parseTopicRouteData(route->body);
  ASSERT_TRUE(parsed.isOk());
  ASSERT_EQ(parsed->broker_datas.size(), 1u);
  EXPECT_EQ(parsed->broker_datas[0].masterAddr(), server_->address());
  EXPECT_EQ(parsed->queue_datas[0].write_queue_nums, 8);

  // Legacy clients (version < 401) get unquoted integer keys.
  route_req.version = 373;
  route = client.invokeSync(namesrv_, route_req, 3s);
  ASSERT_TRUE(route.isOk());
  EXPECT_NE(route->body.find("{0:\""), std::string::npos) << route->body;

  auto miss = remoting::RemotingCommand::request(remoting::request_code::kGetRouteInfoByTopic);
  miss.set("topic", "no_such_topic_here");
  auto missed = client.invokeSync(namesrv_, miss, 3s);
  ASSERT_TRUE(missed.isOk());
  EXPECT_EQ(missed->code, remoting::response_code::kTopicNotExist);

  auto info = client.invokeSync(namesrv_, remoting::RemotingCommand::request(remoting::request_code::kGetBrokerClusterInfo), 3s);
  ASSERT_TRUE(info.isOk());
  auto cluster = remoting::parseClusterInfo(info->body);
  ASSERT_TRUE(cluster.isOk());
  EXPECT_EQ(cluster->cluster_addr_table["DefaultCluster"], std::vector<std::string>{"broker-rt"});

  auto unknown = client.invokeSync(namesrv_, remoting::RemotingCommand::request(9999), 3s);
  ASSERT_TRUE(unknown.isOk());
  EXPECT_EQ(unknown->code, remoting::response_code::kRequestCodeNotSupported);
  client.shutdown();
}

TEST_F(BrokerRoundTripTest, SendThenConsumeEveryMessageWithClusterProperty) {
  const std::string topic = uniqueName("rt_topic");
  std::set<std::string> sent;
  for (int i = 0; i < 40; ++i) {
    std::string body = "m" + std::to_string(i);
    auto r = producer().send(Message(topic, "TagA", body));
    EXPECT_EQ(r.status, SendStatus::kSendOk);
    EXPECT_EQ(r.offset_msg_id.size(), 32u);
    sent.insert(body);
  }
  std::vector<Message> batch{Message(topic, "b1"), Message(topic, "b2")};
  producer().send(batch);
  sent.insert("b1");
  sent.insert("b2");

  std::mutex mu;
  std::set<std::string> got;
  std::set<std::string> clusters;
  auto c = std::make_unique<PushConsumer>(consumerOptions());
  c->subscribe(topic, "*");
  c->setMessageListener([&](const std::vector<MessageExt>& msgs) {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& m : msgs) {
      got.insert(m.body());
      clusters.insert(m.getProperty(property::kCluster));
    }
    return ConsumeStatus::kSuccess;
  });
  addConsumer(std::move(c)).start();
  ASSERT_TRUE(waitUntil([&] { std::lock_guard<std::mutex> l(mu); return got.size() == sent.size(); }, 20s));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(got, sent);
  EXPECT_EQ(clusters, std::set<std::string>{"DefaultCluster"});
}

TEST_F(BrokerRoundTripTest, HeldPullWakesOnArrivalFarBelowSuspendTime) {
  const std::string topic = uniqueName("lp_topic");
  producer().send(Message(topic, "warm-up"));
  std::atomic<int64_t> received_at{0};
  std::atomic<int> count{0};
  auto c = std::make_unique<PushConsumer>(consumerOptions());
  c->subscribe(topic, "*");
  c->setMessageListener([&](const std::vector<MessageExt>& msgs) {
    for (const auto& m : msgs) {
      if (m.body() == "wake") {
        received_at = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now().time_since_epoch()).count();
      }
      ++count;
    }
    return ConsumeStatus::kSuccess;
  });
  addConsumer(std::move(c)).start();
  ASSERT_TRUE(waitUntil([&] { return count.load() >= 1; }, 20s));
  // The topic's 4 queues (auto-created with the producer's default of 4) are parked (15 s suspend).
  ASSERT_TRUE(waitUntil([&] { return server_->context().metrics.pulls_holding.load() >= 4; }, 10s));
  std::this_thread::sleep_for(300ms);
  auto sent_at = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now().time_since_epoch()).count();
  producer().send(Message(topic, "wake"));
  ASSERT_TRUE(waitUntil([&] { return received_at.load() != 0; }, 10s));
  EXPECT_LT(received_at.load() - sent_at, 1000) << "long poll did not wake on arrival";
}

TEST_F(BrokerRoundTripTest, RequestReplyRoundTripThroughReplyPush) {
  const std::string topic = uniqueName("rr_topic");
  producer().send(Message(topic, "warm-up"));
  auto o = consumerOptions();
  auto responder = std::make_unique<PushConsumer>(o);
  responder->subscribe(topic, "*");
  responder->setReplyListener([](const MessageExt& req) { return "echo:" + req.body(); });
  addConsumer(std::move(responder)).start();
  for (int i = 0; i < 5; ++i) {
    MessageExt reply = producer().request(Message(topic, "q" + std::to_string(i)), 10s);
    EXPECT_EQ(reply.body(), "echo:q" + std::to_string(i));
  }
  // The counter moves when the push's answer arrives, just after the requester has the reply.
  EXPECT_TRUE(waitUntil([&] { return server_->context().metrics.replies_pushed.load() >= 5; }, 5s));
}

TEST_F(BrokerRoundTripTest, OrderlyConsumerLocksQueuesAndKeepsOrder) {
  const std::string topic = uniqueName("ord_topic");
  producer().send(Message(topic, "warm-up"));
  auto mqs = producer().fetchPublishMessageQueues(topic);
  ASSERT_FALSE(mqs.empty());
  const MessageQueue mq = mqs.front();
  for (int i = 0; i < 30; ++i) producer().send(Message(topic, std::to_string(i)), mq);
  std::mutex mu;
  std::vector<int> seen;
  auto c = std::make_unique<PushConsumer>(consumerOptions());
  c->subscribe(topic, "*");
  c->setMessageListener([&](const std::vector<MessageExt>& msgs) {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& m : msgs)
      if (m.queueId() == mq.queue_id && m.body() != "warm-up") seen.push_back(std::stoi(m.body()));
    return OrderlyConsumeStatus::kSuccess;
  });
  addConsumer(std::move(c)).start();
  ASSERT_TRUE(waitUntil([&] { std::lock_guard<std::mutex> l(mu); return seen.size() >= 30; }, 30s));
  std::lock_guard<std::mutex> lock(mu);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(seen[i], i);
}

TEST_F(BrokerRoundTripTest, FailedMessageIsRedeliveredThroughRetryTopic) {
  const std::string topic = uniqueName("retry_topic");
  producer().send(Message(topic, "warm-up"));
  std::atomic<int> attempts{0};
  auto c = std::make_unique<PushConsumer>(consumerOptions());
  c->subscribe(topic, "*");
  c->setMessageListener([&](const std::vector<MessageExt>& msgs) {
    for (const auto& m : msgs) {
      if (m.body() == "fail-once" && attempts.fetch_add(1) == 0) return ConsumeStatus::kReconsumeLater;
    }
    return ConsumeStatus::kSuccess;
  });
  addConsumer(std::move(c)).start();
  producer().send(Message(topic, "fail-once"));
  ASSERT_TRUE(waitUntil([&] { return attempts.load() >= 2; }, 30s));
  EXPECT_GE(server_->context().metrics.messages_retried.load(), 1);
  EXPECT_GE(server_->context().metrics.messages_delayed.load(), 1);
}

}  // namespace
}  // namespace rocketrpc
