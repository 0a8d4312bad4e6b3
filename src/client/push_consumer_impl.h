// PushConsumer::Impl: the push consumer engine (protocol doc 6.2; Java's DefaultMQPushConsumerImpl with its
// ConsumeMessageConcurrentlyService / ConsumeMessageOrderlyService).
//
// Threads (nothing blocks per queue):
//  * pull pool (1 thread): issues async PULL_MESSAGE calls and processes their responses (decode, cache,
//    dispatch); delays (flow control, errors) go through the client instance's scheduler.
//  * admin pool (1 thread): rebalance, offset commits, orderly lock renewal: the work that blocks on brokers.
//  * consume pool (consume_threads): listener calls, send-back of failed messages, replies.
// Every asynchronous continuation holds a weak_ptr to the Impl and a shared_ptr to the queue state it works
// on.
//
// Lifecycle: created -> start() -> running -> shutdown() -> shut down (terminal). A failed start() releases
// what it acquired and leaves the consumer created (start may be retried). Thread-safe; listeners may call
// any public method, shutdown() included (it then skips waiting for that call).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "client/client_instance.h"
#include "client/consumer_api.h"
#include "client/message_sender.h"
#include "client/offset_store.h"
#include "client/process_queue.h"
#include "client/rebalance.h"
#include "common/executor.h"
#include "common/log.h"
#include "common/stats_reporter.h"
#include "remoting/protocol/heartbeat_data.h"
#include "rocketrpc/push_consumer.h"

namespace rocketrpc {

class PushConsumer::Impl : public std::enable_shared_from_this<PushConsumer::Impl>,
                           private client::RebalanceEnv,
                           private client::OffsetQueries {
 public:
  /// Consume-concurrently flow control: pulls pause while the cached offsets span more than this.
  static constexpr int64_t kConsumeConcurrentlyMaxSpan = 2000;
  static constexpr std::chrono::milliseconds kPullDelayOnError{3000};
  /// A pull that could not reach its broker (connection refused or closed: the broker may be restarting) is
  /// retried sooner than other errors, so that a restarted broker is pulled from within a second of listening.
  static constexpr std::chrono::milliseconds kPullDelayOnNetworkError{1000};
  /// A pull refused because the broker does not know our subscription (SUBSCRIPTION_NOT_EXIST / NOT_LATEST,
  /// consumer not online: it restarted, or our heartbeat is not in yet) asks for a heartbeat at once and is
  /// retried after this, instead of waiting for the next periodic heartbeat.
  static constexpr std::chrono::milliseconds kPullDelayOnResubscribe{500};
  /// How often a subscribed topic that has no route yet is looked up on the name servers (start() does not
  /// wait for it: the consumer serves the topic once it is created).
  static constexpr std::chrono::milliseconds kMissingRoutePoll{1000};
  static constexpr std::chrono::milliseconds kPullDelayOnFlowControl{50};
  static constexpr std::chrono::milliseconds kPullDelayOnBrokerFlowControl{20};
  /// A pull refused by ACL is retried after 1 s, doubling per refusal of that queue up to 30 s (the account
  /// may be granted the permission later); the refusal is logged once until a pull succeeds again.
  static constexpr std::chrono::milliseconds kPullDelayOnAccessDeniedMin{1000};
  static constexpr std::chrono::milliseconds kPullDelayOnAccessDeniedMax{30000};
  static constexpr std::chrono::milliseconds kReconsumeLaterDelay{5000};
  static constexpr std::chrono::milliseconds kLockRenewInterval{20000};
  static constexpr std::chrono::milliseconds kLockBatchTimeout{1000};
  static constexpr std::chrono::milliseconds kMaxTimeConsumeContinuously{60000};
  static constexpr std::chrono::milliseconds kSendTimeout{3000};
  static constexpr std::chrono::milliseconds kShutdownListenerWait{10000};
  /// Replies sent without waiting (reply listener, sendReply with a callback) in flight at most; a consume
  /// thread that would exceed it waits.
  static constexpr int kMaxRepliesInFlight = 1024;

  /// @throws MQException(kInvalidArgument) when an option is invalid.
  explicit Impl(PushConsumerOptions options);
  ~Impl() override;

  void subscribe(const std::string& topic, const std::string& expression);
  void setListener(MessageListenerConcurrently listener);
  void setListener(MessageListenerOrderly listener);
  void setListener(ReplyListener listener);

  void start();
  void shutdown() noexcept;
  const PushConsumerOptions& options() const { return options_; }
  std::string clientId() const;
  std::vector<MessageQueue> assignedQueues() const;
  PushConsumerStats stats() const;
  /// options_.stats_callback: started by PushConsumer::start() with statsJson of the consumer, stopped
  /// first thing by PushConsumer::shutdown().
  void startStatsReporter(std::function<std::string()> json) {
    stats_reporter_.start(options_.stats_interval, options_.stats_callback, std::move(json));
  }
  void stopStatsReporter() { stats_reporter_.stop(); }
  void sendReply(const Message& reply);
  void sendReply(const Message& reply, SendCallback callback);

  // --- called through the client instance (ConsumerHooks) ---
  void triggerRebalance();
  std::string runningInfoJson() const;

  /// Validates the options a PushConsumer is constructed with. InvalidArgument on error.
  static Status validateOptions(const PushConsumerOptions& options);
  /// [%|a-zA-Z0-9_-]+, at most `max_len` characters.
  static Status validateName(const std::string& what, const std::string& name, size_t max_len);

 private:
  enum class State { kCreated, kRunning, kShutdown };
  enum class ListenerKind { kNone, kConcurrently, kOrderly, kReply };

  /// One queue's pull loop: at most one PULL in flight, chained through the pull pool and the scheduler.
  struct PullRequest {
    MessageQueue mq;
    std::shared_ptr<client::ProcessQueue> pq;
    std::atomic<int64_t> next_offset{0};
    std::atomic<int64_t> broker_id{0};  // suggested by the broker (0 = master)
    std::atomic<int64_t> denied_delay_ms{0};  // backoff after ACL refusals of this queue; 0 = none pending
  };

  bool clustering() const { return options_.message_model == MessageModel::kClustering; }
  int maxReconsumeTimes() const;
  remoting::ConsumerData buildConsumerData() const;
  void stopInternal(bool was_running) noexcept;

  // --- scheduling helpers (all safe after shutdown: they drop the work) ---
  void postPull(const std::shared_ptr<PullRequest>& req);
  void pullLater(const std::shared_ptr<PullRequest>& req, std::chrono::milliseconds delay);
  void postAdmin(std::function<void(Impl&)> task);
  void postConsume(std::function<void(Impl&)> task);
  void consumeLater(std::chrono::milliseconds delay, std::function<void(Impl&)> task);

  // --- pull loop ---
  void pullMessage(const std::shared_ptr<PullRequest>& req);
  void onPullResult(const std::shared_ptr<PullRequest>& req, Result<client::PullResult> result);
  void resetRetryTopic(std::vector<MessageExt>& msgs) const;
  /// Looks up the routes of subscribed topics that had none; a topic that has one now is announced to its
  /// brokers (heartbeat) and rebalanced. Admin pool.
  void pollMissingRoutes();

  // --- consumption ---
  bool enterListener();
  void leaveListener();
  void submitConsume(const MessageQueue& mq, const std::shared_ptr<client::ProcessQueue>& pq,
                     std::vector<MessageExt> msgs, bool dispatch);
  void submitConcurrently(const MessageQueue& mq, const std::shared_ptr<client::ProcessQueue>& pq,
                          std::vector<MessageExt> msgs);
  void consumeConcurrently(const MessageQueue& mq, const std::shared_ptr<client::ProcessQueue>& pq,
                           std::vector<MessageExt> msgs);
  void processConsumeResult(const MessageQueue& mq, const std::shared_ptr<client::ProcessQueue>& pq,
                            ConsumeStatus status, std::vector<MessageExt> msgs);
  ConsumeStatus consumeReplyRequests(const std::vector<MessageExt>& msgs);
  void consumeOrderly(const MessageQueue& mq, const std::shared_ptr<client::ProcessQueue>& pq);
  void consumeOrderlyLater(const MessageQueue& mq, const std::shared_ptr<client::ProcessQueue>& pq,
                           std::chrono::milliseconds delay);
  void tryLockLaterAndReconsume(const MessageQueue& mq, const std::shared_ptr<client::ProcessQueue>& pq,
                                std::chrono::milliseconds delay);
  /// Orderly: true when the batch must be retried (some message has retries left or could not be parked).
  bool checkReconsumeTimes(std::vector<MessageExt>& msgs);
  /// CONSUMER_SEND_MSG_BACK to the message's broker, falling back to a send to %RETRY%<group>.
  bool sendMessageBack(const MessageExt& msg);
  /// Orderly, retries exhausted: to the dead-letter queue (send-back with delay -1, or a %RETRY% send the
  /// broker diverts to the DLQ).
  bool sendMessageBackToDlq(const MessageExt& msg);
  Result<SendResult> sendRetryCopy(const MessageExt& msg, int32_t reconsume_times, int32_t delay_level);

  // --- rebalance / offsets ---
  void doRebalance();
  void persistAll(bool sync);
  std::string masterAddrFor(const std::string& broker_name, const std::string& topic);

  // client::RebalanceEnv
  Result<std::vector<MessageQueue>> subscribeQueues(const std::string& topic) override;
  Result<std::vector<std::string>> consumerIds(const std::string& topic) override;
  void removeDirtyOffset(const MessageQueue& mq) override;
  Result<int64_t> computePullFromWhere(const MessageQueue& mq) override;
  void releaseOffset(const MessageQueue& mq) override;
  Result<std::set<MessageQueue>> lockBatch(const std::string& broker_name,
                                           const std::set<MessageQueue>& mqs) override;
  void unlockBatch(const std::string& broker_name, const std::set<MessageQueue>& mqs, bool oneway) override;
  void dispatchPull(const MessageQueue& mq, std::shared_ptr<client::ProcessQueue> pq,
                    int64_t next_offset) override;

  // client::OffsetQueries
  Result<int64_t> storedOffset(const MessageQueue& mq) override;
  Result<int64_t> maxOffset(const MessageQueue& mq) override;
  Result<int64_t> searchOffset(const MessageQueue& mq, int64_t timestamp_ms) override;

  class Hooks;

  /// Replies in flight (sent, not yet acknowledged or failed) and reply failures. Shared with the send
  /// completions, which may outlive a failed wait of shutdown(). Thread-safe.
  struct ReplyGate {
    std::mutex mu;
    std::condition_variable cv;
    int in_flight = 0;  // guarded by mu
    int waiters = 0;    // guarded by mu: threads waiting for in_flight to drop
    bool closed = false;  // guarded by mu: shutdown began; enter() no longer waits for room
    std::atomic<uint64_t> failures{0};
    std::atomic<uint64_t> replies_ok{0};  // automatic replies the broker accepted (PushConsumer::stats())
    log::RateLimiter failure_log{std::chrono::seconds(5)};
    /// Takes a slot, waiting while kMaxRepliesInFlight are taken (unless closed).
    void enter();
    /// Returns a slot.
    void leave();
    /// Waits (at most `limit`) until nothing is in flight; false on timeout.
    bool drain(std::chrono::milliseconds limit);
  };
  /// Sends `reply` without waiting; `done` runs exactly once when the send completes (on an I/O thread, or
  /// on this thread for an immediate failure). Holds a gate slot until `done` has returned.
  void sendReplyAsync(const Message& reply, client::SendDone done);

  PushConsumerOptions options_;
  const std::string retry_topic_;
  int64_t consume_timestamp_ms_ = 0;

  std::mutex lifecycle_mu_;      // serialises start() and shutdown(); never taken by other threads
  mutable std::mutex state_mu_;  // guards state_, client_id_, listeners and expressions_ (held briefly)
  State state_ = State::kCreated;
  std::string client_id_;  // set when running
  ListenerKind listener_kind_ = ListenerKind::kNone;
  MessageListenerConcurrently concurrent_listener_;
  MessageListenerOrderly orderly_listener_;
  ReplyListener reply_listener_;
  std::map<std::string, std::string> expressions_;  // topic -> expression, as subscribed

  // Fixed while running (written by start() before any other thread can see them).
  bool orderly_ = false;
  std::map<std::string, std::shared_ptr<const remoting::SubscriptionData>>
      subscriptions_;  // incl. retry topic
  std::vector<std::string> topics_;
  std::shared_ptr<client::ClientInstance> instance_;  // declared before its users: destroyed last
  std::shared_ptr<client::MessageSender> sender_;     // always shared: in-flight sends keep it alive
  std::unique_ptr<client::OffsetStore> offset_store_;
  std::unique_ptr<client::RebalanceImpl> rebalance_;
  std::unique_ptr<ThreadPool> pull_pool_;
  std::unique_ptr<ThreadPool> admin_pool_;
  std::shared_ptr<ThreadPool> consume_pool_;
  std::shared_ptr<Hooks> hooks_;
  bool hooks_registered_ = false;
  std::vector<Scheduler::TaskId> timers_;
  std::mutex missing_mu_;
  std::set<std::string> missing_routes_;  // guarded by missing_mu_: subscribed topics without a route yet

  std::atomic<bool> stopped_{true};
  std::atomic<bool> rebalance_queued_{false};
  std::atomic<bool> rebalance_enabled_{false};  // false until start() has sent the first heartbeat
  std::mutex inflight_mu_;
  std::condition_variable inflight_cv_;
  int inflight_ = 0;  // guarded by inflight_mu_: consume tasks running user code

  log::RateLimiter pull_error_log_{std::chrono::seconds(10)};
  std::atomic<bool> pull_denied_logged_{false};  // an ACL refusal of a pull was logged; reset by a success
  log::RateLimiter flow_control_log_{std::chrono::seconds(30)};
  log::RateLimiter consume_error_log_{std::chrono::seconds(5)};
  const std::shared_ptr<ReplyGate> reply_gate_ = std::make_shared<ReplyGate>();
  log::RateLimiter send_back_log_{std::chrono::seconds(5)};

  // PushConsumer::stats(): one relaxed add each where they happen.
  std::atomic<uint64_t> messages_pulled_{0};
  std::atomic<uint64_t> consumed_ok_{0};
  std::atomic<uint64_t> consumed_failed_{0};
  std::atomic<uint64_t> pulls_failed_{0};
  StatsReporter stats_reporter_;  // options_.stats_callback (rocketrpc/metrics.h)
};

}  // namespace rocketrpc
