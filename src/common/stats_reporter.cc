#include "common/stats_reporter.h"

#include "common/log.h"

namespace rocketrpc {

void StatsReporter::start(std::chrono::milliseconds interval,
                          std::function<void(const std::string&)> callback,
                          std::function<std::string()> json) {
  if (interval.count() <= 0 || !callback) return;
  std::lock_guard<std::mutex> guard(mu_);
  if (state_ || stopped_) return;
  state_ = std::make_shared<State>();
  thread_ = std::thread([state = state_, interval, callback = std::move(callback), json = std::move(json)] {
    std::unique_lock<std::mutex> lock(state->mu);
    auto next = std::chrono::steady_clock::now() + interval;
    while (!state->cv.wait_until(lock, next, [&] { return state->stopped; })) {
      lock.unlock();
      try {
        callback(json());
      } catch (const std::exception& e) {
        RRPC_LOG(kWarn, "stats", "stats_callback threw: {}", e.what());
      } catch (...) {
        RRPC_LOG(kWarn, "stats", "stats_callback threw a non-std exception");
      }
      lock.lock();
      // Fixed rate; a callback slower than the interval skips the ticks it missed.
      next += interval;
      if (const auto now = std::chrono::steady_clock::now(); next <= now) next = now + interval;
    }
  });
}

StatsReporter::~StatsReporter() { stop(); }

void StatsReporter::stop() {
  std::shared_ptr<State> state;
  std::thread thread;
  {
    // Taken out under mu_ and joined outside it: a callback calling close() reaches here on the thread
    // itself.
    std::lock_guard<std::mutex> guard(mu_);
    if (!state_ || stopped_) return;
    stopped_ = true;
    state = state_;
    thread = std::move(thread_);
  }
  {
    std::lock_guard<std::mutex> lock(state->mu);
    state->stopped = true;
  }
  state->cv.notify_all();
  if (!thread.joinable()) return;
  if (thread.get_id() == std::this_thread::get_id()) {
    thread.detach();  // close() from inside the callback: the loop ends when the callback returns
  } else {
    thread.join();
  }
}

}  // namespace rocketrpc
