// Helpers shared by tests: unique names, the name server under test, waiting on conditions.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace rocketrpc::testing {

/// A name unique in this process and across runs: "<prefix>_<pid>_<counter>_<random>".
std::string uniqueName(const std::string& prefix);

/// Name-server address of the cluster under test (env ROCKETRPC_TEST_NAMESRV); empty if unset.
std::string testNamesrv();

/// Polls `cond` every 10 ms until it holds or `timeout` passes. Returns the last value of cond.
bool waitUntil(const std::function<bool()>& cond, std::chrono::milliseconds timeout);

}  // namespace rocketrpc::testing

/// Skips (GTEST_SKIP) when no cluster is configured; integration tests start with it.
#define ROCKETRPC_REQUIRE_CLUSTER()                                                  \
  do {                                                                               \
    if (::rocketrpc::testing::testNamesrv().empty())                                 \
      GTEST_FAIL() << "ROCKETRPC_TEST_NAMESRV is not set (run scripts/run-tests.sh)"; \
  } while (0)
