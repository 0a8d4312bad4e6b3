// Helpers shared by tests: unique names, the name server under test, waiting on conditions.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace rocketrpc::testing {

/// A name unique in this process and across runs: "<prefix>_<pid>_<counter>_<random>".
std::string uniqueName(const std::string& prefix);

/// Name-server address of the cluster under test: env ROCKETRPC_TEST_NAMESRV, else a rocketrpc-broker started
/// for this process as ROCKETRPC_TEST_BROKER says (support/test_broker.h); empty if none.
std::string testNamesrv();

/// Polls `cond` every 10 ms until it holds or `timeout` passes. Returns the last value of cond.
bool waitUntil(const std::function<bool()>& cond, std::chrono::milliseconds timeout);

}  // namespace rocketrpc::testing

/// Skips (GTEST_SKIP) when no cluster is configured; integration tests start with it.
#define ROCKETRPC_REQUIRE_CLUSTER()                                                  \
  do {                                                                               \
    if (::rocketrpc::testing::testNamesrv().empty())                                 \
      GTEST_FAIL() << "no broker under test: ROCKETRPC_TEST_NAMESRV is unset and no rocketrpc-broker started"; \
  } while (0)
