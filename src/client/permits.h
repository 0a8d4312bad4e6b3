// Permits: the cap on a client's asynchronous sends and requests in flight (Java's semaphoreAsyncSendNum /
// clientAsyncSemaphoreValue). A call takes one permit before it starts and gives it back when it completes;
// with none left it waits up to its wait time, then fails with OverLimit. close() wakes every waiter (Closed).
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>

#include "common/status.h"

namespace rocketrpc::client {

class Permits {
 public:
  /// `max` permits; `name` names the option in the OverLimit message.
  Permits(size_t max, std::string name) : max_(max), name_(std::move(name)) {}

  /// Takes a permit: OK; OverLimit when none frees up within `wait` (0: at once); Closed after close().
  Status acquire(std::chrono::milliseconds wait) {
    std::unique_lock<std::mutex> lock(mu_);
    auto available = [this] { return closed_ || used_ < max_; };
    if (!available() && wait.count() > 0) cv_.wait_for(lock, wait, available);
    if (closed_) return Status::closed("client is shut down");
    if (used_ >= max_) {
      return Status::overLimit(std::to_string(max_) + " asynchronous sends and requests are already in flight (" +
                               name_ + ")" +
                               (wait.count() > 0 ? ", none completed within " + std::to_string(wait.count()) + " ms"
                                                 : std::string()));
    }
    ++used_;
    return Status::ok();
  }

  /// Gives back a permit taken by acquire().
  void release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (used_ > 0) --used_;
    }
    cv_.notify_one();
  }

  /// Refuses later acquire() calls and wakes the waiting ones with Closed. Permits held are still released.
  void close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }

  size_t inUse() const {
    std::lock_guard<std::mutex> lock(mu_);
    return used_;
  }

 private:
  const size_t max_;
  const std::string name_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  size_t used_ = 0;      // guarded by mu_
  bool closed_ = false;  // guarded by mu_
};

}  // namespace rocketrpc::client
