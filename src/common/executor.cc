#include "common/executor.h"

#include <exception>

#include "common/log.h"
#include "common/thread_guard.h"

namespace rocketrpc {

namespace {
thread_local const void* tl_current_pool = nullptr;
}

ThreadPool::ThreadPool(std::string name, int threads) : shared_(std::make_shared<Shared>()) {
  shared_->name = std::move(name);
  if (threads < 1) threads = 1;
  threads_.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) threads_.emplace_back([shared = shared_] { run(shared); });
}

ThreadPool::~ThreadPool() {
  shutdown();
  std::lock_guard<std::mutex> lock(threads_mu_);
  if (own_.joinable()) {
    // Destroyed on that very thread (its task dropped the last reference): it holds the shared block and
    // leaves the loop once its task returns.
    if (own_.get_id() == std::this_thread::get_id()) {
      own_.detach();
    } else {
      own_.join();
    }
  }
}

bool ThreadPool::post(std::function<void()> task) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    if (shared_->stopping) return false;
    shared_->tasks.push_back(std::move(task));
    // Busy threads take the task when they finish their current one, and a thread already woken takes every
    // task queued meanwhile: waking another thread would only add a context switch per task under load.
    wake = shared_->idle > shared_->signaled;
    if (wake) ++shared_->signaled;
  }
  if (wake) shared_->cv.notify_one();
  return true;
}

void ThreadPool::shutdown() {
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->stopping = true;
  }
  shared_->cv.notify_all();
  std::lock_guard<std::mutex> lock(threads_mu_);
  for (auto& t : threads_) {
    if (t.get_id() == std::this_thread::get_id()) {
      own_ = std::move(t);  // cannot join ourselves: the destructor does (or detaches when run here)
    } else {
      t.join();
    }
  }
  threads_.clear();
}

size_t ThreadPool::queued() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->tasks.size();
}

bool ThreadPool::inPool() const { return tl_current_pool == shared_.get(); }

void ThreadPool::run(const std::shared_ptr<Shared>& shared) {
  tl_current_pool = shared.get();
  Shared& s = *shared;
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(s.mu);
      while (!s.stopping && s.tasks.empty()) {
        ++s.idle;
        s.cv.wait(lock);
        --s.idle;
        if (s.signaled > 0) --s.signaled;  // a spurious wake-up may take another's signal: post() sends one more
      }
      if (s.tasks.empty()) return;  // stopping and drained
      task = std::move(s.tasks.front());
      s.tasks.pop_front();
    }
    runGuarded(s.name, task);  // "<pool name> threw ..."
  }
}

Scheduler::Scheduler(std::string name) : shared_(std::make_shared<Shared>()) {
  shared_->name = std::move(name);
  thread_ = std::thread([shared = shared_] { run(shared); });
}

Scheduler::~Scheduler() {
  shutdown();
  std::lock_guard<std::mutex> lock(thread_mu_);
  if (thread_.joinable()) {
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();  // destroyed by our own task: the thread holds the shared block and exits after it
    } else {
      thread_.join();
    }
  }
}

Scheduler::TaskId Scheduler::schedule(std::chrono::milliseconds delay, std::function<void()> task) {
  return scheduleRepeating(delay, std::chrono::milliseconds(0), std::move(task));
}

Scheduler::TaskId Scheduler::scheduleRepeating(std::chrono::milliseconds initial, std::chrono::milliseconds period,
                                               std::function<void()> task) {
  Shared& s = *shared_;
  TaskId id;
  bool earliest;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.stopping) return 0;
    id = s.next_id++;
    auto it = s.timers.emplace(std::chrono::steady_clock::now() + initial, Entry{id, period, std::move(task)});
    s.index[id] = it;
    // The thread sleeps until the earliest deadline: only a new earliest one needs to wake it (request
    // deadlines, armed per request with one timeout, are almost never the earliest).
    earliest = it == s.timers.begin();
  }
  if (earliest) s.cv.notify_one();
  return id;
}

void Scheduler::cancel(TaskId id) {
  Shared& s = *shared_;
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.index.find(id);
  if (it != s.index.end()) {
    s.timers.erase(it->second);
    s.index.erase(it);
  }
  if (s.running_id == id) s.running_id = 0;  // a repeating task being run now is not re-armed
}

void Scheduler::shutdown() {
  Timers dropped;  // destroyed outside the lock: a task's captures may run code (e.g. release a client)
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->stopping = true;
    dropped.swap(shared_->timers);
    shared_->index.clear();
  }
  shared_->cv.notify_all();
  std::lock_guard<std::mutex> lock(thread_mu_);
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Scheduler::run(const std::shared_ptr<Shared>& shared) {
  Shared& s = *shared;
  std::unique_lock<std::mutex> lock(s.mu);
  while (!s.stopping) {
    if (s.timers.empty()) {
      s.cv.wait(lock);
      continue;
    }
    auto due = s.timers.begin()->first;
    if (std::chrono::steady_clock::now() < due) {
      s.cv.wait_until(lock, due);
      continue;
    }
    Entry entry = std::move(s.timers.begin()->second);
    s.timers.erase(s.timers.begin());
    s.index.erase(entry.id);
    s.running_id = entry.id;
    lock.unlock();
    runGuarded(s.name, entry.task);
    lock.lock();
    if (entry.period.count() > 0 && s.running_id == entry.id && !s.stopping) {
      TaskId id = entry.id;
      auto period = entry.period;
      s.index[id] = s.timers.emplace(std::chrono::steady_clock::now() + period, Entry{id, period, std::move(entry.task)});
    }
    s.running_id = 0;
  }
}

}  // namespace rocketrpc
