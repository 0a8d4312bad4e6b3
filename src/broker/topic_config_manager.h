// TopicConfigManager: the broker's topics (protocol reference 7.2, 7.3). Creates the system topics at
// start, auto-creates topics on send from TBW102, retry/DLQ topics on demand, persists the table as JSON in
// <store>/config/topics.json (atomic replace) and bumps the DataVersion on every change, calling the change
// listener (which re-registers with the name servers). Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "broker/broker_config.h"
#include "namesrv/topic_config.h"
#include "remoting/protocol/names.h"

namespace rocketrpc::broker {

inline constexpr std::string_view kAutoCreateTopicKey = "TBW102";
inline constexpr std::string_view kScheduleTopic = "SCHEDULE_TOPIC_XXXX";
inline constexpr std::string_view kSelfTestTopic = "SELF_TEST_TOPIC";
inline constexpr std::string_view kOffsetMovedEvent = "OFFSET_MOVED_EVENT";
inline constexpr std::string_view kRetryPrefix = "%RETRY%";
inline constexpr std::string_view kDlqPrefix = "%DLQ%";

/// ^[%|a-zA-Z0-9_-]+$ and at most 127 characters (255 for %RETRY%/%DLQ% topics): the one validator.
using remoting::isValidTopicName;
/// Topics producers may not send to (NO_PERMISSION).
bool isNotAllowedSendTopic(std::string_view topic);
/// Apache's TopicValidator.isSystemTopic: the broker's own topics (TBW102, SCHEDULE_TOPIC_XXXX, RMQ_SYS_*, ...)
/// and every topic starting with "rmq_sys_". Such topics cannot be deleted.
bool isSystemTopic(std::string_view topic);

class TopicConfigManager {
 public:
  TopicConfigManager(const BrokerConfig& config, std::string path, std::function<int64_t()> clock);

  /// Loads the file (missing = empty), then adds the system topics. Corrupt file -> error.
  Status load();
  void setChangeListener(std::function<void()> listener);

  std::optional<namesrv::TopicConfig> find(const std::string& topic) const;
  /// Creates or replaces `config`; persists and notifies.
  Status upsert(const namesrv::TopicConfig& config);
  /// isSystemTopic(), or one of this broker's own topics (cluster name, broker name, <cluster>_REPLY_TOPIC).
  bool isSystem(std::string_view topic) const;
  /// Removes `topic` (persisted, data version bumped, change listener called). NotFound when absent.
  Status remove(const std::string& topic);
  /// Send path: creates `topic` from `default_topic` (must exist with INHERIT perm): queues =
  /// min(client_default_queue_nums, default's write queues), perm without INHERIT. nullopt when not allowed.
  std::optional<namesrv::TopicConfig> createTopicInSendMessageMethod(const std::string& topic,
                                                                     const std::string& default_topic,
                                                                     int32_t client_default_queue_nums,
                                                                     int32_t topic_sys_flag);
  /// Retry / DLQ topics: creates with `queues` queues and `perm` when missing.
  namesrv::TopicConfig createIfMissing(const std::string& topic, int32_t queues, int32_t perm);
  namesrv::TopicConfigWrapper snapshot() const;
  namesrv::DataVersion dataVersion() const;
  /// Writes topics.json now (it is written on every change anyway): the fuzz target's persist check.
  Status persist() const;

 private:
  Status persistLocked() const;
  std::string replyTopic() const { return config_.broker_cluster_name + "_REPLY_TOPIC"; }
  void addSystemTopicsLocked();
  void notify();

  const BrokerConfig config_;
  const std::string path_;
  std::function<int64_t()> clock_;
  mutable std::mutex mu_;
  namesrv::TopicConfigWrapper table_;  // guarded by mu_
  std::function<void()> listener_;     // guarded by mu_
};

}  // namespace rocketrpc::broker
