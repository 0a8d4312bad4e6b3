// HEART_BEAT body and TAG subscriptions (protocol reference 3.6, 4.8).
#include "remoting/protocol/heartbeat_data.h"

#include <gtest/gtest.h>

namespace rocketrpc::remoting {
namespace {

// The example of protocol reference 3.6, including the 5.x-only fields.
constexpr const char* kDocHeartbeat = R"({"clientID":"192.168.1.5@12345#81234567890123",
 "consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","consumeType":"CONSUME_PASSIVELY",
   "groupName":"cg","messageModel":"CLUSTERING",
   "subscriptionDataSet":[
     {"classFilterMode":false,"codeSet":[2598919],"expressionType":"TAG","subString":"TagA",
      "subVersion":1700000000000,"tagsSet":["TagA"],"topic":"TopicTest"},
     {"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*",
      "subVersion":1700000000001,"tagsSet":[],"topic":"%RETRY%cg"}],
   "unitMode":false}],
 "heartbeatFingerprint":0,
 "producerDataSet":[{"groupName":"CLIENT_INNER_PRODUCER"},{"groupName":"PG"}],
 "withoutSub":false})";

TEST(SubscriptionTest, StarAndEmptyMeanAll) {
  for (const char* expr : {"*", "", "  ", " * "}) {
    auto sub = buildSubscription("T", expr, 5);
    ASSERT_TRUE(sub.isOk()) << expr;
    EXPECT_EQ(sub->topic, "T");
    EXPECT_EQ(sub->sub_string, "*");
    EXPECT_TRUE(sub->tags_set.empty());
    EXPECT_TRUE(sub->code_set.empty());
    EXPECT_EQ(sub->sub_version, 5);
    EXPECT_EQ(sub->expression_type, "TAG");
    EXPECT_TRUE(sub->matches(""));
    EXPECT_TRUE(sub->matches("anything"));
  }
}

TEST(SubscriptionTest, SplitsOnDoublePipeTrimsAndDropsEmpties) {
  auto sub = buildSubscription("T", " TagA || TagB ||| ||TagA", 1);
  ASSERT_TRUE(sub.isOk());
  EXPECT_EQ(sub->sub_string, "TagA || TagB ||| ||TagA");  // as given (trimmed), like FilterAPI
  EXPECT_EQ(sub->tags_set, (std::set<std::string>{"TagA", "TagB", "|"}));
  EXPECT_EQ(sub->code_set.count(2598919), 1u);
  EXPECT_EQ(sub->code_set.size(), 3u);
}

TEST(SubscriptionTest, SingleTagUsesJavaHash) {
  auto sub = buildSubscription("TopicTest", "TagA", 1700000000000);
  ASSERT_TRUE(sub.isOk());
  EXPECT_EQ(sub->sub_string, "TagA");
  EXPECT_EQ(sub->tags_set, std::set<std::string>{"TagA"});
  EXPECT_EQ(sub->code_set, std::set<int32_t>{2598919});
}

TEST(SubscriptionTest, ExpressionWithoutTagsIsRejected) {
  EXPECT_EQ(buildSubscription("T", "||", 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(buildSubscription("T", " || || ", 1).status().code(), StatusCode::kInvalidArgument);
}

TEST(SubscriptionTest, MatchesExactTagsOnly) {
  auto sub = buildSubscription("T", "TagA||TagB", 1);
  ASSERT_TRUE(sub.isOk());
  EXPECT_TRUE(sub->matches("TagA"));
  EXPECT_TRUE(sub->matches("TagB"));
  EXPECT_FALSE(sub->matches("TagC"));
  EXPECT_FALSE(sub->matches("taga"));
  EXPECT_FALSE(sub->matches(""));  // untagged messages are filtered when tags are subscribed
}

TEST(HeartbeatTest, ParsesDocExampleIncluding5xExtras) {
  auto hb = parseHeartbeat(kDocHeartbeat);
  ASSERT_TRUE(hb.isOk()) << hb.status().toString();
  EXPECT_EQ(hb->client_id, "192.168.1.5@12345#81234567890123");
  EXPECT_EQ(hb->producer_groups, (std::vector<std::string>{"CLIENT_INNER_PRODUCER", "PG"}));
  ASSERT_EQ(hb->consumers.size(), 1u);
  const ConsumerData& cd = hb->consumers[0];
  EXPECT_EQ(cd.group_name, "cg");
  EXPECT_EQ(cd.consume_type, "CONSUME_PASSIVELY");
  EXPECT_EQ(cd.message_model, "CLUSTERING");
  EXPECT_EQ(cd.consume_from_where, "CONSUME_FROM_LAST_OFFSET");
  EXPECT_FALSE(cd.unit_mode);
  ASSERT_EQ(cd.subscriptions.size(), 2u);
  EXPECT_EQ(cd.subscriptions[0].topic, "TopicTest");
  EXPECT_EQ(cd.subscriptions[0].sub_string, "TagA");
  EXPECT_EQ(cd.subscriptions[0].sub_version, 1700000000000);
  EXPECT_EQ(cd.subscriptions[0].tags_set, std::set<std::string>{"TagA"});
  EXPECT_EQ(cd.subscriptions[0].code_set, std::set<int32_t>{2598919});
  EXPECT_EQ(cd.subscriptions[1].topic, "%RETRY%cg");
  EXPECT_EQ(cd.subscriptions[1].sub_string, "*");
  EXPECT_TRUE(cd.subscriptions[1].tags_set.empty());
}

TEST(HeartbeatTest, EncodeMatchesJavaShapeWithoutV2Fields) {
  HeartbeatData hb;
  hb.client_id = "192.168.1.5@12345#81234567890123";
  hb.producer_groups = {"CLIENT_INNER_PRODUCER", "PG"};
  ConsumerData cd;
  cd.group_name = "cg";
  cd.subscriptions.push_back(*buildSubscription("TopicTest", "TagA", 1700000000000));
  cd.subscriptions.push_back(*buildSubscription("%RETRY%cg", "*", 1700000000001));
  hb.consumers.push_back(cd);
  EXPECT_EQ(
      encodeHeartbeat(hb),
      R"({"clientID":"192.168.1.5@12345#81234567890123",)"
      R"("consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","consumeType":"CONSUME_PASSIVELY",)"
      R"("groupName":"cg","messageModel":"CLUSTERING","subscriptionDataSet":[)"
      R"({"classFilterMode":false,"codeSet":[2598919],"expressionType":"TAG","subString":"TagA",)"
      R"("subVersion":1700000000000,"tagsSet":["TagA"],"topic":"TopicTest"},)"
      R"({"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*",)"
      R"("subVersion":1700000000001,"tagsSet":[],"topic":"%RETRY%cg"}],"unitMode":false}],)"
      R"("producerDataSet":[{"groupName":"CLIENT_INNER_PRODUCER"},{"groupName":"PG"}]})");
}

TEST(HeartbeatTest, ProducerOnlyRoundTrip) {
  HeartbeatData hb;
  hb.client_id = "c";
  hb.producer_groups = {"PG"};
  EXPECT_EQ(encodeHeartbeat(hb),
            R"({"clientID":"c","consumerDataSet":[],"producerDataSet":[{"groupName":"PG"}]})");
  auto back = parseHeartbeat(encodeHeartbeat(hb));
  ASSERT_TRUE(back.isOk());
  EXPECT_EQ(back->producer_groups, hb.producer_groups);
  EXPECT_TRUE(back->consumers.empty());
}

TEST(HeartbeatTest, ToleratesMissingOptionalFields) {
  auto hb = parseHeartbeat(R"({"clientID":"c","consumerDataSet":[{"groupName":"g",)"
                           R"("subscriptionDataSet":[{"topic":"t","subString":"A","codeSet":[-5]}]}]})");
  ASSERT_TRUE(hb.isOk()) << hb.status().toString();
  EXPECT_TRUE(hb->producer_groups.empty());
  const ConsumerData& cd = hb->consumers.at(0);
  EXPECT_EQ(cd.consume_type, "CONSUME_PASSIVELY");
  EXPECT_EQ(cd.subscriptions.at(0).expression_type, "TAG");
  EXPECT_EQ(cd.subscriptions.at(0).code_set, std::set<int32_t>{-5});
  EXPECT_TRUE(parseHeartbeat(R"({"clientID":"c"})").isOk());
}

TEST(HeartbeatTest, MalformedIsCorrupt) {
  for (const char* json :
       {"", "{", "[]", R"({})", R"({"clientID":1})", R"({"clientID":"c","producerDataSet":{}})",
        R"({"clientID":"c","producerDataSet":[1]})",
        R"({"clientID":"c","consumerDataSet":[{"unitMode":"false"}]})",
        R"({"clientID":"c","consumerDataSet":[{"subscriptionDataSet":[{"codeSet":[1.5]}]}]})",
        R"({"clientID":"c","consumerDataSet":[{"subscriptionDataSet":[{"codeSet":[4294967296]}]}]})",
        R"({"clientID":"c","consumerDataSet":[{"subscriptionDataSet":[{"tagsSet":[1]}]}]})",
        R"({"clientID":"c","consumerDataSet":[{"subscriptionDataSet":[{"subVersion":"1"}]}]})"}) {
    EXPECT_EQ(parseHeartbeat(json).status().code(), StatusCode::kCorrupt) << json;
  }
}

TEST(ConsumerIdListTest, RoundTrip) {
  const std::vector<std::string> ids = {"192.168.1.5@1", "192.168.1.6@2"};
  const std::string json = encodeConsumerIdList(ids);
  EXPECT_EQ(json, R"({"consumerIdList":["192.168.1.5@1","192.168.1.6@2"]})");
  auto back = parseConsumerIdList(json);
  ASSERT_TRUE(back.isOk());
  EXPECT_EQ(*back, ids);
  EXPECT_EQ(encodeConsumerIdList({}), R"({"consumerIdList":[]})");
}

TEST(ConsumerIdListTest, MalformedIsCorrupt) {
  for (const char* json : {"", "[]", R"({"consumerIdList":"a"})", R"({"consumerIdList":[1]})"}) {
    EXPECT_EQ(parseConsumerIdList(json).status().code(), StatusCode::kCorrupt) << json;
  }
  auto missing = parseConsumerIdList("{}");
  ASSERT_TRUE(missing.isOk());
  EXPECT_TRUE(missing->empty());
}

}  // namespace
}  // namespace rocketrpc::remoting
