// The last line of defence of every long-lived thread and task loop (I/O handlers, worker pools, timers, the
// store's service threads): an exception that reaches it is logged, counted and swallowed, so the loop goes on
// serving instead of std::terminate taking the process down. Reaching it is always a bug to fix (values, not
// exceptions, are the house style inside); the count is exported (rocketrpc_broker_caught_exceptions_total) so
// that a test or an operator sees it happened. Thread-safe.
#pragma once

#include <cstdint>
#include <exception>
#include <string_view>

namespace rocketrpc {

/// Logs `what` (an exception caught in `where`) at error level and counts it.
void noteCaughtException(std::string_view where, std::string_view what);
/// Exceptions noted since the process started.
uint64_t caughtExceptionCount();

/// Runs `f`; an exception it throws is noted (noteCaughtException) and swallowed. Returns false when it threw.
template <typename F>
bool runGuarded(std::string_view where, F&& f) noexcept {
  try {
    f();
    return true;
  } catch (const std::exception& e) {
    noteCaughtException(where, e.what());
  } catch (...) {
    noteCaughtException(where, "a non-std exception");
  }
  return false;
}

}  // namespace rocketrpc
