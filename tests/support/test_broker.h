// The broker the integration suites run against: one parametrised fixture for every target.
//
//   ROCKETRPC_TEST_NAMESRV=host:port   an external cluster (Apache RocketMQ started by scripts/apache-rocketmq.sh,
//                                      or a rocketrpc-broker someone started): used as is.
//   otherwise ROCKETRPC_TEST_BROKER selects a rocketrpc-broker started for this test process, on 127.0.0.1,
//   port 0, with a fresh store in a temporary directory, stopped and deleted when the process ends:
//     inprocess (default)   broker::BrokerServer inside the test process (sanitizers see broker and client)
//     binary                the rocketrpc-broker executable (ROCKETRPC_BROKER_BIN, else the one built beside
//                           the tests), read "READY host:port" from its stdout
//     none                  no broker: testNamesrv() is empty and integration tests fail with that reason
// It starts lazily, on the first testNamesrv() call, so unit tests never start one.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "broker/broker_config.h"
#include "broker/broker_server.h"
#include "support/subprocess.h"

namespace rocketrpc::testing {

/// Makes a test broker independent of how full the machine's disk is: puts are refused only at 99 % used
/// (diskSpaceWarningLevelRatio, 90 by default) and fresh commit-log segments are removed only at 95 % used
/// (diskMaxUsedSpaceRatio, 75). The disk-full behaviour has tests of its own on a fault-injection filesystem.
void relaxDiskLimits(broker::BrokerConfig& config);
/// The same as rocketrpc-broker arguments (`--set key=value` pairs), for a broker binary started by hand.
std::vector<std::string> relaxedDiskArgs();

/// Name-server address of the broker under test, starting a rocketrpc-broker if the environment asks for one.
/// Empty when none is configured or it failed to start (the reason is printed on stderr).
std::string testBrokerNamesrv();

/// "external", "inprocess", "binary" or "none": what testBrokerNamesrv() uses.
std::string testBrokerMode();

/// The rocketrpc-broker executable: ROCKETRPC_BROKER_BIN, else the build tree's tools/rocketrpc-broker (beside
/// the tests' directory).
std::string brokerBinaryPath();
/// Runs that executable with `args` (e.g. "--port", "0", "--store", dir) and waits up to 60 s for its
/// "READY host:port" line: returns the running process and sets *addr, or nullptr (the reason on stderr).
std::unique_ptr<Subprocess> startBrokerBinary(const std::vector<std::string>& args, std::string* addr);

/// Fixture for tests of rocketrpc-broker itself that need their own in-process broker (a special config, a
/// restart on the same store): 127.0.0.1:0, a store in a fresh temporary directory deleted at the end.
class OwnBrokerTest : public ::testing::Test {
 protected:
  explicit OwnBrokerTest(std::string name);
  void SetUp() override;
  void TearDown() override;
  /// Starts (or starts again, on the same store) the broker with configure() applied; sets addr_.
  void startBroker();
  /// Adjusts the broker's config before each start.
  virtual void configure(broker::BrokerConfig& config) { (void)config; }

  std::filesystem::path dir_;
  std::unique_ptr<broker::BrokerServer> server_;
  std::string addr_;
  broker::BrokerConfig config_;  // as last started

 private:
  std::string name_;
};

}  // namespace rocketrpc::testing
