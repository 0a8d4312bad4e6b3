// Minimal admin calls for tests, spoken over the real protocol: create a topic on every broker of the
// cluster (UPDATE_AND_CREATE_TOPIC, through client::AdminClient) and wait until the name server routes it.
#pragma once

#include <string>

#include "common/status.h"

namespace rocketrpc::testing {

/// Creates `topic` with `queues` read/write queues on every master of every cluster known to `namesrv`, then
/// waits (up to 60 s) until the name server's route lists all of them. Returns the number of brokers.
Result<int> createTopicOnAllBrokers(const std::string& namesrv, const std::string& topic, int queues);

}  // namespace rocketrpc::testing
