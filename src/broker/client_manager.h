// ClientManager: producers and consumers known from heartbeats (protocol reference 3.6, 7.4).
// Producers: clientId -> connection (used to push replies). Consumers: group -> members (connection,
// clientId) and the group's subscriptions (used to filter pulls). A connection is the remote address
// string the RemotingServer reports. Entries silent for channelExpiredTimeout, or whose connection closed,
// are dropped. Methods returning groups report consumer groups whose membership changed (the caller
// notifies their members). Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "remoting/protocol/heartbeat_data.h"

namespace rocketrpc::broker {

struct ConsumerMember {
  std::string channel;
  std::string client_id;
  std::string language;  // from the heartbeat's command header ("JAVA", "CPP", ...)
  int32_t version = 0;
};

/// What GET_CONSUMER_CONNECTION_LIST reports about an online consumer group.
struct ConsumerGroupSnapshot {
  std::vector<ConsumerMember> members;
  std::vector<remoting::SubscriptionData> subscriptions;
  std::string consume_type;
  std::string message_model;
  std::string consume_from_where;
};

class ClientManager {
 public:
  void registerProducer(const std::string& group, const std::string& channel, const std::string& client_id,
                        int64_t now_ms);
  void unregisterProducer(const std::string& group, const std::string& client_id);
  /// Adds/refreshes a member and replaces the group's subscriptions. True when membership changed.
  bool registerConsumer(const remoting::ConsumerData& data, const std::string& channel, const std::string& client_id,
                        int64_t now_ms, const std::string& language = "CPP", int32_t version = 0);
  /// True when membership changed.
  bool unregisterConsumer(const std::string& group, const std::string& client_id);
  /// Drops everything registered over `channel`; returns consumer groups whose membership changed.
  std::vector<std::string> onChannelClosed(const std::string& channel);
  /// Drops members and producers not heard from in `timeout_ms`; returns changed consumer groups.
  std::vector<std::string> scanExpired(int64_t now_ms, int64_t timeout_ms);

  /// Connection of a client that heartbeated with a producer group (last heartbeat wins).
  std::optional<std::string> findProducerChannel(const std::string& client_id) const;
  std::vector<ConsumerMember> consumerMembers(const std::string& group) const;
  std::vector<std::string> consumerIds(const std::string& group) const;
  bool hasConsumerGroup(const std::string& group) const;
  /// The group's members and subscriptions; nullopt when no member is online.
  std::optional<ConsumerGroupSnapshot> consumerGroup(const std::string& group) const;
  /// Online consumer groups subscribed to `topic`, sorted.
  std::vector<std::string> groupsSubscribedTo(const std::string& topic) const;
  std::optional<remoting::SubscriptionData> findSubscription(const std::string& group, const std::string& topic) const;
  size_t producerCount() const;
  size_t consumerCount() const;

 private:
  struct Member {
    std::string client_id;
    int64_t last_update_ms = 0;
    std::string language;
    int32_t version = 0;
  };
  struct ConsumerGroup {
    std::map<std::string, Member> members;  // channel -> member
    std::map<std::string, remoting::SubscriptionData> subscriptions;
    std::string consume_type;
    std::string message_model;
    std::string consume_from_where;
  };
  struct Producer {
    std::string channel;
    int64_t last_update_ms = 0;
    std::set<std::string> groups;
  };

  mutable std::mutex mu_;
  std::map<std::string, ConsumerGroup> consumers_;  // group -> info
  std::map<std::string, Producer> producers_;       // clientId -> connection
};

/// Orderly-consumption queue locks (LOCK_BATCH_MQ / UNLOCK_BATCH_MQ): group -> queue -> holder clientId,
/// expiring 60 s after the last lock renewal. Thread-safe.
class RebalanceLockManager {
 public:
  struct Queue {
    std::string topic;
    std::string broker_name;
    int32_t queue_id = 0;
    friend auto operator<=>(const Queue&, const Queue&) = default;
  };
  explicit RebalanceLockManager(int64_t expiry_ms = 60000) : expiry_ms_(expiry_ms) {}
  /// Locks (or renews) each queue not held by another live client; returns the queues now held by `client_id`.
  std::vector<Queue> tryLockBatch(const std::string& group, const std::vector<Queue>& queues,
                                  const std::string& client_id, int64_t now_ms);
  void unlockBatch(const std::string& group, const std::vector<Queue>& queues, const std::string& client_id);

 private:
  struct Holder {
    std::string client_id;
    int64_t last_update_ms = 0;
  };
  const int64_t expiry_ms_;
  std::mutex mu_;
  std::map<std::string, std::map<Queue, Holder>> locks_;  // guarded by mu_
};

}  // namespace rocketrpc::broker
