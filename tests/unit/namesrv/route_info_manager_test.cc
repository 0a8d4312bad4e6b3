#include "namesrv/route_info_manager.h"

#include <gtest/gtest.h>

#include "namesrv/processors/processors.h"
#include "namesrv/topic_config.h"

namespace rocketrpc::namesrv {
namespace {

RegisterBrokerRequest request(const std::string& name, const std::string& addr, std::vector<std::string> topics,
                              int64_t counter) {
  RegisterBrokerRequest r;
  r.cluster_name = "C";
  r.broker_name = name;
  r.broker_addr = addr;
  r.topics.data_version.counter = counter;
  for (const auto& t : topics) {
    TopicConfig c;
    c.topic_name = t;
    c.read_queue_nums = c.write_queue_nums = 4;
    r.topics.topic_config_table[t] = c;
  }
  return r;
}

TEST(RouteInfoManagerTest, RegisteredTopicIsRoutedToItsBroker) {
  RouteInfoManager m;
  m.registerBroker(request("b1", "1.1.1.1:10911", {"T", "TBW102"}, 1), 1000);
  auto route = m.pickupTopicRouteData("T");
  ASSERT_TRUE(route);
  ASSERT_EQ(route->broker_datas.size(), 1u);
  EXPECT_EQ(route->broker_datas[0].masterAddr(), "1.1.1.1:10911");
  EXPECT_EQ(route->queue_datas[0].write_queue_nums, 4);
  EXPECT_FALSE(m.pickupTopicRouteData("missing"));
  EXPECT_EQ(m.clusterInfo().cluster_addr_table.at("C"), std::vector<std::string>{"b1"});
}

TEST(RouteInfoManagerTest, ChangedDataVersionDropsRemovedTopics) {
  RouteInfoManager m;
  m.registerBroker(request("b1", "a:1", {"T", "U"}, 1), 1000);
  m.registerBroker(request("b1", "a:1", {"T"}, 2), 2000);
  EXPECT_TRUE(m.pickupTopicRouteData("T"));
  EXPECT_FALSE(m.pickupTopicRouteData("U"));
  // Same version: the table is not re-read.
  m.registerBroker(request("b1", "a:1", {"T", "V"}, 2), 3000);
  EXPECT_TRUE(m.pickupTopicRouteData("V"));  // new topic without queue data for the broker is added
}

TEST(RouteInfoManagerTest, DeleteTopicForgetsItEverywhereOrInOneCluster) {
  RouteInfoManager m;
  m.registerBroker(request("b1", "a:1", {"T", "U"}, 1), 1000);
  RegisterBrokerRequest other = request("b2", "b:1", {"T", "U"}, 1);
  other.cluster_name = "D";
  m.registerBroker(other, 1000);

  EXPECT_TRUE(m.deleteTopic("T"));
  EXPECT_FALSE(m.pickupTopicRouteData("T"));
  EXPECT_FALSE(m.deleteTopic("T"));
  EXPECT_FALSE(m.deleteTopic("never"));

  // 5.x: only the named cluster's brokers lose the topic.
  EXPECT_TRUE(m.deleteTopic("U", "D"));
  auto route = m.pickupTopicRouteData("U");
  ASSERT_TRUE(route);
  ASSERT_EQ(route->queue_datas.size(), 1u);
  EXPECT_EQ(route->queue_datas[0].broker_name, "b1");
  EXPECT_TRUE(m.deleteTopic("U", "C"));
  EXPECT_FALSE(m.pickupTopicRouteData("U"));
  EXPECT_EQ(m.allTopics(), std::vector<std::string>{});
}

TEST(RouteInfoManagerTest, SilentBrokerExpiresWithItsQueues) {
  RouteInfoManager m;
  m.registerBroker(request("b1", "a:1", {"T"}, 1), 1000);
  m.registerBroker(request("b2", "b:1", {"T"}, 1), 100000);
  auto expired = m.scanNotActiveBroker(121001 + 1000, 120000);
  EXPECT_EQ(expired, std::vector<std::string>{"a:1"});
  auto route = m.pickupTopicRouteData("T");
  ASSERT_TRUE(route);
  ASSERT_EQ(route->broker_datas.size(), 1u);
  EXPECT_EQ(route->broker_datas[0].broker_name, "b2");
}

TEST(RouteInfoManagerTest, ClosedChannelAndUnregisterRemoveBroker) {
  RouteInfoManager m;
  auto r = request("b1", "a:1", {"T"}, 1);
  r.channel = "9.9.9.9:5555";
  m.registerBroker(r, 1000);
  m.onChannelClosed("9.9.9.9:5555");
  EXPECT_FALSE(m.pickupTopicRouteData("T"));
  m.registerBroker(request("b2", "b:1", {"T"}, 1), 1000);
  m.unregisterBroker("C", "b:1", "b2", 0);
  EXPECT_FALSE(m.pickupTopicRouteData("T"));
  EXPECT_TRUE(m.clusterInfo().broker_addr_table.empty());
}

TEST(RouteInfoManagerTest, LegacyJsonUnquotesOnlyBrokerAddrsKeys) {
  std::string standard = R"({"brokerDatas":[{"brokerAddrs":{"0":"1.2.3.4:1","1":"x:2"},"brokerName":"7"}],"q":{"0":"y"}})";
  EXPECT_EQ(legacyBrokerAddrsJson(standard),
            R"({"brokerDatas":[{"brokerAddrs":{0:"1.2.3.4:1",1:"x:2"},"brokerName":"7"}],"q":{"0":"y"}})");
}

TEST(TopicConfigCodecTest, RegisterBrokerBodyRoundTripsJsonAndCompressed) {
  RegisterBrokerBody body;
  body.topic_config_wrapper = request("b", "a:1", {"T", "TBW102"}, 7).topics;
  body.topic_config_wrapper.data_version.timestamp = 123;
  for (bool compressed : {false, true}) {
    std::string data = compressed ? encodeRegisterBrokerBodyCompressed(body) : encodeRegisterBrokerBody(body);
    auto parsed = parseRegisterBrokerBody(data, compressed);
    ASSERT_TRUE(parsed.isOk()) << parsed.status().toString();
    EXPECT_EQ(parsed->topic_config_wrapper.data_version, body.topic_config_wrapper.data_version);
    EXPECT_EQ(parsed->topic_config_wrapper.topic_config_table.size(), 2u);
    EXPECT_EQ(parsed->topic_config_wrapper.topic_config_table.at("T").write_queue_nums, 4);
  }
  EXPECT_FALSE(parseRegisterBrokerBody("not json", false).isOk());
  EXPECT_FALSE(parseRegisterBrokerBody("garbage", true).isOk());
}

}  // namespace
}  // namespace rocketrpc::namesrv
