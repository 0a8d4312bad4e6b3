/// \file
/// Producer: sends messages (sync, async, oneway, batch) and makes requests (RIP-16 request-reply).
/// Users of Apache RocketMQ's DefaultMQProducer will recognise the methods. Thread-safe: every method may be
/// called from any thread after start(). Callbacks run on the client's callback threads, exactly once each.
#pragma once

#include "rocketrpc/export.h"
#include <any>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "rocketrpc/client_options.h"
#include "rocketrpc/errors.h"
#include "rocketrpc/message.h"

namespace rocketrpc {

/// How a broker stored a sent message (SendStatus of the Java client). All four mean the message is stored on
/// the master; the last three say a synchronous flush or replication did not complete in time.
enum class SendStatus {
  kSendOk,             ///< stored (and flushed / replicated as the broker is configured to)
  kFlushDiskTimeout,   ///< stored, but the synchronous disk flush timed out
  kFlushSlaveTimeout,  ///< stored, but the synchronous replication to the slave timed out
  kSlaveNotAvailable   ///< stored, but no slave was available for synchronous replication
};

/// The broker's answer to a successful send.
struct SendResult {
  SendStatus status = SendStatus::kSendOk;  ///< how the broker stored the message
  /// Client message id (UNIQ_KEY); for a batch, the ids joined with ','.
  std::string msg_id;
  /// Broker offset message id.
  std::string offset_msg_id;
  MessageQueue message_queue;  ///< the queue the message went to
  int64_t queue_offset = 0;    ///< its offset in that queue (of the first message, for a batch)
};

/// Chooses the queue for a message among the topic's writable queues (never empty when called).
class ROCKETRPC_API MessageQueueSelector {
 public:
  virtual ~MessageQueueSelector() = default;
  /// Returns one of `queues` for `msg`; `arg` is the argument given to send() or request(). Called on the
  /// sending thread; must not block. What it throws fails the send.
  virtual MessageQueue select(const std::vector<MessageQueue>& queues, const Message& msg,
                              const std::any& arg) const = 0;
};

/// Picks queues[hash(arg) % size]; arg must hold a std::string, const char*, or an integer type.
class ROCKETRPC_API SelectMessageQueueByHash : public MessageQueueSelector {
 public:
  /// queues[hash(arg) % queues.size()]. @throws MQException(kInvalidArgument) for another type of `arg`.
  MessageQueue select(const std::vector<MessageQueue>& queues, const Message& msg,
                      const std::any& arg) const override;
};

/// Adapts a function to MessageQueueSelector.
class ROCKETRPC_API FunctionSelector : public MessageQueueSelector {
 public:
  /// The function's signature: that of MessageQueueSelector::select.
  using Fn = std::function<MessageQueue(const std::vector<MessageQueue>&, const Message&, const std::any&)>;
  /// A selector calling `fn`.
  explicit FunctionSelector(Fn fn) : fn_(std::move(fn)) {}
  /// Returns fn(queues, msg, arg).
  MessageQueue select(const std::vector<MessageQueue>& queues, const Message& msg,
                      const std::any& arg) const override {
    return fn_(queues, msg, arg);
  }

 private:
  Fn fn_;
};

/// Gets the SendResult of an asynchronous send, or the error (the MQException codes of send()). Called exactly
/// once, on the client's callback threads.
using SendCallback = std::function<void(Outcome<SendResult>)>;
/// Gets the reply, or the error: kSendFailed/kNoRoute (not sent), kRequestTimeout (sent, no reply),
/// kReplyError (reply marked as an error), kClosed. Called exactly once, never before the reply.
using RequestCallback = std::function<void(Outcome<MessageExt>)>;

/// Options of a Producer: the ClientOptions plus the producer group and the send settings. Thread-compatible
/// value type; checked by the Producer constructor.
struct ProducerOptions : ClientOptions {
  /// Producer group. Required; [%|a-zA-Z0-9_-], at most 255 characters.
  std::string group;
  /// Timeout of one send. Default 3 s.
  std::chrono::milliseconds send_timeout{3000};
  /// Extra attempts of a failed sync send, each on another broker when possible. Default 2; 0..16.
  int retry_times = 2;
  /// Extra attempts of a failed async send. Default 2; 0..16.
  int retry_times_async = 2;
  /// Bodies at least this long are zlib-compressed (not batches). Default 4096 bytes.
  size_t compress_over = 4096;
  /// zlib level 1..9. Default 5 (as the Java client).
  int compress_level = 5;
  /// Largest body accepted. Default 4 MiB; up to 16 MiB - 1 KiB.
  size_t max_message_size = 4 * 1024 * 1024;
  /// Most requests awaiting replies at once; the next request fails at once with kOverLimit. Default 100000.
  size_t max_pending_requests = 100000;
  /// Most asynchronous sends plus requests (with or without callback) in flight at once, from the call until
  /// its outcome is known (Java's semaphoreAsyncSendNum / clientAsyncSemaphoreValue). One more waits up to
  /// async_permit_wait for one to complete, then fails with kOverLimit (async calls: through the callback).
  /// Default 65535; 1..10000000.
  size_t max_async_in_flight = 65535;
  /// How long a send or request over max_async_in_flight waits for a permit, on the caller's thread. 0 (the
  /// default): it fails at once with kOverLimit. 0..300000 ms.
  std::chrono::milliseconds async_permit_wait{0};
  /// Default topic used to auto-create unknown topics: a send to a topic the name servers do not know goes
  /// to this topic's brokers, which create it (when their autoCreateTopicEnable is on), as in the Java client.
  /// Empty: no fallback; such a send fails at once with kNoRoute and creates nothing (RpcClient does this, so
  /// a misspelt request topic fails fast instead of being created). Default "TBW102".
  std::string create_topic_key = "TBW102";
  /// Queues of a topic auto-created from create_topic_key. Default 4.
  int default_topic_queue_nums = 4;
  /// Period of stats_callback. Default 0 (off); 0 or 100..3600000 ms.
  std::chrono::milliseconds stats_interval{0};
  /// With stats_interval set, called every interval from start() to shutdown() on a library thread with
  /// statsJson(producer) (rocketrpc/metrics.h). What it throws is logged; it may call shutdown().
  std::function<void(const std::string& json)> stats_callback;
};

/// Counters of a Producer since its construction (Producer::stats()). Each is read on its own (relaxed), so
/// figures read together may be a few operations apart.
struct ProducerStats {
  uint64_t sends_ok = 0;            ///< sends (sync, async, oneway, batch) the broker accepted
  uint64_t sends_failed = 0;        ///< sends that failed (including argument and limit errors)
  uint64_t requests_ok = 0;         ///< requests answered by a successful reply
  uint64_t requests_timed_out = 0;  ///< requests without a reply in time
  /// requests failed otherwise (not sent, error reply, over a limit, closed)
  uint64_t requests_failed = 0;
  uint64_t requests_pending = 0;  ///< requests awaiting replies now
  /// asynchronous sends and requests holding a max_async_in_flight permit now
  uint64_t async_in_flight = 0;
  uint64_t bytes_sent = 0;          ///< body bytes (before compression) of accepted sends and sent requests
};

/// Sends messages and makes requests to the brokers of one name-server cluster, as a member of a producer
/// group. Lifecycle: construct, start(), use, shutdown() (also done by the destructor). Thread-safe.
class ROCKETRPC_API Producer {
 public:
  /// @throws MQException(kInvalidArgument) when an option is invalid.
  explicit Producer(ProducerOptions options);
  ~Producer();  ///< calls shutdown()
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  /// Connects to the name servers and starts timers. @throws MQException(kInvalidArgument, kNetwork).
  void start();
  /// Fails pending requests with kClosed, unregisters from brokers, stops threads. Idempotent; noexcept.
  void shutdown() noexcept;
  /// The options given to the constructor.
  const ProducerOptions& options() const;
  /// "ip@instance" as known by brokers.
  std::string clientId() const;

  /// Sends and waits for the broker's answer, retrying on other brokers per retry_times.
  /// @throws MQException: kNoRoute, kSendFailed, kBrokerError, kTimeout, kInvalidArgument, kNotStarted.
  SendResult send(const Message& msg);
  /// As send(msg), with `timeout` instead of ProducerOptions::send_timeout.
  SendResult send(const Message& msg, std::chrono::milliseconds timeout);
  /// To a given queue, no retries on other queues.
  SendResult send(const Message& msg, const MessageQueue& mq);
  /// To the queue `selector` picks with `arg`, no retries on other queues. @throws as send().
  SendResult send(const Message& msg, const MessageQueueSelector& selector, const std::any& arg);
  /// Asynchronous sends; errors go to the callback (argument errors too).
  void send(const Message& msg, SendCallback callback);
  /// Asynchronous send to a given queue.
  void send(const Message& msg, const MessageQueue& mq, SendCallback callback);
  /// Asynchronous send to the queue `selector` picks with `arg`.
  void send(const Message& msg, const MessageQueueSelector& selector, const std::any& arg, SendCallback callback);
  /// Fire and forget. @throws MQException when it cannot even be written (no route, no connection).
  void sendOneway(const Message& msg);
  /// Fire and forget to a given queue. @throws as sendOneway(msg).
  void sendOneway(const Message& msg, const MessageQueue& mq);
  /// Sends messages of one topic as one batch (no compression, no delay). @throws as send().
  SendResult send(const std::vector<Message>& batch);
  /// Sends a batch to a given queue. @throws as send().
  SendResult send(const std::vector<Message>& batch, const MessageQueue& mq);

  /// Writable queues of the topic (fetches the route if needed). @throws MQException(kNoRoute).
  std::vector<MessageQueue> fetchPublishMessageQueues(const std::string& topic);

  /// Request-reply. Sends `msg` with CORRELATION_ID, REPLY_TO_CLIENT and TTL and waits for the reply pushed by
  /// the broker. The reply is a MessageExt whose body is the responder's reply body.
  /// @throws MQException kSendFailed/kNoRoute (never sent), RequestTimeoutException (sent, no reply in time),
  ///         ReplyErrorException (the reply says the responder failed), kOverLimit, kClosed, kInvalidArgument.
  MessageExt request(const Message& msg, std::chrono::milliseconds timeout);
  /// Asynchronous request: returns at once; `callback` gets the reply or the error (argument errors too).
  void request(const Message& msg, RequestCallback callback, std::chrono::milliseconds timeout);
  /// Request sent to the queue `selector` picks with `arg`. @throws as request(msg, timeout).
  MessageExt request(const Message& msg, const MessageQueueSelector& selector, const std::any& arg,
                     std::chrono::milliseconds timeout);
  /// Asynchronous request sent to the queue `selector` picks with `arg`.
  void request(const Message& msg, const MessageQueueSelector& selector, const std::any& arg,
               RequestCallback callback, std::chrono::milliseconds timeout);
  /// Request sent to a given queue. @throws as request(msg, timeout).
  MessageExt request(const Message& msg, const MessageQueue& mq, std::chrono::milliseconds timeout);
  /// Asynchronous request sent to a given queue.
  void request(const Message& msg, const MessageQueue& mq, RequestCallback callback,
               std::chrono::milliseconds timeout);
  /// Future form of request(msg, callback, timeout); the future holds the reply or the exception.
  std::future<MessageExt> requestAsync(const Message& msg, std::chrono::milliseconds timeout);

  /// Requests currently awaiting replies.
  size_t pendingRequests() const;
  /// The producer's counters (see ProducerStats); valid in every state. Rendered by prometheusText(producer)
  /// and statsJson(producer) in rocketrpc/metrics.h.
  ProducerStats stats() const;

  class ROCKETRPC_LOCAL Impl;

 private:
  /// Internal access for the RPC layer (the producer's client instance); not part of the API.
  friend struct ProducerInternals;
  std::shared_ptr<Impl> impl_;
};

/// Builds the reply to `request` (Java MessageUtil.createReplyMessage): topic "<CLUSTER>_REPLY_TOPIC",
/// MSG_TYPE=reply, CORRELATION_ID, REPLY_TO_CLIENT and TTL copied. Send it with any Producer.
/// @throws MQException(kInvalidArgument) when the request lacks the CLUSTER or REPLY_TO_CLIENT property.
ROCKETRPC_API Message createReplyMessage(const MessageExt& request, std::string body);

/// Property names rocketrpc uses to mark error replies (readable by any client, e.g. Java):
/// RRPC_STATUS = "error" and RRPC_ERROR = the error text; the body carries the error text too.
namespace reply_property {
/// Name of the status property; kStatusError on error replies.
inline constexpr std::string_view kStatus = "RRPC_STATUS";
/// Name of the property carrying the error text of an error reply.
inline constexpr std::string_view kError = "RRPC_ERROR";
/// Value of kStatus on error replies.
inline constexpr std::string_view kStatusError = "error";
}  // namespace reply_property

/// createReplyMessage, marked as an error reply carrying `error`.
ROCKETRPC_API Message createErrorReplyMessage(const MessageExt& request, std::string_view error);

}  // namespace rocketrpc
