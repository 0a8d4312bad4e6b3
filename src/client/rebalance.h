// Rebalance of a push consumer (protocol doc 6.2; Java's RebalanceImpl / RebalancePushImpl):
//  * allocateMessageQueueAveragely: the "AVG" strategy every member of a group must agree on;
//  * computePullFromWhere: where a newly assigned queue starts (stored offset, else per ConsumeFromWhere);
//  * RebalanceImpl: owns the table MessageQueue -> ProcessQueue of one consumer, recomputes the assignment
//  per
//    subscribed topic (including %RETRY%<group>), drops queues no longer assigned and starts new ones through
//    a RebalanceEnv (the consumer's I/O: routes, group members, offsets, pulls, broker locks).
// RebalanceImpl is thread-safe; doRebalance/lockAll/unlockAll are expected to run on one (admin) thread,
// since they block on broker calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "client/consume_timestamp.h"  // parse/formatConsumeTimestamp, used with ConsumeFromWhere::kTimestamp
#include "client/process_queue.h"
#include "common/status.h"
#include "rocketrpc/message.h"
#include "rocketrpc/push_consumer.h"

namespace rocketrpc::client {

inline constexpr std::string_view kRetryTopicPrefix = "%RETRY%";
inline constexpr std::string_view kDlqTopicPrefix = "%DLQ%";
inline std::string retryTopic(const std::string& group) { return std::string(kRetryTopicPrefix) + group; }
inline bool isRetryTopic(std::string_view topic) {
  return topic.substr(0, kRetryTopicPrefix.size()) == kRetryTopicPrefix;
}

/// AllocateMessageQueueAveragely: the contiguous share of `mq_all` for `current_cid`. Both lists must be
/// sorted (and identical on every member). Empty when `current_cid` is not in `cid_all`.
std::vector<MessageQueue> allocateMessageQueueAveragely(const std::string& current_cid,
                                                        const std::vector<MessageQueue>& mq_all,
                                                        const std::vector<std::string>& cid_all);

/// Offset look-ups used to place a new queue.
class OffsetQueries {
 public:
  virtual ~OffsetQueries() = default;
  /// Committed offset of the group; NotFound when none is stored, another error when unknown.
  virtual Result<int64_t> storedOffset(const MessageQueue& mq) = 0;
  virtual Result<int64_t> maxOffset(const MessageQueue& mq) = 0;
  virtual Result<int64_t> searchOffset(const MessageQueue& mq, int64_t timestamp_ms) = 0;
};

/// The first offset to pull for a newly assigned queue:
///   stored offset >= 0 -> it; none stored -> kLastOffset: %RETRY% 0, else max offset; kFirstOffset: 0;
///   kTimestamp: %RETRY% max offset, else the offset at `timestamp_ms`. Other errors are returned (retry
///   later).
Result<int64_t> computePullFromWhere(ConsumeFromWhere where, int64_t timestamp_ms, const MessageQueue& mq,
                                     OffsetQueries& queries);


/// What RebalanceImpl needs from its consumer. Implementations must be thread-safe.
class RebalanceEnv {
 public:
  virtual ~RebalanceEnv() = default;
  /// Readable queues of `topic`.
  virtual Result<std::vector<MessageQueue>> subscribeQueues(const std::string& topic) = 0;
  /// Client ids of the group members known to a broker serving `topic`.
  virtual Result<std::vector<std::string>> consumerIds(const std::string& topic) = 0;
  /// Forgets the in-memory offset of a queue about to be (re)added.
  virtual void removeDirtyOffset(const MessageQueue& mq) = 0;
  /// See computePullFromWhere().
  virtual Result<int64_t> computePullFromWhere(const MessageQueue& mq) = 0;
  /// Commits the offset of a queue leaving this member, then forgets it.
  virtual void releaseOffset(const MessageQueue& mq) = 0;
  /// LOCK_BATCH_MQ to the master of `broker_name`: the queues now locked by this client.
  virtual Result<std::set<MessageQueue>> lockBatch(const std::string& broker_name,
                                                   const std::set<MessageQueue>& mqs) = 0;
  virtual void unlockBatch(const std::string& broker_name, const std::set<MessageQueue>& mqs,
                           bool oneway) = 0;
  /// Starts the pull loop of a newly added queue at `next_offset`.
  virtual void dispatchPull(const MessageQueue& mq, std::shared_ptr<ProcessQueue> pq,
                            int64_t next_offset) = 0;
};

struct RebalanceConfig {
  std::string group;
  std::string client_id;
  MessageModel model = MessageModel::kClustering;
  bool orderly = false;
  /// How long removal waits for an orderly listener call on the queue before trying again next round.
  std::chrono::milliseconds unlock_wait{1000};
};

class RebalanceImpl {
 public:
  /// `env` must outlive this object.
  RebalanceImpl(RebalanceConfig config, RebalanceEnv& env);

  /// Rebalances every topic. Returns true when the set of assigned queues changed.
  bool doRebalance(const std::vector<std::string>& topics);
  bool rebalanceByTopic(const std::string& topic);

  /// Orderly: locks one queue on its broker; marks its process queue locked. Returns whether it is locked.
  bool lock(const MessageQueue& mq);
  /// Orderly: renews the locks of every assigned queue, per broker; queues not granted become unlocked.
  void lockAll();
  /// Orderly: releases the broker locks of every assigned queue.
  void unlockAll(bool oneway);

  std::shared_ptr<ProcessQueue> processQueue(const MessageQueue& mq) const;
  std::map<MessageQueue, std::shared_ptr<ProcessQueue>> processQueues() const;
  /// Queues assigned now (process queues not dropped).
  std::vector<MessageQueue> assignedQueues() const;
  /// Drops and removes the process queue of `mq` if it is still `pq` (the next rebalance re-adds the queue).
  bool removeProcessQueue(const MessageQueue& mq, const std::shared_ptr<ProcessQueue>& pq);
  /// Marks every process queue dropped and forgets them (shutdown). Returns what was assigned.
  std::map<MessageQueue, std::shared_ptr<ProcessQueue>> destroy();

  const RebalanceConfig& config() const { return config_; }

 private:
  bool updateProcessQueueTable(const std::string& topic, const std::set<MessageQueue>& mq_set);
  bool removeUnnecessaryQueue(const MessageQueue& mq, ProcessQueue& pq);
  Result<bool> lockOne(const MessageQueue& mq);

  RebalanceConfig config_;
  RebalanceEnv& env_;
  mutable std::mutex mu_;
  std::map<MessageQueue, std::shared_ptr<ProcessQueue>> table_;  // guarded by mu_
};

}  // namespace rocketrpc::client
