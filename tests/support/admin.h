// Minimal admin calls for tests, spoken over the real protocol: create a topic on every broker of the
// cluster (UPDATE_AND_CREATE_TOPIC, through client::AdminClient) and wait until the name server routes it;
// store one message.
#pragma once

#include <string>

#include "common/status.h"

namespace rocketrpc::testing {

/// Creates `topic` with `queues` read/write queues on every master of every cluster known to `namesrv`, then
/// waits (up to 60 s) until the name server's route lists all of them. Returns the number of brokers.
Result<int> createTopicOnAllBrokers(const std::string& namesrv, const std::string& topic, int queues);

/// Sends one message with a plain Producer (a new group), which also creates the topic from TBW102 when the
/// broker auto-creates topics. OK when the broker stored it (SEND_OK); the error otherwise.
Status sendOneMessage(const std::string& namesrv, const std::string& topic, const std::string& body);

}  // namespace rocketrpc::testing
