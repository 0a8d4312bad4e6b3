// Instance names for clients that did not configure one: unique per process and per call, so that two
// clients of one process never share a ClientInstance (client id = ip@instance) by accident.
#pragma once

#include <string>
#include <string_view>

namespace rocketrpc {

/// "<role>_<pid>_<counter>_<8 random hex digits>", e.g. "rpc_client_4711_0_9f3a01bc".
std::string uniqueInstanceName(std::string_view role);

}  // namespace rocketrpc
