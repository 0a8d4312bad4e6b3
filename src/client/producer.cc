// rocketrpc::Producer: public API over MessageSender and the instance's RequestFutureTable.
#include "rocketrpc/producer.h"

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <unordered_set>

#include "client/client_instance.h"
#include "client/error_mapping.h"
#include "client/message_sender.h"
#include "client/permits.h"
#include "client/producer_internals.h"
#include "client/request_future_table.h"
#include "common/log.h"
#include "common/random_id.h"
#include "common/stats_reporter.h"
#include "remoting/protocol/names.h"
#include "rocketrpc/metrics.h"

namespace rocketrpc {

using client::ClientInstance;
using client::MessageSender;
using client::QueueChoice;

namespace {

constexpr const char* kLog = "producer";

// CORRELATION_ID of a request: unguessable (128 bits from the kernel's CSPRNG), because a reply carrying a
// pending id is delivered to the requester as its answer, whoever sent it.
std::string newCorrelationId() { return newRandomId(); }

bool validGroup(const std::string& g) { return remoting::isValidGroupName(g); }

void checkTimeout(std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0) throw MQException(ErrorCode::kInvalidArgument, "timeout must be positive");
}

/// Producer::stats() counters other than the gauges (pending requests, permits), shared with completions.
struct Counters {
  std::atomic<uint64_t> sends_ok{0};
  std::atomic<uint64_t> sends_failed{0};
  std::atomic<uint64_t> requests_ok{0};
  std::atomic<uint64_t> requests_timed_out{0};
  std::atomic<uint64_t> requests_failed{0};
  std::atomic<uint64_t> bytes_sent{0};

  void countSend(bool ok, uint64_t bytes) {
    if (ok) {
      sends_ok.fetch_add(1, std::memory_order_relaxed);
      bytes_sent.fetch_add(bytes, std::memory_order_relaxed);
    } else {
      sends_failed.fetch_add(1, std::memory_order_relaxed);
    }
  }
};

/// Counts a synchronous send on scope exit: failed unless `ok` was set (a throw counts as a failure).
struct Counted {
  Counted(Counters& c, uint64_t b) : counters(c), bytes(b) {}
  ~Counted() { counters.countSend(ok, bytes); }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
  Counters& counters;
  uint64_t bytes;
  bool ok = false;
};

}  // namespace

class Producer::Impl : public std::enable_shared_from_this<Producer::Impl> {
 public:
  explicit Impl(ProducerOptions options) : options_(std::move(options)) {
    if (!validGroup(options_.group)) {
      throw MQException(ErrorCode::kInvalidArgument,
                        "producer group '" + options_.group + "' is empty, too long or has characters outside "
                        "[%|a-zA-Z0-9_-]");
    }
    if (options_.retry_times < 0 || options_.retry_times > 16 || options_.retry_times_async < 0 ||
        options_.retry_times_async > 16) {
      throw MQException(ErrorCode::kInvalidArgument, "retry_times must be 0..16");
    }
    if (options_.compress_level < 1 || options_.compress_level > 9) {
      throw MQException(ErrorCode::kInvalidArgument, "compress_level must be 1..9");
    }
    if (options_.max_message_size == 0 || options_.max_message_size > 16 * 1024 * 1024 - 1024) {
      throw MQException(ErrorCode::kInvalidArgument, "max_message_size must be 1..16 MiB - 1 KiB");
    }
    if (options_.send_timeout.count() <= 0) throw MQException(ErrorCode::kInvalidArgument, "send_timeout must be > 0");
    if (options_.max_pending_requests == 0) {
      throw MQException(ErrorCode::kInvalidArgument, "max_pending_requests must be > 0");
    }
    if (options_.max_async_in_flight < 1 || options_.max_async_in_flight > 10000000) {
      throw MQException(ErrorCode::kInvalidArgument, "max_async_in_flight must be 1..10000000");
    }
    if (options_.async_permit_wait.count() < 0 || options_.async_permit_wait.count() > 300000) {
      throw MQException(ErrorCode::kInvalidArgument, "async_permit_wait must be 0..300000 ms");
    }
    if (options_.stats_interval.count() != 0 &&
        (options_.stats_interval.count() < 100 || options_.stats_interval.count() > 3600000)) {
      throw MQException(ErrorCode::kInvalidArgument, "stats_interval must be 0 (off) or 100..3600000 ms");
    }
    permits_ = std::make_shared<client::Permits>(options_.max_async_in_flight, "max_async_in_flight");
  }

  void start() {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (state_ == State::kStarted) return;
    if (state_ == State::kClosed) throw MQException(ErrorCode::kClosed, "producer was shut down; create a new one");
    auto inst = ClientInstance::acquire(options_);
    if (!inst.isOk()) client::throwStatus(inst.status());
    instance_ = *inst;
    instance_->registerProducer(options_.group);
    client::SenderConfig cfg;
    cfg.group = options_.group;
    cfg.retry_times = options_.retry_times;
    cfg.retry_times_async = options_.retry_times_async;
    cfg.compress_over = options_.compress_over;
    cfg.compress_level = options_.compress_level;
    cfg.max_message_size = options_.max_message_size;
    cfg.create_topic_key = options_.create_topic_key;
    cfg.default_topic_queue_nums = options_.default_topic_queue_nums;
    sender_ = std::make_shared<MessageSender>(instance_, cfg);
    state_ = State::kStarted;
  }

  void shutdown() noexcept {
    std::shared_ptr<ClientInstance> inst;
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      if (state_ != State::kStarted) {
        state_ = State::kClosed;
        return;
      }
      state_ = State::kClosed;
      // A call that got the sender before this point keeps the instance alive through it (sender_ holds it):
      // instance_ itself is never dereferenced outside state_mu_ without a check.
      inst = std::move(instance_);
    }
    closed_.store(true);
    permits_->close();
    // Fail our own pending requests now; the instance may live on for other users.
    inst->requestFutures().failOwned(this, Status::closed("producer " + options_.group + " shut down"));
    inst->unregisterProducer(options_.group);
    inst->release();
  }

  std::shared_ptr<MessageSender> sender() {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (state_ == State::kNew) throw MQException(ErrorCode::kNotStarted, "producer is not started; call start()");
    if (state_ == State::kClosed) throw MQException(ErrorCode::kClosed, "producer is shut down");
    return sender_;
  }

  SendResult sendSync(const Message& msg, const QueueChoice& choice, std::chrono::milliseconds timeout) {
    Counted counted(*counters_, msg.body().size());
    checkTimeout(timeout);
    auto s = sender();
    auto r = s->sendSync(msg, choice, timeout);
    if (!r.isOk()) client::throwStatus(r.status());
    counted.ok = true;
    return std::move(r).value();
  }

  void sendAsync(const Message& msg, const QueueChoice& choice, SendCallback cb) {
    std::shared_ptr<MessageSender> s;
    try {
      s = sender();
    } catch (...) {
      counters_->sends_failed.fetch_add(1, std::memory_order_relaxed);
      deliver(std::move(cb), Outcome<SendResult>(std::current_exception()));
      return;
    }
    auto inst = s->instanceShared();
    if (Status permit = permits_->acquire(options_.async_permit_wait); !permit.isOk()) {
      counters_->sends_failed.fetch_add(1, std::memory_order_relaxed);
      postOutcome(inst, std::move(cb), Outcome<SendResult>(client::toException(permit)));
      return;
    }
    s->sendAsync(msg, choice, options_.send_timeout,
                 [inst, permits = permits_, counters = counters_, bytes = msg.body().size(),
                  cb = std::move(cb)](Result<SendResult> r) mutable {
                   permits->release();
                   counters->countSend(r.isOk(), bytes);
                   postOutcome(inst, std::move(cb),
                               r.isOk() ? Outcome<SendResult>(std::move(r).value())
                                        : Outcome<SendResult>(client::toException(r.status())));
                 });
  }

  template <typename T>
  void deliver(std::function<void(Outcome<T>)> cb, Outcome<T> out) {
    postOutcome(instance_ptr(), std::move(cb), std::move(out));
  }

  /// Runs cb(out) on the callback pool (inline when it is gone). The outcome lives in one heap task that is
  /// moved, never copied, so its exception_ptr has a single owner: its count is never touched by two threads
  /// (libstdc++ updates it where ThreadSanitizer cannot see).
  template <typename T>
  static void postOutcome(const std::shared_ptr<ClientInstance>& inst, std::function<void(Outcome<T>)> cb,
                          Outcome<T> out) {
    auto task = std::make_shared<std::function<void()>>(
        [cb = std::move(cb), out = std::move(out)]() mutable { cb(std::move(out)); });
    if (!inst || !inst->callbackPool().post([task] { (*task)(); })) (*task)();
  }

  std::shared_ptr<ClientInstance> instance_ptr() {
    std::lock_guard<std::mutex> lock(state_mu_);
    return instance_;
  }

  /// Route + heartbeat prefetch before the first request to a topic: every broker that may push the reply
  /// (all brokers holding <cluster>_REPLY_TOPIC) must know our channel first.
  bool topicPrepared(const std::string& topic) {
    std::lock_guard<std::mutex> lock(pending_mu_);
    return prepared_topics_.count(topic) != 0;
  }

  Status prepareRequestTopic(const std::shared_ptr<ClientInstance>& inst, const std::string& topic) {
    if (topicPrepared(topic)) return Status::ok();
    auto info = inst->publishInfo(topic, true, options_.create_topic_key, options_.default_topic_queue_nums);
    if (!info.isOk()) return info.status();
    std::set<std::string> clusters;
    for (const auto& bd : (*info)->route.broker_datas) {
      if (!bd.cluster.empty()) clusters.insert(bd.cluster);
    }
    for (const auto& c : clusters) {
      std::string reply_topic = c + "_REPLY_TOPIC";
      inst->addTopicOfInterest(reply_topic);
      auto r = inst->updateRoute(reply_topic);
      if (!r.isOk()) RRPC_LOG(kDebug, kLog, "route of {}: {}", reply_topic, r.status().toString());
    }
    Status hb = inst->sendHeartbeatToAllBrokers();
    if (!hb.isOk()) RRPC_LOG(kWarn, kLog, "heartbeat before first request to {}: {}", topic, hb.toString());
    std::lock_guard<std::mutex> lock(pending_mu_);
    prepared_topics_.insert(topic);
    return Status::ok();
  }

  /// Starts a request; `done` gets the reply or the mapped exception exactly once. `caller_waits`: the caller
  /// blocks for the outcome anyway (request() without callback), so the first request to a topic may fetch its
  /// route on the caller's thread; otherwise that fetch runs on the instance's service thread.
  void requestAsync(const Message& msg, const QueueChoice& choice, std::chrono::milliseconds timeout,
                    std::function<void(Outcome<MessageExt>)> done, bool inline_done, bool caller_waits = false) {
    std::shared_ptr<MessageSender> s;
    bool holds_permit = false;
    auto fail = [&](std::exception_ptr error) {
      if (holds_permit) permits_->release();
      counters_->requests_failed.fetch_add(1, std::memory_order_relaxed);
      if (inline_done) {
        done(Outcome<MessageExt>(std::move(error)));
      } else {
        postOutcome(s ? s->instanceShared() : nullptr, std::move(done), Outcome<MessageExt>(std::move(error)));
      }
    };
    try {
      checkTimeout(timeout);
      s = sender();
    } catch (...) {
      return fail(std::current_exception());
    }
    Status st = s->validate(msg);
    if (!st.isOk()) return fail(client::toException(st, true));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    st = permits_->acquire(options_.async_permit_wait);
    if (!st.isOk()) return fail(client::toException(st, true));
    // From here on the permit is given back first, whichever way the request ends: by `fail`, `fail_later`
    // and the refused post below, and once sendRequest has it, by the completion it registers (one wrapper
    // less per request in flight).
    holds_permit = true;
    auto inst = s->instanceShared();
    if (caller_waits || choice.selector || topicPrepared(msg.topic())) {
      st = prepareRequestTopic(inst, msg.topic());
      if (!st.isOk()) return fail(client::toException(st, true));
      return sendRequest(s, msg, choice, deadline, std::move(done), inline_done);
    }
    // First request to this topic from an asynchronous call: fetch the routes and heartbeat on the service
    // thread. The message and a fixed queue are copied (the caller's may be gone); a selector never gets here.
    auto task = std::make_shared<std::function<void()>>();
    auto fixed = choice.fixed ? std::make_shared<MessageQueue>(*choice.fixed) : nullptr;
    auto shared_done = std::make_shared<std::function<void(Outcome<MessageExt>)>>(std::move(done));
    bool posted = inst->servicePool().post([self = shared_from_this(), s, inst, msg, fixed, deadline, shared_done,
                                            inline_done] {
      auto fail_later = [&](const Status& why) {
        self->permits_->release();
        self->counters_->requests_failed.fetch_add(1, std::memory_order_relaxed);
        Outcome<MessageExt> out(client::toException(why, true));
        if (inline_done) {
          (*shared_done)(std::move(out));
        } else {
          postOutcome(inst, std::move(*shared_done), std::move(out));
        }
      };
      Status prepared = self->prepareRequestTopic(inst, msg.topic());
      if (!prepared.isOk()) return fail_later(prepared);
      if (std::chrono::steady_clock::now() >= deadline) {
        return fail_later(Status::timeout("request to " + msg.topic() +
                                          " timed out while its route was fetched, before it was sent"));
      }
      QueueChoice c;
      c.fixed = fixed.get();
      self->sendRequest(s, msg, c, deadline, std::move(*shared_done), inline_done);
    });
    if (!posted) {
      permits_->release();
      counters_->requests_failed.fetch_add(1, std::memory_order_relaxed);
      Outcome<MessageExt> out(client::toException(Status::closed("producer is shut down"), true));
      if (inline_done) {
        (*shared_done)(std::move(out));
      } else {
        postOutcome(inst, std::move(*shared_done), std::move(out));
      }
    }
  }

  /// The route of the topic is known: registers the correlation id and sends. The caller holds a permit, which
  /// the completion gives back first.
  void sendRequest(const std::shared_ptr<MessageSender>& s, const Message& msg, const QueueChoice& choice,
                   std::chrono::steady_clock::time_point deadline, std::function<void(Outcome<MessageExt>)> done,
                   bool inline_done) {
    const auto& inst = s->instanceShared();
    // Rounded up: truncating would fire the timer up to 1 ms before the caller's deadline.
    auto timeout = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (timeout.count() <= 0) timeout = std::chrono::milliseconds(1);
    std::string correlation = newCorrelationId();

    std::weak_ptr<Impl> weak = weak_from_this();
    // Kept per request in flight: captures only what the completion needs (no copy of the correlation id).
    auto on_done = [weak, counters = counters_, permits = permits_, done = std::move(done)](Result<MessageExt> r) {
      permits->release();
      if (auto self = weak.lock()) self->pending_requests_.fetch_sub(1);
      if (r.isOk()) {
        MessageExt reply = std::move(r).value();
        if (reply.getProperty(reply_property::kStatus) == reply_property::kStatusError) {
          counters->requests_failed.fetch_add(1, std::memory_order_relaxed);
          std::string why = reply.getProperty(reply_property::kError);
          if (why.empty()) why = reply.body();
          // Built before done() runs: the temporary exception (sharing its message buffer with the stored
          // copy) must be gone before another thread may read the copy.
          auto error = std::make_exception_ptr(ReplyErrorException("responder failed: " + why));
          done(Outcome<MessageExt>(std::move(error)));
          return;
        }
        counters->requests_ok.fetch_add(1, std::memory_order_relaxed);
        done(Outcome<MessageExt>(std::move(reply)));
        return;
      }
      const Status& e = r.status();
      (e.code() == StatusCode::kTimeout ? counters->requests_timed_out : counters->requests_failed)
          .fetch_add(1, std::memory_order_relaxed);
      if (e.code() == StatusCode::kTimeout) {
        auto error = std::make_exception_ptr(RequestTimeoutException(e.message()));
        done(Outcome<MessageExt>(std::move(error)));
      } else {
        done(Outcome<MessageExt>(client::toException(e, true)));
      }
    };
    pending_requests_.fetch_add(1);
    client::RequestDone registered = std::move(on_done);  // the one allocation kept per request for completion
    Status st = inst->requestFutures().add(correlation, timeout, msg.topic(), options_.max_pending_requests,
                                           std::move(registered), inline_done, this);
    if (!st.isOk()) {
      // Not registered (over the limit, shutting down; `registered` is still ours): report at once, never as a
      // timeout.
      if (inline_done) {
        registered(st);
      } else {
        auto shared_done = std::make_shared<client::RequestDone>(std::move(registered));
        if (!inst->callbackPool().post([shared_done, st] { (*shared_done)(st); })) (*shared_done)(st);
      }
      return;
    }
    if (closed_.load()) {
      // Shut down while this request was being set up: shutdown() may have missed its id.
      inst->requestFutures().fail(correlation, Status::closed("producer " + options_.group + " shut down"));
      return;
    }
    auto table = &inst->requestFutures();
    const uint64_t bytes = msg.body().size();
    auto on_sent = [inst, table, correlation, counters = counters_, bytes](Result<SendResult> r) {
      if (r.isOk()) {
        counters->bytes_sent.fetch_add(bytes, std::memory_order_relaxed);
        table->markSent(correlation);
      } else {
        table->fail(correlation, r.status().withContext("send request message failed"));
      }
    };
    // The request's own properties go with the caller's message as it is: no copy of it, its body or its map.
    const std::string ttl = std::to_string(timeout.count());
    const std::pair<std::string_view, std::string_view> request_properties[] = {
        {property::kCorrelationId, correlation},
        {property::kReplyToClient, inst->clientId()},
        {property::kTtl, ttl},
    };
    s->sendAsync(msg, choice, timeout, std::move(on_sent), request_properties);
  }

  ProducerOptions options_;
  std::mutex state_mu_;
  enum class State { kNew, kStarted, kClosed } state_ = State::kNew;
  std::shared_ptr<ClientInstance> instance_;
  std::shared_ptr<MessageSender> sender_;
  std::shared_ptr<client::Permits> permits_;  // set by the constructor
  // Shared with completions that may outlive the Impl; every hot-path update is one relaxed add.
  std::shared_ptr<Counters> counters_ = std::make_shared<Counters>();
  StatsReporter stats_reporter_;  // options_.stats_callback (rocketrpc/metrics.h)
  std::atomic<bool> closed_{false};

  std::mutex pending_mu_;
  std::atomic<size_t> pending_requests_{0};  // requests registered in the table and not yet completed
  std::unordered_set<std::string> prepared_topics_;
};

}  // namespace rocketrpc

namespace rocketrpc {

Producer::Producer(ProducerOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {}

std::shared_ptr<client::ClientInstance> ProducerInternals::instance(Producer& producer) {
  return producer.impl_->instance_ptr();
}
Producer::~Producer() { shutdown(); }
void Producer::start() {
  impl_->start();
  impl_->stats_reporter_.start(impl_->options_.stats_interval, impl_->options_.stats_callback,
                               [this] { return statsJson(*this); });
}
void Producer::shutdown() noexcept {
  impl_->stats_reporter_.stop();
  impl_->shutdown();
}
const ProducerOptions& Producer::options() const { return impl_->options_; }

std::string Producer::clientId() const {
  auto inst = impl_->instance_ptr();
  return inst ? inst->clientId() : std::string();
}

SendResult Producer::send(const Message& msg) { return impl_->sendSync(msg, {}, impl_->options_.send_timeout); }

SendResult Producer::send(const Message& msg, std::chrono::milliseconds timeout) {
  return impl_->sendSync(msg, {}, timeout);
}

SendResult Producer::send(const Message& msg, const MessageQueue& mq) {
  QueueChoice c;
  c.fixed = &mq;
  return impl_->sendSync(msg, c, impl_->options_.send_timeout);
}

SendResult Producer::send(const Message& msg, const MessageQueueSelector& selector, const std::any& arg) {
  QueueChoice c;
  c.selector = &selector;
  c.arg = &arg;
  return impl_->sendSync(msg, c, impl_->options_.send_timeout);
}

void Producer::send(const Message& msg, SendCallback callback) { impl_->sendAsync(msg, {}, std::move(callback)); }

void Producer::send(const Message& msg, const MessageQueue& mq, SendCallback callback) {
  QueueChoice c;
  c.fixed = &mq;
  impl_->sendAsync(msg, c, std::move(callback));
}

void Producer::send(const Message& msg, const MessageQueueSelector& selector, const std::any& arg,
                    SendCallback callback) {
  // The selector runs before this call returns (no retries for selected queues), so pointers stay valid.
  QueueChoice c;
  c.selector = &selector;
  c.arg = &arg;
  impl_->sendAsync(msg, c, std::move(callback));
}

void Producer::sendOneway(const Message& msg) {
  Counted counted(*impl_->counters_, msg.body().size());
  auto s = impl_->sender();
  client::throwIfError(s->sendOneway(msg, {}, impl_->options_.send_timeout));
  counted.ok = true;
}

void Producer::sendOneway(const Message& msg, const MessageQueue& mq) {
  Counted counted(*impl_->counters_, msg.body().size());
  auto s = impl_->sender();
  QueueChoice c;
  c.fixed = &mq;
  client::throwIfError(s->sendOneway(msg, c, impl_->options_.send_timeout));
  counted.ok = true;
}

namespace {
uint64_t batchBytes(const std::vector<Message>& batch) {
  uint64_t bytes = 0;
  for (const auto& m : batch) bytes += m.body().size();
  return bytes;
}
}  // namespace

SendResult Producer::send(const std::vector<Message>& batch) {
  Counted counted(*impl_->counters_, batchBytes(batch));
  auto s = impl_->sender();
  auto r = s->sendBatch(batch, nullptr, impl_->options_.send_timeout);
  if (!r.isOk()) client::throwStatus(r.status());
  counted.ok = true;
  return std::move(r).value();
}

SendResult Producer::send(const std::vector<Message>& batch, const MessageQueue& mq) {
  Counted counted(*impl_->counters_, batchBytes(batch));
  auto s = impl_->sender();
  auto r = s->sendBatch(batch, &mq, impl_->options_.send_timeout);
  if (!r.isOk()) client::throwStatus(r.status());
  counted.ok = true;
  return std::move(r).value();
}

std::vector<MessageQueue> Producer::fetchPublishMessageQueues(const std::string& topic) {
  auto s = impl_->sender();
  auto info = s->instance().publishInfo(topic, true, impl_->options_.create_topic_key,
                                        impl_->options_.default_topic_queue_nums);
  if (!info.isOk()) client::throwStatus(info.status());
  return (*info)->queues;
}

namespace {

MessageExt waitReply(const std::shared_ptr<Producer::Impl>& impl, const Message& msg, const QueueChoice& choice,
                     std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<Outcome<MessageExt>>>();
  auto future = promise->get_future();
  impl->requestAsync(msg, choice, timeout, [promise](Outcome<MessageExt> o) { promise->set_value(std::move(o)); },
                     /*inline_done=*/true, /*caller_waits=*/true);
  return future.get().value();
}

}  // namespace

MessageExt Producer::request(const Message& msg, std::chrono::milliseconds timeout) {
  return waitReply(impl_, msg, {}, timeout);
}

void Producer::request(const Message& msg, RequestCallback callback, std::chrono::milliseconds timeout) {
  impl_->requestAsync(msg, {}, timeout, std::move(callback), false);
}

MessageExt Producer::request(const Message& msg, const MessageQueueSelector& selector, const std::any& arg,
                             std::chrono::milliseconds timeout) {
  QueueChoice c;
  c.selector = &selector;
  c.arg = &arg;
  return waitReply(impl_, msg, c, timeout);
}

void Producer::request(const Message& msg, const MessageQueueSelector& selector, const std::any& arg,
                       RequestCallback callback, std::chrono::milliseconds timeout) {
  QueueChoice c;
  c.selector = &selector;
  c.arg = &arg;
  impl_->requestAsync(msg, c, timeout, std::move(callback), false);
}

MessageExt Producer::request(const Message& msg, const MessageQueue& mq, std::chrono::milliseconds timeout) {
  QueueChoice c;
  c.fixed = &mq;
  return waitReply(impl_, msg, c, timeout);
}

void Producer::request(const Message& msg, const MessageQueue& mq, RequestCallback callback,
                       std::chrono::milliseconds timeout) {
  QueueChoice c;
  c.fixed = &mq;
  impl_->requestAsync(msg, c, timeout, std::move(callback), false);
}

std::future<MessageExt> Producer::requestAsync(const Message& msg, std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<MessageExt>>();
  auto future = promise->get_future();
  impl_->requestAsync(
      msg, {}, timeout,
      [promise](Outcome<MessageExt> o) {
        if (o.ok()) {
          promise->set_value(std::move(o).value());
        } else {
          promise->set_exception(o.error());
        }
      },
      /*inline_done=*/true);
  return future;
}

ProducerStats Producer::stats() const {
  const Counters& c = *impl_->counters_;
  ProducerStats s;
  s.sends_ok = c.sends_ok.load(std::memory_order_relaxed);
  s.sends_failed = c.sends_failed.load(std::memory_order_relaxed);
  s.requests_ok = c.requests_ok.load(std::memory_order_relaxed);
  s.requests_timed_out = c.requests_timed_out.load(std::memory_order_relaxed);
  s.requests_failed = c.requests_failed.load(std::memory_order_relaxed);
  s.requests_pending = impl_->pending_requests_.load(std::memory_order_relaxed);
  s.async_in_flight = impl_->permits_->inUse();
  s.bytes_sent = c.bytes_sent.load(std::memory_order_relaxed);
  return s;
}

size_t Producer::pendingRequests() const {
  std::lock_guard<std::mutex> lock(impl_->pending_mu_);
  return impl_->pending_requests_.load();
}

MessageQueue SelectMessageQueueByHash::select(const std::vector<MessageQueue>& queues, const Message&,
                                              const std::any& arg) const {
  if (queues.empty()) throw MQException(ErrorCode::kNoRoute, "no queue to select from");
  size_t h = 0;
  if (const auto* s = std::any_cast<std::string>(&arg)) {
    h = std::hash<std::string>{}(*s);
  } else if (const auto* c = std::any_cast<const char*>(&arg)) {
    h = std::hash<std::string_view>{}(*c);
  } else if (const auto* i = std::any_cast<int>(&arg)) {
    h = static_cast<size_t>(*i < 0 ? -static_cast<int64_t>(*i) : *i);
  } else if (const auto* l = std::any_cast<int64_t>(&arg)) {
    h = static_cast<size_t>(*l < 0 ? -*l : *l);
  } else if (const auto* u = std::any_cast<uint64_t>(&arg)) {
    h = static_cast<size_t>(*u);
  } else if (const auto* z = std::any_cast<size_t>(&arg)) {
    h = *z;
  } else {
    throw MQException(ErrorCode::kInvalidArgument,
                      "SelectMessageQueueByHash needs a std::string, const char* or integer argument");
  }
  return queues[h % queues.size()];
}

Message createReplyMessage(const MessageExt& request, std::string body) {
  std::string cluster = request.getProperty(property::kCluster);
  if (cluster.empty()) {
    throw MQException(ErrorCode::kInvalidArgument,
                      "create reply message fail, requestMessage error, property[CLUSTER] is null.");
  }
  std::string reply_to = request.getProperty(property::kReplyToClient);
  if (reply_to.empty()) {
    throw MQException(ErrorCode::kInvalidArgument,
                      "create reply message fail, the request has no REPLY_TO_CLIENT property (not a request)");
  }
  Message reply(cluster + "_REPLY_TOPIC", std::move(body));
  reply.putProperty(property::kMessageType, property::kReplyMessageFlag);
  reply.putProperty(property::kCorrelationId, request.getProperty(property::kCorrelationId));
  reply.putProperty(property::kReplyToClient, reply_to);
  reply.putProperty(property::kTtl, request.getProperty(property::kTtl));
  return reply;
}

Message createErrorReplyMessage(const MessageExt& request, std::string_view error) {
  Message reply = createReplyMessage(request, error.empty() ? std::string("error") : std::string(error));
  reply.putProperty(reply_property::kStatus, reply_property::kStatusError);
  // Property values cannot hold the separators; the body keeps the exact text.
  std::string safe(error.substr(0, 1024));
  for (char& c : safe) {
    if (c == '\x01' || c == '\x02') c = ' ';
  }
  reply.putProperty(reply_property::kError, safe.empty() ? "error" : safe);
  return reply;
}

std::string_view errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "InvalidArgument";
    case ErrorCode::kNotStarted: return "NotStarted";
    case ErrorCode::kClosed: return "Closed";
    case ErrorCode::kNoRoute: return "NoRoute";
    case ErrorCode::kSendFailed: return "SendFailed";
    case ErrorCode::kBrokerError: return "BrokerError";
    case ErrorCode::kRequestTimeout: return "RequestTimeout";
    case ErrorCode::kReplyError: return "ReplyError";
    case ErrorCode::kOverLimit: return "OverLimit";
    case ErrorCode::kNetwork: return "Network";
    case ErrorCode::kOperationTimeout: return "OperationTimeout";
    case ErrorCode::kInternal: return "Internal";
    case ErrorCode::kAccessDenied: return "AccessDenied";
  }
  return "Unknown";
}

bool MQException::retriable() const noexcept {
  switch (code_) {
    case ErrorCode::kSendFailed:
    case ErrorCode::kNetwork:
    case ErrorCode::kOperationTimeout:
    case ErrorCode::kRequestTimeout:
    case ErrorCode::kOverLimit:
      return true;
    case ErrorCode::kBrokerError:
      return response_code_ == 2 || response_code_ == 14 || response_code_ == 1500;
    default:
      return false;
  }
}

}  // namespace rocketrpc
