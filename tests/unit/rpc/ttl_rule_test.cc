// How RpcServer reads the TTL of a request that has no RRPC_DEADLINE (docs/design/rpc.md, "Deadlines of
// foreign requests"): milliseconds from Java and rocketrpc's Producer, whole seconds from rocketmq-client-go,
// told apart by the UNIQ_KEY layout.
#include <gtest/gtest.h>

#include "remoting/protocol/message_codec.h"
#include "rocketrpc/message.h"
#include "rpc/wire.h"

namespace rocketrpc::rpc {
namespace {

// rocketmq-client-go CreateUniqID: IPv4 C0A80102, pid 0x3039, classLoadId 0, time, counter.
constexpr std::string_view kGoId = "C0A801023039000000000000BB80000A";
// Two digits short: neither client's id.
constexpr std::string_view kShortId = "C0A80102303900000000000BB8000A";
// Java MessageClientIDSetter: the same layout with the class loader's identity hash (never 0 on HotSpot).
constexpr std::string_view kJavaId = "C0A8010230397A3B2C1D000BB880000A";
// Java on an IPv6 host: 16 address bytes, so the id is 56 digits and the field sits elsewhere.
constexpr std::string_view kJavaV6Id = "FE800000000000000000000000000001303900000000000BB880000A";

TEST(TtlRuleTest, GoIdsAreRecognisedByTheirZeroClassLoaderField) {
  EXPECT_TRUE(remoting::isGoClientUniqId(kGoId));
  EXPECT_TRUE(remoting::isGoClientUniqId("c0a801023039000000000000bb80000a"));  // any case
  EXPECT_FALSE(remoting::isGoClientUniqId(kShortId));
  EXPECT_FALSE(remoting::isGoClientUniqId(kJavaId));
  EXPECT_FALSE(remoting::isGoClientUniqId(kJavaV6Id));
  EXPECT_FALSE(remoting::isGoClientUniqId(""));
  EXPECT_FALSE(remoting::isGoClientUniqId("C0A80102303900000000XXXXXXXXXXXX"));  // not hex
}

TEST(TtlRuleTest, OurOwnIdsAreNeverTakenForGo) {
  // rocketrpc's Producer writes TTL in ms; its UNIQ_KEY has the Java layout with a non-zero random salt.
  for (int i = 0; i < 100; ++i) {
    const std::string id = remoting::createUniqId();
    ASSERT_EQ(id.size(), 32u) << id;
    EXPECT_FALSE(remoting::isGoClientUniqId(id)) << id;
  }
}

TEST(TtlRuleTest, GoTtlIsSecondsToTheEndOfTheSecond) {
  EXPECT_EQ(ttlBudgetMs(0, kGoId), 1000);    // 500 ms -> int(0.5) = 0
  EXPECT_EQ(ttlBudgetMs(3, kGoId), 4000);    // 3 s or 3.9 s -> 3
  EXPECT_EQ(ttlBudgetMs(30, kGoId), 31000);  // 30 s
  EXPECT_GT(ttlBudgetMs(999'999'999'999'999'999, kGoId), 0);  // saturates, no overflow
}

TEST(TtlRuleTest, OtherTtlsStayMilliseconds) {
  EXPECT_EQ(ttlBudgetMs(3000, kJavaId), 3000);
  EXPECT_EQ(ttlBudgetMs(3000, kJavaV6Id), 3000);
  EXPECT_EQ(ttlBudgetMs(3000, ""), 3000);  // no UNIQ_KEY at all
  EXPECT_EQ(ttlBudgetMs(0, kJavaId), 0);
}

TEST(TtlRuleTest, DeadlineUsesTheRuleAndRrpcDeadlineWins) {
  MessageExt m;
  m.setBornTimestamp(1'000'000);
  m.putProperty(property::kTtl, "3");
  m.putProperty(property::kUniqClientMessageId, kGoId);
  EXPECT_EQ(requestDeadlineMs(m), 1'004'000);
  m.putProperty(property::kUniqClientMessageId, kJavaId);
  EXPECT_EQ(requestDeadlineMs(m), 1'000'003);
  m.putProperty(prop::kDeadline, "1234567");
  EXPECT_EQ(requestDeadlineMs(m), 1'234'567);  // rocketrpc's own requests carry their absolute deadline
}

}  // namespace
}  // namespace rocketrpc::rpc
