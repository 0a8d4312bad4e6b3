// Names of RocketMQ request codes as the Java RequestCode class spells them (SEND_MESSAGE_V2 for 310), for
// metric labels and log lines. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rocketrpc::remoting {

/// The RequestCode name of `code`, or an empty view when this table does not know it.
std::string_view requestCodeName(int32_t code);

/// requestCodeName(code), or "CODE_<code>" for a code the table does not know.
std::string requestCodeLabel(int32_t code);

}  // namespace rocketrpc::remoting
