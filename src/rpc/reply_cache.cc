#include "rpc/reply_cache.h"

namespace rocketrpc::rpc {

namespace {
size_t sizeOf(const Message& m) {
  size_t n = m.body().size() + m.topic().size();
  for (const auto& [k, v] : m.properties()) n += k.size() + v.size();
  return n;
}
}  // namespace

ReplyCache::ReplyCache(size_t max_entries, size_t max_bytes)
    : max_entries_(max_entries), max_bytes_(max_bytes) {}

ReplyCache::Claim ReplyCache::claim(const std::string& correlation_id, Message* cached) {
  if (max_entries_ == 0 || correlation_id.empty()) return Claim::kNew;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(correlation_id);
  if (it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    if (!it->second->reply) return Claim::kInProgress;
    if (cached) *cached = *it->second->reply;
    return Claim::kDone;
  }
  lru_.push_front(Entry{correlation_id, std::nullopt, correlation_id.size()});
  index_[correlation_id] = lru_.begin();
  bytes_ += correlation_id.size();
  evictLocked();
  return Claim::kNew;
}

void ReplyCache::complete(const std::string& correlation_id, const Message& reply) {
  if (max_entries_ == 0 || correlation_id.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  size_t bytes = correlation_id.size() + sizeOf(reply);
  auto it = index_.find(correlation_id);
  if (it == index_.end()) {
    lru_.push_front(Entry{correlation_id, std::nullopt, correlation_id.size()});
    it = index_.emplace(correlation_id, lru_.begin()).first;
    bytes_ += correlation_id.size();
  }
  Entry& e = *it->second;
  if (bytes > max_bytes_) {  // too large to remember: forget it rather than evict everything else
    bytes_ -= e.bytes;
    lru_.erase(it->second);
    index_.erase(it);
    return;
  }
  bytes_ -= e.bytes;
  e.reply = reply;
  e.bytes = bytes;
  bytes_ += bytes;
  lru_.splice(lru_.begin(), lru_, it->second);
  evictLocked();
}

void ReplyCache::abandon(const std::string& correlation_id) {
  if (max_entries_ == 0 || correlation_id.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(correlation_id);
  if (it == index_.end()) return;
  bytes_ -= it->second->bytes;
  lru_.erase(it->second);
  index_.erase(it);
}

size_t ReplyCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lru_.size();
}

void ReplyCache::evictLocked() {
  while (!lru_.empty() && (lru_.size() > max_entries_ || bytes_ > max_bytes_)) {
    Entry& last = lru_.back();
    bytes_ -= last.bytes;
    index_.erase(last.id);
    lru_.pop_back();
  }
}

}  // namespace rocketrpc::rpc
