// Library logging through a replaceable sink. Each message names its module ("remoting", "client", ...).
// The default sink writes to stderr at Warn and above (format: include/rocketrpc/logging.h); the level can be
// changed with ROCKETRPC_LOG_LEVEL (trace, debug, info, warn, error, off) or setLogLevel(). Thread-safe.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "rocketrpc/logging.h"

namespace rocketrpc::log {

bool enabled(LogLevel level);
void write(LogLevel level, std::string_view module, std::string_view message);

template <typename... Args>
void logf(LogLevel level, std::string_view module, fmt::format_string<Args...> f, Args&&... args) {
  if (!enabled(level)) return;
  write(level, module, fmt::format(f, std::forward<Args>(args)...));
}

/// Allows one message per interval per call site; used for repeated warnings. Counts what it refuses, so the
/// next message that passes can say how many were dropped (suppressedNote(), or RRPC_LOG_LIMITED).
class RateLimiter {
 public:
  explicit RateLimiter(std::chrono::milliseconds interval) : interval_ms_(interval.count()) {}
  /// True at most once per interval; a refusal is counted.
  bool allow();
  /// " (N similar messages suppressed)" for the refusals since the last call, or "" when none; resets the count.
  std::string suppressedNote();

 private:
  int64_t interval_ms_;
  std::atomic<int64_t> next_ms_{0};
  std::atomic<uint64_t> suppressed_{0};
};

}  // namespace rocketrpc::log

#define RRPC_LOG(level, module, ...) ::rocketrpc::log::logf(::rocketrpc::LogLevel::level, module, __VA_ARGS__)

/// Logs through `limiter` (a log::RateLimiter): at most one line per interval, carrying the count of the lines
/// suppressed since the previous one. `fmt` must be a string literal.
#define RRPC_LOG_LIMITED(limiter, level, module, fmt, ...)                                                    \
  do {                                                                                                        \
    if (::rocketrpc::log::enabled(::rocketrpc::LogLevel::level) && (limiter).allow()) {                       \
      ::rocketrpc::log::logf(::rocketrpc::LogLevel::level, module, fmt "{}", __VA_ARGS__,                     \
                             (limiter).suppressedNote());                                                     \
    }                                                                                                         \
  } while (0)
