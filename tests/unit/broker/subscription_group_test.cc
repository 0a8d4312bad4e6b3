// SubscriptionGroupManager: auto-creation switch, admin upserts, persistence across restarts, the JSON shapes
// Apache's admin tools send and read.
#include "broker/subscription_group_manager.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "store/consumer_offset_table.h"
#include "store/file_system.h"
#include "support/test_support.h"

namespace rocketrpc::broker {
namespace {

using Json = nlohmann::json;

class SubscriptionGroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) / testing::uniqueName("subgroups");
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "config" / "subscriptionGroup.json").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  SubscriptionGroupManager make(bool auto_create) {
    return SubscriptionGroupManager(path_, auto_create, [] { return int64_t{1000}; });
  }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(SubscriptionGroupTest, AutoCreateOnCreatesWithDefaultsAndPersists) {
  auto m = make(true);
  ASSERT_TRUE(m.load().isOk());
  EXPECT_TRUE(m.find("TOOLS_CONSUMER").has_value());  // system groups exist from the start
  auto g = m.findOrCreate("G1");
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->retry_max_times, 16);
  EXPECT_TRUE(g->consume_enable);
  auto reloaded = make(false);
  ASSERT_TRUE(reloaded.load().isOk());
  EXPECT_TRUE(reloaded.find("G1").has_value());
}

TEST_F(SubscriptionGroupTest, AutoCreateOffRefusesUnknownGroupsButKeepsAdminCreatedOnes) {
  auto m = make(false);
  ASSERT_TRUE(m.load().isOk());
  EXPECT_FALSE(m.findOrCreate("G1").has_value());
  EXPECT_FALSE(m.findOrCreate("bad group").has_value());
  auto parsed = parseSubscriptionGroupConfig(
      R"({"groupName":"G1","consumeEnable":false,"retryMaxTimes":3,"retryQueueNums":2,"groupRetryPolicy":{}})");
  ASSERT_TRUE(parsed.isOk()) << parsed.status().toString();
  ASSERT_TRUE(m.upsert(*parsed).isOk());
  auto reloaded = make(false);
  ASSERT_TRUE(reloaded.load().isOk());
  auto g = reloaded.findOrCreate("G1");
  ASSERT_TRUE(g.has_value());
  EXPECT_FALSE(g->consume_enable);
  EXPECT_EQ(g->retry_max_times, 3);
  EXPECT_EQ(g->retry_queue_nums, 2);
  ASSERT_TRUE(reloaded.remove("G1").isOk());
  auto again = make(false);
  ASSERT_TRUE(again.load().isOk());
  EXPECT_FALSE(again.find("G1").has_value());
}

TEST_F(SubscriptionGroupTest, InvalidConfigsAreRejected) {
  EXPECT_FALSE(parseSubscriptionGroupConfig("not json").isOk());
  EXPECT_FALSE(parseSubscriptionGroupConfig("[]").isOk());
  EXPECT_FALSE(parseSubscriptionGroupConfig(R"({"consumeEnable":true})").isOk());  // no groupName
  EXPECT_FALSE(parseSubscriptionGroupConfig(R"({"groupName":"a b"})").isOk());
  EXPECT_FALSE(parseSubscriptionGroupConfig(R"({"groupName":"G","retryMaxTimes":"x"})").isOk());
  EXPECT_FALSE(parseSubscriptionGroupConfig(R"({"groupName":"G","retryMaxTimes":-5})").isOk());
}

TEST_F(SubscriptionGroupTest, CorruptFileFailsTheLoad) {
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
  std::ofstream(path_) << "{\"subscriptionGroupTable\": {\"x\": {\"groupName\": \"bad name\"}}}";
  EXPECT_FALSE(make(true).load().isOk());
  std::ofstream(path_) << "garbage";
  EXPECT_FALSE(make(true).load().isOk());
}

TEST_F(SubscriptionGroupTest, EncodeAllHasTheWrapperShape) {
  auto m = make(true);
  ASSERT_TRUE(m.load().isOk());
  ASSERT_TRUE(m.findOrCreate("G1").has_value());
  auto j = Json::parse(m.encodeAll());
  ASSERT_TRUE(j["subscriptionGroupTable"].contains("G1"));
  EXPECT_EQ(j["subscriptionGroupTable"]["G1"]["groupName"], "G1");
  EXPECT_EQ(j["subscriptionGroupTable"]["G1"]["retryMaxTimes"], 16);
  EXPECT_GE(j["dataVersion"]["counter"].get<int64_t>(), 2);
  auto round = parseSubscriptionGroupConfig(j["subscriptionGroupTable"]["G1"].dump());
  ASSERT_TRUE(round.isOk());
  EXPECT_EQ(*round, *m.find("G1"));
}

TEST(ConsumerOffsetTableTest, RemoveGroupDropsOnlyThatGroup) {
  store::ConsumerOffsetTable t(store::posixFileSystem(), "/nonexistent-dir/offsets.json");
  t.set("G", "T1", 0, 5);
  t.set("G", "T2", 1, 6);
  t.set("GG", "T1", 0, 7);
  t.set("XG", "T1", 0, 8);
  t.removeGroup("G");
  EXPECT_FALSE(t.get("G", "T1", 0).has_value());
  EXPECT_FALSE(t.get("G", "T2", 1).has_value());
  EXPECT_EQ(t.get("GG", "T1", 0), 7);
  EXPECT_EQ(t.get("XG", "T1", 0), 8);
}

}  // namespace
}  // namespace rocketrpc::broker
