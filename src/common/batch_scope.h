// Wake-ups deferred to the end of a batch. An I/O loop decodes every frame one read delivered and dispatches
// each in turn; a handler that hands work to another thread (the store's appender) would wake that thread once
// per request, and the woken thread would often find only the first request of the batch. Inside a BatchScope
// the handler defers the wake-up instead: it runs once, when the scope closes, and the woken thread finds the
// whole batch queued (one group commit, one write per connection). Outside any scope, defer() declines and the
// caller wakes at once. Thread-confined: each thread has its own scope; nothing here locks.
#pragma once

#include <cstddef>

namespace rocketrpc {

class BatchScope {
 public:
  /// Opens a batch on this thread; a scope opened inside another joins it (the outermost one runs the wake-ups).
  BatchScope() noexcept;
  /// Runs the wake-ups deferred in this batch (each distinct one once, in the order first deferred).
  ~BatchScope();
  BatchScope(const BatchScope&) = delete;
  BatchScope& operator=(const BatchScope&) = delete;

  /// Defers `wake(target)` to the end of this thread's open batch; a pair already deferred in it is not added
  /// again. Returns false, deferring nothing, when this thread has no open batch (or too many distinct wake-ups
  /// are pending already): the caller must wake at once. `target` must outlive the batch.
  static bool defer(void (*wake)(void*), void* target) noexcept;

 private:
  bool outermost_;
};

}  // namespace rocketrpc
