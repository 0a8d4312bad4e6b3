// Logging hooks of the rocketrpc library. By default messages at kWarn and above go to stderr; the
// environment variable ROCKETRPC_LOG_LEVEL (trace|debug|info|warn|error|off) or setLogLevel() changes
// the threshold, and setLogSink() routes messages elsewhere. Thread-safe.
#pragma once

#include <functional>
#include <string_view>

namespace rocketrpc {

enum class LogLevel { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };

/// Receives every message at or above the current level. Called from library threads; must be thread-safe
/// and must not call back into rocketrpc.
using LogSink = std::function<void(LogLevel level, std::string_view module, std::string_view message)>;

/// Replaces the sink; an empty function restores the stderr sink.
void setLogSink(LogSink sink);
void setLogLevel(LogLevel level);
LogLevel logLevel();

}  // namespace rocketrpc
