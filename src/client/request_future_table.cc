#include "client/request_future_table.h"

#include <vector>

#include "common/log.h"

namespace rocketrpc::client {

RequestFutureTable::RequestFutureTable(ThreadPool* pool, Scheduler* scheduler) : pool_(pool), scheduler_(scheduler) {}

Status RequestFutureTable::add(const std::string& correlation_id, std::chrono::milliseconds timeout,
                               std::string topic, size_t max_pending, RequestDone&& done, bool inline_done,
                               const void* owner) {
  auto entry = std::make_shared<Entry>();
  entry->inline_done = inline_done;
  entry->owner = owner;
  entry->topic = std::move(topic);
  entry->timeout = timeout;
  entry->start = Clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return closed_status_;
  if (entries_.size() >= max_pending) {
    return Status::overLimit("too many requests awaiting replies (max " + std::to_string(max_pending) + ")");
  }
  auto [it, inserted] = entries_.emplace(correlation_id, entry);
  if (!inserted) return Status::invalidArgument("duplicate correlation id " + correlation_id);
  entry->done = std::move(done);
  entry->deadline = deadlines_.emplace(entry->start + timeout, &it->first).first;
  if (!armLocked(entry->start)) {  // the scheduler has stopped: the instance is shutting down
    done = std::move(takeLocked(it)->done);  // back to the caller, who reports the error
    return Status::closed("client is shutting down");
  }
  return Status::ok();
}

bool RequestFutureTable::armLocked(Clock::time_point now) {
  if (deadlines_.empty()) return true;
  const auto earliest = deadlines_.begin()->first;
  if (armed_id_ != 0 && armed_at_ <= earliest) return true;
  if (armed_id_ != 0) scheduler_->cancel(armed_id_);
  auto delay = std::chrono::ceil<std::chrono::milliseconds>(earliest - now);
  if (delay.count() < 0) delay = std::chrono::milliseconds(0);
  armed_id_ = scheduler_->schedule(delay, [this] { onTimer(); });
  armed_at_ = earliest;
  return armed_id_ != 0;
}

std::shared_ptr<RequestFutureTable::Entry> RequestFutureTable::takeLocked(
    std::unordered_map<std::string, std::shared_ptr<Entry>>::iterator it) {
  std::shared_ptr<Entry> entry = std::move(it->second);
  deadlines_.erase(entry->deadline);
  entries_.erase(it);
  return entry;
}

bool RequestFutureTable::markSent(const std::string& correlation_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(correlation_id);
  if (it == entries_.end()) return false;
  it->second->sent = true;
  return true;
}

bool RequestFutureTable::completeWithReply(const std::string& correlation_id, MessageExt reply) {
  std::shared_ptr<Entry> entry;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(correlation_id);
    if (it == entries_.end()) {
      unmatched_.fetch_add(1);
      return false;
    }
    entry = takeLocked(it);
  }
  finish(std::move(entry), std::move(reply));
  return true;
}

bool RequestFutureTable::fail(const std::string& correlation_id, Status status) {
  std::shared_ptr<Entry> entry;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(correlation_id);
    if (it == entries_.end()) return false;
    entry = takeLocked(it);
  }
  finish(std::move(entry), std::move(status));
  return true;
}

void RequestFutureTable::failOwned(const void* owner, const Status& status) {
  std::vector<std::shared_ptr<Entry>> mine;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      auto next = std::next(it);
      if (it->second->owner == owner) mine.push_back(takeLocked(it));
      it = next;
    }
  }
  for (auto& entry : mine) finish(std::move(entry), status);
}

void RequestFutureTable::failAll(const Status& status) {
  std::unordered_map<std::string, std::shared_ptr<Entry>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    closed_status_ = status;
    deadlines_.clear();
    all.swap(entries_);
    if (armed_id_ != 0) scheduler_->cancel(armed_id_);
    armed_id_ = 0;
  }
  for (auto& [id, entry] : all) finish(std::move(entry), status);
}

size_t RequestFutureTable::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

void RequestFutureTable::onTimer() {
  std::vector<std::shared_ptr<Entry>> expired;
  const auto now = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    armed_id_ = 0;
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      auto it = entries_.find(*deadlines_.begin()->second);
      expired.push_back(takeLocked(it));
    }
    armLocked(now);  // a stopped scheduler: failAll() follows at the instance's shutdown
  }
  for (auto& entry : expired) {
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - entry->start);
    std::string what = entry->sent ? "send request message to " + entry->topic +
                                         " OK, but wait reply message timeout, " + std::to_string(waited.count()) +
                                         " ms"
                                   : "request to " + entry->topic + " timed out after " +
                                         std::to_string(waited.count()) + " ms before the send completed";
    finish(std::move(entry), Status::timeout(std::move(what)));
  }
}

void RequestFutureTable::finish(std::shared_ptr<Entry> entry, Result<MessageExt> result) {
  if (entry->inline_done) {
    entry->done(std::move(result));
    return;
  }
  auto task = [entry, result = std::move(result)]() mutable { entry->done(std::move(result)); };
  if (!pool_->post(task)) {
    // Pool already stopped (shutdown in progress): complete inline so nobody waits forever.
    task();
  }
}

}  // namespace rocketrpc::client
