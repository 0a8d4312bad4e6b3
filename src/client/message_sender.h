// MessageSender: the send path shared by Producer and by consumers (retry send-back fallback, replies):
// validation, UNIQ_KEY, compression, queue selection avoiding recently failed brokers, SEND_MESSAGE_V2 /
// SEND_BATCH_MESSAGE / SEND_REPLY_MESSAGE_V2 encoding, retries and SendResult decoding.
// Thread-safe. Asynchronous callbacks run on the instance's callback pool, exactly once.
#pragma once

#include <chrono>
#include <functional>
#include <any>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client/client_instance.h"
#include "common/status.h"
#include "rocketrpc/producer.h"

namespace rocketrpc::client {

struct SenderConfig {
  std::string group;
  int retry_times = 2;
  int retry_times_async = 2;
  size_t compress_over = 4096;
  int compress_level = 5;
  size_t max_message_size = 4 * 1024 * 1024;
  std::string create_topic_key = "TBW102";
  int default_topic_queue_nums = 4;
};

/// How to pick the queue of one send.
struct QueueChoice {
  const MessageQueue* fixed = nullptr;               // explicit queue: no retries elsewhere
  const MessageQueueSelector* selector = nullptr;    // user selector: no retries elsewhere
  const std::any* arg = nullptr;
};

using SendDone = std::function<void(Result<SendResult>)>;

/// Properties one send sets on top of the message's own (a request's correlation id, reply-to client and TTL),
/// so that the caller's message is encoded as it is instead of copied to add them. A name given here wins over
/// the message's property of that name; an empty value removes it, as Message::putProperty does. Only read
/// during the call that takes them.
using PropertyOverrides = std::span<const std::pair<std::string_view, std::string_view>>;

class MessageSender : public std::enable_shared_from_this<MessageSender> {
 public:
  /// Always held by shared_ptr: in-flight sends keep it alive.
  MessageSender(std::shared_ptr<ClientInstance> instance, SenderConfig config);

  /// Validates a message for sending (topic name, body size, reserved characters). InvalidArgument on error.
  Status validate(const Message& msg) const;

  Result<SendResult> sendSync(const Message& msg, const QueueChoice& choice, std::chrono::milliseconds timeout);
  /// `done` runs exactly once, on an I/O thread, the service pool or (immediate failures) the caller's thread.
  /// Never fetches a route on the caller's thread: with the topic's route not cached (and no selector, which
  /// must run before this returns), the first attempt runs on the instance's service thread.
  void sendAsync(const Message& msg, const QueueChoice& choice, std::chrono::milliseconds timeout, SendDone done,
                 PropertyOverrides overrides = {});
  Status sendOneway(const Message& msg, const QueueChoice& choice, std::chrono::milliseconds timeout);
  Result<SendResult> sendBatch(const std::vector<Message>& msgs, const MessageQueue* mq,
                               std::chrono::milliseconds timeout);

  ClientInstance& instance() { return *instance_; }
  /// The instance this sender uses; alive as long as the sender is, even after the producer shut down.
  const std::shared_ptr<ClientInstance>& instanceShared() const { return instance_; }
  const SenderConfig& config() const { return config_; }

 private:
  struct Prepared;
  /// `keep_original`: keep a copy of `msg` (with the overrides) for a queue selector.
  Result<std::shared_ptr<Prepared>> prepare(const Message& msg, bool keep_original,
                                            PropertyOverrides overrides = {}) const;
  Result<MessageQueue> pickQueue(const TopicPublishInfo& info, const std::string& topic, const Message& msg,
                                 const QueueChoice& choice, const std::string& last_failed_broker);
  void attemptAsync(std::shared_ptr<Prepared> p, QueueChoice choice, std::chrono::steady_clock::time_point deadline,
                    int attempts_left, std::string last_failed, SendDone done);
  void noteBrokerFailure(const std::string& broker_name);
  bool brokerRecentlyFailed(const std::string& broker_name);

  std::shared_ptr<ClientInstance> instance_;
  SenderConfig config_;
  std::mutex fault_mu_;
  std::map<std::string, std::chrono::steady_clock::time_point> broker_unavailable_until_;
  std::atomic<uint32_t> send_index_{0};
};

/// Maps a send response (code + header) to a SendResult; non-success codes become RemoteError.
Result<SendResult> decodeSendResponse(const remoting::RemotingCommand& response, const MessageQueue& mq,
                                      const std::string& uniq_id);

}  // namespace rocketrpc::client
