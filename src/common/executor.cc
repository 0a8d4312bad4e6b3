#include "common/executor.h"

#include <exception>

#include "common/log.h"
#include "common/thread_guard.h"

namespace rocketrpc {

ThreadPool::ThreadPool(std::string name, int threads) : name_(std::move(name)) {
  if (threads < 1) threads = 1;
  threads_.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

ThreadPool::~ThreadPool() { shutdown(); }

bool ThreadPool::post(std::function<void()> task) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    tasks_.push_back(std::move(task));
    // Busy threads take the task when they finish their current one, and a thread already woken takes every
    // task queued meanwhile: waking another thread would only add a context switch per task under load.
    wake = idle_ > signaled_;
    if (wake) ++signaled_;
  }
  if (wake) cv_.notify_one();
  return true;
}

void ThreadPool::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) {
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();  // shutting down from our own task: cannot join ourselves
    } else {
      t.join();
    }
  }
}

size_t ThreadPool::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tasks_.size();
}

namespace {
thread_local const void* tl_current_pool = nullptr;
}

bool ThreadPool::inPool() const { return tl_current_pool == this; }

void ThreadPool::run() {
  tl_current_pool = this;
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      while (!stopping_ && tasks_.empty()) {
        ++idle_;
        cv_.wait(lock);
        --idle_;
        if (signaled_ > 0) --signaled_;  // a spurious wake-up may take another's signal: post() then sends one more
      }
      if (tasks_.empty()) return;  // stopping and drained
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    runGuarded(name_, task);  // "<pool name> threw ..."
  }
}

Scheduler::Scheduler(std::string name) : name_(std::move(name)), thread_([this] { run(); }) {}

Scheduler::~Scheduler() { shutdown(); }

Scheduler::TaskId Scheduler::schedule(std::chrono::milliseconds delay, std::function<void()> task) {
  return scheduleRepeating(delay, std::chrono::milliseconds(0), std::move(task));
}

Scheduler::TaskId Scheduler::scheduleRepeating(std::chrono::milliseconds initial, std::chrono::milliseconds period,
                                               std::function<void()> task) {
  TaskId id;
  bool earliest;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return 0;
    id = next_id_++;
    auto it = timers_.emplace(std::chrono::steady_clock::now() + initial, Entry{id, period, std::move(task)});
    index_[id] = it;
    // The thread sleeps until the earliest deadline: only a new earliest one needs to wake it (request
    // deadlines, armed per request with one timeout, are almost never the earliest).
    earliest = it == timers_.begin();
  }
  if (earliest) cv_.notify_one();
  return id;
}

void Scheduler::cancel(TaskId id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(id);
  if (it != index_.end()) {
    timers_.erase(it->second);
    index_.erase(it);
  }
  if (running_id_ == id) running_id_ = 0;  // a repeating task being run now is not re-armed
}

void Scheduler::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    timers_.clear();
    index_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }
}

void Scheduler::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (timers_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto due = timers_.begin()->first;
    if (std::chrono::steady_clock::now() < due) {
      cv_.wait_until(lock, due);
      continue;
    }
    Entry entry = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    index_.erase(entry.id);
    running_id_ = entry.id;
    lock.unlock();
    runGuarded(name_, entry.task);
    lock.lock();
    if (entry.period.count() > 0 && running_id_ == entry.id && !stopping_) {
      TaskId id = entry.id;
      auto period = entry.period;
      index_[id] = timers_.emplace(std::chrono::steady_clock::now() + period, Entry{id, period, std::move(entry.task)});
    }
    running_id_ = 0;
  }
}

}  // namespace rocketrpc
