// Bodies of QUERY_TOPIC_CONSUME_BY_WHO and GET_CONSUMER_CONNECTION_LIST, built from the consumer table and the
// committed offsets, in the JSON shapes Apache's clients parse.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "broker/client_manager.h"
#include "broker/processor/processors.h"
#include "store/consumer_offset_table.h"
#include "store/file_system.h"

namespace rocketrpc::broker {
namespace {

using Json = nlohmann::json;

remoting::ConsumerData consumerOf(const std::string& group, const std::string& topic, const std::string& expr) {
  remoting::ConsumerData data;
  data.group_name = group;
  data.consume_from_where = "CONSUME_FROM_FIRST_OFFSET";
  auto sub = remoting::buildSubscription(topic, expr, 42);
  EXPECT_TRUE(sub.isOk());
  data.subscriptions.push_back(*sub);
  return data;
}

class ConsumerAdminTest : public ::testing::Test {
 protected:
  ClientManager clients;
  store::ConsumerOffsetTable offsets{store::posixFileSystem(), "/nonexistent-dir/offsets.json"};
};

TEST_F(ConsumerAdminTest, TopicConsumersAreOnlineSubscribersPlusGroupsWithOffsets) {
  clients.registerConsumer(consumerOf("G_online", "T1", "*"), "127.0.0.1:1", "c1", 1);
  clients.registerConsumer(consumerOf("G_other", "T2", "*"), "127.0.0.1:2", "c2", 1);
  offsets.set("G_past", "T1", 0, 7);
  offsets.set("G_elsewhere", "T1X", 0, 7);  // a topic whose name starts with T1 must not match
  auto j = Json::parse(encodeTopicConsumers(clients, offsets, "T1"));
  EXPECT_EQ(j["groupList"], (Json{"G_online", "G_past"}));
  EXPECT_EQ(Json::parse(encodeTopicConsumers(clients, offsets, "T9"))["groupList"], Json::array());
}

TEST_F(ConsumerAdminTest, GroupThatLeftIsNoLongerListedAsOnline) {
  clients.registerConsumer(consumerOf("G", "T1", "*"), "127.0.0.1:1", "c1", 1);
  ASSERT_TRUE(clients.unregisterConsumer("G", "c1"));
  EXPECT_EQ(Json::parse(encodeTopicConsumers(clients, offsets, "T1"))["groupList"], Json::array());
  EXPECT_FALSE(encodeConsumerConnection(clients, "G").has_value());
}

TEST_F(ConsumerAdminTest, ConsumerConnectionListsMembersAndSubscriptions) {
  clients.registerConsumer(consumerOf("G", "T1", "a || b"), "127.0.0.1:1", "c1", 1, "JAVA", 409);
  clients.registerConsumer(consumerOf("G", "T1", "a || b"), "127.0.0.1:2", "c2", 1);
  auto body = encodeConsumerConnection(clients, "G");
  ASSERT_TRUE(body.has_value());
  auto j = Json::parse(*body);
  ASSERT_EQ(j["connectionSet"].size(), 2u);
  EXPECT_EQ(j["connectionSet"][0]["clientId"], "c1");
  EXPECT_EQ(j["connectionSet"][0]["clientAddr"], "127.0.0.1:1");
  EXPECT_EQ(j["connectionSet"][0]["language"], "JAVA");
  EXPECT_EQ(j["connectionSet"][0]["version"], 409);
  EXPECT_EQ(j["connectionSet"][1]["language"], "CPP");
  EXPECT_EQ(j["consumeFromWhere"], "CONSUME_FROM_FIRST_OFFSET");
  EXPECT_EQ(j["messageModel"], "CLUSTERING");
  ASSERT_TRUE(j["subscriptionTable"].contains("T1"));
  EXPECT_EQ(j["subscriptionTable"]["T1"]["subString"], "a || b");
  EXPECT_EQ(j["subscriptionTable"]["T1"]["tagsSet"], (Json{"a", "b"}));
  EXPECT_FALSE(encodeConsumerConnection(clients, "unknown").has_value());
}

}  // namespace
}  // namespace rocketrpc::broker
