// SubscriptionGroupManager: the broker's consumer (subscription) groups, as Apache's SubscriptionGroupManager
// (protocol reference 7.4): created by heartbeats when autoCreateSubscriptionGroup=true, or by an admin
// (UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, code 200, what `mqadmin updateSubGroup` sends); persisted as JSON in
// <store>/config/subscriptionGroup.json (atomic replace), in the shape GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201)
// answers. A group that does not exist cannot heartbeat as a consumer or pull; consumeEnable=false refuses
// pulls; retryMaxTimes bounds redelivery before the DLQ. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "namesrv/topic_config.h"
#include "remoting/protocol/names.h"

namespace rocketrpc::broker {

struct SubscriptionGroupConfig {
  std::string group_name;
  bool consume_enable = true;
  bool consume_from_min_enable = true;
  bool consume_broadcast_enable = true;
  int32_t retry_queue_nums = 1;
  int32_t retry_max_times = 16;
  int64_t broker_id = 0;
  int64_t which_broker_when_consume_slowly = 1;
  bool notify_consumer_ids_changed_enable = true;
  friend bool operator==(const SubscriptionGroupConfig&, const SubscriptionGroupConfig&) = default;
};

/// SubscriptionGroupConfig JSON (Apache's field names); unknown fields are ignored.
std::string encodeSubscriptionGroupConfig(const SubscriptionGroupConfig& config);
Result<SubscriptionGroupConfig> parseSubscriptionGroupConfig(std::string_view json);

/// Consumer group names: ^[%|a-zA-Z0-9_-]+$, at most 255 characters: the one validator.
using remoting::isValidGroupName;

class SubscriptionGroupManager {
 public:
  /// `path` empty: in memory only.
  SubscriptionGroupManager(std::string path, bool auto_create, std::function<int64_t()> clock);

  /// Loads the file (missing = empty) and adds the system groups. A corrupt file is an error.
  Status load();
  /// The group's config. When it is missing and auto-creation is on, creates it with the defaults.
  std::optional<SubscriptionGroupConfig> findOrCreate(const std::string& group);
  std::optional<SubscriptionGroupConfig> find(const std::string& group) const;
  /// Creates or replaces; persists.
  Status upsert(const SubscriptionGroupConfig& config);
  /// Removes a group (no-op when missing); persists.
  Status remove(const std::string& group);
  /// {"dataVersion":..., "subscriptionGroupTable":{...}}: the GET_ALL_SUBSCRIPTIONGROUP_CONFIG body.
  std::string encodeAll() const;
  size_t size() const;
  /// Bumped by every change (the dataVersion of encodeAll()).
  namesrv::DataVersion dataVersion() const;
  /// Writes the table now (it is written on every change anyway): the fuzz target's persist check.
  Status persist() const;

 private:
  Status persistLocked() const;
  std::string encodeLocked(int indent) const;

  const std::string path_;
  const bool auto_create_;
  std::function<int64_t()> clock_;
  mutable std::mutex mu_;
  std::map<std::string, SubscriptionGroupConfig> table_;  // guarded by mu_
  namesrv::DataVersion data_version_;                      // guarded by mu_
};

}  // namespace rocketrpc::broker
