// RpcClient: requests through Producer::request (RIP-16), streaming sessions as plain sends to one queue plus
// an `end` request, the in-flight bound, fail-fast responder check, idle session expiry and counters.
//
// Threads: the caller's; the client instance's callback pool (request completions); `worker_` (2 threads:
// async requests waiting for a responder check); `sweeper_` (session expiry, unmatched-reply reports). Every
// pending call is a Call completed exactly once (atomic flag) by whichever comes first: the producer's
// completion, a fail-fast verdict, or close().
#include "rocketrpc/rpc_client.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "client/client_instance.h"
#include "client/producer_internals.h"
#include "client/request_future_table.h"
#include "common/executor.h"
#include "common/instance_name.h"
#include "common/log.h"
#include "rocketrpc/metrics.h"
#include "rocketrpc/producer.h"
#include "rpc/config.h"
#include "rpc/error_mapping.h"
#include "rpc/latency_histogram.h"
#include "rpc/responder_probe.h"
#include "common/stats_reporter.h"
#include "rpc/tracing.h"
#include "rpc/wire.h"

namespace rocketrpc {

namespace {

constexpr const char* kLog = "rpc.client";
constexpr size_t kMaxTombstones = 4096;
using Clock = std::chrono::steady_clock;


void checkTimeout(std::chrono::milliseconds timeout, const char* arg = "timeout") {
  if (timeout.count() < 1 || timeout.count() > 300000) {
    throw RpcException(RpcErrorCode::kInvalidArgument,
                       fmt::format("{} must be in 1..300000 ms (got {} ms)", arg, timeout.count()));
  }
}

// Set while a user continuation runs on a thread, so that close() called from it does not join that thread.
thread_local bool tl_in_continuation = false;

}  // namespace

class RpcClient::Impl : public std::enable_shared_from_this<RpcClient::Impl> {
 public:
  struct Call {
    uint64_t id = 0;
    std::function<void(RpcResult)> done;
    std::atomic<bool> completed{false};
    Clock::time_point start;
    Clock::time_point deadline;
    std::chrono::milliseconds timeout{0};
    std::shared_ptr<const std::string> what;  // "request to topic T": one string shared by the calls to a topic
  };

  struct Session {
    enum class State { kActive, kFailed, kExpired, kEnded };
    std::mutex mu;
    std::string id;
    MessageQueue mq;
    int64_t next_seq = 0;                      // guarded by mu
    State state = State::kActive;              // guarded by mu
    std::string failure;                       // guarded by mu
    std::atomic<int64_t> last_activity_ms{0};  // steady clock, ms
  };

  explicit Impl(RpcClientOptions options) : options_(std::move(options)) {
    options_.validate();
    if (options_.producer_group.empty())
      options_.producer_group = rpc::defaultProducerGroup(options_.request_topic);
    instance_name_ =
        options_.instance_name.empty() ? uniqueInstanceName("rpc_client") : options_.instance_name;
  }

  ~Impl() { closeNow(); }

  // --- lifecycle ---

  void start() {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (state_ == State::kClosed)
      throw RpcException(RpcErrorCode::kClosed, "RpcClient is closed; create a new one");
    if (state_ == State::kStarted)
      throw RpcException(RpcErrorCode::kInternal, "RpcClient is already started");
    ProducerOptions po;
    po.namesrv_addr = options_.broker_url;
    po.instance_name = instance_name_;
    rpc::applySecurity(options_, po);
    po.group = options_.producer_group;
    po.send_timeout = options_.send_timeout;
    po.max_pending_requests = std::max<size_t>(100000, options_.max_concurrent_requests + 1024);
    // Never the default-topic fallback: a request topic the name servers do not know fails at once with
    // NoRoute and is not created by the request (a misspelling would otherwise wait out its timeout and leave
    // a topic behind). RpcServer creates its topic; an operator may create it beforehand.
    po.create_topic_key.clear();
    // max-concurrent-requests is this client's bound; the producer's permits must never be the tighter one.
    po.max_async_in_flight = std::max<size_t>(65535, options_.max_concurrent_requests + 1024);
    po.read_stall_timeout = options_.read_stall_timeout;
    auto producer = std::make_unique<Producer>(po);
    try {
      producer->start();
    } catch (const MQException& e) {
      rpc::throwStartException(e, "starting the producer of RpcClient on " + options_.request_topic);
    }
    instance_ = ProducerInternals::instance(*producer);  // the producer's own: same connections and routes
    if (!instance_) {
      producer->shutdown();
      throw RpcException(RpcErrorCode::kInternal, "RpcClient start: the producer has no client instance");
    }
    producer_ = std::move(producer);
    auto* raw_inst = instance_.get();
    const std::string topic = options_.request_topic;
    const auto api_timeout = po.api_timeout;
    probe_ = std::make_unique<rpc::ResponderProbe>(
        [raw_inst, topic, api_timeout] { return rpc::queryResponders(*raw_inst, topic, api_timeout); },
        options_.responder_check_cache);
    worker_ = std::make_unique<ThreadPool>("rpc-client", 2);
    unmatched_base_ = instance_->requestFutures().unmatchedReplies();
    {
      std::lock_guard<std::mutex> slock(sweeper_mu_);
      sweeper_stop_ = false;
    }
    sweeper_ = std::thread([this] { sweeperLoop(); });
    state_ = State::kStarted;
  }

  bool isStarted() const {
    std::lock_guard<std::mutex> lock(state_mu_);
    return state_ == State::kStarted;
  }

  void requireStarted() const {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (state_ == State::kNew)
      throw RpcException(RpcErrorCode::kNotStarted, "RpcClient is not started; call start()");
    if (state_ == State::kClosed) throw RpcException(RpcErrorCode::kClosed, "RpcClient is closed");
  }

  void close() noexcept {
    if (tl_in_continuation) {
      // Joining would wait for the thread we run on: fail pending work now, finish on a helper thread.
      if (!markClosed()) return;
      failPending();
      auto self = shared_from_this();
      std::thread([self] { self->finishClose(); }).detach();
      return;
    }
    closeNow();
  }

  void closeNow() noexcept {
    if (!markClosed()) return;
    failPending();
    finishClose();
  }

  /// Returns false when already closed.
  bool markClosed() {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (state_ == State::kClosed) return false;
    was_started_ = state_ == State::kStarted;
    state_ = State::kClosed;
    return true;
  }

  void failPending() {
    std::unordered_map<uint64_t, std::shared_ptr<Call>> pending;
    {
      std::lock_guard<std::mutex> lock(pending_mu_);
      closed_ = true;
      pending.swap(pending_);
    }
    for (auto& [id, call] : pending) {
      complete(call,
               RpcResult(std::make_exception_ptr(RpcException(
                   RpcErrorCode::kClosed, *call->what + ": the client was closed while it was pending"))));
    }
    std::lock_guard<std::mutex> lock(sessions_mu_);
    for (auto& [id, s] : sessions_) {
      std::lock_guard<std::mutex> slock(s->mu);
      s->state = Session::State::kEnded;
    }
    sessions_.clear();
  }

  void finishClose() noexcept {
    std::lock_guard<std::mutex> lock(finish_mu_);
    if (!was_started_) return;
    {
      std::lock_guard<std::mutex> slock(sweeper_mu_);
      sweeper_stop_ = true;
    }
    sweeper_cv_.notify_all();
    if (sweeper_.joinable()) sweeper_.join();
    if (worker_) worker_->shutdown();
    if (producer_) producer_->shutdown();
    instance_.reset();  // the producer released the instance
    was_started_ = false;
  }

  // --- requests ---

  Message requestMessage(std::string_view payload) const {
    Message m(options_.request_topic, std::string());
    rpc::setPayload(m, payload);
    return m;
  }

  /// Accepts a call (or throws its precondition error) and starts it. `blocking` allows the responder check
  /// to run on the calling thread.
  void submit(Message msg, std::optional<MessageQueue> mq, std::chrono::milliseconds timeout,
              std::function<void(RpcResult)> done, bool blocking, std::shared_ptr<const std::string> what) {
    checkTimeout(timeout);
    requireStarted();
    if (in_flight_.fetch_add(1) >= options_.max_concurrent_requests) {
      in_flight_.fetch_sub(1);
      rejected_.fetch_add(1);
      throw RpcException(
          RpcErrorCode::kOverLimit,
          fmt::format("{} rejected: max-concurrent-requests ({}) requests are already awaiting replies", *what,
                      options_.max_concurrent_requests));
    }
    auto call = std::make_shared<Call>();
    call->done = std::move(done);
    call->start = Clock::now();
    call->deadline = call->start + timeout;
    call->timeout = timeout;
    call->what = std::move(what);
    {
      std::lock_guard<std::mutex> lock(pending_mu_);
      if (closed_) {
        in_flight_.fetch_sub(1);
        throw RpcException(RpcErrorCode::kClosed, "RpcClient is closed");
      }
      call->id = ++next_call_id_;
      pending_.emplace(call->id, call);
    }
    requests_.fetch_add(1);
    msg.putProperty(rpc::prop::kDeadline, std::to_string(rpc::nowEpochMs() + timeout.count()));
    rpc::attachTraceparent(msg);  // rocketrpc/trace_context.h

    if (!options_.fail_fast) return send(call, std::move(msg), std::move(mq));
    if (auto v = probe_->cached()) return decide(*v, call, std::move(msg), std::move(mq));
    if (blocking) return decide(probe_->check(), call, std::move(msg), std::move(mq));
    auto self = shared_from_this();
    bool posted = worker_->post([self, call, msg = std::move(msg), mq = std::move(mq)]() mutable {
      self->decide(self->probe_->check(), call, std::move(msg), std::move(mq));
    });
    if (!posted) {
      complete(
          call,
          RpcResult(std::make_exception_ptr(RpcException(RpcErrorCode::kClosed, "RpcClient is closed"))));
    }
  }

  void decide(const rpc::ResponderProbe::Verdict& v, const std::shared_ptr<Call>& call, Message msg,
              std::optional<MessageQueue> mq) {
    if (v.answer == rpc::ResponderProbe::Answer::kNone) {
      complete(call, RpcResult(std::make_exception_ptr(RpcException(
                         RpcErrorCode::kNoResponder, *call->what + " not sent: no responder: " + v.detail))));
      return;
    }
    send(call, std::move(msg), std::move(mq));
  }

  void send(const std::shared_ptr<Call>& call, Message msg, std::optional<MessageQueue> mq) {
    if (call->completed.load()) return;  // closed meanwhile
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(call->deadline - Clock::now());
    if (left.count() <= 0) {
      complete(call,
               RpcResult(std::make_exception_ptr(RpcTimeoutException(
                   *call->what + ": timed out before it could be sent (responder check took too long)"))));
      return;
    }
    auto self = shared_from_this();
    auto cb = [self, call](Outcome<MessageExt> outcome) {
      auto latency = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - call->start);
      self->complete(call, rpc::mapRequestOutcome(outcome, *call->what, call->timeout, latency));
    };
    try {
      if (mq) {
        producer_->request(msg, *mq, cb, left);
      } else {
        producer_->request(msg, cb, left);
      }
    } catch (const MQException& e) {
      complete(call, RpcResult(rpc::mapSendException(e, *call->what)));
    } catch (const std::exception& e) {
      complete(call, RpcResult(std::make_exception_ptr(RpcException(RpcErrorCode::kInternal, e.what()))));
    }
  }

  void complete(const std::shared_ptr<Call>& call, RpcResult result) {
    if (call->completed.exchange(true)) return;
    {
      std::lock_guard<std::mutex> lock(pending_mu_);
      pending_.erase(call->id);
    }
    in_flight_.fetch_sub(1);
    if (result.ok()) {
      const RpcResponse& r = result.value();
      (r.success() ? succeeded_ : remote_errors_).fetch_add(1);
      latency_.record(r.latency());
    } else {
      switch (result.errorCode()) {
        case RpcErrorCode::kTimeout:
          timeouts_.fetch_add(1);
          break;
        case RpcErrorCode::kNoResponder:
          no_responder_.fetch_add(1);
          break;
        case RpcErrorCode::kClosed:
          closed_count_.fetch_add(1);
          break;
        case RpcErrorCode::kSession:
          session_errors_.fetch_add(1);
          break;
        default:
          send_failures_.fetch_add(1);
          break;
      }
    }
    auto done = std::move(call->done);
    bool was = tl_in_continuation;
    tl_in_continuation = true;
    try {
      done(std::move(result));
    } catch (const std::exception& e) {
      RRPC_LOG(kWarn, kLog, "continuation of {} threw: {}", *call->what, e.what());
    } catch (...) {
      RRPC_LOG(kWarn, kLog, "continuation of {} threw a non-std exception", *call->what);
    }
    tl_in_continuation = was;
  }

  RpcResponse sendSync(Message msg, std::optional<MessageQueue> mq, std::chrono::milliseconds timeout,
                       std::shared_ptr<const std::string> what) {
    auto promise = std::make_shared<std::promise<RpcResult>>();
    auto future = promise->get_future();
    submit(
        std::move(msg), std::move(mq), timeout, [promise](RpcResult r) { promise->set_value(std::move(r)); },
        true, std::move(what));
    return future.get().value();
  }

  const std::shared_ptr<const std::string>& requestWhat() const { return request_what_; }

  // --- sessions ---

  static int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
  }

  void buryLocked(const std::string& id, std::string why) {
    auto [it, inserted] = tombstones_.insert_or_assign(id, std::move(why));
    if (inserted) tombstone_order_.push_back(id);
    while (tombstone_order_.size() > kMaxTombstones) {
      tombstones_.erase(tombstone_order_.front());
      tombstone_order_.pop_front();
    }
  }

  [[noreturn]] void throwUnknownSessionLocked(const std::string& id) {
    auto t = tombstones_.find(id);
    if (t != tombstones_.end()) throw SessionException(t->second);
    throw SessionException("unknown streaming session '" + id + "' (never started by this client)");
  }

  void checkResponder() {
    if (!options_.fail_fast) return;
    auto v = probe_->check();
    if (v.answer == rpc::ResponderProbe::Answer::kNone) {
      no_responder_.fetch_add(1);
      throw RpcException(RpcErrorCode::kNoResponder,
                         "streaming session not started: no responder: " + v.detail);
    }
  }

  std::string sendStreamingStart() {
    requireStarted();
    checkResponder();
    auto s = std::make_shared<Session>();
    s->id = rpc::newUuid();
    s->last_activity_ms = nowMs();
    {
      std::lock_guard<std::mutex> lock(sessions_mu_);
      if (sessions_.size() >= options_.max_concurrent_sessions) {
        rejected_.fetch_add(1);
        throw RpcException(
            RpcErrorCode::kOverLimit,
            fmt::format("streaming session not started: max-concurrent-sessions ({}) sessions are open",
                        options_.max_concurrent_sessions));
      }
      sessions_.emplace(s->id, s);  // reserves the slot
    }
    auto drop = [&] {
      std::lock_guard<std::mutex> lock(sessions_mu_);
      sessions_.erase(s->id);
    };
    const std::string what = "start of streaming session " + s->id + " on topic " + options_.request_topic;
    try {
      auto queues = producer_->fetchPublishMessageQueues(options_.request_topic);
      if (queues.empty()) {
        throw MQException(ErrorCode::kNoRoute, "topic " + options_.request_topic + " has no writable queue");
      }
      s->mq = queues[std::hash<std::string>{}(s->id) % queues.size()];
      Message start(options_.request_topic, std::string(rpc::kind::kStart));  // RocketMQ refuses empty bodies
      start.putProperty(rpc::prop::kKind, rpc::kind::kStart);
      start.putProperty(rpc::prop::kSession, s->id);
      producer_->send(start, s->mq);
    } catch (const MQException& e) {
      drop();
      rpc::throwSendException(e, what);
    } catch (...) {
      drop();
      throw;
    }
    sessions_started_.fetch_add(1);
    return s->id;
  }

  std::shared_ptr<Session> findSession(const std::string& id) {
    std::lock_guard<std::mutex> lock(sessions_mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) throwUnknownSessionLocked(id);
    return it->second;
  }

  static void throwIfInactive(const Session& s) {
    switch (s.state) {
      case Session::State::kActive:
        return;
      case Session::State::kFailed:
        throw SessionException("streaming session " + s.id + " failed: " + s.failure);
      case Session::State::kExpired:
        throw SessionException("streaming session " + s.id + " expired (idle too long)");
      case Session::State::kEnded:
        throw SessionException("streaming session " + s.id + " has ended");
    }
  }

  void sendStreamingMessage(const std::string& id, std::string_view payload) {
    requireStarted();
    auto s = findSession(id);
    std::lock_guard<std::mutex> lock(s->mu);
    throwIfInactive(*s);
    Message m(options_.request_topic, std::string());
    rpc::setPayload(m, payload);
    m.putProperty(rpc::prop::kKind, rpc::kind::kMsg);
    m.putProperty(rpc::prop::kSession, id);
    m.putProperty(rpc::prop::kSeq, std::to_string(s->next_seq));
    try {
      producer_->send(m, s->mq);
    } catch (const MQException& e) {
      if (e.code() == ErrorCode::kInvalidArgument) {  // refused before sending (e.g. too large): still usable
        rpc::throwSendException(e, fmt::format("message {} of streaming session {}", s->next_seq, id));
      }
      s->state = Session::State::kFailed;
      s->failure = fmt::format("message {} could not be sent: {}", s->next_seq, e.what());
      rpc::throwSendException(e, fmt::format("message {} of streaming session {}", s->next_seq, id));
    }
    ++s->next_seq;
    s->last_activity_ms = nowMs();
    stream_messages_.fetch_add(1);
  }

  RpcResponse sendStreamingEnd(const std::string& id, std::chrono::milliseconds timeout) {
    checkTimeout(timeout);
    requireStarted();
    std::shared_ptr<Session> s;
    {
      std::lock_guard<std::mutex> lock(sessions_mu_);
      auto it = sessions_.find(id);
      if (it == sessions_.end()) throwUnknownSessionLocked(id);
      s = it->second;
      sessions_.erase(it);
      buryLocked(id, "streaming session " + id + " has ended");
    }
    int64_t count = 0;
    {
      std::lock_guard<std::mutex> lock(s->mu);  // waits for a message send under way
      throwIfInactive(*s);
      s->state = Session::State::kEnded;
      count = s->next_seq;
    }
    Message end(options_.request_topic, std::string(rpc::kind::kEnd));  // RocketMQ refuses empty bodies
    end.putProperty(rpc::prop::kKind, rpc::kind::kEnd);
    end.putProperty(rpc::prop::kSession, id);
    end.putProperty(rpc::prop::kCount, std::to_string(count));
    return sendSync(std::move(end), s->mq, timeout,
                    std::make_shared<const std::string>("end of streaming session " + id));
  }

  // --- housekeeping ---

  void sweeperLoop() {
    const auto period = std::clamp<std::chrono::milliseconds>(
        options_.session_idle_timeout / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(250));
    auto next_report = Clock::now() + std::chrono::seconds(1);
    std::unique_lock<std::mutex> lock(sweeper_mu_);
    while (!sweeper_stop_) {
      sweeper_cv_.wait_for(lock, period, [&] { return sweeper_stop_; });
      if (sweeper_stop_) break;
      lock.unlock();
      expireSessions();
      if (Clock::now() >= next_report) {
        reportUnmatched();
        next_report = Clock::now() + std::chrono::seconds(1);
      }
      lock.lock();
    }
  }

  void expireSessions() {
    const int64_t now = nowMs();
    std::lock_guard<std::mutex> lock(sessions_mu_);
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      std::shared_ptr<Session> s = it->second;  // a copy: erase() below must not free the mutex held by slock
      if (now - s->last_activity_ms.load() < options_.session_idle_timeout.count()) {
        ++it;
        continue;
      }
      std::unique_lock<std::mutex> slock(s->mu, std::try_to_lock);
      if (!slock.owns_lock()) {  // a send is under way: not idle
        ++it;
        continue;
      }
      s->state = Session::State::kExpired;
      buryLocked(it->first, fmt::format("streaming session {} expired after {} ms without a call", it->first,
                                        options_.session_idle_timeout.count()));
      sessions_expired_.fetch_add(1);
      it = sessions_.erase(it);
    }
  }

  uint64_t unmatchedReplies() const {
    return instance_ ? instance_->requestFutures().unmatchedReplies() - unmatched_base_ : 0;
  }

  void reportUnmatched() {
    uint64_t total = unmatchedReplies();
    uint64_t fresh = total - unmatched_reported_;
    if (fresh == 0) return;
    unmatched_reported_ = total;
    CorrelationException e(fmt::format(
        "{} repl{} on topic {} matched no pending request (they arrived after their request timed out or was "
        "cancelled, or were meant for another client); {} in total",
        fresh, fresh == 1 ? "y" : "ies", options_.request_topic, total));
    if (options_.on_unmatched_reply) {
      try {
        options_.on_unmatched_reply(e);
      } catch (...) {
      }
    } else {
      RRPC_LOG(kWarn, kLog, "{}", e.what());
    }
  }

  RpcClientStats stats() const {
    RpcClientStats s;
    s.requests = requests_.load();
    s.succeeded = succeeded_.load();
    s.remote_errors = remote_errors_.load();
    s.timeouts = timeouts_.load();
    s.send_failures = send_failures_.load();
    s.no_responder = no_responder_.load();
    s.closed = closed_count_.load();
    s.session_errors = session_errors_.load();
    s.rejected_over_limit = rejected_.load();
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      s.unmatched_replies = state_ == State::kStarted ? unmatchedReplies() : 0;
    }
    s.in_flight = in_flight_.load();
    s.sessions_started = sessions_started_.load();
    {
      std::lock_guard<std::mutex> lock(sessions_mu_);
      s.sessions_open = sessions_.size();
    }
    s.sessions_expired = sessions_expired_.load();
    s.stream_messages = stream_messages_.load();
    s.latency = latency_.summary();
    return s;
  }

  RpcClientOptions options_;
  const std::shared_ptr<const std::string> request_what_ =
      std::make_shared<const std::string>("request to topic " + options_.request_topic);
  StatsReporter stats_reporter_;  // options_.stats_callback (rocketrpc/metrics.h)

 private:
  enum class State { kNew, kStarted, kClosed };
  std::string instance_name_;
  mutable std::mutex state_mu_;
  State state_ = State::kNew;  // guarded by state_mu_
  bool was_started_ = false;   // guarded by state_mu_ / finish_mu_
  std::mutex finish_mu_;

  std::unique_ptr<Producer> producer_;
  std::shared_ptr<client::ClientInstance> instance_;
  std::unique_ptr<rpc::ResponderProbe> probe_;
  std::unique_ptr<ThreadPool> worker_;

  std::mutex pending_mu_;
  std::unordered_map<uint64_t, std::shared_ptr<Call>> pending_;  // guarded by pending_mu_
  uint64_t next_call_id_ = 0;                                    // guarded by pending_mu_
  bool closed_ = false;                                          // guarded by pending_mu_

  mutable std::mutex sessions_mu_;
  std::unordered_map<std::string, std::shared_ptr<Session>> sessions_;  // guarded by sessions_mu_
  std::unordered_map<std::string, std::string> tombstones_;             // guarded by sessions_mu_
  std::deque<std::string> tombstone_order_;                             // guarded by sessions_mu_

  std::mutex sweeper_mu_;
  std::condition_variable sweeper_cv_;
  bool sweeper_stop_ = false;
  std::thread sweeper_;
  uint64_t unmatched_base_ = 0;
  uint64_t unmatched_reported_ = 0;  // sweeper thread only

  std::atomic<uint64_t> in_flight_{0};
  std::atomic<uint64_t> requests_{0}, succeeded_{0}, remote_errors_{0}, timeouts_{0}, send_failures_{0},
      no_responder_{0}, closed_count_{0}, session_errors_{0}, rejected_{0}, sessions_started_{0},
      sessions_expired_{0}, stream_messages_{0};
  rpc::LatencyHistogram latency_;
};

RpcClient::RpcClient(RpcClientOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {}
RpcClient::~RpcClient() { close(); }

void RpcClient::start() {
  impl_->start();
  impl_->stats_reporter_.start(impl_->options_.stats_interval, impl_->options_.stats_callback,
                               [this] { return statsJson(*this); });
}
bool RpcClient::isStarted() const { return impl_->isStarted(); }
void RpcClient::close() noexcept {
  impl_->stats_reporter_.stop();
  impl_->close();
}
const RpcClientOptions& RpcClient::options() const { return impl_->options_; }
RpcClientStats RpcClient::stats() const { return impl_->stats(); }

RpcResponse RpcClient::sendSync(std::string_view payload, std::chrono::milliseconds timeout) {
  return impl_->sendSync(impl_->requestMessage(payload), std::nullopt, timeout, impl_->requestWhat());
}

RpcResponse RpcClient::sendSync(std::string_view payload) {
  return sendSync(payload, impl_->options_.default_timeout);
}

std::future<RpcResponse> RpcClient::sendAsync(std::string_view payload, std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<RpcResponse>>();
  auto future = promise->get_future();
  impl_->submit(
      impl_->requestMessage(payload), std::nullopt, timeout,
      [promise](RpcResult r) {
        if (r.ok()) {
          promise->set_value(std::move(r).value());
        } else {
          promise->set_exception(r.error());
        }
      },
      false, impl_->requestWhat());
  return future;
}

void RpcClient::sendAsync(std::string_view payload, std::chrono::milliseconds timeout,
                          std::function<void(RpcResult)> on_done) {
  if (!on_done) throw RpcException(RpcErrorCode::kInvalidArgument, "sendAsync: on_done must not be empty");
  impl_->submit(impl_->requestMessage(payload), std::nullopt, timeout, std::move(on_done), false,
                impl_->requestWhat());
}

std::string RpcClient::sendStreamingStart() { return impl_->sendStreamingStart(); }

void RpcClient::sendStreamingMessage(const std::string& session_id, std::string_view payload) {
  impl_->sendStreamingMessage(session_id, payload);
}

RpcResponse RpcClient::sendStreamingEnd(const std::string& session_id, std::chrono::milliseconds timeout) {
  return impl_->sendStreamingEnd(session_id, timeout);
}

RpcResponse RpcClient::sendStreamingEnd(const std::string& session_id) {
  return sendStreamingEnd(session_id, impl_->options_.default_timeout);
}

}  // namespace rocketrpc
