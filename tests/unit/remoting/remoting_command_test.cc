#include "remoting/remoting_command.h"

#include <gtest/gtest.h>

namespace rocketrpc::remoting {
namespace {

TEST(RemotingCommandTest, LanguageNamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(LanguageCode::kNodeJs); ++i) {
    auto code = static_cast<LanguageCode>(i);
    EXPECT_EQ(languageFromName(languageName(code)), code) << i;
  }
  EXPECT_EQ(languageName(LanguageCode::kCpp), "CPP");
  EXPECT_EQ(languageName(LanguageCode::kNodeJs), "NODE_JS");
  EXPECT_EQ(languageName(static_cast<LanguageCode>(200)), "OTHER");
}

TEST(RemotingCommandTest, UnknownLanguageNameIsOther) {
  EXPECT_EQ(languageFromName("COBOL"), LanguageCode::kOther);
  EXPECT_EQ(languageFromName(""), LanguageCode::kOther);
  EXPECT_EQ(languageFromName("cpp"), LanguageCode::kOther);  // enum names are case-sensitive in Java too
}

TEST(RemotingCommandTest, GetIntParsesStrictDecimal) {
  RemotingCommand cmd;
  cmd.set("a", "123");
  cmd.set("b", "-5");
  cmd.set("c", "9223372036854775807");
  cmd.set("d", "-9223372036854775808");
  cmd.set("e", std::int64_t{0});
  EXPECT_EQ(cmd.getInt("a"), 123);
  EXPECT_EQ(cmd.getInt("b"), -5);
  EXPECT_EQ(cmd.getInt("c"), INT64_MAX);
  EXPECT_EQ(cmd.getInt("d"), INT64_MIN);
  EXPECT_EQ(cmd.getInt("e"), 0);
}

TEST(RemotingCommandTest, GetIntRejectsEverythingElse) {
  RemotingCommand cmd;
  for (const char* bad : {"", "-", "+5", " 1", "1 ", "12a", "0x10", "1.0", "9223372036854775808",
                          "-9223372036854775809", "99999999999999999999", "--1"}) {
    cmd.set("k", bad);
    EXPECT_EQ(cmd.getInt("k"), std::nullopt) << bad;
  }
  EXPECT_EQ(cmd.getInt("absent"), std::nullopt);
}

TEST(RemotingCommandTest, GetBoolIsTrueOnlyForCaseInsensitiveTrue) {
  RemotingCommand cmd;
  for (const char* yes : {"true", "TRUE", "True", "tRuE"}) {
    cmd.set("k", yes);
    EXPECT_TRUE(cmd.getBool("k")) << yes;
  }
  for (const char* no : {"false", "1", "yes", "", " true", "truee"}) {
    cmd.set("k", no);
    EXPECT_FALSE(cmd.getBool("k")) << no;
  }
  EXPECT_FALSE(cmd.getBool("absent"));
  cmd.setBool("b", true);
  EXPECT_TRUE(cmd.getBool("b"));
}

TEST(RemotingCommandTest, ResponseToCopiesOpaqueAndSetsResponseFlag) {
  RemotingCommand req = RemotingCommand::request(105);
  req.opaque = 42;
  auto resp = RemotingCommand::responseTo(req, 17, "no route");
  EXPECT_EQ(resp.opaque, 42);
  EXPECT_TRUE(resp.isResponse());
  EXPECT_FALSE(resp.isOneway());
  EXPECT_EQ(resp.remarkOrEmpty(), "no route");
  req.markOneway();
  EXPECT_TRUE(req.isOneway());
}

}  // namespace
}  // namespace rocketrpc::remoting
