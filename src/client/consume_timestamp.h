// The consume timestamp of PushConsumerOptions (Java's consumeTimestamp): "yyyyMMddHHmmss" in UTC.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rocketrpc::client {

/// "yyyyMMddHHmmss" (UTC) <-> ms since the epoch. Parsing: InvalidArgument on anything else.
Result<int64_t> parseConsumeTimestamp(std::string_view text);
std::string formatConsumeTimestamp(int64_t ms);

}  // namespace rocketrpc::client
