// TopicRouteData / ClusterInfo JSON (protocol reference 3.7, 3.8, 3.10).
#include "remoting/protocol/route_data.h"

#include <gtest/gtest.h>

namespace rocketrpc::remoting {
namespace {

constexpr const char* kLegacyRoute =
    R"({"brokerDatas":[{"brokerAddrs":{0:"192.168.1.10:10911",1:"192.168.1.11:10911"},)"
    R"("brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}],)"
    R"("filterServerTable":{},)"
    R"("queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]})";

TopicRouteData expectedDocRoute() {
  TopicRouteData route;
  route.queue_datas.push_back(QueueData{"broker-a", 4, 4, 6, 0});
  BrokerData bd;
  bd.cluster = "DefaultCluster";
  bd.broker_name = "broker-a";
  bd.broker_addrs = {{0, "192.168.1.10:10911"}, {1, "192.168.1.11:10911"}};
  route.broker_datas.push_back(bd);
  return route;
}

TEST(QuoteBareIntegerKeysTest, QuotesKeysOutsideStrings) {
  EXPECT_EQ(quoteBareIntegerKeys(R"({0:"a",1:"b"})"), R"({"0":"a","1":"b"})");
  EXPECT_EQ(quoteBareIntegerKeys(R"({ -12 : "a" , 7:"b"})"), R"({ "-12" : "a" , "7":"b"})");
  EXPECT_EQ(quoteBareIntegerKeys("{\n  0\n:1}"), "{\n  \"0\"\n:1}");
}

TEST(QuoteBareIntegerKeysTest, LeavesEverythingElseAlone) {
  for (const char* json :
       {R"({"0":"a"})", R"([0,1,2])", R"({"a":[1,2,{"b":3}]})", R"({"s":"{0:1}"})", R"({"s":"x\",0:1"})",
        R"({"s":"\\",0:"v"})", R"({"a":-1.5e3})", R"({0x:1})", "", "{", "{-", "{-:", R"(")", R"("\)"}) {
    const std::string in(json);
    const std::string out = quoteBareIntegerKeys(in);
    if (in == R"({"s":"\\",0:"v"})") {
      // the string ends after the escaped backslash, so the 0 that follows is a real key
      EXPECT_EQ(out, R"({"s":"\\","0":"v"})");
    } else {
      EXPECT_EQ(out, in) << in;
    }
  }
}

TEST(QuoteBareIntegerKeysTest, CommaInsideStringIsNotAKeyPosition) {
  EXPECT_EQ(quoteBareIntegerKeys(R"({"k":"a,1:b"})"), R"({"k":"a,1:b"})");
}

TEST(TopicRouteDataTest, ParsesLegacyDocExample) {
  auto route = parseTopicRouteData(kLegacyRoute);
  ASSERT_TRUE(route.isOk()) << route.status().toString();
  EXPECT_EQ(*route, expectedDocRoute());
  EXPECT_EQ(route->broker_datas[0].masterAddr(), "192.168.1.10:10911");
}

TEST(TopicRouteDataTest, ParsesStandardForm) {
  const std::string standard =
      R"({"brokerDatas":[{"brokerAddrs":{"0":"192.168.1.10:10911","1":"192.168.1.11:10911"},)"
      R"("brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false,"zoneName":"z1"}],)"
      R"("filterServerTable":{"192.168.1.10:10911":["192.168.1.10:10912"]},)"
      R"("queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}],)"
      R"("topicQueueMappingByBroker":{"broker-a":{"bname":"broker-a","epoch":0}}})";
  auto route = parseTopicRouteData(standard);
  ASSERT_TRUE(route.isOk()) << route.status().toString();
  EXPECT_EQ(*route, expectedDocRoute());
}

TEST(TopicRouteDataTest, AcceptsOldTopicSynFlagSpellingAndOrderConf) {
  auto route = parseTopicRouteData(
      R"({"orderTopicConf":"broker-a:4;broker-b:4","queueDatas":[{"brokerName":"b","perm":4,)"
      R"("readQueueNums":8,"topicSynFlag":3,"writeQueueNums":2}],"brokerDatas":[]})");
  ASSERT_TRUE(route.isOk()) << route.status().toString();
  EXPECT_EQ(route->order_topic_conf, "broker-a:4;broker-b:4");
  ASSERT_EQ(route->queue_datas.size(), 1u);
  EXPECT_EQ(route->queue_datas[0], (QueueData{"b", 8, 2, 4, 3}));
}

TEST(TopicRouteDataTest, MissingAndNullFieldsTakeDefaults) {
  auto route = parseTopicRouteData(R"({"orderTopicConf":null,"queueDatas":[{"brokerName":"b"}]})");
  ASSERT_TRUE(route.isOk()) << route.status().toString();
  EXPECT_EQ(route->order_topic_conf, "");
  EXPECT_TRUE(route->broker_datas.empty());
  EXPECT_EQ(route->queue_datas[0], (QueueData{"b", 0, 0, 6, 0}));
  auto no_master = parseTopicRouteData(R"({"brokerDatas":[{"brokerName":"b","brokerAddrs":{1:"x:1"}}]})");
  ASSERT_TRUE(no_master.isOk());
  EXPECT_EQ(no_master->broker_datas[0].masterAddr(), "");
}

TEST(TopicRouteDataTest, TypeMismatchesAreCorrupt) {
  for (const char* json : {
           "",
           "null",
           "[]",
           R"({"queueDatas":{}})",
           R"({"queueDatas":[1]})",
           R"({"queueDatas":[{"perm":"6"}]})",
           R"({"queueDatas":[{"perm":1.5}]})",
           R"({"queueDatas":[{"perm":4294967296}]})",
           R"({"queueDatas":[{"brokerName":7}]})",
           R"({"brokerDatas":[{"brokerAddrs":[]}]})",
           R"({"brokerDatas":[{"brokerAddrs":{"x":"a"}}]})",
           R"({"brokerDatas":[{"brokerAddrs":{"99999999999999999999":"a"}}]})",
           R"({"brokerDatas":[{"brokerAddrs":{"0":1}}]})",
           R"({"brokerDatas":[{"brokerAddrs":{"0":"a"}}])",
           R"({"orderTopicConf":5})",
       }) {
    auto route = parseTopicRouteData(json);
    EXPECT_EQ(route.status().code(), StatusCode::kCorrupt) << json;
  }
}

TEST(TopicRouteDataTest, EncodeIsStandardJsonWithJavaFieldNames) {
  EXPECT_EQ(encodeTopicRouteData(expectedDocRoute()),
            R"({"brokerDatas":[{"brokerAddrs":{"0":"192.168.1.10:10911","1":"192.168.1.11:10911"},)"
            R"("brokerName":"broker-a","cluster":"DefaultCluster"}],"filterServerTable":{},)"
            R"("queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,)"
            R"("writeQueueNums":4}]})");
}

TEST(TopicRouteDataTest, EncodeParseRoundTrip) {
  TopicRouteData route = expectedDocRoute();
  route.order_topic_conf = "broker-a:4";
  route.queue_datas.push_back(QueueData{"broker-\"b\"", 2, 1, 2, 1});
  BrokerData b;
  b.cluster = "c\\1";
  b.broker_name = "broker-\"b\"";
  b.broker_addrs = {{0, "[::1]:10911"}, {-1, "x"}};
  route.broker_datas.push_back(b);
  auto back = parseTopicRouteData(encodeTopicRouteData(route));
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  EXPECT_EQ(*back, route);
}

TEST(TopicRouteDataTest, EncodeNeverThrowsOnInvalidUtf8) {
  TopicRouteData route;
  route.queue_datas.push_back(QueueData{"bad\xFF", 1, 1, 6, 0});
  const std::string json = encodeTopicRouteData(route);
  EXPECT_TRUE(parseTopicRouteData(json).isOk()) << json;
}

constexpr const char* kClusterDoc =
    R"({"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"192.168.1.10:10911"},"brokerName":"broker-a",)"
    R"("cluster":"DefaultCluster","enableActingMaster":false}},)"
    R"("clusterAddrTable":{"DefaultCluster":["broker-a"]}})";

TEST(ClusterInfoTest, ParsesDocExample) {
  auto info = parseClusterInfo(kClusterDoc);
  ASSERT_TRUE(info.isOk()) << info.status().toString();
  ASSERT_EQ(info->broker_addr_table.size(), 1u);
  const BrokerData& bd = info->broker_addr_table.at("broker-a");
  EXPECT_EQ(bd.cluster, "DefaultCluster");
  EXPECT_EQ(bd.masterAddr(), "192.168.1.10:10911");
  EXPECT_EQ(info->cluster_addr_table.at("DefaultCluster"), std::vector<std::string>{"broker-a"});
}

TEST(ClusterInfoTest, EncodeLegacyMatchesJavaNameServer) {
  auto info = parseClusterInfo(kClusterDoc);
  ASSERT_TRUE(info.isOk());
  EXPECT_EQ(
      encodeClusterInfo(*info, /*legacy=*/true),
      R"({"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"192.168.1.10:10911"},"brokerName":"broker-a",)"
      R"("cluster":"DefaultCluster"}},"clusterAddrTable":{"DefaultCluster":["broker-a"]}})");
  EXPECT_EQ(
      encodeClusterInfo(*info, /*legacy=*/false),
      R"({"brokerAddrTable":{"broker-a":{"brokerAddrs":{"0":"192.168.1.10:10911"},"brokerName":"broker-a",)"
      R"("cluster":"DefaultCluster"}},"clusterAddrTable":{"DefaultCluster":["broker-a"]}})");
}

TEST(ClusterInfoTest, RoundTripBothForms) {
  ClusterInfo info;
  BrokerData a;
  a.cluster = "c1";
  a.broker_name = "a";
  a.broker_addrs = {{0, "1.1.1.1:1"}, {2, "1.1.1.2:1"}};
  BrokerData b;
  b.cluster = "c2";
  b.broker_name = "b";
  info.broker_addr_table = {{"a", a}, {"b", b}};
  info.cluster_addr_table = {{"c1", {"a"}}, {"c2", {"b"}}, {"empty", {}}};
  for (bool legacy : {true, false}) {
    auto back = parseClusterInfo(encodeClusterInfo(info, legacy));
    ASSERT_TRUE(back.isOk()) << back.status().toString();
    EXPECT_EQ(back->broker_addr_table, info.broker_addr_table);
    EXPECT_EQ(back->cluster_addr_table, info.cluster_addr_table);
  }
}

TEST(ClusterInfoTest, TypeMismatchesAreCorrupt) {
  for (const char* json : {"x", "[]", R"({"brokerAddrTable":[]})", R"({"brokerAddrTable":{"a":1}})",
                           R"({"clusterAddrTable":{"c":"a"}})", R"({"clusterAddrTable":{"c":[1]}})",
                           R"({"brokerAddrTable":{"a":{"brokerAddrs":{"k":"v"}}}})"}) {
    EXPECT_EQ(parseClusterInfo(json).status().code(), StatusCode::kCorrupt) << json;
  }
  auto empty = parseClusterInfo("{}");
  ASSERT_TRUE(empty.isOk());
  EXPECT_TRUE(empty->broker_addr_table.empty());
}

}  // namespace
}  // namespace rocketrpc::remoting
