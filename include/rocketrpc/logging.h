/// \file
/// Logging hooks of the rocketrpc library. By default messages at kWarn and above go to stderr, one line each:
///
///     2026-12-07T09:15:02.347Z WARN  [12345] [remoting] connection to 127.0.0.1:9876 closed: ...
///     (ISO-8601 UTC time with milliseconds, level, the writing thread's id, module, message)
///
/// The environment variable ROCKETRPC_LOG_LEVEL (trace|debug|info|warn|error|off) or setLogLevel() changes the
/// threshold, and setLogSink() routes messages elsewhere. An invalid ROCKETRPC_LOG_LEVEL is reported once as an
/// ERROR line and the level stays warn; programs that want to refuse it call logLevelFromEnvironment() at start
/// (the rocketrpc and rocketrpc-broker commands exit with status 2). Thread-safe.
#pragma once

#include "rocketrpc/export.h"
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace rocketrpc {

/// Severity of a log message, and the threshold below which messages are dropped (kOff drops all).
enum class LogLevel {
  kTrace = 0,  ///< finest detail (very verbose)
  kDebug,      ///< diagnostic detail
  kInfo,       ///< notable events
  kWarn,       ///< something failed but the library carries on (the default threshold)
  kError,      ///< something failed that the application should look at
  kOff         ///< as a threshold: log nothing
};

/// Receives every message at or above the current level. Called from library threads; must be thread-safe
/// and must not call back into rocketrpc.
using LogSink = std::function<void(LogLevel level, std::string_view module, std::string_view message)>;

/// Replaces the sink; an empty function restores the stderr sink.
ROCKETRPC_API void setLogSink(LogSink sink);
/// Sets the threshold: messages below `level` are dropped (kOff: all). Overrides ROCKETRPC_LOG_LEVEL.
ROCKETRPC_API void setLogLevel(LogLevel level);
/// The current threshold (initially from ROCKETRPC_LOG_LEVEL, else kWarn).
ROCKETRPC_API LogLevel logLevel();

/// "trace", "debug", "info", "warn", "error", "off" (any case) -> the level; anything else -> nullopt.
ROCKETRPC_API std::optional<LogLevel> parseLogLevel(std::string_view name);
/// Checks ROCKETRPC_LOG_LEVEL: true when it is unset or valid; otherwise false with `error` set to a sentence
/// naming the bad value and the accepted ones.
ROCKETRPC_API bool logLevelFromEnvironment(std::string* error);

}  // namespace rocketrpc
