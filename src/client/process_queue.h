// ProcessQueue: the consumer-side snapshot of one assigned message queue (Java's ProcessQueue): the messages
// pulled but not yet consumed, ordered by queue offset, plus the state the pull loop, the consume services
// and rebalance share (dropped, broker lock, timestamps).
//
// Offsets: removeMessages() returns the offset to commit, i.e. the smallest offset still cached, or the
// largest offset ever cached + 1 when nothing is left. Orderly consumption moves messages to a "consuming"
// set with takeMessages() and then commit()s or makeMessagesToConsumeAgain()s them.
//
// Created by rebalance, shared (shared_ptr) by the pull loop and consume tasks; dropped when the queue is no
// longer assigned. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "rocketrpc/message.h"

namespace rocketrpc::client {

/// A mutex with a bounded try-lock (TimedLockable), built on std::mutex + condition_variable: ThreadSanitizer
/// does not follow std::timed_mutex (pthread_mutex_clocklock) and reports false errors. Thread-safe.
class TimedMutex {
 public:
  void lock() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !locked_; });
    locked_ = true;
  }
  bool try_lock() {
    std::lock_guard<std::mutex> lock(mu_);
    if (locked_) return false;
    locked_ = true;
    return true;
  }
  template <typename Rep, typename Period>
  bool try_lock_for(const std::chrono::duration<Rep, Period>& timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [this] { return !locked_; })) return false;
    locked_ = true;
    return true;
  }
  void unlock() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      locked_ = false;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool locked_ = false;  // guarded by mu_
};

class ProcessQueue {
 public:
  using Clock = std::chrono::steady_clock;
  /// A broker lock is trusted this long after it was (re)acquired (broker-side expiry is 60 s).
  static constexpr std::chrono::milliseconds kLockMaxLiveTime{30000};
  /// A queue whose pull loop has been silent this long is considered stuck and is re-created by rebalance.
  static constexpr std::chrono::milliseconds kPullMaxIdleTime{120000};

  ProcessQueue();
  ProcessQueue(const ProcessQueue&) = delete;
  ProcessQueue& operator=(const ProcessQueue&) = delete;

  /// Caches pulled messages (duplicates by offset are ignored). Returns true when an orderly consume task
  /// should be dispatched (there are messages and no task is consuming; the queue is then marked consuming).
  bool putMessages(const std::vector<MessageExt>& msgs);
  /// Removes consumed messages. Returns the offset to commit, or -1 when nothing was cached.
  int64_t removeMessages(const std::vector<MessageExt>& msgs);

  /// Orderly: moves up to `batch` messages (lowest offsets) into the consuming set. An empty result clears
  /// the consuming mark.
  std::vector<MessageExt> takeMessages(size_t batch);
  /// Orderly: forgets the consuming set; returns its last offset + 1, or -1 when it was empty.
  int64_t commit();
  /// Orderly: puts `msgs` (possibly updated, e.g. reconsume times) back from the consuming set into the
  /// cache.
  void makeMessagesToConsumeAgain(const std::vector<MessageExt>& msgs);
  /// Orderly: puts the whole consuming set back into the cache.
  void rollback();
  /// Drops every cached message.
  void clear();

  /// Messages cached (including the orderly consuming set) and their total body bytes.
  size_t cachedCount() const;
  size_t cachedBytes() const;
  /// Largest minus smallest cached offset (0 when empty), excluding the consuming set.
  int64_t maxSpan() const;
  /// Smallest / largest cached offset, -1 when empty (excluding the consuming set).
  int64_t minCachedOffset() const;
  int64_t maxCachedOffset() const;
  bool hasCachedMessages() const;
  /// Messages the broker holds beyond the last pulled one (MAX_OFFSET - last offset), for stats.
  int64_t accumulatedCount() const { return acc_count_.load(); }

  bool dropped() const { return dropped_.load(); }
  void setDropped(bool dropped) { dropped_.store(dropped); }

  bool locked() const { return locked_.load(); }
  /// Marks the broker lock as held (refreshing the lock time) or lost.
  void setLocked(bool locked, Clock::time_point now = Clock::now());
  bool lockExpired(Clock::time_point now = Clock::now()) const;

  void setLastPullTime(Clock::time_point t) { last_pull_.store(t.time_since_epoch().count()); }
  bool pullExpired(Clock::time_point now = Clock::now()) const;
  Clock::time_point lastConsumeTime() const {
    return Clock::time_point(Clock::duration(last_consume_.load()));
  }

  /// Orderly: held while the listener runs on this queue; rebalance try-locks it before unlocking the broker
  /// lock.
  TimedMutex& consumeMutex() { return consume_mu_; }
  /// Orderly: serialises the consume tasks of this queue (one thread at a time).
  std::mutex& serialMutex() { return serial_mu_; }

 private:
  mutable std::mutex mu_;
  std::map<int64_t, MessageExt> msgs_;       // guarded by mu_
  std::map<int64_t, MessageExt> consuming_;  // guarded by mu_ (orderly only)
  size_t count_ = 0;                         // guarded by mu_: msgs_ + consuming_
  size_t bytes_ = 0;                         // guarded by mu_
  int64_t queue_offset_max_ = 0;             // guarded by mu_
  bool consuming_flag_ = false;              // guarded by mu_

  std::atomic<int64_t> acc_count_{0};
  std::atomic<bool> dropped_{false};
  std::atomic<bool> locked_{false};
  std::atomic<Clock::rep> last_lock_;
  std::atomic<Clock::rep> last_pull_;
  std::atomic<Clock::rep> last_consume_;

  TimedMutex consume_mu_;
  std::mutex serial_mu_;
};

}  // namespace rocketrpc::client
