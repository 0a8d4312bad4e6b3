// RequestFutureTable: correlation id -> pending request of this client instance (RIP-16 request-reply).
// Each entry completes exactly once: with the reply pushed by a broker, with a send failure, with a timeout
// when its deadline passes, or with Closed on shutdown. Deadlines live in one ordered set per table with a single
// scheduler task armed at the earliest one: no timer (and no copy of the id) per request in flight. Completions run on the callback pool,
// never on an I/O thread and never while the table's lock is held. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "common/executor.h"
#include "common/status.h"
#include "rocketrpc/message.h"

namespace rocketrpc::client {

using RequestDone = std::function<void(Result<MessageExt>)>;

class RequestFutureTable {
 public:
  RequestFutureTable(ThreadPool* pool, Scheduler* scheduler);

  /// Registers `correlation_id` with a deadline `timeout` from now. OverLimit when `max_pending` entries exist;
  /// Closed after failAll() or once the scheduler has stopped (an entry without a deadline timer would never
  /// time out, and its waiter would block for ever).
  /// With `inline_done` the completion runs on the completing thread (I/O, scheduler or caller): only for
  /// completions that merely wake a waiting thread.
  /// `owner` tags the entry for failOwned() (the producer that made the request).
  /// `done` is moved from only when the entry is registered: on an error the caller still holds it.
  Status add(const std::string& correlation_id, std::chrono::milliseconds timeout, std::string topic,
             size_t max_pending, RequestDone&& done, bool inline_done = false, const void* owner = nullptr);
  /// The request was sent (a later timeout reports "sent, no reply"). Returns false if already completed.
  bool markSent(const std::string& correlation_id);
  /// Completes with the reply; false when the id is unknown (late or foreign reply).
  bool completeWithReply(const std::string& correlation_id, MessageExt reply);
  /// Completes with an error (e.g. send failure); false when unknown.
  bool fail(const std::string& correlation_id, Status status);
  /// Fails the entries added with `owner` (a producer shutting down while its instance lives on).
  void failOwned(const void* owner, const Status& status);
  /// Fails every entry with `status` and refuses later add() calls with it (the instance is shutting down).
  void failAll(const Status& status);
  size_t size() const;
  /// Replies that matched nothing (late or unknown), for stats.
  uint64_t unmatchedReplies() const { return unmatched_.load(); }

 private:
  using Clock = std::chrono::steady_clock;
  /// Deadline -> correlation id (a pointer to the key in entries_, stable until that entry is erased).
  using Deadlines = std::set<std::pair<Clock::time_point, const std::string*>>;
  struct Entry {
    RequestDone done;
    std::string topic;
    std::chrono::milliseconds timeout;
    std::chrono::steady_clock::time_point start;
    bool sent = false;
    bool inline_done = false;
    Deadlines::iterator deadline;
    const void* owner = nullptr;
  };
  /// Under mu_: schedules onTimer() at the earliest deadline unless a task already fires by then. False when
  /// the scheduler has stopped.
  bool armLocked(Clock::time_point now);
  /// Scheduler thread: times out every entry whose deadline passed, arms the next.
  void onTimer();
  /// Under mu_: removes `it` (and its deadline) from the table and returns its entry.
  std::shared_ptr<Entry> takeLocked(std::unordered_map<std::string, std::shared_ptr<Entry>>::iterator it);
  void finish(std::shared_ptr<Entry> entry, Result<MessageExt> result);

  ThreadPool* pool_;
  Scheduler* scheduler_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Entry>> entries_;  // guarded by mu_
  bool closed_ = false;                                               // guarded by mu_
  Deadlines deadlines_;                                               // guarded by mu_
  uint64_t armed_id_ = 0;               // guarded by mu_: the scheduler task armed at armed_at_, 0: none
  Clock::time_point armed_at_;          // guarded by mu_
  Status closed_status_;                                              // guarded by mu_
  std::atomic<uint64_t> unmatched_{0};
};

}  // namespace rocketrpc::client
