// RpcServer: a PushConsumer (concurrent listener) on the request topic feeding a ServerCore, plus a sweeper
// thread for session expiry and gap timeouts. The bounded executor is the consumer's consume pool
// (consume-threads): handler calls run there, at most consume-threads at once; when they are all busy, pulled
// messages wait in the consumer's per-queue cache, whose size bound pauses pulling (no unbounded buffer).
#include "rocketrpc/rpc_server.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "client/client_instance.h"
#include "client/consume_timestamp.h"
#include "client/error_mapping.h"
#include "common/instance_name.h"
#include "common/log.h"
#include "rocketrpc/metrics.h"
#include "rocketrpc/producer.h"
#include "rocketrpc/push_consumer.h"
#include "rpc/config.h"
#include "rpc/error_mapping.h"
#include "rpc/server_core.h"
#include "common/stats_reporter.h"
#include "rpc/wire.h"

namespace rocketrpc {

namespace {
// How far before start() a group without committed offsets begins reading (see startConsumer()): room for the
// broker's clock being ahead of this host's and for the whole-second resolution of the consume timestamp.
constexpr std::chrono::seconds kNewGroupLookback{5};

}  // namespace

class RpcServer::Impl {
 public:
  Impl(RpcServerOptions options, std::shared_ptr<RpcReceiver> receiver) : options_(std::move(options)) {
    if (!receiver) throw RpcException(RpcErrorCode::kInvalidArgument, "RpcServer: receiver must not be null");
    options_.validate();
    if (options_.consumer_group.empty())
      options_.consumer_group = rpc::defaultConsumerGroup(options_.request_topic);
    if (options_.instance_name.empty()) options_.instance_name = uniqueInstanceName("rpc_server");
    // Replies leave without blocking the consume thread; the consumer's shutdown (in close()) waits for the
    // ones in flight, so `done` never outlives core_.
    core_ = std::make_shared<rpc::ServerCore>(
        options_, std::move(receiver), [this](const Message& reply, rpc::ServerCore::ReplyDone done) {
          std::shared_lock<std::shared_mutex> lock(consumer_mu_);
          if (!consumer_) throw MQException(ErrorCode::kClosed, "server closed");
          consumer_->sendReply(reply, [done = std::move(done)](Outcome<SendResult> sent) {
            done(sent.ok() ? std::exception_ptr() : sent.error());
          });
        });
  }

  ~Impl() { close(); }

  void start() {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (state_ == State::kClosed)
      throw RpcException(RpcErrorCode::kClosed, "RpcServer is closed; create a new one");
    if (state_ == State::kStarted)
      throw RpcException(RpcErrorCode::kInternal, "RpcServer is already started");
    const std::string what =
        "starting RpcServer (group " + options_.consumer_group + ", topic " + options_.request_topic + ")";
    start_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
    try {
      // The consumer's client instance (same client id), held across startConsumer() so that it is made once.
      auto inst = client::ClientInstance::acquire(consumerOptions());
      if (!inst.isOk()) client::throwStatus(inst.status());
      struct Release {
        std::shared_ptr<client::ClientInstance> inst;
        ~Release() { inst->release(); }
      } release{*inst};
      ensureTopic(**inst);
      startConsumer();
    } catch (const MQException& e) {
      rpc::throwStartException(e, what);
    }
    {
      std::lock_guard<std::mutex> slock(sweeper_mu_);
      sweeper_stop_ = false;
    }
    sweeper_ = std::thread([this] { sweeperLoop(); });
    state_ = State::kStarted;
  }

  PushConsumerOptions consumerOptions() const {
    PushConsumerOptions co;
    co.namesrv_addr = options_.broker_url;
    co.instance_name = options_.instance_name;
    rpc::applySecurity(options_, co);
    co.group = options_.consumer_group;
    co.consume_threads = options_.consume_threads;
    co.consume_batch_size = 1;
    // A group without committed offsets (its first start) must not begin at each queue's end as of its first
    // rebalance: requesters see the server online as soon as its heartbeat is in, and a request they send
    // before the rebalance has positioned that queue would be skipped and time out. It begins at the requests
    // stored since just before start() instead; older ones it meets are dropped by their deadline.
    co.consume_from_where = ConsumeFromWhere::kTimestamp;
    co.consume_timestamp =
        client::formatConsumeTimestamp(start_ms_ - std::chrono::milliseconds(kNewGroupLookback).count());
    co.compress_over = options_.compress_over;
    co.compress_level = options_.compress_level;
    return co;
  }

  /// Creates and starts the consumer; on failure leaves none and rethrows the MQException. A request topic
  /// that does not exist does not fail it: the consumer serves the topic once it is created.
  void startConsumer() {
    auto consumer = std::make_unique<PushConsumer>(consumerOptions());
    auto core = core_;
    consumer->subscribe(options_.request_topic, "*");
    consumer->setMessageListener([core](const std::vector<MessageExt>& msgs) {
      for (const MessageExt& m : msgs) core->onMessage(m);
      return ConsumeStatus::kSuccess;
    });
    {
      std::unique_lock<std::shared_mutex> clock(consumer_mu_);
      consumer_ = std::move(consumer);
    }
    try {
      consumer_->start();
    } catch (...) {
      std::unique_ptr<PushConsumer> failed;
      {
        std::unique_lock<std::shared_mutex> clock(consumer_mu_);
        failed = std::move(consumer_);
      }
      failed->shutdown();
      throw;
    }
  }

  /// A request topic the name servers do not know is created the way RocketMQ auto-creates topics (needs the
  /// broker's autoCreateTopicEnable), and its route awaited for a moment, so that start() returns serving it
  /// as before. When it cannot be created (auto-create off, ACL) the server starts anyway and serves the topic
  /// once an operator creates it: RpcClient never creates it (a misspelt topic fails fast instead). An ACL
  /// refusal still fails start() (kAccessDenied), as a refused heartbeat does.
  void ensureTopic(client::ClientInstance& inst) {
    auto route = inst.updateRoute(options_.request_topic);
    if (route.isOk()) return;
    if (route.status().code() != StatusCode::kNotFound) client::throwStatus(route.status());
    try {
      createTopic();
    } catch (const MQException& e) {
      if (e.code() == ErrorCode::kAccessDenied) throw;  // refused credentials: nothing would work, say so
      RRPC_LOG(kWarn, "rpc",
               "RpcServer: request topic {} does not exist and could not be created ({}); serving it once it is "
               "created",
               options_.request_topic, e.what());
      return;
    }
    // The broker registers a topic it created with the name server a moment after the send succeeded.
    const auto deadline = std::chrono::steady_clock::now() + inst.apiTimeout();
    while (std::chrono::steady_clock::now() < deadline) {
      if (inst.updateRoute(options_.request_topic).isOk()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    RRPC_LOG(kInfo, "rpc", "RpcServer: request topic {} created but has no route yet; serving it once it has",
             options_.request_topic);
  }

  /// Sends one marker message (RRPC_KIND=init, ignored by servers) so that the broker auto-creates the topic.
  /// @throws MQException when it could not be sent.
  void createTopic() {
    ProducerOptions po;
    po.namesrv_addr = options_.broker_url;
    po.instance_name = options_.instance_name + "_init";
    rpc::applySecurity(options_, po);
    po.group = ("rpc-init-" + options_.request_topic).substr(0, 255);
    Producer producer(po);
    try {
      producer.start();
      Message marker(options_.request_topic, std::string(rpc::kind::kInit));  // RocketMQ refuses empty bodies
      marker.putProperty(rpc::prop::kKind, rpc::kind::kInit);
      producer.send(marker);
    } catch (const MQException&) {
      producer.shutdown();
      throw;
    }
    producer.shutdown();
  }

  void close() noexcept {
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      if (state_ == State::kClosed) return;
      bool started = state_ == State::kStarted;
      state_ = State::kClosed;
      if (!started) return;
    }
    {
      std::lock_guard<std::mutex> slock(sweeper_mu_);
      sweeper_stop_ = true;
    }
    sweeper_cv_.notify_all();
    if (sweeper_.joinable()) sweeper_.join();
    // Waits for running listener calls (and their replies), then leaves the group.
    PushConsumer* consumer = nullptr;
    {
      std::shared_lock<std::shared_mutex> lock(consumer_mu_);
      consumer = consumer_.get();
    }
    if (consumer) consumer->shutdown();
    core_->clear();
  }

  bool isStarted() const {
    std::lock_guard<std::mutex> lock(state_mu_);
    return state_ == State::kStarted;
  }

  std::vector<MessageQueue> assignedQueues() const {
    if (!isStarted()) return {};  // state_mu_ is never taken under consumer_mu_ (start() nests them the other way)
    std::shared_lock<std::shared_mutex> lock(consumer_mu_);
    if (!consumer_) return {};
    return consumer_->assignedQueues();
  }

  void sweeperLoop() {
    auto period = std::min(options_.session_idle_timeout, options_.stream_gap_timeout) / 4;
    period = std::clamp<std::chrono::milliseconds>(period, std::chrono::milliseconds(5),
                                                   std::chrono::milliseconds(250));
    std::unique_lock<std::mutex> lock(sweeper_mu_);
    while (!sweeper_stop_) {
      sweeper_cv_.wait_for(lock, period, [&] { return sweeper_stop_; });
      if (sweeper_stop_) break;
      lock.unlock();
      core_->sweep();
      lock.lock();
    }
  }

  RpcServerOptions options_;
  std::shared_ptr<rpc::ServerCore> core_;
  StatsReporter stats_reporter_;  // options_.stats_callback (rocketrpc/metrics.h)

 private:
  enum class State { kNew, kStarted, kClosed };
  mutable std::mutex state_mu_;
  State state_ = State::kNew;
  int64_t start_ms_ = 0;  // wall clock at start(), for the consume timestamp of a new group
  mutable std::shared_mutex consumer_mu_;
  std::unique_ptr<PushConsumer> consumer_;
  std::mutex sweeper_mu_;
  std::condition_variable sweeper_cv_;
  bool sweeper_stop_ = false;
  std::thread sweeper_;
};

RpcServer::RpcServer(RpcServerOptions options, std::shared_ptr<RpcReceiver> receiver)
    : impl_(std::make_shared<Impl>(std::move(options), std::move(receiver))) {}
RpcServer::~RpcServer() { close(); }
void RpcServer::start() {
  impl_->start();
  impl_->stats_reporter_.start(impl_->options_.stats_interval, impl_->options_.stats_callback,
                               [this] { return statsJson(*this); });
}
void RpcServer::close() noexcept {
  impl_->stats_reporter_.stop();
  impl_->close();
}
bool RpcServer::isStarted() const { return impl_->isStarted(); }
const RpcServerOptions& RpcServer::options() const { return impl_->options_; }
RpcServerStats RpcServer::stats() const { return impl_->core_->stats(); }
std::vector<MessageQueue> RpcServer::assignedQueues() const { return impl_->assignedQueues(); }

}  // namespace rocketrpc
