// Producer: sends messages (sync, async, oneway, batch) and makes requests (RIP-16 request-reply).
// Users of Apache RocketMQ's DefaultMQProducer will recognise the methods. Thread-safe: every method may be
// called from any thread after start(). Callbacks run on the client's callback threads, exactly once each.
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

enum class SendStatus { kSendOk, kFlushDiskTimeout, kFlushSlaveTimeout, kSlaveNotAvailable };

struct SendResult {
  SendStatus status = SendStatus::kSendOk;
  /// Client message id (UNIQ_KEY); for a batch, the ids joined with ','.
  std::string msg_id;
  /// Broker offset message id.
  std::string offset_msg_id;
  MessageQueue message_queue;
  int64_t queue_offset = 0;
};

/// Chooses the queue for a message among the topic's writable queues (never empty when called).
class ROCKETRPC_API MessageQueueSelector {
 public:
  virtual ~MessageQueueSelector() = default;
  virtual MessageQueue select(const std::vector<MessageQueue>& queues, const Message& msg,
                              const std::any& arg) const = 0;
};

/// Picks queues[hash(arg) % size]; arg must hold a std::string, const char*, or an integer type.
class ROCKETRPC_API SelectMessageQueueByHash : public MessageQueueSelector {
 public:
  MessageQueue select(const std::vector<MessageQueue>& queues, const Message& msg,
                      const std::any& arg) const override;
};

/// Adapts a function to MessageQueueSelector.
class ROCKETRPC_API FunctionSelector : public MessageQueueSelector {
 public:
  using Fn = std::function<MessageQueue(const std::vector<MessageQueue>&, const Message&, const std::any&)>;
  explicit FunctionSelector(Fn fn) : fn_(std::move(fn)) {}
  MessageQueue select(const std::vector<MessageQueue>& queues, const Message& msg,
                      const std::any& arg) const override {
    return fn_(queues, msg, arg);
  }

 private:
  Fn fn_;
};

using SendCallback = std::function<void(Outcome<SendResult>)>;
/// Gets the reply, or the error: kSendFailed/kNoRoute (not sent), kRequestTimeout (sent, no reply),
/// kReplyError (reply marked as an error), kClosed. Called exactly once, never before the reply.
using RequestCallback = std::function<void(Outcome<MessageExt>)>;

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
  /// Default topic used to auto-create unknown topics, and its queue count.
  std::string create_topic_key = "TBW102";
  int default_topic_queue_nums = 4;
};

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
  const ProducerOptions& options() const;
  /// "ip@instance" as known by brokers.
  std::string clientId() const;

  /// Sends and waits for the broker's answer, retrying on other brokers per retry_times.
  /// @throws MQException: kNoRoute, kSendFailed, kBrokerError, kTimeout, kInvalidArgument, kNotStarted.
  SendResult send(const Message& msg);
  SendResult send(const Message& msg, std::chrono::milliseconds timeout);
  /// To a given queue, no retries on other queues.
  SendResult send(const Message& msg, const MessageQueue& mq);
  SendResult send(const Message& msg, const MessageQueueSelector& selector, const std::any& arg);
  /// Asynchronous sends; errors go to the callback (argument errors too).
  void send(const Message& msg, SendCallback callback);
  void send(const Message& msg, const MessageQueue& mq, SendCallback callback);
  void send(const Message& msg, const MessageQueueSelector& selector, const std::any& arg, SendCallback callback);
  /// Fire and forget. @throws MQException when it cannot even be written (no route, no connection).
  void sendOneway(const Message& msg);
  void sendOneway(const Message& msg, const MessageQueue& mq);
  /// Sends messages of one topic as one batch (no compression, no delay). @throws as send().
  SendResult send(const std::vector<Message>& batch);
  SendResult send(const std::vector<Message>& batch, const MessageQueue& mq);

  /// Writable queues of the topic (fetches the route if needed). @throws MQException(kNoRoute).
  std::vector<MessageQueue> fetchPublishMessageQueues(const std::string& topic);

  /// Request-reply. Sends `msg` with CORRELATION_ID, REPLY_TO_CLIENT and TTL and waits for the reply pushed by
  /// the broker. The reply is a MessageExt whose body is the responder's reply body.
  /// @throws MQException kSendFailed/kNoRoute (never sent), RequestTimeoutException (sent, no reply in time),
  ///         ReplyErrorException (the reply says the responder failed), kOverLimit, kClosed, kInvalidArgument.
  MessageExt request(const Message& msg, std::chrono::milliseconds timeout);
  void request(const Message& msg, RequestCallback callback, std::chrono::milliseconds timeout);
  MessageExt request(const Message& msg, const MessageQueueSelector& selector, const std::any& arg,
                     std::chrono::milliseconds timeout);
  void request(const Message& msg, const MessageQueueSelector& selector, const std::any& arg,
               RequestCallback callback, std::chrono::milliseconds timeout);
  MessageExt request(const Message& msg, const MessageQueue& mq, std::chrono::milliseconds timeout);
  void request(const Message& msg, const MessageQueue& mq, RequestCallback callback,
               std::chrono::milliseconds timeout);
  /// Future form of request(msg, callback, timeout); the future holds the reply or the exception.
  std::future<MessageExt> requestAsync(const Message& msg, std::chrono::milliseconds timeout);

  /// Requests currently awaiting replies.
  size_t pendingRequests() const;

  class ROCKETRPC_LOCAL Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

/// Builds the reply to `request` (Java MessageUtil.createReplyMessage): topic "<CLUSTER>_REPLY_TOPIC",
/// MSG_TYPE=reply, CORRELATION_ID, REPLY_TO_CLIENT and TTL copied. Send it with any Producer.
/// @throws MQException(kInvalidArgument) when the request lacks the CLUSTER or REPLY_TO_CLIENT property.
ROCKETRPC_API Message createReplyMessage(const MessageExt& request, std::string body);

/// Property names rocketrpc uses to mark error replies (readable by any client, e.g. Java):
/// RRPC_STATUS = "error" and RRPC_ERROR = the error text; the body carries the error text too.
namespace reply_property {
inline constexpr std::string_view kStatus = "RRPC_STATUS";
inline constexpr std::string_view kError = "RRPC_ERROR";
inline constexpr std::string_view kStatusError = "error";
}  // namespace reply_property

/// createReplyMessage, marked as an error reply carrying `error`.
ROCKETRPC_API Message createErrorReplyMessage(const MessageExt& request, std::string_view error);

}  // namespace rocketrpc
