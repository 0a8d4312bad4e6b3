// quoteNonStringKeys: fastjson's maps with object or integer keys (ConsumeStats.offsetTable, cluster info)
// become standard JSON, strings untouched; and splitAddressList.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "client/admin_client.h"
#include "common/address.h"

namespace rocketrpc::client {
namespace {

using Json = nlohmann::json;

TEST(QuoteNonStringKeysTest, ObjectKeysOfAConsumeStatsBodyBecomeStrings) {
  const std::string body =
      R"({"consumeTps":1.5,"offsetTable":{{"brokerName":"b-a","queueId":0,"topic":"T"}:{"brokerOffset":9,)"
      R"("consumerOffset":4,"lastTimestamp":17},{"brokerName":"b-a","queueId":1,"topic":"T"}:{"brokerOffset":2,)"
      R"("consumerOffset":2,"lastTimestamp":0}}})";
  Json j = Json::parse(quoteNonStringKeys(body), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << quoteNonStringKeys(body);
  ASSERT_EQ(j["offsetTable"].size(), 2u);
  const auto first = j["offsetTable"].begin();
  Json mq = Json::parse(first.key());
  const Json& value = first.value();
  EXPECT_EQ(mq["brokerName"], "b-a");
  EXPECT_EQ(mq["queueId"], 0);
  EXPECT_EQ(value["brokerOffset"], 9);
  EXPECT_EQ(j["consumeTps"], 1.5);
}

TEST(QuoteNonStringKeysTest, IntegerKeysBecomeStringsAndStringsAreCopiedAsTheyAre) {
  const std::string body = R"({"brokerAddrs":{0:"127.0.0.1:10911",-1:"x"},"s":"{1:\"a\"}, {\"k\":2}:3","a":[{},{}]})";
  Json j = Json::parse(quoteNonStringKeys(body), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << quoteNonStringKeys(body);
  EXPECT_EQ(j["brokerAddrs"]["0"], "127.0.0.1:10911");
  EXPECT_EQ(j["brokerAddrs"]["-1"], "x");
  EXPECT_EQ(j["s"], "{1:\"a\"}, {\"k\":2}:3");
  EXPECT_EQ(j["a"].size(), 2u);
}

TEST(QuoteNonStringKeysTest, ValuesThatAreObjectsOrNumbersAreLeftAlone) {
  const std::string body = R"({"a":{"b":1},"c":[1,{"d":2}],"e":-3})";
  EXPECT_EQ(quoteNonStringKeys(body), body);
}

TEST(QuoteNonStringKeysTest, TruncatedInputDoesNotReadPastTheEnd) {
  for (const std::string body : {R"({{"a":)", R"({"x":{{)", "{", R"({"s":"unterminated)", "{1"}) {
    EXPECT_NO_THROW(quoteNonStringKeys(body));
    EXPECT_TRUE(Json::parse(quoteNonStringKeys(body), nullptr, false).is_discarded()) << body;
  }
}

TEST(SplitAddressListTest, TrimsAndDropsEmptyEntries) {
  EXPECT_EQ(splitAddressList(" a:1 ;b:2;; ;c:3\t"), (std::vector<std::string>{"a:1", "b:2", "c:3"}));
  EXPECT_TRUE(splitAddressList("").empty());
  EXPECT_TRUE(splitAddressList(" ; ").empty());
}

}  // namespace
}  // namespace rocketrpc::client
