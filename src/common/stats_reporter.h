// StatsReporter: the thread behind the stats_callback of RpcClient, RpcServer, Producer and PushConsumer.
// After start(), every `interval` it calls `callback(json())`; what the callback throws is logged, never
// propagated. A member of the owner's Impl: started by start(), stopped by close() / shutdown() (a callback
// calling either does not deadlock: its thread is detached and ends once the callback returns). Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace rocketrpc {

class StatsReporter {
 public:
  StatsReporter() = default;
  ~StatsReporter();
  StatsReporter(const StatsReporter&) = delete;
  StatsReporter& operator=(const StatsReporter&) = delete;

  /// Starts the timer; does nothing when `interval` is 0, `callback` is empty, or it was started before.
  void start(std::chrono::milliseconds interval, std::function<void(const std::string&)> callback,
             std::function<std::string()> json);
  /// Stops the timer and waits for a callback running on another thread. Idempotent.
  void stop();

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool stopped = false;  // guarded by mu
  };
  std::mutex mu_;
  std::shared_ptr<State> state_;  // guarded by mu_
  std::thread thread_;            // guarded by mu_
  bool stopped_ = false;          // guarded by mu_
};

}  // namespace rocketrpc
