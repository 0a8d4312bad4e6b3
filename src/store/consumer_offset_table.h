// Committed consumer offsets (group, topic, queueId) -> next queue offset to consume, persisted as JSON
// (docs/design/commitlog-format.md, "Consumer offsets"). Owned by MessageStore; the broker's offset requests
// read and write it.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/status.h"
#include "store/file_system.h"

namespace rocketrpc::store {

/// Thread-safe.
class ConsumerOffsetTable {
 public:
  /// "topic@group" -> queueId -> offset, as RocketMQ keys its offsetTable.
  using Table = std::map<std::string, std::map<int32_t, int64_t>>;

  ConsumerOffsetTable(std::shared_ptr<FileSystem> fs, std::string path);

  /// Replaces the in-memory table with the file's content; a missing file is an empty table.
  Status load();
  /// Writes the table atomically (tmp + fsync + rename + directory fsync) when it changed since the last
  /// write.
  Status persist();

  void set(const std::string& group, const std::string& topic, int32_t queue_id, int64_t offset);
  std::optional<int64_t> get(const std::string& group, const std::string& topic, int32_t queue_id) const;
  /// Drops every offset of `group` on `topic`.
  void remove(const std::string& group, const std::string& topic);
  /// Drops every offset of `group`, on every topic.
  void removeGroup(const std::string& group);
  /// Drops every offset on `topic`, of every group.
  void removeTopic(const std::string& topic);
  Table snapshot() const;

 private:
  static std::string key(const std::string& group, const std::string& topic) { return topic + "@" + group; }

  const std::shared_ptr<FileSystem> fs_;
  const std::string path_;
  std::mutex persist_mu_;  // serializes persist()
  mutable std::mutex mu_;
  Table table_;                     // guarded by mu_
  uint64_t version_ = 0;            // guarded by mu_; bumped by every change
  uint64_t persisted_version_ = 0;  // guarded by persist_mu_
};

}  // namespace rocketrpc::store
