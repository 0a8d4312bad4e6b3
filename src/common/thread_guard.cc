#include "common/thread_guard.h"

#include <atomic>

#include "common/log.h"

namespace rocketrpc {

namespace {
std::atomic<uint64_t> g_caught{0};
}  // namespace

void noteCaughtException(std::string_view where, std::string_view what) {
  g_caught.fetch_add(1, std::memory_order_relaxed);
  RRPC_LOG(kError, "guard", "{} threw (caught, going on): {}", where, what);
}

uint64_t caughtExceptionCount() { return g_caught.load(std::memory_order_relaxed); }

}  // namespace rocketrpc
