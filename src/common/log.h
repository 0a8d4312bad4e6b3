// Library logging through a replaceable sink. Each message names its module ("remoting", "client", ...).
// The default sink writes to stderr at Warn and above; the level can be raised with ROCKETRPC_LOG_LEVEL
// (trace, debug, info, warn, error, off) or setLogLevel(). Thread-safe.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <chrono>
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

/// Allows one message per interval per call site; used for hot-path warnings.
class RateLimiter {
 public:
  explicit RateLimiter(std::chrono::milliseconds interval) : interval_ms_(interval.count()) {}
  bool allow();

 private:
  int64_t interval_ms_;
  std::atomic<int64_t> next_ms_{0};
};

}  // namespace rocketrpc::log

#define RRPC_LOG(level, module, ...) ::rocketrpc::log::logf(::rocketrpc::LogLevel::level, module, __VA_ARGS__)
