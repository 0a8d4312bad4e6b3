// Apache RocketMQ's own admin tool (mqadmin from the 4.9.x tools jars, run by `scripts/apache-rocketmq.sh
// admin`) against the cluster under test: clusterList lists every broker the name server knows, and
// updateTopic creates a topic with the asked queue counts on every broker of the cluster, which the name
// server's route then shows and a Java client can use. Needs Java, ROCKETRPC_JAVA_PEER_JAR and the script
// (ROCKETRPC_APACHE_ROCKETMQ_SH, else found above the test binary); the cluster is ROCKETRPC_TEST_NAMESRV or
// the broker of support/test_broker.h.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "remoting/protocol/codes.h"
#include "remoting/transport.h"
#include "support/interop_tools.h"
#include "support/subprocess.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using testing::queryClusterInfo;
using testing::queryTopicRoute;
using testing::testNamesrv;
using testing::uniqueName;

// The first mqadmin call may download the RocketMQ tools jars with Maven.
constexpr auto kToolTimeout = 600s;

// The first line of `text` containing `needle`, or "".
std::string lineWith(const std::string& text, const std::string& needle) {
  size_t at = text.find(needle);
  if (at == std::string::npos) return "";
  size_t begin = text.rfind('\n', at);
  begin = begin == std::string::npos ? 0 : begin + 1;
  size_t end = text.find('\n', at);
  return text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

class MqadminInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    ROCKETRPC_REQUIRE_CLUSTER();
    script_ = testing::apacheRocketmqScript();
    ASSERT_FALSE(script_.empty())
        << "scripts/apache-rocketmq.sh not found (set ROCKETRPC_APACHE_ROCKETMQ_SH)";
    home_ = std::make_unique<testing::TempDir>("rocketrpc-mqadmin");
    auto info = queryClusterInfo(testNamesrv());
    ASSERT_TRUE(info.isOk()) << info.status().toString();
    info_ = *info;
    ASSERT_FALSE(info_.cluster_addr_table.empty()) << "the name server knows no cluster";
  }
  testing::ToolResult mqadmin(const std::vector<std::string>& args) {
    auto r = testing::runMqadmin(script_, home_->path(), testNamesrv(), args, kToolTimeout);
    if (!r) {
      ADD_FAILURE() << "mqadmin " << args.front() << " did not finish";
      return {};
    }
    return *r;
  }
  // brokerVersionDesc of the first master of `cluster` (GET_BROKER_RUNTIME_INFO), "" when unknown.
  std::string brokerVersionDesc(const std::string& cluster) {
    const std::string& name = *info_.cluster_addr_table.at(cluster).begin();
    remoting::RemotingClient client;
    client.start();
    auto r = client.invokeSync(info_.broker_addr_table.at(name).masterAddr(), remoting::RemotingCommand::request(remoting::request_code::kGetBrokerRuntimeInfo),
                               5000ms);
    client.shutdown();
    if (!r.isOk() || r->code != 0) return "";
    auto table = nlohmann::json::parse(r->body, nullptr, false);
    if (table.is_discarded() || !table.contains("table")) return "";
    return table["table"].value("brokerVersionDesc", "");
  }
  std::string script_;
  std::unique_ptr<testing::TempDir> home_;
  remoting::ClusterInfo info_;
};

TEST_F(MqadminInterop, ClusterListShowsEveryBroker) {
  auto r = mqadmin({"clusterList"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // clusterList prints one row per broker: cluster, broker name, id, address, version, TPS, ...
  for (const auto& [cluster, broker_names] : info_.cluster_addr_table) {
    EXPECT_NE(r.output.find(cluster), std::string::npos) << cluster << " missing in:\n" << r.output;
    for (const auto& name : broker_names) {
      auto bd = info_.broker_addr_table.find(name);
      ASSERT_NE(bd, info_.broker_addr_table.end()) << name;
      std::string row = lineWith(r.output, bd->second.masterAddr());
      ASSERT_FALSE(row.empty()) << bd->second.masterAddr() << " missing in:\n" << r.output;
      EXPECT_NE(row.find(cluster), std::string::npos) << row;
      EXPECT_NE(row.find(name), std::string::npos) << row;
    }
  }
}

TEST_F(MqadminInterop, UpdateTopicCreatesTopicTheRouteShows) {
  const std::string cluster = info_.cluster_addr_table.begin()->first;
  const std::set<std::string> brokers(info_.cluster_addr_table.begin()->second.begin(),
                                      info_.cluster_addr_table.begin()->second.end());
  const std::string topic = uniqueName("mqadmin_topic");
  auto r = mqadmin({"updateTopic", "-c", cluster, "-t", topic, "-r", "6", "-w", "6"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // mqadmin prints "create topic to <addr> success." per master of the cluster.
  for (const auto& name : brokers) {
    std::string addr = info_.broker_addr_table.at(name).masterAddr();
    EXPECT_NE(r.output.find("create topic to " + addr + " success"), std::string::npos) << r.output;
  }

  // The brokers register the new topic with the name server; the route must list 6+6 queues on each.
  remoting::TopicRouteData route;
  ASSERT_TRUE(testing::waitUntil(
      [&] {
        auto got = queryTopicRoute(testNamesrv(), topic);
        if (!got.isOk() || got->queue_datas.size() < brokers.size()) return false;
        route = *got;
        return true;
      },
      60s))
      << "the name server never routed " << topic;
  std::set<std::string> routed;
  for (const auto& qd : route.queue_datas) {
    routed.insert(qd.broker_name);
    EXPECT_EQ(qd.read_queue_nums, 6) << qd.broker_name;
    EXPECT_EQ(qd.write_queue_nums, 6) << qd.broker_name;
    EXPECT_EQ(qd.perm & 6, 6) << qd.broker_name;  // readable and writable
  }
  EXPECT_EQ(routed, brokers);

  // mqadmin's own view of the route agrees.
  auto tr = mqadmin({"topicRoute", "-t", topic});
  ASSERT_EQ(tr.exit_code, 0) << tr.output;
  for (const auto& name : brokers)
    EXPECT_NE(tr.output.find("\"" + name + "\""), std::string::npos) << tr.output;
  EXPECT_NE(tr.output.find("\"readQueueNums\":6"), std::string::npos) << tr.output;
  EXPECT_NE(tr.output.find("\"writeQueueNums\":6"), std::string::npos) << tr.output;

  // And the topic is usable: the Java client sends to all 6 queues of it.
  std::string jar = testing::envOr("ROCKETRPC_JAVA_PEER_JAR", "");
  ASSERT_FALSE(jar.empty()) << "ROCKETRPC_JAVA_PEER_JAR not set";
  testing::Subprocess produce({"java", "-jar", jar, "produce", "-n", testNamesrv(), "-t", topic, "--count",
                               "12", "--group", uniqueName("mqadmin_prod"), "--verbose"});
  auto rc = produce.wait(180s);
  ASSERT_TRUE(rc.has_value()) << produce.output();
  EXPECT_EQ(*rc, 0) << produce.output();
  EXPECT_NE(produce.output().find("sent=12 errors=0"), std::string::npos) << produce.output();
  std::set<std::string> queues;
  for (const auto& name : brokers) {
    for (int q = 0; q < 6; ++q) {
      if (produce.output().find(" " + name + ":" + std::to_string(q) + "\n") != std::string::npos) {
        queues.insert(name + ":" + std::to_string(q));
      }
    }
  }
  // Round-robin over the 6 queues of each broker: 12 sends touch every queue of a single broker.
  if (brokers.size() == 1) EXPECT_EQ(queues.size(), 6u) << produce.output();
}

TEST_F(MqadminInterop, DeleteTopicRemovesItFromTheBrokersAndTheRoute) {
  const std::string cluster = info_.cluster_addr_table.begin()->first;
  const std::string topic = uniqueName("mqadmin_deleted");
  auto created = mqadmin({"updateTopic", "-c", cluster, "-t", topic, "-r", "4", "-w", "4"});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  ASSERT_TRUE(testing::waitUntil([&] { return queryTopicRoute(testNamesrv(), topic).isOk(); }, 60s))
      << "the name server never routed " << topic;

  // Stored messages and a consumer's offsets go with it.
  std::string jar = testing::envOr("ROCKETRPC_JAVA_PEER_JAR", "");
  ASSERT_FALSE(jar.empty()) << "ROCKETRPC_JAVA_PEER_JAR not set";
  testing::Subprocess produce({"java", "-jar", jar, "produce", "-n", testNamesrv(), "-t", topic, "--count", "8",
                               "--group", uniqueName("mqadmin_prod")});
  auto rc = produce.wait(180s);
  ASSERT_TRUE(rc.has_value()) << produce.output();
  ASSERT_EQ(*rc, 0) << produce.output();

  auto deleted = mqadmin({"deleteTopic", "-c", cluster, "-t", topic});
  if (deleted.output.find("success") == std::string::npos && brokerVersionDesc(cluster).rfind("V5", 0) == 0) {
    // Apache RocketMQ 5.3.3 itself: with timerWheelEnable=false (as scripts/apache-rocketmq.sh runs it) its
    // DELETE_TOPIC_IN_BROKER throws a NullPointerException on the absent timer store (mqadmin prints it on
    // stderr and exits 0). Nothing of ours is involved against an Apache cluster; rocketrpc-broker and Apache
    // 4.9.x run the whole test.
    GTEST_SKIP() << "Apache 5.x broker without a timer store cannot delete topics";
  }
  ASSERT_EQ(deleted.exit_code, 0) << deleted.output;
  EXPECT_NE(deleted.output.find("success"), std::string::npos) << deleted.output;
  EXPECT_EQ(deleted.output.find("Exception"), std::string::npos) << deleted.output;

  // The name server no longer routes it, and stays so (the brokers do not register it again).
  ASSERT_TRUE(testing::waitUntil([&] { return !queryTopicRoute(testNamesrv(), topic).isOk(); }, 30s))
      << "the route of " << topic << " is still served";
  auto list = mqadmin({"topicList"});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  EXPECT_EQ(list.output.find(topic), std::string::npos) << list.output;
}

TEST_F(MqadminInterop, UpdateSubGroupIsStoredAndReadBack) {
  const std::string cluster = info_.cluster_addr_table.begin()->first;
  const std::string group = uniqueName("mqadmin_group");
  auto r = mqadmin({"updateSubGroup", "-c", cluster, "-g", group, "-r", "3", "-s", "false"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("create subscription group to"), std::string::npos) << r.output;
  // getConsumerConfig reads every broker's GET_ALL_SUBSCRIPTIONGROUP_CONFIG and prints the group's fields.
  auto c = mqadmin({"getConsumerConfig", "-g", group});
  ASSERT_EQ(c.exit_code, 0) << c.output;
  std::string retry = lineWith(c.output, "retryMaxTimes ");
  EXPECT_NE(retry.find("=  3"), std::string::npos) << c.output;
  std::string enable = lineWith(c.output, "consumeEnable ");
  EXPECT_NE(enable.find("=  false"), std::string::npos) << c.output;
}

}  // namespace
}  // namespace rocketrpc
