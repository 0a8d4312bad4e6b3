// rocketrpc-broker (in-process, 127.0.0.1:0, temp store) topic deletion as mqadmin deleteTopic drives it:
// DELETE_TOPIC_IN_BROKER (215) drops the topic's config, consume queues and consumer offsets, and the broker
// stops registering it; DELETE_TOPIC_IN_NAMESRV (216) drops the route. System topics are refused. The deletion
// survives a restart: recovery does not index the deleted messages again.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "broker/broker_config.h"
#include "broker/broker_server.h"
#include "remoting/protocol/codes.h"
#include "remoting/transport.h"
#include "rocketrpc/producer.h"
#include "support/test_broker.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using remoting::RemotingCommand;
namespace rc = remoting::request_code;
namespace resp = remoting::response_code;
using testing::uniqueName;
using testing::waitUntil;

class BrokerTopicAdminTest : public testing::OwnBrokerTest {
 protected:
  BrokerTopicAdminTest() : OwnBrokerTest("broker_topic_admin") {}
  RemotingCommand call(RemotingCommand req) {
    auto r = client_.invokeSync(addr_, std::move(req), 5s);
    EXPECT_TRUE(r.isOk()) << r.status().toString();
    return r.isOk() ? *r : RemotingCommand{};
  }
  RemotingCommand deleteInBroker(const std::string& topic) {
    auto req = RemotingCommand::request(rc::kDeleteTopicInBroker);
    req.set("topic", topic);
    return call(std::move(req));
  }
  bool brokerHasTopic(const std::string& topic) {
    auto r = call(RemotingCommand::request(rc::kGetAllTopicConfig));
    return nlohmann::json::parse(r.body)["topicConfigTable"].contains(topic);
  }
  int32_t routeCode(const std::string& topic) {
    auto req = RemotingCommand::request(rc::kGetRouteInfoByTopic);
    req.set("topic", topic);
    return call(std::move(req)).code;
  }
  // Sends `n` messages to `topic` with a producer of its own (the topic is created on first send).
  void send(const std::string& topic, int n) {
    ProducerOptions po;
    po.namesrv_addr = addr_;
    po.group = uniqueName("topic_admin_pg");
    Producer producer(po);
    producer.start();
    for (int i = 0; i < n; ++i) {
      ASSERT_EQ(producer.send(Message(topic, "m" + std::to_string(i))).status, SendStatus::kSendOk);
    }
    producer.shutdown();
  }
  int64_t maxOffset(const std::string& topic, int queue) {
    auto req = RemotingCommand::request(rc::kGetMaxOffset);
    req.set("topic", topic);
    req.set("queueId", static_cast<int64_t>(queue));
    auto r = call(std::move(req));
    return r.getInt("offset").value_or(-1);
  }

  remoting::RemotingClient client_;
};

TEST_F(BrokerTopicAdminTest, DeleteTopicRemovesConfigQueuesOffsetsAndRouteAndSurvivesRestart) {
  const std::string topic = uniqueName("deleted_topic");
  auto create = RemotingCommand::request(rc::kUpdateAndCreateTopic);
  create.set("topic", topic);
  create.set("readQueueNums", static_cast<int64_t>(2));
  create.set("writeQueueNums", static_cast<int64_t>(2));
  create.set("perm", static_cast<int64_t>(6));
  ASSERT_EQ(call(std::move(create)).code, resp::kSuccess);
  ASSERT_TRUE(waitUntil([&] { return routeCode(topic) == resp::kSuccess; }, 30s));

  ASSERT_NO_FATAL_FAILURE(send(topic, 6));
  EXPECT_EQ(maxOffset(topic, 0) + maxOffset(topic, 1), 6);
  auto commit = RemotingCommand::request(rc::kUpdateConsumerOffset);
  commit.set("consumerGroup", std::string("deleted_cg"));
  commit.set("topic", topic);
  commit.set("queueId", static_cast<int64_t>(0));
  commit.set("commitOffset", static_cast<int64_t>(2));
  ASSERT_EQ(call(std::move(commit)).code, resp::kSuccess);
  auto query_offset = [&] {
    auto query = RemotingCommand::request(rc::kQueryConsumerOffset);
    query.set("consumerGroup", std::string("deleted_cg"));
    query.set("topic", topic);
    query.set("queueId", static_cast<int64_t>(0));
    return call(std::move(query));
  };
  ASSERT_EQ(query_offset().getInt("offset"), 2);
  ASSERT_TRUE(std::filesystem::exists(dir_ / "consumequeue" / topic));

  auto deleted = deleteInBroker(topic);
  ASSERT_EQ(deleted.code, resp::kSuccess) << deleted.remarkOrEmpty();
  EXPECT_FALSE(brokerHasTopic(topic));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "consumequeue" / topic));
  EXPECT_EQ(maxOffset(topic, 0), 0);
  auto offset = query_offset();  // forgotten: "not found", or 0 for a queue starting at 0 (as Apache)
  if (offset.code == resp::kSuccess) {
    EXPECT_EQ(offset.getInt("offset"), 0);
  } else {
    EXPECT_EQ(offset.code, resp::kQueryNotFound);
  }
  // The broker registers again without the topic, so the embedded name server drops its route on its own;
  // DELETE_TOPIC_IN_NAMESRV does it at once (and for topics no broker serves).
  auto del_ns = RemotingCommand::request(rc::kDeleteTopicInNamesrv);
  del_ns.set("topic", topic);
  ASSERT_EQ(call(std::move(del_ns)).code, resp::kSuccess);
  EXPECT_EQ(routeCode(topic), resp::kTopicNotExist);

  // Deleting again, or a topic never created, succeeds (mqadmin deletes on every master).
  EXPECT_EQ(deleteInBroker(topic).code, resp::kSuccess);
  EXPECT_EQ(deleteInBroker(uniqueName("never_created")).code, resp::kSuccess);

  server_->shutdown();
  startBroker();
  EXPECT_FALSE(brokerHasTopic(topic));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "consumequeue" / topic)) << "recovery indexed the deleted topic";
  EXPECT_EQ(routeCode(topic), resp::kTopicNotExist);
}

TEST_F(BrokerTopicAdminTest, SystemAndBlankTopicsAreNotDeleted) {
  for (const std::string& topic : {std::string("TBW102"), std::string("SCHEDULE_TOPIC_XXXX"), config_.broker_cluster_name,
                                   config_.broker_cluster_name + "_REPLY_TOPIC", std::string("rmq_sys_anything")}) {
    auto r = deleteInBroker(topic);
    EXPECT_EQ(r.code, resp::kSystemError) << topic;
    EXPECT_NE(r.remarkOrEmpty().find("conflict with system topic"), std::string::npos) << r.remarkOrEmpty();
  }
  EXPECT_TRUE(brokerHasTopic("TBW102"));
  EXPECT_TRUE(brokerHasTopic(config_.broker_cluster_name + "_REPLY_TOPIC"));
  auto blank = deleteInBroker("");
  EXPECT_EQ(blank.code, resp::kSystemError);
  EXPECT_NE(blank.remarkOrEmpty().find("blank"), std::string::npos) << blank.remarkOrEmpty();
  auto del_ns = RemotingCommand::request(rc::kDeleteTopicInNamesrv);
  EXPECT_EQ(call(std::move(del_ns)).code, resp::kSystemError) << "216 without a topic";
}

// GET_BROKER_RUNTIME_INFO (28), what mqadmin clusterList prints: rates from one sample per second, totals,
// boot time, oldest message, disk ratio.
TEST_F(BrokerTopicAdminTest, RuntimeInfoReportsRatesTotalsAndTimes) {
  const int64_t before_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string topic = uniqueName("runtime_topic");
  ASSERT_NO_FATAL_FAILURE(send(topic, 20));

  auto info = [&] {
    auto r = call(RemotingCommand::request(remoting::request_code::kGetBrokerRuntimeInfo));
    EXPECT_EQ(r.code, resp::kSuccess);
    return nlohmann::json::parse(r.body)["table"];
  };
  auto rate_sum = [](const std::string& rates) {
    double a = 0, b = 0, c = 0;
    EXPECT_EQ(std::sscanf(rates.c_str(), "%lf %lf %lf", &a, &b, &c), 3) << rates;
    return a + b + c;
  };
  // The 10-minute window always holds the sends once a sample after them is taken (one per second).
  nlohmann::json table;
  ASSERT_TRUE(waitUntil(
      [&] {
        table = info();
        return rate_sum(table["putTps"].get<std::string>()) > 0;
      },
      30s))
      << table.dump();
  EXPECT_GE(std::stoll(table["msgPutTotalTodayNow"].get<std::string>()), 20);
  EXPECT_EQ(table["msgPutTotalTodayMorning"], "0");
  EXPECT_EQ(rate_sum(table["getTransferedTps"].get<std::string>()), 0) << "nothing was consumed";
  const int64_t boot = std::stoll(table["bootTimestamp"].get<std::string>());
  const int64_t earliest = std::stoll(table["earliestMessageTimeStamp"].get<std::string>());
  EXPECT_LE(boot, before_ms + 1000);
  EXPECT_GT(boot, before_ms - 600'000);
  EXPECT_GE(earliest, boot);
  const double disk = std::stod(table["commitLogDiskRatio"].get<std::string>());
  EXPECT_GT(disk, 0.0);
  EXPECT_LE(disk, 1.0);
}

}  // namespace
}  // namespace rocketrpc
