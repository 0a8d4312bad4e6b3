// rocketrpc-broker with autoCreateSubscriptionGroup=false (in-process, 127.0.0.1:0, temp store): pulls of a group
// nobody created are refused with SUBSCRIPTION_GROUP_NOT_EXIST, an admin-created group with consumeEnable=false
// with NO_PERMISSION; once enabled a PushConsumer of the group consumes; groups survive a restart.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "broker/broker_config.h"
#include "broker/broker_server.h"
#include "remoting/protocol/codes.h"
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

using remoting::request_code::kUpdateAndCreateSubscriptionGroup;
using remoting::request_code::kGetAllSubscriptionGroupConfig;
constexpr int32_t kPullFlagSubscription = 4;

class BrokerSubscriptionGroupTest : public testing::OwnBrokerTest {
 protected:
  BrokerSubscriptionGroupTest() : OwnBrokerTest("broker_subgroup") {}
  void configure(broker::BrokerConfig& config) override { config.auto_create_subscription_group = false; }
  int32_t pull(const std::string& group, const std::string& topic) {
    auto req = remoting::RemotingCommand::request(remoting::request_code::kPullMessage);
    req.set("consumerGroup", group);
    req.set("topic", topic);
    req.set("queueId", "0");
    req.set("queueOffset", "0");
    req.set("maxMsgNums", "32");
    req.set("sysFlag", std::to_string(kPullFlagSubscription));
    req.set("commitOffset", "0");
    req.set("suspendTimeoutMillis", "0");
    req.set("subscription", "*");
    req.set("subVersion", "0");
    auto resp = client_.invokeSync(addr_, req, 5s);
    EXPECT_TRUE(resp.isOk()) << resp.status().toString();
    return resp.isOk() ? resp->code : -1;
  }
  void upsertGroup(const std::string& group, bool consume_enable) {
    auto req = remoting::RemotingCommand::request(kUpdateAndCreateSubscriptionGroup);
    req.body = nlohmann::json{{"groupName", group}, {"consumeEnable", consume_enable}, {"retryMaxTimes", 5}}.dump();
    auto resp = client_.invokeSync(addr_, req, 5s);
    ASSERT_TRUE(resp.isOk()) << resp.status().toString();
    ASSERT_EQ(resp->code, remoting::response_code::kSuccess) << resp->remarkOrEmpty();
  }

  remoting::RemotingClient client_;
};

TEST_F(BrokerSubscriptionGroupTest, OnlyCreatedAndEnabledGroupsConsumeAndGroupsSurviveRestart) {
  const std::string topic = uniqueName("subgroup_topic");
  const std::string group = uniqueName("subgroup_cg");
  ProducerOptions po;
  po.namesrv_addr = addr_;
  po.group = uniqueName("subgroup_pg");
  Producer producer(po);
  producer.start();
  Message msg(topic, "payload");
  ASSERT_EQ(producer.send(msg).status, SendStatus::kSendOk);

  EXPECT_EQ(pull(group, topic), remoting::response_code::kSubscriptionGroupNotExist);
  upsertGroup(group, /*consume_enable=*/false);
  EXPECT_EQ(pull(group, topic), remoting::response_code::kNoPermission);
  upsertGroup(group, /*consume_enable=*/true);

  PushConsumerOptions co;
  co.namesrv_addr = addr_;
  co.group = group;
  co.consume_from_where = ConsumeFromWhere::kFirstOffset;
  co.rebalance_interval = 1000ms;
  PushConsumer consumer(co);
  std::atomic<int> received{0};
  consumer.subscribe(topic, "*");
  consumer.setMessageListener([&](const std::vector<MessageExt>& msgs) {
    received += static_cast<int>(msgs.size());
    return ConsumeStatus::kSuccess;
  });
  consumer.start();
  EXPECT_TRUE(waitUntil([&] { return received.load() >= 1; }, 30s));
  consumer.shutdown();
  producer.shutdown();

  server_->shutdown();
  startBroker();
  auto resp = client_.invokeSync(addr_, remoting::RemotingCommand::request(kGetAllSubscriptionGroupConfig), 5s);
  ASSERT_TRUE(resp.isOk()) << resp.status().toString();
  auto table = nlohmann::json::parse(resp->body)["subscriptionGroupTable"];
  ASSERT_TRUE(table.contains(group)) << resp->body;
  EXPECT_EQ(table[group]["retryMaxTimes"], 5);
  const int32_t after_restart = pull(group, topic);  // SUCCESS or PULL_NOT_FOUND: queue 0 may be empty
  EXPECT_NE(after_restart, remoting::response_code::kSubscriptionGroupNotExist);
  EXPECT_NE(after_restart, remoting::response_code::kNoPermission);
  EXPECT_NE(after_restart, -1);
  EXPECT_EQ(pull(uniqueName("never_created"), topic), remoting::response_code::kSubscriptionGroupNotExist);
}

}  // namespace
}  // namespace rocketrpc
