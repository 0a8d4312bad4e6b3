#include "remoting/protocol/names.h"

#include <gtest/gtest.h>

#include <string>

namespace rocketrpc::remoting {
namespace {

TEST(NamesTest, TopicRulesAreApaches) {
  EXPECT_TRUE(checkName(NameKind::kTopic, "Topic_A-1%|x").isOk());
  EXPECT_TRUE(checkName(NameKind::kTopic, std::string(127, 't')).isOk());
  EXPECT_FALSE(checkName(NameKind::kTopic, std::string(128, 't')).isOk());
  EXPECT_TRUE(checkName(NameKind::kTopic, "%RETRY%" + std::string(200, 'g')).isOk());
  EXPECT_FALSE(checkName(NameKind::kTopic, "%RETRY%" + std::string(249, 'g')).isOk());
  EXPECT_EQ(checkName(NameKind::kTopic, "").message(), "The specified topic is blank.");
  EXPECT_EQ(checkName(NameKind::kTopic, "a b").message(),
            "The specified topic[a b] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$");
  EXPECT_FALSE(checkName(NameKind::kTopic, "t.x").isOk());
}

TEST(NamesTest, GroupRulesAreApaches) {
  EXPECT_TRUE(checkName(NameKind::kGroup, std::string(255, 'g')).isOk());
  EXPECT_FALSE(checkName(NameKind::kGroup, std::string(256, 'g')).isOk());
  EXPECT_FALSE(checkName(NameKind::kGroup, "g/x").isOk());
  EXPECT_TRUE(isValidGroupName("ns%group|1"));
  EXPECT_FALSE(isValidGroupName(""));
}

TEST(NamesTest, BadBytesAreQuotedPrintably) {
  const Status s = checkName(NameKind::kGroup, "g\xff");
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("g\\xff"), std::string::npos) << s.message();
  EXPECT_EQ(printableBytes("a\\b\x01"), "a\\x5cb\\x01");
}

TEST(NamesTest, FreeFormNamesStaySafe) {
  EXPECT_TRUE(checkName(NameKind::kClientId, "127.0.0.1@1234#5678").isOk());
  EXPECT_FALSE(checkName(NameKind::kClientId, "c\xff").isOk());
  EXPECT_FALSE(checkName(NameKind::kClientId, "").isOk());
  EXPECT_TRUE(checkName(NameKind::kBrokerName, "broker-a").isOk());
  EXPECT_TRUE(checkName(NameKind::kMessageKeys, "").isOk());
  EXPECT_TRUE(checkName(NameKind::kMessageKeys, "order-1 \xe4\xb8\xad").isOk());  // UTF-8 keys are fine
  EXPECT_FALSE(checkName(NameKind::kMessageKeys, "k\xff").isOk());
  EXPECT_FALSE(checkName(NameKind::kMessageKeys, "k\x01").isOk());
  EXPECT_TRUE(checkName(NameKind::kFilterType, "SINGLE_TAG").isOk());
  EXPECT_TRUE(checkName(NameKind::kFilterType, "MULTI_TAG").isOk());
  EXPECT_FALSE(checkName(NameKind::kFilterType, "\xff").isOk());
}

TEST(NamesTest, Utf8ValidationRejectsOverlongsAndSurrogates) {
  EXPECT_TRUE(isValidUtf8("plain \xc3\xa9 \xf0\x9f\x98\x80"));
  EXPECT_FALSE(isValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(isValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(isValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(isValidUtf8("\xe4\xb8"));          // cut short
}

}  // namespace
}  // namespace rocketrpc::remoting
