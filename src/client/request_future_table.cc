#include "client/request_future_table.h"

#include <vector>

#include "common/log.h"

namespace rocketrpc::client {

RequestFutureTable::RequestFutureTable(ThreadPool* pool, Scheduler* scheduler) : pool_(pool), scheduler_(scheduler) {}

Status RequestFutureTable::add(const std::string& correlation_id, std::chrono::milliseconds timeout,
                               std::string topic, size_t max_pending, RequestDone done, bool inline_done,
                               const void* owner) {
  auto entry = std::make_shared<Entry>();
  entry->inline_done = inline_done;
  entry->owner = owner;
  entry->done = std::move(done);
  entry->topic = std::move(topic);
  entry->timeout = timeout;
  entry->start = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return closed_status_;
    if (entries_.size() >= max_pending) {
      return Status::overLimit("too many requests awaiting replies (max " + std::to_string(max_pending) + ")");
    }
    if (!entries_.emplace(correlation_id, entry).second) {
      return Status::invalidArgument("duplicate correlation id " + correlation_id);
    }
    // Armed under the lock so that a concurrent completion cannot miss the timer id.
    entry->timer = scheduler_->schedule(timeout, [this, correlation_id] { onTimeout(correlation_id); });
    if (entry->timer == 0) {  // the scheduler has stopped: the instance is shutting down
      entries_.erase(correlation_id);
      return Status::closed("client is shutting down");
    }
  }
  return Status::ok();
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
    entry = std::move(it->second);
    entries_.erase(it);
  }
  scheduler_->cancel(entry->timer);
  finish(std::move(entry), std::move(reply));
  return true;
}

bool RequestFutureTable::fail(const std::string& correlation_id, Status status) {
  std::shared_ptr<Entry> entry;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(correlation_id);
    if (it == entries_.end()) return false;
    entry = std::move(it->second);
    entries_.erase(it);
  }
  scheduler_->cancel(entry->timer);
  finish(std::move(entry), std::move(status));
  return true;
}

void RequestFutureTable::failOwned(const void* owner, const Status& status) {
  std::vector<std::shared_ptr<Entry>> mine;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second->owner == owner) {
        mine.push_back(std::move(it->second));
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& entry : mine) {
    scheduler_->cancel(entry->timer);
    finish(std::move(entry), status);
  }
}

void RequestFutureTable::failAll(const Status& status) {
  std::unordered_map<std::string, std::shared_ptr<Entry>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    closed_status_ = status;
    all.swap(entries_);
  }
  for (auto& [id, entry] : all) {
    scheduler_->cancel(entry->timer);
    finish(std::move(entry), status);
  }
}

size_t RequestFutureTable::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

void RequestFutureTable::onTimeout(const std::string& correlation_id) {
  std::shared_ptr<Entry> entry;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(correlation_id);
    if (it == entries_.end()) return;
    entry = std::move(it->second);
    entries_.erase(it);
  }
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - entry->start);
  std::string what = entry->sent ? "send request message to " + entry->topic +
                                       " OK, but wait reply message timeout, " + std::to_string(waited.count()) +
                                       " ms"
                                 : "request to " + entry->topic + " timed out after " +
                                       std::to_string(waited.count()) + " ms before the send completed";
  finish(std::move(entry), Status::timeout(std::move(what)));
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
