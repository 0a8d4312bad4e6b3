#include "broker/acl/reply_registry.h"

namespace rocketrpc::broker::acl {

void ReplyRegistry::evictExpired(int64_t now_ms) {
  // order_ is by last refresh, and every refresh adds the same ttl: expired entries are at the front.
  while (!order_.empty()) {
    auto it = slots_.find(order_.front());
    if (it == slots_.end()) {
      order_.pop_front();
      continue;
    }
    if (it->second.expires_ms > now_ms) break;
    slots_.erase(it);
    order_.pop_front();
  }
}

void ReplyRegistry::noteRequest(std::string_view correlation_id, std::string_view topic,
                                std::string_view reply_to_client, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  evictExpired(now_ms);
  std::string key(correlation_id);
  if (slots_.count(key) != 0) return;  // first claim wins
  while (slots_.size() >= max_entries_ && !order_.empty()) {
    slots_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(key);
  Slot slot;
  slot.entry = Entry{std::string(topic), std::string(reply_to_client)};
  slot.expires_ms = now_ms + ttl_ms_;
  slot.order = std::prev(order_.end());
  slots_.emplace(std::move(key), std::move(slot));
}

std::optional<ReplyRegistry::Entry> ReplyRegistry::find(std::string_view correlation_id, int64_t now_ms, bool touch) {
  std::lock_guard<std::mutex> lock(mu_);
  evictExpired(now_ms);
  auto it = slots_.find(std::string(correlation_id));
  if (it == slots_.end()) return std::nullopt;
  if (touch) {
    it->second.expires_ms = now_ms + ttl_ms_;
    order_.splice(order_.end(), order_, it->second.order);
  }
  return it->second.entry;
}

size_t ReplyRegistry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return slots_.size();
}

}  // namespace rocketrpc::broker::acl
