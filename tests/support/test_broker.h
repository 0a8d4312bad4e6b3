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

#include <string>

namespace rocketrpc::testing {

/// Name-server address of the broker under test, starting a rocketrpc-broker if the environment asks for one.
/// Empty when none is configured or it failed to start (the reason is printed on stderr).
std::string testBrokerNamesrv();

/// "external", "inprocess", "binary" or "none": what testBrokerNamesrv() uses.
std::string testBrokerMode();

}  // namespace rocketrpc::testing
