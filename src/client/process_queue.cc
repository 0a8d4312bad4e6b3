#include "client/process_queue.h"

#include <algorithm>
#include <charconv>
#include <string>

namespace rocketrpc::client {

namespace {
int64_t parseLong(const std::string& text, int64_t fallback) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  return ec == std::errc() && p == text.data() + text.size() ? v : fallback;
}
}  // namespace

ProcessQueue::ProcessQueue() {
  auto now = Clock::now().time_since_epoch().count();
  last_lock_.store(now);
  last_pull_.store(now);
  last_consume_.store(now);
}

bool ProcessQueue::putMessages(const std::vector<MessageExt>& msgs) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& msg : msgs) {
    auto [it, inserted] = msgs_.emplace(msg.queueOffset(), msg);
    if (!inserted) continue;
    ++count_;
    bytes_ += msg.body().size();
    queue_offset_max_ = msg.queueOffset();
  }
  bool dispatch = false;
  if (!msgs_.empty() && !consuming_flag_) {
    dispatch = true;
    consuming_flag_ = true;
  }
  if (!msgs.empty()) {
    const auto& last = msgs.back();
    int64_t max = parseLong(last.getProperty(property::kMaxOffset), -1);
    if (max >= 0 && max - last.queueOffset() > 0) acc_count_.store(max - last.queueOffset());
  }
  return dispatch;
}

int64_t ProcessQueue::removeMessages(const std::vector<MessageExt>& msgs) {
  std::lock_guard<std::mutex> lock(mu_);
  last_consume_.store(Clock::now().time_since_epoch().count());
  if (msgs_.empty()) return -1;
  int64_t result = queue_offset_max_ + 1;
  for (const auto& msg : msgs) {
    auto it = msgs_.find(msg.queueOffset());
    if (it == msgs_.end()) continue;
    bytes_ -= std::min(bytes_, it->second.body().size());
    --count_;
    msgs_.erase(it);
  }
  if (count_ == 0) bytes_ = 0;
  if (!msgs_.empty()) result = msgs_.begin()->first;
  return result;
}

std::vector<MessageExt> ProcessQueue::takeMessages(size_t batch) {
  std::vector<MessageExt> out;
  std::lock_guard<std::mutex> lock(mu_);
  last_consume_.store(Clock::now().time_since_epoch().count());
  while (out.size() < batch && !msgs_.empty()) {
    auto node = msgs_.extract(msgs_.begin());
    out.push_back(node.mapped());
    consuming_.insert(std::move(node));
  }
  if (out.empty()) consuming_flag_ = false;
  return out;
}

int64_t ProcessQueue::commit() {
  std::lock_guard<std::mutex> lock(mu_);
  if (consuming_.empty()) return -1;
  int64_t offset = consuming_.rbegin()->first + 1;
  for (const auto& [off, msg] : consuming_) {
    bytes_ -= std::min(bytes_, msg.body().size());
    --count_;
  }
  if (count_ == 0) bytes_ = 0;
  consuming_.clear();
  return offset;
}

void ProcessQueue::makeMessagesToConsumeAgain(const std::vector<MessageExt>& msgs) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& msg : msgs) {
    auto it = consuming_.find(msg.queueOffset());
    if (it == consuming_.end()) continue;  // not taken: nothing to give back
    consuming_.erase(it);
    msgs_[msg.queueOffset()] = msg;
  }
}

void ProcessQueue::rollback() {
  std::lock_guard<std::mutex> lock(mu_);
  msgs_.merge(consuming_);
  consuming_.clear();
}

void ProcessQueue::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  msgs_.clear();
  consuming_.clear();
  count_ = 0;
  bytes_ = 0;
  queue_offset_max_ = 0;
}

size_t ProcessQueue::cachedCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return count_;
}

size_t ProcessQueue::cachedBytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

int64_t ProcessQueue::maxSpan() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (msgs_.empty()) return 0;
  return msgs_.rbegin()->first - msgs_.begin()->first;
}

int64_t ProcessQueue::minCachedOffset() const {
  std::lock_guard<std::mutex> lock(mu_);
  return msgs_.empty() ? -1 : msgs_.begin()->first;
}

int64_t ProcessQueue::maxCachedOffset() const {
  std::lock_guard<std::mutex> lock(mu_);
  return msgs_.empty() ? -1 : msgs_.rbegin()->first;
}

bool ProcessQueue::hasCachedMessages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !msgs_.empty();
}

void ProcessQueue::setLocked(bool locked, Clock::time_point now) {
  if (locked) last_lock_.store(now.time_since_epoch().count());
  locked_.store(locked);
}

bool ProcessQueue::lockExpired(Clock::time_point now) const {
  return now - Clock::time_point(Clock::duration(last_lock_.load())) > kLockMaxLiveTime;
}

bool ProcessQueue::pullExpired(Clock::time_point now) const {
  return now - Clock::time_point(Clock::duration(last_pull_.load())) > kPullMaxIdleTime;
}

}  // namespace rocketrpc::client
