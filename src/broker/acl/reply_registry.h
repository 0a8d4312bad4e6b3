// ReplyRegistry: correlation id -> {request topic, REPLY_TO_CLIENT} of the RIP-16 requests this broker accepted
// for storing while ACL is on, so that a reply (SEND_REPLY_MESSAGE / _V2) can be checked against the topic of
// the request it answers: only an account that may SUB that topic (one that could have received the request)
// may answer it (docs/design/security.md).
//
// Bounded: at most `max_entries` (aclReplyTrackMaxEntries); when full the oldest entry is dropped (a reply to
// it is then refused, and the requester times out as it would without an answer). An entry expires
// `ttl_ms` (aclReplyTrackTtlMillis) after its request or its last accepted reply (streams and redelivered
// replies reuse the id). The first request to claim an id keeps it: a later request with the same id cannot
// redirect the check to another topic or requester. Thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace rocketrpc::broker::acl {

class ReplyRegistry {
 public:
  struct Entry {
    std::string topic;
    std::string reply_to_client;
  };

  ReplyRegistry(size_t max_entries, int64_t ttl_ms)
      : max_entries_(max_entries == 0 ? 1 : max_entries), ttl_ms_(ttl_ms) {}

  /// Records a request. No-op when the id is already known and not expired.
  void noteRequest(std::string_view correlation_id, std::string_view topic, std::string_view reply_to_client,
                   int64_t now_ms);
  /// The live entry for `correlation_id`; refreshes its expiry when `touch`.
  std::optional<Entry> find(std::string_view correlation_id, int64_t now_ms, bool touch);
  size_t size() const;

 private:
  struct Slot {
    Entry entry;
    int64_t expires_ms = 0;
    std::list<std::string>::iterator order;  // position in order_
  };
  void evictExpired(int64_t now_ms);  // requires mu_

  const size_t max_entries_;
  const int64_t ttl_ms_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Slot> slots_;  // guarded by mu_
  std::list<std::string> order_;                 // guarded by mu_; least recently noted/touched first
};

}  // namespace rocketrpc::broker::acl
