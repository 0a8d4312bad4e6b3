#include "common/batch_scope.h"

#include "common/thread_guard.h"

namespace rocketrpc {

namespace {

struct Wakeup {
  void (*wake)(void*);
  void* target;
};

// A handful of distinct targets per batch (one store, a few pools): a small fixed array, no allocation.
constexpr size_t kMaxDeferred = 16;

struct ThreadBatch {
  bool open = false;
  size_t count = 0;
  Wakeup pending[kMaxDeferred];
};

thread_local ThreadBatch t_batch;

}  // namespace

BatchScope::BatchScope() noexcept : outermost_(!t_batch.open) { t_batch.open = true; }

BatchScope::~BatchScope() {
  if (!outermost_) return;
  // A wake-up may run code that opens a scope of its own: close this one and take its list first.
  t_batch.open = false;
  const size_t count = t_batch.count;
  Wakeup pending[kMaxDeferred];
  for (size_t i = 0; i < count; ++i) pending[i] = t_batch.pending[i];
  t_batch.count = 0;
  for (size_t i = 0; i < count; ++i) {
    const Wakeup w = pending[i];
    runGuarded("deferred wake-up", [&] { w.wake(w.target); });
  }
}

bool BatchScope::defer(void (*wake)(void*), void* target) noexcept {
  ThreadBatch& b = t_batch;
  if (!b.open) return false;
  for (size_t i = 0; i < b.count; ++i) {
    if (b.pending[i].wake == wake && b.pending[i].target == target) return true;
  }
  if (b.count == kMaxDeferred) return false;
  b.pending[b.count++] = Wakeup{wake, target};
  return true;
}

}  // namespace rocketrpc
