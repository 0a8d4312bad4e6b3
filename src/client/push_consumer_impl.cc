// PushConsumer (include/rocketrpc/push_consumer.h) and its engine PushConsumer::Impl.
#include "client/push_consumer_impl.h"

#include <algorithm>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <utility>

#include "client/consumer_api.h"
#include "client/error_mapping.h"
#include "rocketrpc/metrics.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/names.h"
#include "rocketrpc/producer.h"

namespace rocketrpc {

namespace {

constexpr std::string_view kLog = "consumer";
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

int64_t nowMs() {
  return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string consumeFromWhereName(ConsumeFromWhere where) {
  switch (where) {
    case ConsumeFromWhere::kLastOffset:
      return "CONSUME_FROM_LAST_OFFSET";
    case ConsumeFromWhere::kFirstOffset:
      return "CONSUME_FROM_FIRST_OFFSET";
    case ConsumeFromWhere::kTimestamp:
      return "CONSUME_FROM_TIMESTAMP";
  }
  return "CONSUME_FROM_LAST_OFFSET";
}

std::string describeException(std::exception_ptr e) {
  try {
    if (e) std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "non-standard exception";
  }
  return "unknown error";
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Hooks: what the client instance sees of this consumer. Holds only immutable data and a weak reference, so
// the instance never keeps the consumer alive.

class PushConsumer::Impl::Hooks final : public client::ConsumerHooks {
 public:
  Hooks(std::weak_ptr<Impl> impl, std::string group, remoting::ConsumerData data,
        std::set<std::string> topics)
      : impl_(std::move(impl)),
        group_(std::move(group)),
        data_(std::move(data)),
        topics_(std::move(topics)) {}

  std::string group() const override { return group_; }
  remoting::ConsumerData consumerData() const override { return data_; }
  std::set<std::string> subscribedTopics() const override { return topics_; }
  void triggerRebalance() override {
    if (auto impl = impl_.lock()) impl->triggerRebalance();
  }
  void onRouteChanged(const std::string& topic) override {
    if (!topics_.count(topic)) return;
    if (auto impl = impl_.lock()) impl->triggerRebalance();
  }
  std::string runningInfoJson() const override {
    if (auto impl = impl_.lock()) return impl->runningInfoJson();
    return "{}";
  }

 private:
  std::weak_ptr<Impl> impl_;
  const std::string group_;
  const remoting::ConsumerData data_;
  const std::set<std::string> topics_;
};

// ---------------------------------------------------------------------------------------------------------------
// Construction and configuration

Status PushConsumer::Impl::validateName(const std::string& what, const std::string& name, size_t max_len) {
  if (name.empty()) return Status::invalidArgument(what + " is empty");
  if (name.size() > max_len) {
    return Status::invalidArgument(what + " '" + name + "' is longer than " + std::to_string(max_len) +
                                   " characters");
  }
  if (!remoting::hasOnlyNameCharacters(name))
    return Status::invalidArgument(what + " '" + name + "' has characters outside [%|a-zA-Z0-9_-]");
  return Status::ok();
}

Status PushConsumer::Impl::validateOptions(const PushConsumerOptions& o) {
  if (Status st = validateName("consumer group", o.group, 255); !st.isOk()) return st;
  if (o.group == "DEFAULT_CONSUMER")
    return Status::invalidArgument("consumer group DEFAULT_CONSUMER is reserved");
  if (o.namesrv_addr.empty()) return Status::invalidArgument("namesrv_addr is required");
  auto range = [](const char* name, int64_t v, int64_t lo, int64_t hi) -> Status {
    if (v < lo || v > hi) {
      return Status::invalidArgument(std::string(name) + " must be " + std::to_string(lo) + ".." +
                                     std::to_string(hi) + ", got " + std::to_string(v));
    }
    return Status::ok();
  };
  for (Status st :
       {range("consume_threads", o.consume_threads, 1, 1000),
        range("pull_batch_size", o.pull_batch_size, 1, 1024),
        range("consume_batch_size", o.consume_batch_size, 1, 1024),
        range("pull_threshold_for_queue", o.pull_threshold_for_queue, 1, 65535),
        range("pull_threshold_bytes_for_queue", static_cast<int64_t>(o.pull_threshold_bytes_for_queue), 1,
              int64_t{1024} * 1024 * 1024),
        range("broker_suspend_max_time (ms)", o.broker_suspend_max_time.count(), 1000, 60000),
        range("max_reconsume_times", o.max_reconsume_times, -1, 10000),
        range("suspend_current_queue_time (ms)", o.suspend_current_queue_time.count(), 10, 30000),
        range("rebalance_interval (ms)", o.rebalance_interval.count(), 100, 3600000),
        range("persist_offset_interval (ms)", o.persist_offset_interval.count(), 100, 3600000),
        range("compress_level", o.compress_level, 1, 9)}) {
    if (!st.isOk()) return st;
  }
  if (o.stats_interval.count() != 0 &&
      (o.stats_interval.count() < 100 || o.stats_interval.count() > 3600000)) {
    return Status::invalidArgument("stats_interval must be 0 (off) or 100..3600000 ms, got " +
                                   std::to_string(o.stats_interval.count()));
  }
  if (!o.consume_timestamp.empty()) {
    auto ts = client::parseConsumeTimestamp(o.consume_timestamp);
    if (!ts.isOk()) return ts.status();
  }
  return Status::ok();
}

PushConsumer::Impl::Impl(PushConsumerOptions options)
    : options_(std::move(options)), retry_topic_(client::retryTopic(options_.group)) {
  client::throwIfError(validateOptions(options_));
  if (options_.consume_timestamp.empty()) {
    consume_timestamp_ms_ = nowMs() - 30 * 60 * 1000;
    options_.consume_timestamp = client::formatConsumeTimestamp(consume_timestamp_ms_);
  } else {
    consume_timestamp_ms_ = *client::parseConsumeTimestamp(options_.consume_timestamp);
  }
}

PushConsumer::Impl::~Impl() = default;

void PushConsumer::Impl::subscribe(const std::string& topic, const std::string& expression) {
  client::throwIfError(validateName("topic", topic, 255));
  auto sub = remoting::buildSubscription(topic, expression, 0);
  if (!sub.isOk()) client::throwStatus(sub.status().withContext("subscription of " + topic));
  std::lock_guard<std::mutex> lock(state_mu_);
  if (state_ != State::kCreated) {
    throw MQException(ErrorCode::kInvalidArgument, "subscribe() must be called before start()");
  }
  expressions_[topic] = expression;
}

void PushConsumer::Impl::setListener(MessageListenerConcurrently listener) {
  if (!listener) throw MQException(ErrorCode::kInvalidArgument, "listener is empty");
  std::lock_guard<std::mutex> lock(state_mu_);
  if (state_ != State::kCreated)
    throw MQException(ErrorCode::kInvalidArgument, "set the listener before start()");
  listener_kind_ = ListenerKind::kConcurrently;
  concurrent_listener_ = std::move(listener);
}

void PushConsumer::Impl::setListener(MessageListenerOrderly listener) {
  if (!listener) throw MQException(ErrorCode::kInvalidArgument, "listener is empty");
  std::lock_guard<std::mutex> lock(state_mu_);
  if (state_ != State::kCreated)
    throw MQException(ErrorCode::kInvalidArgument, "set the listener before start()");
  listener_kind_ = ListenerKind::kOrderly;
  orderly_listener_ = std::move(listener);
}

void PushConsumer::Impl::setListener(ReplyListener listener) {
  if (!listener) throw MQException(ErrorCode::kInvalidArgument, "listener is empty");
  std::lock_guard<std::mutex> lock(state_mu_);
  if (state_ != State::kCreated)
    throw MQException(ErrorCode::kInvalidArgument, "set the listener before start()");
  listener_kind_ = ListenerKind::kReply;
  reply_listener_ = std::move(listener);
}

int PushConsumer::Impl::maxReconsumeTimes() const {
  // As the Java client: -1 means 16 for concurrent consumption and "forever" for orderly consumption.
  if (options_.max_reconsume_times >= 0) return options_.max_reconsume_times;
  return orderly_ ? std::numeric_limits<int>::max() : 16;
}

remoting::ConsumerData PushConsumer::Impl::buildConsumerData() const {
  remoting::ConsumerData data;
  data.group_name = options_.group;
  data.consume_type = "CONSUME_PASSIVELY";
  data.message_model = clustering() ? "CLUSTERING" : "BROADCASTING";
  data.consume_from_where = consumeFromWhereName(options_.consume_from_where);
  for (const auto& [topic, sub] : subscriptions_) data.subscriptions.push_back(*sub);
  return data;
}

std::string PushConsumer::Impl::clientId() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  if (!client_id_.empty()) return client_id_;
  return client::ClientInstance::makeClientId(options_);
}

// ---------------------------------------------------------------------------------------------------------------
// start / shutdown

void PushConsumer::Impl::start() {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (state_ == State::kRunning) return;
    if (state_ == State::kShutdown) throw MQException(ErrorCode::kClosed, "push consumer was shut down");
    if (listener_kind_ == ListenerKind::kNone) {
      throw MQException(ErrorCode::kInvalidArgument,
                        "push consumer " + options_.group + ": no message listener set");
    }
    if (expressions_.empty()) {
      throw MQException(ErrorCode::kInvalidArgument, "push consumer " + options_.group + ": no subscription");
    }
  }
  // From here on the listeners and expressions no longer change (setters require kCreated and this thread
  // holds the lifecycle lock; setters racing with start() are the caller's bug).

  // Subscriptions (plus the group's retry topic when clustering), all with one sub version.
  const int64_t sub_version = nowMs();
  subscriptions_.clear();
  for (const auto& [topic, expression] : expressions_) {
    auto sub = remoting::buildSubscription(topic, expression, sub_version);
    if (!sub.isOk()) client::throwStatus(sub.status().withContext("subscription of " + topic));
    subscriptions_[topic] = std::make_shared<const remoting::SubscriptionData>(std::move(*sub));
  }
  if (clustering() && !subscriptions_.count(retry_topic_)) {
    auto sub = remoting::buildSubscription(retry_topic_, "*", sub_version);
    if (!sub.isOk()) client::throwStatus(sub.status());
    subscriptions_[retry_topic_] = std::make_shared<const remoting::SubscriptionData>(std::move(*sub));
  }
  topics_.clear();
  for (const auto& [topic, sub] : subscriptions_) topics_.push_back(topic);
  orderly_ = listener_kind_ == ListenerKind::kOrderly;
  if (listener_kind_ == ListenerKind::kReply) {
    // The reply listener runs as a concurrent listener that answers each request.
    std::weak_ptr<Impl> weak = weak_from_this();
    concurrent_listener_ = [weak](const std::vector<MessageExt>& msgs) {
      auto self = weak.lock();
      return self ? self->consumeReplyRequests(msgs) : ConsumeStatus::kReconsumeLater;
    };
  }

  auto acquired = client::ClientInstance::acquire(options_);
  if (!acquired.isOk()) {
    client::throwStatus(acquired.status().withContext("push consumer " + options_.group + ": client start"));
  }
  instance_ = std::move(*acquired);
  {
    std::lock_guard<std::mutex> inflight(inflight_mu_);
    stopped_ = false;
  }
  {
    std::lock_guard<std::mutex> gate(reply_gate_->mu);
    reply_gate_->closed = false;
  }

  try {
    const std::string client_id = instance_->clientId();
    consume_pool_ = std::make_shared<ThreadPool>("consume-" + options_.group, options_.consume_threads);
    pull_pool_ = std::make_unique<ThreadPool>("pull-" + options_.group, 1);
    admin_pool_ = std::make_unique<ThreadPool>("consumer-admin-" + options_.group, 1);

    if (clustering()) {
      offset_store_ = std::make_unique<client::RemoteBrokerOffsetStore>(*instance_, options_.group);
    } else {
      auto local = std::make_unique<client::LocalFileOffsetStore>(
          client::LocalFileOffsetStore::defaultPath(client_id, options_.group));
      client::throwIfError(local->load());
      offset_store_ = std::move(local);
    }

    client::SenderConfig sender_config;
    sender_config.group = client::ClientInstance::kInnerProducerGroup;
    sender_config.compress_over = options_.compress_over;
    sender_config.compress_level = options_.compress_level;
    sender_ = std::make_shared<client::MessageSender>(instance_, sender_config);

    client::RebalanceConfig rc;
    rc.group = options_.group;
    rc.client_id = client_id;
    rc.model = options_.message_model;
    rc.orderly = orderly_;
    rebalance_ = std::make_unique<client::RebalanceImpl>(rc, static_cast<client::RebalanceEnv&>(*this));

    hooks_ = std::make_shared<Hooks>(weak_from_this(), options_.group, buildConsumerData(),
                                     std::set<std::string>(topics_.begin(), topics_.end()));
    instance_->registerConsumer(hooks_);
    hooks_registered_ = true;

    // A topic that does not exist yet does not stop the consumer (as in the Java client): it is looked up
    // every kMissingRoutePoll and served once it is created. Any other failure (name server unreachable,
    // access denied) still fails start().
    std::set<std::string> missing;
    for (const auto& [topic, expression] : expressions_) {
      auto route = instance_->updateRoute(topic);
      if (route.isOk()) continue;
      if (route.status().code() != StatusCode::kNotFound) {
        client::throwStatus(route.status().withContext("push consumer " + options_.group +
                                                       ": cannot get the route of topic '" + topic + "'"));
      }
      RRPC_LOG(kInfo, kLog, "group {}: topic {} has no route yet; it will be consumed once it is created",
               options_.group, topic);
      missing.insert(topic);
    }
    {
      std::lock_guard<std::mutex> lock(missing_mu_);
      missing_routes_ = std::move(missing);
    }
    if (clustering()) (void)instance_->updateRoute(retry_topic_);  // created by the broker on heartbeat

    Status hb = instance_->sendHeartbeatToAllBrokers();
    // Refused credentials or a group/topic the account may not subscribe to: nothing this consumer does can
    // work, so start() says so instead of pulling into refusals.
    if (hb.code() == StatusCode::kAccessDenied) {
      client::throwStatus(hb.withContext("push consumer " + options_.group + ": first heartbeat"));
    }
    if (!hb.isOk()) RRPC_LOG(kWarn, kLog, "group {}: first heartbeat: {}", options_.group, hb.toString());
  } catch (...) {
    auto error = std::current_exception();
    stopInternal(/*was_running=*/false);
    hooks_.reset();
    rebalance_.reset();
    sender_.reset();
    offset_store_.reset();
    pull_pool_.reset();
    admin_pool_.reset();
    consume_pool_.reset();
    instance_.reset();
    std::rethrow_exception(error);
  }

  {
    std::lock_guard<std::mutex> lock(state_mu_);
    state_ = State::kRunning;
    client_id_ = instance_->clientId();
  }
  std::weak_ptr<Impl> weak = weak_from_this();
  auto& scheduler = instance_->scheduler();
  timers_.push_back(
      scheduler.scheduleRepeating(options_.rebalance_interval, options_.rebalance_interval, [weak] {
        if (auto self = weak.lock()) self->triggerRebalance();
      }));
  timers_.push_back(
      scheduler.scheduleRepeating(options_.persist_offset_interval, options_.persist_offset_interval, [weak] {
        if (auto self = weak.lock()) self->postAdmin([](Impl& s) { s.persistAll(/*sync=*/false); });
      }));
  timers_.push_back(scheduler.scheduleRepeating(kMissingRoutePoll, kMissingRoutePoll, [weak] {
    auto self = weak.lock();
    if (!self) return;
    {
      std::lock_guard<std::mutex> lock(self->missing_mu_);
      if (self->missing_routes_.empty()) return;
    }
    self->postAdmin([](Impl& s) { s.pollMissingRoutes(); });
  }));
  if (orderly_ && clustering()) {
    timers_.push_back(scheduler.scheduleRepeating(kLockRenewInterval, kLockRenewInterval, [weak] {
      if (auto self = weak.lock()) self->postAdmin([](Impl& s) { s.rebalance_->lockAll(); });
    }));
  }
  RRPC_LOG(kInfo, kLog, "push consumer {} started as {} ({} topic(s), {})", options_.group,
           instance_->clientId(), topics_.size(), orderly_ ? "orderly" : "concurrently");
  rebalance_enabled_ = true;  // route updates during start() must not rebalance before the broker knows us
  triggerRebalance();
}

void PushConsumer::Impl::shutdown() noexcept {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (state_ != State::kRunning) return;
  }
  stopInternal(/*was_running=*/true);
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    state_ = State::kShutdown;
  }
  RRPC_LOG(kInfo, kLog, "push consumer {} shut down", options_.group);
}

void PushConsumer::Impl::stopInternal(bool was_running) noexcept {
  try {
    {
      std::lock_guard<std::mutex> inflight(inflight_mu_);
      stopped_ = true;
    }
    if (instance_) {
      for (auto id : timers_) instance_->scheduler().cancel(id);
    }
    timers_.clear();

    // Let running listener calls finish (bounded); queued consume tasks see stopped_ and return at once. A
    // listener calling shutdown() itself is not waited for.
    const int own = consume_pool_ && consume_pool_->inPool() ? 1 : 0;
    bool drained;
    {
      std::unique_lock<std::mutex> inflight(inflight_mu_);
      drained =
          inflight_cv_.wait_for(inflight, kShutdownListenerWait, [this, own] { return inflight_ <= own; });
    }
    // Replies still in flight complete (or time out) within the send timeout; their callbacks use the
    // client instance, released below.
    {
      std::lock_guard<std::mutex> gate(reply_gate_->mu);
      reply_gate_->closed = true;
    }
    reply_gate_->cv.notify_all();
    if (!reply_gate_->drain(kSendTimeout + std::chrono::seconds(2))) {
      RRPC_LOG(kError, kLog, "group {}: replies still in flight after {} ms", options_.group,
               (kSendTimeout + std::chrono::seconds(2)).count());
    }
    if (admin_pool_) admin_pool_->shutdown();
    if (pull_pool_) pull_pool_->shutdown();
    if (consume_pool_) {
      if (drained) {
        consume_pool_->shutdown();
      } else {
        // A listener is stuck: leave its pool running rather than block shutdown forever.
        RRPC_LOG(kError, kLog, "group {}: listener calls still running after {} ms; abandoning them",
                 options_.group, kShutdownListenerWait.count());
        new std::shared_ptr<ThreadPool>(consume_pool_);  // intentionally leaked: never joined
      }
    }

    if (was_running && rebalance_ && offset_store_) {
      std::set<MessageQueue> mqs;
      for (const auto& [mq, pq] : rebalance_->processQueues()) mqs.insert(mq);
      offset_store_->persistAll(mqs, /*sync=*/true);
      if (orderly_ && clustering()) rebalance_->unlockAll(/*oneway=*/false);
      rebalance_->destroy();
    }
    if (instance_) {
      if (hooks_registered_) instance_->unregisterConsumer(options_.group);
      hooks_registered_ = false;
      instance_->release();
    }
  } catch (const std::exception& e) {
    RRPC_LOG(kError, kLog, "group {}: shutdown: {}", options_.group, e.what());
  } catch (...) {
    RRPC_LOG(kError, kLog, "group {}: shutdown failed", options_.group);
  }
}

PushConsumerStats PushConsumer::Impl::stats() const {
  PushConsumerStats s;
  s.messages_pulled = messages_pulled_.load(std::memory_order_relaxed);
  s.consumed_ok = consumed_ok_.load(std::memory_order_relaxed);
  s.consumed_failed = consumed_failed_.load(std::memory_order_relaxed);
  s.replies_ok = reply_gate_->replies_ok.load(std::memory_order_relaxed);
  s.replies_failed = reply_gate_->failures.load(std::memory_order_relaxed);
  s.pulls_failed = pulls_failed_.load(std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (state_ != State::kRunning) return s;
  }
  for (const auto& [mq, pq] : rebalance_->processQueues()) {  // set before kRunning, kept until destruction
    if (pq->dropped()) continue;
    ++s.queues_assigned;
    s.messages_cached += pq->cachedCount();
  }
  return s;
}

std::vector<MessageQueue> PushConsumer::Impl::assignedQueues() const {
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (state_ != State::kRunning) return {};
  }
  return rebalance_->assignedQueues();  // set before kRunning, kept until destruction
}

void PushConsumer::Impl::sendReply(const Message& reply) {
  std::shared_ptr<client::MessageSender> sender;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (state_ != State::kRunning) {
      throw MQException(state_ == State::kShutdown ? ErrorCode::kClosed : ErrorCode::kNotStarted,
                        "push consumer " + options_.group + " is not running");
    }
    sender = sender_;
  }
  auto r = sender->sendSync(reply, client::QueueChoice{}, kSendTimeout);
  if (!r.isOk()) client::throwStatus(r.status().withContext("send reply"), /*send_context=*/true);
}

void PushConsumer::Impl::ReplyGate::enter() {
  std::unique_lock<std::mutex> lock(mu);
  if (in_flight >= kMaxRepliesInFlight && !closed) {
    ++waiters;
    cv.wait(lock, [this] { return in_flight < kMaxRepliesInFlight || closed; });
    --waiters;
  }
  ++in_flight;
}

void PushConsumer::Impl::ReplyGate::leave() {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu);
    --in_flight;
    wake = waiters > 0;
  }
  if (wake) cv.notify_all();
}

bool PushConsumer::Impl::ReplyGate::drain(std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> lock(mu);
  ++waiters;
  bool drained = cv.wait_for(lock, limit, [this] { return in_flight == 0; });
  --waiters;
  return drained;
}

void PushConsumer::Impl::sendReplyAsync(const Message& reply, client::SendDone done) {
  reply_gate_->enter();
  sender_->sendAsync(reply, client::QueueChoice{}, kSendTimeout,
                     [gate = reply_gate_, done = std::move(done)](Result<SendResult> r) mutable {
                       done(std::move(r));
                       done = nullptr;  // what it holds is released before shutdown() may proceed
                       gate->leave();
                     });
}

void PushConsumer::Impl::sendReply(const Message& reply, SendCallback callback) {
  std::shared_ptr<client::ClientInstance> instance;
  std::exception_ptr not_running;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (state_ != State::kRunning) {
      not_running = std::make_exception_ptr(
          MQException(state_ == State::kShutdown ? ErrorCode::kClosed : ErrorCode::kNotStarted,
                      "push consumer " + options_.group + " is not running"));
    } else {
      instance = instance_;
    }
  }
  if (not_running) {
    // No thread of ours may be running: the caller's thread gets the error (outside our locks).
    if (callback) callback(Outcome<SendResult>(not_running));
    return;
  }
  // The callback runs on the callback pool; its gate slot is held until it has returned, so shutdown() waits
  // for it.
  reply_gate_->enter();
  auto gate = reply_gate_;
  sender_->sendAsync(
      reply, client::QueueChoice{}, kSendTimeout,
      [gate, instance = std::move(instance), callback = std::move(callback)](Result<SendResult> r) mutable {
        Outcome<SendResult> out = r.isOk() ? Outcome<SendResult>(std::move(r).value())
                                           : Outcome<SendResult>(client::toException(
                                                 r.status().withContext("send reply"), /*send_context=*/true));
        // One shared task, never copied: the outcome (and its exception) has a single owner, released on the
        // callback thread by the callback's parameter.
        auto task = std::make_shared<std::function<void()>>(
            [gate, callback = std::move(callback), out = std::move(out)]() mutable {
              if (callback) {
                try {
                  callback(std::move(out));
                } catch (const std::exception& e) {
                  RRPC_LOG(kWarn, kLog, "reply callback threw: {}", e.what());
                } catch (...) {
                  RRPC_LOG(kWarn, kLog, "reply callback threw a non-std exception");
                }
              }
              callback = nullptr;
              gate->leave();
            });
        if (!instance->callbackPool().post([task] { (*task)(); })) (*task)();
      });
}

// ---------------------------------------------------------------------------------------------------------------
// Scheduling helpers

void PushConsumer::Impl::postPull(const std::shared_ptr<PullRequest>& req) {
  std::weak_ptr<Impl> weak = weak_from_this();
  pull_pool_->post([weak, req] {
    if (auto self = weak.lock()) self->pullMessage(req);
  });
}

void PushConsumer::Impl::pullLater(const std::shared_ptr<PullRequest>& req, milliseconds delay) {
  if (stopped_) return;
  std::weak_ptr<Impl> weak = weak_from_this();
  instance_->scheduler().schedule(delay, [weak, req] {
    if (auto self = weak.lock()) {
      if (!self->stopped_) self->postPull(req);
    }
  });
}

void PushConsumer::Impl::postAdmin(std::function<void(Impl&)> task) {
  std::weak_ptr<Impl> weak = weak_from_this();
  admin_pool_->post([weak, task = std::move(task)] {
    auto self = weak.lock();
    if (self && !self->stopped_) task(*self);
  });
}

void PushConsumer::Impl::postConsume(std::function<void(Impl&)> task) {
  std::weak_ptr<Impl> weak = weak_from_this();
  consume_pool_->post([weak, task = std::move(task)] {
    auto self = weak.lock();
    if (self && !self->stopped_) task(*self);
  });
}

void PushConsumer::Impl::consumeLater(milliseconds delay, std::function<void(Impl&)> task) {
  if (stopped_) return;
  std::weak_ptr<Impl> weak = weak_from_this();
  instance_->scheduler().schedule(delay, [weak, task = std::move(task)]() mutable {
    if (auto self = weak.lock()) {
      if (!self->stopped_) self->postConsume(std::move(task));
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Pull loop

void PushConsumer::Impl::pullMessage(const std::shared_ptr<PullRequest>& req) {
  auto& pq = *req->pq;
  const MessageQueue& mq = req->mq;
  if (stopped_ || pq.dropped()) return;
  pq.setLastPullTime(Clock::now());

  // Flow control: the consumer is behind; look again shortly.
  const size_t cached = pq.cachedCount();
  if (cached > static_cast<size_t>(options_.pull_threshold_for_queue) ||
      pq.cachedBytes() > options_.pull_threshold_bytes_for_queue) {
    if (flow_control_log_.allow()) {
      RRPC_LOG(kWarn, kLog, "group {}: {} caches {} messages / {} bytes; pulls paused (flow control)",
               options_.group, mq.toString(), cached, pq.cachedBytes());
    }
    pullLater(req, kPullDelayOnFlowControl);
    return;
  }
  if (!orderly_) {
    if (pq.maxSpan() > kConsumeConcurrentlyMaxSpan) {
      if (flow_control_log_.allow()) {
        RRPC_LOG(kWarn, kLog, "group {}: {} cached offsets span {} > {}; pulls paused (flow control)",
                 options_.group, mq.toString(), pq.maxSpan(), kConsumeConcurrentlyMaxSpan);
      }
      pullLater(req, kPullDelayOnFlowControl);
      return;
    }
  } else if (clustering() && !pq.locked()) {
    pullLater(req, kPullDelayOnError);  // not locked on the broker (yet): another member may own it
    return;
  }

  auto sub = subscriptions_.find(mq.topic);
  if (sub == subscriptions_.end()) {
    pullLater(req, kPullDelayOnError);
    return;
  }

  bool commit = false;
  int64_t commit_offset = 0;
  if (clustering()) {
    auto offset = offset_store_->readOffset(mq, client::ReadOffsetType::kMemory);
    if (offset.isOk() && *offset > 0) {
      commit = true;
      commit_offset = *offset;
    }
  }
  std::string addr = instance_->brokerAddr(mq.broker_name, req->broker_id.load());
  if (addr.empty()) {
    std::string topic = mq.topic;
    postAdmin([topic](Impl& self) { (void)self.instance_->updateRoute(topic); });
    if (pull_error_log_.allow()) {
      RRPC_LOG(kWarn, kLog, "group {}: no address for broker {} of {}; retrying", options_.group,
               mq.broker_name, mq.toString());
    }
    pullLater(req, kPullDelayOnError);
    return;
  }
  if (addr != instance_->masterAddr(mq.broker_name)) commit = false;  // slaves do not take commits

  client::PullMessageArgs args;
  args.group = options_.group;
  args.mq = mq;
  args.queue_offset = req->next_offset.load();
  args.max_msg_nums = options_.pull_batch_size;
  args.sys_flag =
      client::buildPullSysFlag(commit, /*suspend=*/true, /*subscription=*/false, /*class_filter=*/false);
  args.commit_offset = commit_offset;
  args.suspend_timeout = options_.broker_suspend_max_time;
  args.subscription = sub->second;
  const milliseconds timeout = options_.broker_suspend_max_time + milliseconds(15000);

  std::weak_ptr<Impl> weak = weak_from_this();
  client::pullMessageAsync(instance_->remoting(), addr, args, timeout, pull_pool_.get(),
                           [weak, req](Result<client::PullResult> result) {
                             if (auto self = weak.lock()) self->onPullResult(req, std::move(result));
                           });
}

void PushConsumer::Impl::onPullResult(const std::shared_ptr<PullRequest>& req,
                                      Result<client::PullResult> result) {
  if (stopped_) return;
  auto& pq = *req->pq;
  const MessageQueue& mq = req->mq;
  if (!result.isOk()) {
    pulls_failed_.fetch_add(1, std::memory_order_relaxed);
    if (pq.dropped()) return;
    const Status& st = result.status();
    if (st.code() == StatusCode::kRemoteError && st.remoteCode() == remoting::response_code::kFlowControl) {
      pullLater(req, kPullDelayOnBrokerFlowControl);
      return;
    }
    if (st.code() == StatusCode::kAccessDenied) {
      // Not a transient fault: said once (for all queues) and retried with a growing delay until allowed.
      const int64_t prev = req->denied_delay_ms.load();
      const milliseconds delay =
          prev == 0 ? kPullDelayOnAccessDeniedMin : std::min(milliseconds(prev * 2), kPullDelayOnAccessDeniedMax);
      req->denied_delay_ms = delay.count();
      if (!pull_denied_logged_.exchange(true)) {
        RRPC_LOG(kError, kLog,
                 "group {}: pull of {} refused by the broker's ACL: {}; retrying with a backoff up to {} ms "
                 "(logged once until a pull succeeds)",
                 options_.group, mq.toString(), st.toString(), kPullDelayOnAccessDeniedMax.count());
      }
      pullLater(req, delay);
      return;
    }
    if (st.code() == StatusCode::kRemoteError &&
        (st.remoteCode() == remoting::response_code::kSubscriptionNotExist ||
         st.remoteCode() == remoting::response_code::kSubscriptionNotLatest ||
         st.remoteCode() == remoting::response_code::kConsumerNotOnline ||
         st.message().find("not online") != std::string::npos)) {
      // The broker lost (restart) or has not yet got our heartbeat: send one now rather than at the next
      // periodic heartbeat, and pull again shortly.
      if (pull_error_log_.allow()) {
        RRPC_LOG(kInfo, kLog, "group {}: pull of {} refused ({}); heartbeating now, retrying in {} ms",
                 options_.group, mq.toString(), st.toString(), kPullDelayOnResubscribe.count());
      }
      instance_->heartbeatSoon();
      pullLater(req, kPullDelayOnResubscribe);
      return;
    }
    const milliseconds delay = st.code() == StatusCode::kNetwork ? kPullDelayOnNetworkError : kPullDelayOnError;
    if (pull_error_log_.allow()) {
      RRPC_LOG(kWarn, kLog, "group {}: pull of {} at {} failed: {}; retrying in {} ms", options_.group,
               mq.toString(), req->next_offset.load(), st.toString(), delay.count());
    }
    pullLater(req, delay);
    return;
  }

  client::PullResult& r = *result;
  if (req->denied_delay_ms.exchange(0) != 0 && pull_denied_logged_.exchange(false)) {
    RRPC_LOG(kInfo, kLog, "group {}: pulls are allowed again ({})", options_.group, mq.toString());
  }
  req->broker_id = r.suggest_which_broker_id;
  if (pq.dropped()) return;
  switch (r.status) {
    case client::PullStatus::kFound: {
      req->next_offset = r.next_begin_offset;
      if (r.messages.empty()) {
        // Everything was filtered out by tag: the offset may move on when nothing is pending.
        if (pq.cachedCount() == 0) offset_store_->updateOffset(mq, r.next_begin_offset, true);
        postPull(req);
        return;
      }
      messages_pulled_.fetch_add(r.messages.size(), std::memory_order_relaxed);
      resetRetryTopic(r.messages);
      bool dispatch = pq.putMessages(r.messages);
      submitConsume(mq, req->pq, std::move(r.messages), dispatch);
      postPull(req);
      return;
    }
    case client::PullStatus::kNoNewMsg:
    case client::PullStatus::kNoMatchedMsg:
      req->next_offset = r.next_begin_offset;
      if (pq.cachedCount() == 0) offset_store_->updateOffset(mq, r.next_begin_offset, true);
      postPull(req);
      return;
    case client::PullStatus::kOffsetIllegal: {
      RRPC_LOG(kWarn, kLog, "group {}: offset {} of {} is illegal (queue {}..{}); moving to {}",
               options_.group, req->next_offset.load(), mq.toString(), r.min_offset, r.max_offset,
               r.next_begin_offset);
      req->next_offset = r.next_begin_offset;
      pq.setDropped(true);
      const int64_t next = r.next_begin_offset;
      postAdmin([req, next](Impl& self) {
        self.offset_store_->updateOffset(req->mq, next, false);
        self.offset_store_->persist(req->mq, /*sync=*/true);
        self.rebalance_->removeProcessQueue(req->mq, req->pq);
        self.triggerRebalance();  // re-adds the queue at the corrected offset
      });
      return;
    }
  }
}

void PushConsumer::Impl::pollMissingRoutes() {
  std::set<std::string> topics;
  {
    std::lock_guard<std::mutex> lock(missing_mu_);
    topics = missing_routes_;
  }
  bool found = false;
  for (const auto& topic : topics) {
    auto route = instance_->updateRoute(topic);
    if (!route.isOk()) continue;
    RRPC_LOG(kInfo, kLog, "group {}: topic {} has a route now; consuming it", options_.group, topic);
    std::lock_guard<std::mutex> lock(missing_mu_);
    missing_routes_.erase(topic);
    found = true;
  }
  if (!found) return;
  // Its brokers may be new to this instance: they must know the subscription before the first pull.
  if (clustering()) (void)instance_->updateRoute(retry_topic_);
  (void)instance_->sendHeartbeatToAllBrokers();
  triggerRebalance();
}

void PushConsumer::Impl::resetRetryTopic(std::vector<MessageExt>& msgs) const {
  for (auto& msg : msgs) {
    if (msg.topic() != retry_topic_) continue;
    std::string original = msg.getProperty(property::kRetryTopic);
    if (!original.empty()) msg.setTopic(std::move(original));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Consumption

bool PushConsumer::Impl::enterListener() {
  std::lock_guard<std::mutex> lock(inflight_mu_);
  if (stopped_) return false;
  ++inflight_;
  return true;
}

void PushConsumer::Impl::leaveListener() {
  std::lock_guard<std::mutex> lock(inflight_mu_);
  if (--inflight_ == 0) inflight_cv_.notify_all();
}

namespace {
/// Counts one consume task as running user-visible work for the bounded wait of shutdown().
class ListenerScope {
 public:
  template <typename Enter, typename Leave>
  ListenerScope(Enter&& enter, Leave leave) : entered_(enter()), leave_(std::move(leave)) {}
  ~ListenerScope() {
    if (entered_) leave_();
  }
  explicit operator bool() const { return entered_; }

 private:
  bool entered_;
  std::function<void()> leave_;
};
}  // namespace

void PushConsumer::Impl::submitConsume(const MessageQueue& mq,
                                       const std::shared_ptr<client::ProcessQueue>& pq,
                                       std::vector<MessageExt> msgs, bool dispatch) {
  if (orderly_) {
    if (dispatch) {
      postConsume([mq, pq](Impl& self) { self.consumeOrderly(mq, pq); });
    }
    return;
  }
  submitConcurrently(mq, pq, std::move(msgs));
}

void PushConsumer::Impl::submitConcurrently(const MessageQueue& mq,
                                            const std::shared_ptr<client::ProcessQueue>& pq,
                                            std::vector<MessageExt> msgs) {
  const size_t batch = static_cast<size_t>(options_.consume_batch_size);
  for (size_t i = 0; i < msgs.size(); i += batch) {
    auto part = std::make_shared<std::vector<MessageExt>>(
        std::make_move_iterator(msgs.begin() + static_cast<std::ptrdiff_t>(i)),
        std::make_move_iterator(msgs.begin() +
                                static_cast<std::ptrdiff_t>(std::min(msgs.size(), i + batch))));
    postConsume([mq, pq, part](Impl& self) { self.consumeConcurrently(mq, pq, std::move(*part)); });
  }
}

void PushConsumer::Impl::consumeConcurrently(const MessageQueue& mq,
                                             const std::shared_ptr<client::ProcessQueue>& pq,
                                             std::vector<MessageExt> msgs) {
  if (pq->dropped()) return;
  ListenerScope scope([this] { return enterListener(); }, [this] { leaveListener(); });
  if (!scope) return;
  const std::string start = std::to_string(nowMs());
  for (auto& msg : msgs) msg.putProperty(property::kConsumeStartTime, start);

  ConsumeStatus status = ConsumeStatus::kReconsumeLater;
  try {
    status = concurrent_listener_(msgs);
  } catch (...) {
    if (consume_error_log_.allow()) {
      RRPC_LOG(kWarn, kLog, "group {}: listener threw on {} message(s) of {}: {}", options_.group,
               msgs.size(), mq.toString(), describeException(std::current_exception()));
    }
    status = ConsumeStatus::kReconsumeLater;
  }
  (status == ConsumeStatus::kSuccess ? consumed_ok_ : consumed_failed_)
      .fetch_add(msgs.size(), std::memory_order_relaxed);
  if (pq->dropped()) return;  // the queue moved to another member: it re-consumes from the committed offset
  processConsumeResult(mq, pq, status, std::move(msgs));
}

void PushConsumer::Impl::processConsumeResult(const MessageQueue& mq,
                                              const std::shared_ptr<client::ProcessQueue>& pq,
                                              ConsumeStatus status, std::vector<MessageExt> msgs) {
  std::vector<MessageExt> retry_locally;
  if (status != ConsumeStatus::kSuccess) {
    if (!clustering()) {
      RRPC_LOG(kWarn, kLog, "group {}: broadcasting consumption of {} message(s) of {} failed; dropped",
               options_.group, msgs.size(), mq.toString());
    } else {
      std::vector<MessageExt> done;
      done.reserve(msgs.size());
      for (auto& msg : msgs) {
        if (sendMessageBack(msg)) {
          done.push_back(std::move(msg));
        } else {
          msg.setReconsumeTimes(msg.reconsumeTimes() + 1);
          retry_locally.push_back(std::move(msg));
        }
      }
      msgs = std::move(done);
    }
  }
  int64_t offset = pq->removeMessages(msgs);
  if (!retry_locally.empty()) {
    // Neither the broker nor the retry topic took them: they stay cached (holding the offset) and run again.
    auto part = std::make_shared<std::vector<MessageExt>>(std::move(retry_locally));
    consumeLater(kReconsumeLaterDelay,
                 [mq, pq, part](Impl& self) { self.submitConcurrently(mq, pq, *part); });
  }
  if (offset >= 0 && !pq->dropped()) offset_store_->updateOffset(mq, offset, true);
}

ConsumeStatus PushConsumer::Impl::consumeReplyRequests(const std::vector<MessageExt>& msgs) {
  for (const auto& msg : msgs) {
    std::string body;
    std::optional<std::string> error;
    try {
      body = reply_listener_(msg);
    } catch (...) {
      error = describeException(std::current_exception());
    }
    if (!msg.hasProperty(property::kReplyToClient)) {
      if (error && consume_error_log_.allow()) {
        RRPC_LOG(kWarn, kLog, "group {}: reply listener threw on message {} (not a request): {}",
                 options_.group, msg.msgId(), *error);
      }
      continue;  // not a request: consumed, nothing to answer
    }
    // A request is consumed once whatever happens to its reply: a late retry after the requester gave up is
    // useless.
    // The reply is sent in the background: this thread moves on to the next request. Failures are counted
    // and logged (rate limited) when the send completes.
    try {
      Message reply = error ? createErrorReplyMessage(msg, *error) : createReplyMessage(msg, std::move(body));
      sendReplyAsync(reply, [gate = reply_gate_, group = options_.group, id = msg.msgId(),
                             client = msg.getProperty(property::kReplyToClient)](Result<SendResult> sent) {
        if (sent.isOk()) {
          gate->replies_ok.fetch_add(1, std::memory_order_relaxed);
          return;
        }
        const uint64_t failures = gate->failures.fetch_add(1) + 1;
        if (gate->failure_log.allow()) {
          RRPC_LOG(kWarn, kLog, "group {}: reply to request {} (client {}) failed: {} ({} reply failures so far)",
                   group, id, client, sent.status().toString(), failures);
        }
      });
    } catch (const std::exception& e) {
      const uint64_t failures = reply_gate_->failures.fetch_add(1) + 1;
      if (reply_gate_->failure_log.allow()) {
        RRPC_LOG(kWarn, kLog, "group {}: cannot reply to request {}: {} ({} reply failures so far)", options_.group,
                 msg.msgId(), e.what(), failures);
      }
    }
  }
  return ConsumeStatus::kSuccess;
}

void PushConsumer::Impl::consumeOrderly(const MessageQueue& mq,
                                        const std::shared_ptr<client::ProcessQueue>& pq) {
  if (pq->dropped()) return;
  std::lock_guard<std::mutex> serial(pq->serialMutex());  // one consume loop per queue
  const bool need_lock = clustering();
  if (need_lock && (!pq->locked() || pq->lockExpired())) {
    if (!pq->dropped()) tryLockLaterAndReconsume(mq, pq, milliseconds(100));
    return;
  }
  const auto begin = Clock::now();
  const size_t batch = static_cast<size_t>(options_.consume_batch_size);
  for (bool more = true; more;) {
    if (pq->dropped() || stopped_) break;
    if (need_lock && (!pq->locked() || pq->lockExpired())) {
      tryLockLaterAndReconsume(mq, pq, milliseconds(10));
      break;
    }
    if (Clock::now() - begin > kMaxTimeConsumeContinuously) {
      consumeOrderlyLater(mq, pq, milliseconds(10));  // let other queues have the thread
      break;
    }
    ListenerScope scope([this] { return enterListener(); }, [this] { leaveListener(); });
    if (!scope) break;
    std::vector<MessageExt> msgs = pq->takeMessages(batch);
    if (msgs.empty()) break;
    const std::string start = std::to_string(nowMs());
    for (auto& msg : msgs) msg.putProperty(property::kConsumeStartTime, start);

    OrderlyConsumeStatus status = OrderlyConsumeStatus::kSuspendCurrentQueueAMoment;
    {
      std::lock_guard<client::TimedMutex> consume(pq->consumeMutex());
      if (pq->dropped()) break;
      try {
        status = orderly_listener_(msgs);
      } catch (...) {
        if (consume_error_log_.allow()) {
          RRPC_LOG(kWarn, kLog, "group {}: orderly listener threw on {} message(s) of {}: {}", options_.group,
                   msgs.size(), mq.toString(), describeException(std::current_exception()));
        }
        status = OrderlyConsumeStatus::kSuspendCurrentQueueAMoment;
      }
    }
    (status == OrderlyConsumeStatus::kSuccess ? consumed_ok_ : consumed_failed_)
        .fetch_add(msgs.size(), std::memory_order_relaxed);

    int64_t commit = -1;
    if (status == OrderlyConsumeStatus::kSuccess) {
      commit = pq->commit();
    } else if (checkReconsumeTimes(msgs)) {
      pq->makeMessagesToConsumeAgain(msgs);
      consumeOrderlyLater(mq, pq, options_.suspend_current_queue_time);
      more = false;
    } else {
      commit = pq->commit();  // every message of the batch went to the dead-letter queue
    }
    if (commit >= 0 && !pq->dropped()) offset_store_->updateOffset(mq, commit, false);
  }
}

void PushConsumer::Impl::consumeOrderlyLater(const MessageQueue& mq,
                                             const std::shared_ptr<client::ProcessQueue>& pq,
                                             milliseconds delay) {
  delay = std::clamp(delay, milliseconds(10), milliseconds(30000));
  consumeLater(delay, [mq, pq](Impl& self) { self.consumeOrderly(mq, pq); });
}

void PushConsumer::Impl::tryLockLaterAndReconsume(const MessageQueue& mq,
                                                  const std::shared_ptr<client::ProcessQueue>& pq,
                                                  milliseconds delay) {
  if (stopped_) return;
  std::weak_ptr<Impl> weak = weak_from_this();
  instance_->scheduler().schedule(delay, [weak, mq, pq] {
    auto self = weak.lock();
    if (!self || self->stopped_) return;
    self->postAdmin([mq, pq](Impl& s) {
      if (pq->dropped()) return;
      bool locked = s.rebalance_->lock(mq);
      s.consumeOrderlyLater(mq, pq, locked ? milliseconds(10) : milliseconds(3000));
    });
  });
}

bool PushConsumer::Impl::checkReconsumeTimes(std::vector<MessageExt>& msgs) {
  bool suspend = false;
  const int max = maxReconsumeTimes();
  for (auto& msg : msgs) {
    if (msg.reconsumeTimes() >= max) {
      msg.putProperty(property::kReconsumeTime, std::to_string(msg.reconsumeTimes()));
      if (!sendMessageBackToDlq(msg)) {
        suspend = true;
        msg.setReconsumeTimes(msg.reconsumeTimes() + 1);
      }
    } else {
      suspend = true;
      msg.setReconsumeTimes(msg.reconsumeTimes() + 1);
    }
  }
  return suspend;
}

Result<SendResult> PushConsumer::Impl::sendRetryCopy(const MessageExt& msg, int32_t reconsume_times,
                                                     int32_t delay_level) {
  Message copy(retry_topic_, msg.body());
  copy.setFlag(msg.flag());
  copy.mutableProperties() = msg.properties();
  for (auto name : {property::kMinOffset, property::kMaxOffset, property::kConsumeStartTime,
                    property::kTransactionPrepared}) {
    copy.clearProperty(name);
  }
  std::string origin = msg.getProperty(property::kOriginMessageId);
  copy.putProperty(property::kOriginMessageId, origin.empty() ? msg.msgId() : origin);
  copy.putProperty(property::kRetryTopic, msg.topic());
  copy.putProperty(property::kReconsumeTime, std::to_string(reconsume_times));
  copy.putProperty(property::kMaxReconsumeTimes, std::to_string(maxReconsumeTimes()));
  copy.setDelayTimeLevel(delay_level);
  return sender_->sendSync(copy, client::QueueChoice{}, kSendTimeout);
}

bool PushConsumer::Impl::sendMessageBack(const MessageExt& msg) {
  std::string addr = masterAddrFor(msg.brokerName(), msg.topic());
  if (addr.empty()) addr = msg.storeHost();
  Status st = addr.empty() ? Status::noRoute("no broker address for " + msg.brokerName())
                           : client::consumerSendMessageBack(instance_->remoting(), addr, msg, options_.group,
                                                             /*delay_level=*/0, maxReconsumeTimes(),
                                                             instance_->apiTimeout());
  if (st.isOk()) return true;
  if (send_back_log_.allow()) {
    RRPC_LOG(kWarn, kLog, "group {}: send-back of {} failed ({}); sending a copy to {}", options_.group,
             msg.msgId(), st.toString(), retry_topic_);
  }
  auto sent = sendRetryCopy(msg, msg.reconsumeTimes() + 1, 3 + msg.reconsumeTimes());
  if (sent.isOk()) return true;
  if (send_back_log_.allow()) {
    RRPC_LOG(kWarn, kLog, "group {}: retry copy of {} failed: {}; consuming it again locally", options_.group,
             msg.msgId(), sent.status().toString());
  }
  return false;
}

bool PushConsumer::Impl::sendMessageBackToDlq(const MessageExt& msg) {
  std::string addr = masterAddrFor(msg.brokerName(), msg.topic());
  if (addr.empty()) addr = msg.storeHost();
  if (!addr.empty()) {
    Status st =
        client::consumerSendMessageBack(instance_->remoting(), addr, msg, options_.group, /*delay_level=*/-1,
                                        maxReconsumeTimes(), instance_->apiTimeout());
    if (st.isOk()) return true;
    if (send_back_log_.allow()) {
      RRPC_LOG(kWarn, kLog, "group {}: dead-letter send-back of {} failed: {}", options_.group, msg.msgId(),
               st.toString());
    }
  }
  // RECONSUME_TIME >= MAX_RECONSUME_TIMES makes the broker divert the copy to %DLQ%<group>.
  auto sent = sendRetryCopy(msg, msg.reconsumeTimes(), 3 + msg.reconsumeTimes());
  return sent.isOk();
}

// ---------------------------------------------------------------------------------------------------------------
// Rebalance and offsets

void PushConsumer::Impl::triggerRebalance() {
  if (stopped_ || !rebalance_enabled_) return;
  if (rebalance_queued_.exchange(true)) return;  // one pending run covers every trigger before it starts
  std::weak_ptr<Impl> weak = weak_from_this();
  bool posted = admin_pool_->post([weak] {
    auto self = weak.lock();
    if (!self) return;
    self->rebalance_queued_ = false;
    if (!self->stopped_) self->doRebalance();
  });
  if (!posted) rebalance_queued_ = false;
}

void PushConsumer::Impl::doRebalance() {
  try {
    rebalance_->doRebalance(topics_);
  } catch (const std::exception& e) {
    RRPC_LOG(kError, kLog, "group {}: rebalance failed: {}", options_.group, e.what());
  }
}

void PushConsumer::Impl::persistAll(bool sync) {
  std::set<MessageQueue> mqs;
  for (const auto& [mq, pq] : rebalance_->processQueues()) {
    if (!pq->dropped()) mqs.insert(mq);
  }
  offset_store_->persistAll(mqs, sync);
}

std::string PushConsumer::Impl::masterAddrFor(const std::string& broker_name, const std::string& topic) {
  std::string addr = instance_->masterAddr(broker_name);
  if (addr.empty() && !topic.empty()) {
    (void)instance_->updateRoute(topic);
    addr = instance_->masterAddr(broker_name);
  }
  return addr;
}

Result<std::vector<MessageQueue>> PushConsumer::Impl::subscribeQueues(const std::string& topic) {
  return instance_->subscribeQueues(topic);
}

Result<std::vector<std::string>> PushConsumer::Impl::consumerIds(const std::string& topic) {
  std::string addr = instance_->anyBrokerAddrForTopic(topic);
  if (addr.empty()) {
    (void)instance_->updateRoute(topic);
    addr = instance_->anyBrokerAddrForTopic(topic);
  }
  if (addr.empty()) return Status::noRoute("no broker serves topic " + topic);
  return client::getConsumerIdListByGroup(instance_->remoting(), addr, options_.group,
                                          instance_->apiTimeout());
}

void PushConsumer::Impl::removeDirtyOffset(const MessageQueue& mq) { offset_store_->removeOffset(mq); }

Result<int64_t> PushConsumer::Impl::computePullFromWhere(const MessageQueue& mq) {
  return client::computePullFromWhere(options_.consume_from_where, consume_timestamp_ms_, mq, *this);
}

void PushConsumer::Impl::releaseOffset(const MessageQueue& mq) {
  offset_store_->persist(mq, /*sync=*/true);
  offset_store_->removeOffset(mq);
}

Result<std::set<MessageQueue>> PushConsumer::Impl::lockBatch(const std::string& broker_name,
                                                             const std::set<MessageQueue>& mqs) {
  std::string addr = masterAddrFor(broker_name, mqs.empty() ? std::string() : mqs.begin()->topic);
  if (addr.empty()) return Status::noRoute("no master for broker " + broker_name);
  return client::lockBatchMQ(instance_->remoting(), addr, options_.group, instance_->clientId(), mqs,
                             kLockBatchTimeout);
}

void PushConsumer::Impl::unlockBatch(const std::string& broker_name, const std::set<MessageQueue>& mqs,
                                     bool oneway) {
  std::string addr = masterAddrFor(broker_name, mqs.empty() ? std::string() : mqs.begin()->topic);
  if (addr.empty()) return;
  Status st = client::unlockBatchMQ(instance_->remoting(), addr, options_.group, instance_->clientId(), mqs,
                                    oneway, kLockBatchTimeout);
  if (!st.isOk()) {
    RRPC_LOG(kDebug, kLog, "group {}: unlock of {} queue(s) on {}: {}", options_.group, mqs.size(),
             broker_name, st.toString());
  }
}

void PushConsumer::Impl::dispatchPull(const MessageQueue& mq, std::shared_ptr<client::ProcessQueue> pq,
                                      int64_t next_offset) {
  auto req = std::make_shared<PullRequest>();
  req->mq = mq;
  req->pq = std::move(pq);
  req->next_offset = next_offset;
  postPull(req);
}

Result<int64_t> PushConsumer::Impl::storedOffset(const MessageQueue& mq) {
  return offset_store_->readOffset(mq, client::ReadOffsetType::kStore);
}

Result<int64_t> PushConsumer::Impl::maxOffset(const MessageQueue& mq) {
  std::string addr = masterAddrFor(mq.broker_name, mq.topic);
  if (addr.empty()) return Status::noRoute("no master for broker " + mq.broker_name);
  return client::getMaxOffset(instance_->remoting(), addr, mq, instance_->apiTimeout());
}

Result<int64_t> PushConsumer::Impl::searchOffset(const MessageQueue& mq, int64_t timestamp_ms) {
  std::string addr = masterAddrFor(mq.broker_name, mq.topic);
  if (addr.empty()) return Status::noRoute("no master for broker " + mq.broker_name);
  return client::searchOffset(instance_->remoting(), addr, mq, timestamp_ms, instance_->apiTimeout());
}

// ---------------------------------------------------------------------------------------------------------------
// Running info (GET_CONSUMER_RUNNING_INFO, best effort)

std::string PushConsumer::Impl::runningInfoJson() const {
  using nlohmann::json;
  json info;
  json props;
  props["consumerGroup"] = options_.group;
  props["messageModel"] = clustering() ? "CLUSTERING" : "BROADCASTING";
  props["consumeType"] = "CONSUME_PASSIVELY";
  props["consumeOrderly"] = orderly_ ? "true" : "false";
  props["consumeFromWhere"] = consumeFromWhereName(options_.consume_from_where);
  props["consumeTimestamp"] = options_.consume_timestamp;
  props["consumeThreadMax"] = std::to_string(options_.consume_threads);
  props["consumeMessageBatchMaxSize"] = std::to_string(options_.consume_batch_size);
  props["pullBatchSize"] = std::to_string(options_.pull_batch_size);
  props["pullThresholdForQueue"] = std::to_string(options_.pull_threshold_for_queue);
  props["maxReconsumeTimes"] = std::to_string(options_.max_reconsume_times);
  props["PROP_CLIENT_VERSION"] = "rocketrpc";
  info["properties"] = std::move(props);

  auto subs = json::array();
  for (const auto& [topic, sub] : subscriptions_) {
    subs.push_back({{"topic", sub->topic},
                    {"subString", sub->sub_string},
                    {"tagsSet", sub->tags_set},
                    {"codeSet", sub->code_set},
                    {"subVersion", sub->sub_version},
                    {"expressionType", sub->expression_type},
                    {"classFilterMode", sub->class_filter_mode}});
  }
  info["subscriptionSet"] = std::move(subs);

  auto queues = json::array();
  if (rebalance_ && offset_store_) {
    auto offsets = offset_store_->offsets();
    for (const auto& [mq, pq] : rebalance_->processQueues()) {
      auto off = offsets.find(mq);
      queues.push_back({{"topic", mq.topic},
                        {"brokerName", mq.broker_name},
                        {"queueId", mq.queue_id},
                        {"commitOffset", off == offsets.end() ? -1 : off->second},
                        {"cachedMsgCount", pq->cachedCount()},
                        {"cachedMsgSizeInMiB", pq->cachedBytes() / (1024 * 1024)},
                        {"cachedMsgMinOffset", pq->minCachedOffset()},
                        {"cachedMsgMaxOffset", pq->maxCachedOffset()},
                        {"locked", pq->locked()},
                        {"droped", pq->dropped()}});
    }
  }
  info["mqTable"] = std::move(queues);
  return info.dump();
}

// ---------------------------------------------------------------------------------------------------------------
// PushConsumer

PushConsumer::PushConsumer(PushConsumerOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {}

PushConsumer::~PushConsumer() {
  if (impl_) impl_->shutdown();
}

void PushConsumer::subscribe(const std::string& topic, const std::string& expression) {
  impl_->subscribe(topic, expression);
}

void PushConsumer::setMessageListener(MessageListenerConcurrently listener) {
  impl_->setListener(std::move(listener));
}
void PushConsumer::setMessageListener(MessageListenerOrderly listener) {
  impl_->setListener(std::move(listener));
}
void PushConsumer::setReplyListener(ReplyListener listener) { impl_->setListener(std::move(listener)); }

void PushConsumer::start() {
  impl_->start();
  impl_->startStatsReporter([this] { return statsJson(*this); });
}
void PushConsumer::shutdown() noexcept {
  impl_->stopStatsReporter();
  impl_->shutdown();
}
PushConsumerStats PushConsumer::stats() const { return impl_->stats(); }
const PushConsumerOptions& PushConsumer::options() const { return impl_->options(); }
std::string PushConsumer::clientId() const { return impl_->clientId(); }
std::vector<MessageQueue> PushConsumer::assignedQueues() const { return impl_->assignedQueues(); }
void PushConsumer::sendReply(const Message& reply) { impl_->sendReply(reply); }
void PushConsumer::sendReply(const Message& reply, SendCallback callback) {
  impl_->sendReply(reply, std::move(callback));
}

}  // namespace rocketrpc
