// Address lists as RocketMQ configures them: "host:port;host:port" (name servers).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rocketrpc {

/// Splits a ';'-separated address list, trimming blanks around each entry and dropping empty entries.
std::vector<std::string> splitAddressList(std::string_view list);

}  // namespace rocketrpc
