/// \file
/// PushConsumer: a consumer group member that pulls with long polling and hands messages to a listener,
/// as Apache RocketMQ's DefaultMQPushConsumer does (rebalance, offsets on the broker, retries).
/// It can also answer requests (RIP-16): a reply listener returns the reply body, which is sent back
/// automatically (without blocking the listener thread: the send completes in the background); a thrown
/// exception becomes an error reply. Thread-safe after start().
#pragma once

#include "rocketrpc/export.h"
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rocketrpc/client_options.h"
#include "rocketrpc/errors.h"
#include "rocketrpc/message.h"
#include "rocketrpc/producer.h"

namespace rocketrpc {

/// What a concurrent listener returns for its messages.
enum class ConsumeStatus {
  kSuccess,         ///< consumed: the offset advances past them
  kReconsumeLater   ///< failed: they are sent back to the broker and redelivered later (up to max_reconsume_times)
};
/// What an orderly listener returns for its messages.
enum class OrderlyConsumeStatus {
  kSuccess,                     ///< consumed: the queue moves on
  kSuspendCurrentQueueAMoment   ///< failed: the queue pauses for suspend_current_queue_time, then retries them
};
/// How the members of a consumer group share a topic.
enum class MessageModel {
  kClustering,    ///< each message goes to one member; queues are divided among the members
  kBroadcasting   ///< each member gets every message
};
/// Where a consumer group with no committed offset for a queue starts reading it.
enum class ConsumeFromWhere {
  kLastOffset,   ///< at the end: only messages stored from now on
  kFirstOffset,  ///< at the oldest message the broker still has
  kTimestamp     ///< at the first message stored at or after PushConsumerOptions::consume_timestamp
};

/// Concurrent listener: messages of one call are from one queue; calls for different queues and batches
/// run in parallel. Throwing counts as kReconsumeLater.
using MessageListenerConcurrently = std::function<ConsumeStatus(const std::vector<MessageExt>& msgs)>;
/// Orderly listener: one queue is consumed by one thread at a time, in queue order (queue locked on the broker).
using MessageListenerOrderly = std::function<OrderlyConsumeStatus(const std::vector<MessageExt>& msgs)>;
/// Reply listener: returns the reply body for a request; a thrown exception becomes an error reply.
/// Messages that are not requests (no REPLY_TO_CLIENT) are consumed without a reply.
using ReplyListener = std::function<std::string(const MessageExt& request)>;

/// Options of a PushConsumer: the ClientOptions plus the consumer group and the consumption settings.
/// Thread-compatible value type; checked by the PushConsumer constructor.
struct PushConsumerOptions : ClientOptions {
  /// Consumer group. Required.
  std::string group;
  /// Clustering (members share the queues) or broadcasting (every member gets every message). Default
  /// kClustering.
  MessageModel message_model = MessageModel::kClustering;
  /// Where a group with no committed offset starts. Default kLastOffset.
  ConsumeFromWhere consume_from_where = ConsumeFromWhere::kLastOffset;
  /// For kTimestamp: "yyyyMMddHHmmss" (UTC). Default: 30 minutes ago.
  std::string consume_timestamp;
  /// Threads running the listener. Default 4; 1..1000.
  int consume_threads = 4;
  /// Messages asked per pull. Default 32; 1..1024.
  int pull_batch_size = 32;
  /// Messages per listener call. Default 1; 1..1024.
  int consume_batch_size = 1;
  /// Flow control: pulls of a queue pause while it caches more messages or bytes than this.
  int pull_threshold_for_queue = 1000;
  /// Flow control in bytes (bodies of cached messages of one queue), as pull_threshold_for_queue. Default
  /// 100 MiB.
  size_t pull_threshold_bytes_for_queue = 100 * 1024 * 1024;
  /// Long-poll hold asked of the broker. Default 15 s.
  std::chrono::milliseconds broker_suspend_max_time{15000};
  /// Failed messages are retried at most this many times before the dead-letter queue. Default 16.
  int max_reconsume_times = 16;
  /// Orderly: pause before retrying a queue whose listener asked to suspend. Default 1 s.
  std::chrono::milliseconds suspend_current_queue_time{1000};
  /// Rebalance period (also runs on group changes). Default 20 s.
  std::chrono::milliseconds rebalance_interval{20000};
  /// Offset commit period. Default 5 s.
  std::chrono::milliseconds persist_offset_interval{5000};
  /// Replies (automatic and sendReply) with bodies at least this long are zlib-compressed, unless their first
  /// 4 KiB do not shrink (incompressible bodies are sent as they are). SIZE_MAX turns compression off.
  /// Default 4096 bytes, as the Java client.
  size_t compress_over = 4096;
  /// zlib level of compressed replies, 1..9. Default 5 (as the Java client).
  int compress_level = 5;
  /// Period of stats_callback. Default 0 (off); 0 or 100..3600000 ms.
  std::chrono::milliseconds stats_interval{0};
  /// With stats_interval set, called every interval from start() to shutdown() on a library thread with
  /// statsJson(consumer) (rocketrpc/metrics.h). What it throws is logged; it may call shutdown().
  std::function<void(const std::string& json)> stats_callback;
};

/// Counters of a PushConsumer since its construction (PushConsumer::stats()). Each is read on its own
/// (relaxed), so figures read together may be a few operations apart.
struct PushConsumerStats {
  uint64_t messages_pulled = 0;  ///< messages received by pulls (after tag filtering)
  /// messages whose listener call returned success (a reply listener always does: its failures become error
  /// replies)
  uint64_t consumed_ok = 0;
  uint64_t consumed_failed = 0;  ///< messages whose listener threw or asked to reconsume / suspend
  uint64_t replies_ok = 0;       ///< automatic replies of a reply listener the broker accepted
  uint64_t replies_failed = 0;   ///< automatic replies that could not be built or sent
  uint64_t pulls_failed = 0;     ///< pulls that ended in an error (retried later)
  uint64_t messages_cached = 0;  ///< messages pulled and not yet consumed now, over all assigned queues
  uint64_t queues_assigned = 0;  ///< queues assigned to this member now
};

/// A member of a consumer group that receives the messages of its subscriptions through a listener, and can
/// answer requests. Lifecycle: construct, subscribe(), set one listener, start(), shutdown() (also done by the
/// destructor). Thread-safe after start().
class ROCKETRPC_API PushConsumer {
 public:
  /// @throws MQException(kInvalidArgument) when an option is invalid.
  explicit PushConsumer(PushConsumerOptions options);
  ~PushConsumer();  ///< calls shutdown()
  PushConsumer(const PushConsumer&) = delete;
  PushConsumer& operator=(const PushConsumer&) = delete;

  /// Subscribes to `topic` with a tag expression: "*" or "TagA || TagB". Call before start().
  /// @throws MQException(kInvalidArgument)
  void subscribe(const std::string& topic, const std::string& expression = "*");
  /// Exactly one listener must be set before start().
  void setMessageListener(MessageListenerConcurrently listener);
  /// Sets an orderly listener (see setMessageListener(MessageListenerConcurrently)).
  void setMessageListener(MessageListenerOrderly listener);
  /// Sets a reply listener: the consumer answers requests with what it returns (see ReplyListener).
  void setReplyListener(ReplyListener listener);

  /// @throws MQException (kInvalidArgument when no listener/subscription; kNetwork, kNoRoute).
  void start();
  /// Stops pulling, waits for running listener calls, commits offsets, unregisters. Idempotent; noexcept.
  void shutdown() noexcept;
  /// The options given to the constructor.
  const PushConsumerOptions& options() const;
  /// "ip@instance" as known by brokers.
  std::string clientId() const;

  /// Queues currently assigned to this member (after rebalance).
  std::vector<MessageQueue> assignedQueues() const;
  /// The consumer's counters (see PushConsumerStats); valid in every state. Rendered by
  /// prometheusText(consumer) and statsJson(consumer) in rocketrpc/metrics.h.
  PushConsumerStats stats() const;

  /// Sends a reply built with createReplyMessage/createErrorReplyMessage through this consumer's client
  /// (manual replies). @throws MQException as Producer::send.
  void sendReply(const Message& reply);
  /// Asynchronous form of sendReply: returns at once; `callback` gets the SendResult or the error (as
  /// Producer::send's callback) exactly once, on the client's callback threads (on the calling thread, with
  /// kNotStarted / kClosed, when the consumer is not running). shutdown() waits for replies in flight and
  /// their callbacks. At most 1024 replies of one consumer are in flight: beyond that the call
  /// waits for one to complete. Orderly listeners that need their replies in order use the blocking form.
  void sendReply(const Message& reply, SendCallback callback);

  class ROCKETRPC_LOCAL Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace rocketrpc
