// Public Message / MessageQueue value types (include/rocketrpc/message.h).
#include "rocketrpc/message.h"

#include <gtest/gtest.h>

namespace rocketrpc {
namespace {

TEST(MessageTest, TagsConstructorSetsTagsProperty) {
  Message msg("TopicTest", "TagA", "hello");
  EXPECT_EQ(msg.topic(), "TopicTest");
  EXPECT_EQ(msg.body(), "hello");
  EXPECT_EQ(msg.tags(), "TagA");
  EXPECT_EQ(msg.getProperty(property::kTags), "TagA");
}

TEST(MessageTest, EmptyTagsAreNotStored) {
  Message msg("TopicTest", "", "hello");
  EXPECT_FALSE(msg.hasProperty(property::kTags));
  EXPECT_TRUE(msg.properties().empty());
}

TEST(MessageTest, KeysVectorIsJoinedWithSpaces) {
  Message msg;
  msg.setKeys(std::vector<std::string>{"k1", "k2", "k3"});
  EXPECT_EQ(msg.keys(), "k1 k2 k3");
  msg.setKeys(std::vector<std::string>{});
  EXPECT_FALSE(msg.hasProperty(property::kKeys));
  msg.setKeys("single");
  EXPECT_EQ(msg.keys(), "single");
}

TEST(MessageTest, DelayTimeLevelRoundTrip) {
  Message msg;
  EXPECT_EQ(msg.delayTimeLevel(), 0);
  msg.setDelayTimeLevel(3);
  EXPECT_EQ(msg.getProperty(property::kDelayTimeLevel), "3");
  EXPECT_EQ(msg.delayTimeLevel(), 3);
  msg.setDelayTimeLevel(0);
  EXPECT_FALSE(msg.hasProperty(property::kDelayTimeLevel));
  msg.putProperty(property::kDelayTimeLevel, "junk");
  EXPECT_EQ(msg.delayTimeLevel(), 0);
}

TEST(MessageTest, PutEmptyValueErasesProperty) {
  Message msg;
  msg.putProperty("a", "1");
  EXPECT_TRUE(msg.hasProperty("a"));
  msg.putProperty("a", "2");
  EXPECT_EQ(msg.getProperty("a"), "2");
  msg.putProperty("a", "");
  EXPECT_FALSE(msg.hasProperty("a"));
  EXPECT_EQ(msg.getProperty("a"), "");
  msg.putProperty("", "x");
  EXPECT_TRUE(msg.properties().empty());
}

TEST(MessageTest, ClearPropertyRemovesOnlyThatName) {
  Message msg;
  msg.putProperty("a", "1");
  msg.putProperty("b", "2");
  msg.clearProperty("a");
  msg.clearProperty("missing");
  EXPECT_FALSE(msg.hasProperty("a"));
  EXPECT_EQ(msg.getProperty("b"), "2");
}

TEST(MessageTest, WaitStoreMsgOkDefaultsToTrue) {
  Message msg;
  EXPECT_TRUE(msg.waitStoreMsgOk());
  msg.setWaitStoreMsgOk(false);
  EXPECT_FALSE(msg.waitStoreMsgOk());
  EXPECT_EQ(msg.getProperty(property::kWaitStoreMsgOk), "false");
}

TEST(MessageQueueTest, ToStringMatchesJavaFormat) {
  MessageQueue mq{"TopicTest", "broker-a", 3};
  EXPECT_EQ(mq.toString(), "MessageQueue [topic=TopicTest, brokerName=broker-a, queueId=3]");
}

TEST(MessageQueueTest, OrdersByTopicThenBrokerThenQueue) {
  MessageQueue a{"t", "b1", 1};
  MessageQueue b{"t", "b1", 2};
  MessageQueue c{"t", "b2", 0};
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(a, (MessageQueue{"t", "b1", 1}));
}

TEST(MessageExtTest, MessageQueueUsesTopicBrokerAndQueue) {
  MessageExt msg;
  msg.setTopic("t");
  msg.setBrokerName("broker-a");
  msg.setQueueId(2);
  EXPECT_EQ(msg.messageQueue(), (MessageQueue{"t", "broker-a", 2}));
}

}  // namespace
}  // namespace rocketrpc
