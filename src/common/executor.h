// ThreadPool: fixed threads running posted tasks (user callbacks and listeners never run on I/O threads).
// Scheduler: one thread running delayed and periodic tasks in deadline order.
// Both are thread-safe; shutdown() is idempotent, stops accepting work, and joins the threads (tasks still
// queued in a ThreadPool are run before it returns; a Scheduler drops pending timers).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <unordered_map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rocketrpc {

class ThreadPool {
 public:
  ThreadPool(std::string name, int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  /// Queues `task`. Returns false (task not run) after shutdown(). Exceptions thrown by tasks are logged.
  bool post(std::function<void()> task);
  void shutdown();
  size_t queued() const;
  /// True when called from one of this pool's threads.
  bool inPool() const;

 private:
  void run();
  std::string name_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  int idle_ = 0;      // threads waiting for work
  int signaled_ = 0;  // of those, already woken by post() and not yet running: a burst of posts wakes each
                      // idle thread once instead of signalling once per task
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

class Scheduler {
 public:
  explicit Scheduler(std::string name);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  using TaskId = uint64_t;
  /// Runs `task` once after `delay`. Tasks run on the scheduler thread: keep them short or post elsewhere.
  TaskId schedule(std::chrono::milliseconds delay, std::function<void()> task);
  /// Runs `task` after `initial`, then every `period` (measured from the end of each run).
  TaskId scheduleRepeating(std::chrono::milliseconds initial, std::chrono::milliseconds period,
                           std::function<void()> task);
  void cancel(TaskId id);
  void shutdown();

 private:
  struct Entry {
    TaskId id;
    std::chrono::milliseconds period;
    std::function<void()> task;
  };
  void run();
  std::string name_;
  std::mutex mu_;
  std::condition_variable cv_;
  using Timers = std::multimap<std::chrono::steady_clock::time_point, Entry>;
  Timers timers_;
  std::unordered_map<TaskId, Timers::iterator> index_;
  TaskId next_id_ = 1;
  TaskId running_id_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace rocketrpc
