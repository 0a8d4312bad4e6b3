#include "common/log.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <regex>
#include <string>

namespace rocketrpc {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = logLevel(); }
  void TearDown() override {
    setLogLevel(saved_);
    ::unsetenv("ROCKETRPC_LOG_LEVEL");
  }
  LogLevel saved_ = LogLevel::kWarn;
};

TEST_F(LogTest, StderrLineHasIsoDateMillisecondsThreadAndModule) {
  setLogLevel(LogLevel::kInfo);
  ::testing::internal::CaptureStderr();
  RRPC_LOG(kWarn, "remoting", "connection to {} closed", "127.0.0.1:9876");
  const std::string out = ::testing::internal::GetCapturedStderr();
  const std::regex line(
      R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z WARN  \[\d+\] \[remoting\] connection to 127\.0\.0\.1:9876 closed\n)");
  EXPECT_TRUE(std::regex_match(out, line)) << out;
}

TEST_F(LogTest, LevelsParseInAnyCaseAndNothingElse) {
  EXPECT_EQ(parseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(parseLogLevel("INFO"), LogLevel::kInfo);
  EXPECT_EQ(parseLogLevel("Warn"), LogLevel::kWarn);
  EXPECT_EQ(parseLogLevel("off"), LogLevel::kOff);
  EXPECT_EQ(parseLogLevel("verbose"), std::nullopt);
  EXPECT_EQ(parseLogLevel(""), std::nullopt);
}

TEST_F(LogTest, InvalidEnvironmentLevelIsAnErrorNamingTheValue) {
  ::setenv("ROCKETRPC_LOG_LEVEL", "verbose", 1);
  std::string error;
  EXPECT_FALSE(logLevelFromEnvironment(&error));
  EXPECT_NE(error.find("'verbose'"), std::string::npos) << error;
  EXPECT_NE(error.find("trace, debug, info, warn, error or off"), std::string::npos) << error;

  ::setenv("ROCKETRPC_LOG_LEVEL", "error", 1);
  EXPECT_TRUE(logLevelFromEnvironment(&error));
  EXPECT_EQ(logLevel(), LogLevel::kError);
}

TEST_F(LogTest, RateLimiterCountsWhatItSuppresses) {
  log::RateLimiter limiter(std::chrono::hours(1));
  EXPECT_TRUE(limiter.allow());
  EXPECT_EQ(limiter.suppressedNote(), "");
  EXPECT_FALSE(limiter.allow());
  EXPECT_FALSE(limiter.allow());
  EXPECT_FALSE(limiter.allow());
  EXPECT_EQ(limiter.suppressedNote(), " (3 similar messages suppressed)");
  EXPECT_EQ(limiter.suppressedNote(), "");
  EXPECT_FALSE(limiter.allow());
  EXPECT_EQ(limiter.suppressedNote(), " (1 similar message suppressed)");
}

TEST_F(LogTest, LimitedLogWritesOnceAndThenCarriesTheCount) {
  setLogLevel(LogLevel::kInfo);
  std::vector<std::string> lines;
  setLogSink([&](LogLevel, std::string_view, std::string_view m) { lines.emplace_back(m); });
  log::RateLimiter limiter(std::chrono::milliseconds(0));  // every call passes: the count stays 0
  RRPC_LOG_LIMITED(limiter, kWarn, "broker", "client {} dropped", "c1");
  log::RateLimiter closed(std::chrono::hours(1));
  for (int i = 0; i < 16; ++i) RRPC_LOG_LIMITED(closed, kWarn, "broker", "client {} dropped", "c2");
  setLogSink(nullptr);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "client c1 dropped");
  EXPECT_EQ(lines[1], "client c2 dropped");
  EXPECT_EQ(closed.suppressedNote(), " (15 similar messages suppressed)");
}

}  // namespace
}  // namespace rocketrpc
