// ThreadPool: fixed threads running posted tasks (user callbacks and listeners never run on I/O threads).
// Scheduler: one thread running delayed and periodic tasks in deadline order.
// Both are thread-safe; shutdown() is idempotent, stops accepting work, and joins the threads (tasks still
// queued in a ThreadPool are run before it returns; a Scheduler drops pending timers).
//
// shutdown() or the destructor may run on one of the object's own threads (a task dropping the last reference
// to what owns the pool). That thread cannot join itself: shutdown() joins the others and leaves it to the
// destructor, which joins it when run elsewhere and detaches it only when run on it. The threads' state lives in
// a shared block each thread holds, so a detached thread finishing its task never touches freed memory.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
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
  /// Stops accepting tasks, runs the queued ones, joins the threads (except the calling one, if it is ours).
  void shutdown();
  size_t queued() const;
  /// True when called from one of this pool's threads.
  bool inPool() const;

 private:
  struct Shared {
    std::string name;
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::function<void()>> tasks;  // guarded by mu
    int idle = 0;      // guarded by mu: threads waiting for work
    int signaled = 0;  // guarded by mu: of those, already woken by post() and not yet running: a burst of posts
                       // wakes each idle thread once instead of signalling once per task
    bool stopping = false;  // guarded by mu
  };
  static void run(const std::shared_ptr<Shared>& shared);

  const std::shared_ptr<Shared> shared_;
  std::mutex threads_mu_;
  std::vector<std::thread> threads_;  // guarded by threads_mu_
  std::thread own_;                   // guarded by threads_mu_: the thread shutdown() ran on, joined later
};

class Scheduler {
 public:
  explicit Scheduler(std::string name);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  using TaskId = uint64_t;
  /// Runs `task` once after `delay`. Tasks run on the scheduler thread: keep them short or post elsewhere.
  /// Returns 0 (task never run) after shutdown().
  TaskId schedule(std::chrono::milliseconds delay, std::function<void()> task);
  /// Runs `task` after `initial`, then every `period` (measured from the end of each run). 0 after shutdown().
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
  using Timers = std::multimap<std::chrono::steady_clock::time_point, Entry>;
  struct Shared {
    std::string name;
    std::mutex mu;
    std::condition_variable cv;
    Timers timers;                                   // guarded by mu
    std::unordered_map<TaskId, Timers::iterator> index;  // guarded by mu
    TaskId next_id = 1;                              // guarded by mu
    TaskId running_id = 0;                           // guarded by mu
    bool stopping = false;                           // guarded by mu
  };
  static void run(const std::shared_ptr<Shared>& shared);

  const std::shared_ptr<Shared> shared_;
  std::mutex thread_mu_;
  std::thread thread_;  // guarded by thread_mu_; left to the destructor when shutdown() runs on it
};

}  // namespace rocketrpc
