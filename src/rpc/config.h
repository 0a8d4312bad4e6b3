// Validation helpers shared by the options' validate() and the YAML loader (rpc_options.h).
#pragma once

#include <string>

#include "rocketrpc/rpc_options.h"

namespace rocketrpc::rpc {

/// "" when `addr` is "host:port[;host:port...]" with ports 1..65535, else the reason.
std::string checkBrokerUrl(const std::string& addr);
/// "" when `name` matches [%|a-zA-Z0-9_-]{1,max_len}, else the reason.
std::string checkResourceName(const std::string& name, size_t max_len);

/// Default producer group of a client of `topic`, and default consumer group of servers of `topic`.
std::string defaultProducerGroup(const std::string& topic);
std::string defaultConsumerGroup(const std::string& topic);

}  // namespace rocketrpc::rpc
