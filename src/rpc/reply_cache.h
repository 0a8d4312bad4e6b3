// ReplyCache: responder-side dedup. Remembers, by correlation id, which requests are being processed and the
// replies sent, so that a redelivered request (same correlation id) gets the cached reply instead of a second
// handler call. Bounded LRU (entries and reply bytes). Thread-safe.
#pragma once

#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "rocketrpc/message.h"

namespace rocketrpc::rpc {

class ReplyCache {
 public:
  /// `max_entries` 0 disables the cache (claim() always answers kNew).
  ReplyCache(size_t max_entries, size_t max_bytes);

  enum class Claim {
    kNew,         ///< first sight: the caller processes it and then calls complete() or abandon()
    kInProgress,  ///< a copy is being processed now: drop this one
    kDone,        ///< answered before: *cached holds the reply to send again
  };
  Claim claim(const std::string& correlation_id, Message* cached);
  /// Stores the reply sent for a claimed id.
  void complete(const std::string& correlation_id, const Message& reply);
  /// Forgets a claimed id that got no reply (dropped).
  void abandon(const std::string& correlation_id);
  size_t size() const;

 private:
  struct Entry {
    std::string id;
    std::optional<Message> reply;  // nullopt while in progress
    size_t bytes = 0;
  };
  void evictLocked();

  const size_t max_entries_;
  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // front = most recent
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  size_t bytes_ = 0;
};

}  // namespace rocketrpc::rpc
