#include "broker/broker_server.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <sstream>

#include "broker/acl/acl_guard.h"
#include "broker/broker_context.h"
#include "broker/broker_metrics.h"
#include "broker/processor/processors.h"
#include "broker/pull_request_hold_service.h"
#include "broker/request_names.h"
#include "broker/schedule_message_service.h"
#include "common/address.h"
#include "common/executor.h"
#include "common/log.h"
#include "common/thread_guard.h"
#include "namesrv/name_server.h"
#include "remoting/metrics_http_server.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/message_codec.h"
#include "remoting/transport.h"
#include "store/directory_lock.h"

namespace rocketrpc::broker {

namespace rc = remoting::request_code;
using remoting::RemotingCommand;

namespace {

constexpr std::chrono::milliseconds kRegisterTimeout{24000};
constexpr std::chrono::milliseconds kClientScanInterval{10000};

// Every store file and connection takes a descriptor: raises the soft RLIMIT_NOFILE to the hard limit (a
// 1,024-file soft default would cap a broker with thousands of queues). Returns the soft limit in force.
int64_t raiseFileLimit() {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
  if (rl.rlim_cur != rl.rlim_max) {
    const rlim_t before = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &rl) == 0) {
      RRPC_LOG(kInfo, "broker", "raised the soft RLIMIT_NOFILE from {} to the hard limit {}",
               static_cast<uint64_t>(before), static_cast<uint64_t>(rl.rlim_cur));
    } else {
      RRPC_LOG(kWarn, "broker", "cannot raise the soft RLIMIT_NOFILE {} to the hard limit {}: {}",
               static_cast<uint64_t>(before), static_cast<uint64_t>(rl.rlim_max), std::strerror(errno));
      rl.rlim_cur = before;
    }
  } else {
    RRPC_LOG(kInfo, "broker", "RLIMIT_NOFILE is {} (soft = hard)", static_cast<uint64_t>(rl.rlim_cur));
  }
  return rl.rlim_cur == RLIM_INFINITY ? INT64_MAX : static_cast<int64_t>(rl.rlim_cur);
}

int64_t systemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The broker's request-code table: a new code adds a processor file and one line here.
// kWorker: the handler runs on the worker pool. For handlers that do not post their own work there but are too
// slow for an I/O thread (a file-system call, a large JSON table): a client pipelining thousands of them must not
// hold up every connection of the loop (the soak's never-reading clients did that with runtime-info requests).
// kPooled: the handler posts its work to the worker pool itself; the door answers SYSTEM_BUSY [OVERLOAD] instead
// when workerQueueCapacity tasks wait there (sends and replies check on their own: most never use the pool).
enum class RunOn { kAsIs, kWorker, kPooled };
struct HandlerEntry {
  int32_t code;
  HandlerFactory factory;
  RunOn run_on = RunOn::kAsIs;
};
constexpr HandlerEntry kHandlers[] = {
    {rc::kSendMessage, makeSendMessageHandler},
    {rc::kSendMessageV2, makeSendMessageHandler},
    {rc::kSendBatchMessage, makeSendMessageHandler},
    {rc::kSendReplyMessage, makeReplyMessageHandler},
    {rc::kSendReplyMessageV2, makeReplyMessageHandler},
    {rc::kPullMessage, makePullMessageHandler},
    {rc::kLitePullMessage, makePullMessageHandler},
    {rc::kQueryConsumerOffset, makeQueryConsumerOffsetHandler},
    {rc::kUpdateConsumerOffset, makeUpdateConsumerOffsetHandler},
    {rc::kGetMaxOffset, makeGetMaxOffsetHandler},
    {rc::kGetMinOffset, makeGetMinOffsetHandler},
    {rc::kSearchOffsetByTimestamp, makeSearchOffsetHandler, RunOn::kPooled},
    {rc::kGetEarliestMsgStoreTime, makeEarliestMsgStoreTimeHandler, RunOn::kPooled},
    {rc::kViewMessageById, makeViewMessageByIdHandler, RunOn::kPooled},
    {rc::kHeartBeat, makeHeartbeatHandler, RunOn::kPooled},
    {rc::kUnregisterClient, makeUnregisterClientHandler},
    {rc::kGetConsumerListByGroup, makeGetConsumerListHandler},
    {rc::kConsumerSendMsgBack, makeConsumerSendMsgBackHandler, RunOn::kPooled},
    {rc::kLockBatchMq, makeLockBatchHandler},
    {rc::kUnlockBatchMq, makeUnlockBatchHandler},
    {rc::kUpdateAndCreateTopic, makeUpdateAndCreateTopicHandler, RunOn::kPooled},
    {rc::kGetAllTopicConfig, makeGetAllTopicConfigHandler},
    {rc::kDeleteTopicInBroker, makeDeleteTopicInBrokerHandler, RunOn::kPooled},
    {rc::kGetBrokerRuntimeInfo, makeGetBrokerRuntimeInfoHandler, RunOn::kWorker},
    {rc::kQueryTopicConsumeByWho, makeQueryTopicConsumeByWhoHandler},
    {rc::kGetConsumerConnectionList, makeGetConsumerConnectionListHandler},
    {rc::kGetConsumeStats, makeGetConsumeStatsHandler, RunOn::kPooled},
    {rc::kUpdateAndCreateSubscriptionGroup, makeUpdateAndCreateSubscriptionGroupHandler, RunOn::kPooled},
    {rc::kGetAllSubscriptionGroupConfig, makeGetAllSubscriptionGroupConfigHandler},
    {rc::kDeleteSubscriptionGroup, makeDeleteSubscriptionGroupHandler, RunOn::kPooled},
};

}  // namespace

BrokerServer::BrokerServer(BrokerConfig config) : config_(std::move(config)) {}

BrokerServer::~BrokerServer() { shutdown(); }

Status BrokerServer::start() {
  std::lock_guard<std::mutex> lock(lifecycle_mu_);
  if (started_) return Status::invalidArgument("BrokerServer already started");
  started_ = true;
  if (Status s = config_.validate(); !s.isOk()) return s;

  ctx_ = std::make_shared<BrokerContext>();
  ctx_->config = config_;
  ctx_->metrics.topics.setMaxTopics(static_cast<size_t>(config_.metrics_max_topics));
  ctx_->clock = systemNowMs;
  ctx_->delay_levels_ms = *parseDelayLevels(config_.message_delay_level);

  const std::string root = config_.storeRoot();
  // Before anything reads or writes the store: a second broker on the same directory stops here.
  auto store_lock = store::DirectoryLock::acquire(root);
  if (!store_lock.isOk()) return store_lock.status();
  store_lock_ = std::move(*store_lock);
  store::MessageStoreOptions so;
  so.root_dir = root;
  so.fs = store_fs_;
  so.commit_log_segment_size = config_.maped_file_size_commit_log;
  so.max_message_size = static_cast<int32_t>(std::min<int64_t>(config_.max_message_size + 64 * 1024,
                                                               config_.maped_file_size_commit_log - 8));
  so.flush_mode = config_.flush_disk_type == "SYNC_FLUSH" ? store::FlushMode::kSync : store::FlushMode::kAsync;
  so.flush_interval = std::chrono::milliseconds(config_.flush_interval_commit_log);
  so.clean_interval = std::chrono::milliseconds(config_.flush_consumer_offset_interval);
  so.file_retention = std::chrono::hours(config_.file_reserved_time);
  so.store_host = config_.brokerAddr(static_cast<uint16_t>(config_.listen_port));
  so.max_queue_wait = std::chrono::milliseconds(config_.wait_time_mills_in_send_queue);
  so.max_queued_bytes = config_.max_send_queue_bytes;
  so.disk_max_used_ratio = static_cast<double>(config_.disk_max_used_space_ratio) / 100;
  so.disk_full_ratio = static_cast<double>(config_.disk_space_warning_level_ratio) / 100;
  // Half the descriptors at most for store files: the rest serve connections. The cache closes idle files and
  // retries when EMFILE comes anyway.
  const int64_t fd_limit = raiseFileLimit();
  int64_t max_open = config_.max_open_files;
  if (fd_limit > 0) max_open = std::min(max_open, std::max<int64_t>(16, fd_limit / 2));
  if (max_open != config_.max_open_files) {
    RRPC_LOG(kInfo, "broker", "store keeps at most {} files open (maxOpenFiles {}, RLIMIT_NOFILE {})", max_open,
             config_.max_open_files, fd_limit);
  }
  so.max_open_files = static_cast<size_t>(max_open);
  so.on_commit_log_sync = [h = ctx_->metrics.store_fsync_seconds](std::chrono::steady_clock::duration d) {
    h->record(d);
  };
  auto opened = store::MessageStore::open(so);
  if (!opened.isOk()) return opened.status().withContext("open store " + root);
  ctx_->store = std::shared_ptr<store::MessageStore>(std::move(*opened));

  ctx_->topics = std::make_unique<TopicConfigManager>(config_, root + "/config/topics.json", ctx_->clock);
  if (Status s = ctx_->topics->load(); !s.isOk()) return s;
  ctx_->groups = std::make_unique<SubscriptionGroupManager>(root + "/config/subscriptionGroup.json",
                                                            config_.auto_create_subscription_group, ctx_->clock);
  if (Status s = ctx_->groups->load(); !s.isOk()) return s;

  remoting::TransportOptions to;
  to.io_threads = config_.ioThreads();
  to.name = "broker";
  to.tls_server.mode = config_.tls_server_mode == "enforcing"    ? remoting::TlsServerMode::kEnforcing
                       : config_.tls_server_mode == "permissive" ? remoting::TlsServerMode::kPermissive
                                                                 : remoting::TlsServerMode::kDisabled;
  to.tls_server.cert_file = config_.tls_server_cert_path;
  to.tls_server.key_file = config_.tls_server_key_path;
  to.tls_server.trust_cert_file = config_.tls_server_trust_cert_path;
  to.tls_server.need_client_auth = config_.tls_server_need_client_auth;
  to.max_receiving_bytes = static_cast<size_t>(config_.max_receiving_bytes);
  to.frame_receive_timeout = std::chrono::milliseconds(config_.frame_receive_timeout_millis);
  to.max_write_queue_bytes = static_cast<size_t>(config_.max_write_queue_bytes_per_connection);
  to.write_stall_timeout = std::chrono::milliseconds(config_.write_stall_timeout_millis);
  server_ = std::make_unique<remoting::RemotingServer>(to);
  workers_ = std::make_unique<ThreadPool>("broker-worker", static_cast<int>(config_.server_worker_threads));
  ctx_->server = server_.get();
  ctx_->workers = workers_.get();

  auto ctx = ctx_;
  holds_ = std::make_shared<PullRequestHoldService>(
      ctx_,
      [ctx](RemotingCommand request, remoting::Responder responder) {
        replayPull(ctx, std::move(request), std::move(responder));
      },
      [ctx](const RemotingCommand& request, const remoting::Responder& responder, const store::ArrivedMessage& msg) {
        answerHeldPull(ctx, request, responder, msg);
      });
  ctx_->pull_holds = holds_.get();
  ctx_->store->setMessageArrivedListener(holds_);

  // The one door: with aclEnable every handler, name-server codes included, runs behind the access check;
  // without it handlers are registered as they are (no per-request cost).
  if (config_.acl_enable) {
    acl::AclGuardOptions ao;
    ao.file = config_.aclFilePath();
    ao.reply_check = config_.acl_reply_check_enable;
    ao.reply_track_max_entries = static_cast<size_t>(config_.acl_reply_track_max_entries);
    ao.reply_track_ttl_ms = config_.acl_reply_track_ttl_millis;
    ao.on_denied = [ctx] { ctx->metrics.acl_denied.fetch_add(1, std::memory_order_relaxed); };
    auto guard = acl::AclGuard::create(std::move(ao));
    if (!guard.isOk()) return guard.status();
    acl_ = std::move(*guard);
  }
  // The door every request passes, name-server codes included: the access check (with aclEnable), then the
  // names check (no processor sees a name that breaks the rules of remoting/protocol/names.h), then the thread
  // guard (a processor that throws, a bug, costs its request an error answer, never the I/O thread).
  auto door = [acl = acl_, ctx](remoting::RequestHandler handler, bool count) {
    remoting::RequestHandler guarded = [ctx, count, handler = std::move(handler)](
                                           RemotingCommand request, remoting::Responder responder) {
      const int32_t code = request.code;
      if (count) ctx->metrics.countRequest(code);
      const auto started = std::chrono::steady_clock::now();
      if (Status s = checkRequestNames(request); !s.isOk()) {
        ctx->metrics.requests_refused_names.fetch_add(1, std::memory_order_relaxed);
        responder.respond(RemotingCommand::responseTo(request, remoting::response_code::kSystemError, s.message()));
        return;
      }
      RemotingCommand stub;
      stub.opaque = request.opaque;
      stub.serialize_type = request.serialize_type;
      if (!runGuarded("broker request handler", [&] { handler(std::move(request), responder); })) {
        responder.respond(RemotingCommand::responseTo(stub, remoting::response_code::kSystemError,
                                                      "internal error processing request code " +
                                                          std::to_string(code)));
      }
      // Until the handler answered or handed the request off (worker pool, store, long-poll hold).
      if (count) ctx->metrics.recordRequest(code, started);
    };
    return acl ? acl->wrap(std::move(guarded)) : guarded;
  };
  if (config_.namesrv_enable) {
    namesrv::NameServerOptions no;
    no.broker_expiry = std::chrono::milliseconds(config_.broker_expired_timeout);
    namesrv_ = std::make_unique<namesrv::NameServer>(no);
    namesrv_->registerProcessors(*server_,
                                 [door](remoting::RequestHandler handler) { return door(std::move(handler), false); });
  }
  for (const auto& entry : kHandlers) {
    remoting::RequestHandler handler = entry.factory(ctx_);
    if (entry.run_on == RunOn::kPooled) {
      handler = [ctx, inner = std::move(handler)](RemotingCommand request, remoting::Responder responder) {
        if (!ctx->refuseIfOverloaded(request, responder)) inner(std::move(request), std::move(responder));
      };
    } else if (entry.run_on == RunOn::kWorker) {
      handler = [ctx, inner = std::move(handler)](RemotingCommand request, remoting::Responder responder) {
        if (ctx->refuseIfOverloaded(request, responder)) return;
        ctx->post([inner, request = std::move(request), responder = std::move(responder)]() mutable {
          const int32_t code = request.code;
          RemotingCommand stub;
          stub.opaque = request.opaque;
          stub.serialize_type = request.serialize_type;
          if (!runGuarded("broker request handler", [&] { inner(std::move(request), responder); })) {
            responder.respond(RemotingCommand::responseTo(stub, remoting::response_code::kSystemError,
                                                          "internal error processing request code " +
                                                              std::to_string(code)));
          }
        });
      };
    }
    server_->registerHandler(entry.code, door(std::move(handler), true));
  }
  server_->setCloseListener([this](const std::string& addr) {
    runGuarded("broker connection-close listener", [&] { onConnectionClosed(addr); });
  });

  // Known before binding when the port is fixed; with port 0 it is set right after the bind, before any
  // client can have learned the port.
  ctx_->broker_addr = config_.brokerAddr(static_cast<uint16_t>(config_.listen_port));
  if (Status s = server_->start(config_.listen_host, static_cast<uint16_t>(config_.listen_port)); !s.isOk())
    return s.withContext("listen on " + config_.listen_host + ":" + std::to_string(config_.listen_port));
  port_ = server_->port();
  ctx_->broker_addr = config_.brokerAddr(port_);

  if (namesrv_) namesrv_->start();
  schedule_ = std::make_unique<ScheduleMessageService>(ctx_);
  schedule_->start();

  if (!config_.namesrv_addr.empty()) {
    remoting::TransportOptions co;
    co.name = "broker-outer";
    co.tls.enabled = config_.tls_enable;
    co.tls.ca_file = config_.tls_client_trust_cert_path;
    co.tls.cert_file = config_.tls_client_cert_path;
    co.tls.key_file = config_.tls_client_key_path;
    co.tls.verify = config_.tls_client_auth_server;
    namesrv_client_ = std::make_unique<remoting::RemotingClient>(co);
    if (Status s = namesrv_client_->start(); !s.isOk()) return s.withContext("namesrvAddr client");
  }
  ctx_->topics->setChangeListener([this] { registerBrokerAll(); });
  registerBrokerAll();

  scheduler_ = std::make_unique<Scheduler>("broker-timer");
  ctx_->metrics.boot_timestamp_ms = ctx_->now();
  ctx_->metrics.sampleRates(ctx_->now());
  scheduler_->scheduleRepeating(std::chrono::milliseconds(1000), std::chrono::milliseconds(1000),
                                [ctx] { ctx->metrics.sampleRates(ctx->now()); });
  scheduler_->scheduleRepeating(std::chrono::milliseconds(10000),
                                std::chrono::milliseconds(config_.register_name_server_period),
                                [this] { registerBrokerAll(); });
  if (acl_) {
    scheduler_->scheduleRepeating(std::chrono::milliseconds(config_.acl_reload_interval_millis),
                                  std::chrono::milliseconds(config_.acl_reload_interval_millis),
                                  [acl = acl_] { acl->reloadIfChanged(); });
  }
  scheduler_->scheduleRepeating(kClientScanInterval, kClientScanInterval, [ctx] {
    for (const auto& group : ctx->clients.scanExpired(ctx->now(), ctx->config.channel_expired_timeout))
      notifyConsumerIdsChanged(*ctx, group);
  });

  if (config_.metrics_port > 0) {
    metrics_http_ = std::make_unique<remoting::MetricsHttpServer>([this] { return metricsText(); });
    if (Status s = metrics_http_->start("127.0.0.1", static_cast<uint16_t>(config_.metrics_port)); !s.isOk())
      return s;
  }
  RRPC_LOG(kInfo, "broker", "broker {} of cluster {} serving at {} (store {}, {})", config_.broker_name,
           config_.broker_cluster_name, ctx_->broker_addr, root, config_.flush_disk_type);
  return Status::ok();
}

void BrokerServer::registerBrokerAll() {
  if (!ctx_ || !ctx_->topics) return;
  namesrv::RegisterBrokerBody body;
  body.topic_config_wrapper = ctx_->topics->snapshot();
  if (namesrv_) {
    namesrv::RegisterBrokerRequest req;
    req.cluster_name = config_.broker_cluster_name;
    req.broker_addr = ctx_->broker_addr;
    req.broker_name = config_.broker_name;
    req.broker_id = config_.broker_id;
    req.ha_server_addr = ctx_->broker_addr;
    req.topics = body.topic_config_wrapper;
    namesrv_->registerBrokerDirect(std::move(req));
  }
  if (!namesrv_client_) return;
  std::string encoded = namesrv::encodeRegisterBrokerBody(body);
  for (const auto& addr : splitAddressList(config_.namesrv_addr)) {
    auto cmd = RemotingCommand::request(rc::kRegisterBroker);
    cmd.set("brokerName", config_.broker_name);
    cmd.set("brokerAddr", ctx_->broker_addr);
    cmd.set("clusterName", config_.broker_cluster_name);
    cmd.set("haServerAddr", ctx_->broker_addr);
    cmd.set("brokerId", config_.broker_id);
    cmd.setBool("compressed", false);
    cmd.set("bodyCrc32", static_cast<int64_t>(remoting::bodyCrc(encoded)));
    cmd.body = encoded;
    namesrv_client_->invokeAsync(addr, std::move(cmd), kRegisterTimeout, [addr](Result<RemotingCommand> r) {
      if (!r.isOk() || r->code != 0) {
        RRPC_LOG(kWarn, "broker", "register to name server {} failed: {}", addr,
                 r.isOk() ? "code " + std::to_string(r->code) + " " + r->remarkOrEmpty() : r.status().toString());
      }
    });
  }
}

void BrokerServer::onConnectionClosed(const std::string& remote_addr) {
  auto ctx = ctx_;
  if (!ctx) return;
  ctx->metrics.connections_closed.fetch_add(1, std::memory_order_relaxed);
  ctx->encodings.forget(remote_addr);
  if (holds_) holds_->onConnectionClosed(remote_addr);  // nobody is left to answer them
  if (namesrv_) namesrv_->onConnectionClosed(remote_addr);
  ctx->post([ctx, remote_addr] {
    for (const auto& group : ctx->clients.onChannelClosed(remote_addr)) notifyConsumerIdsChanged(*ctx, group);
  });
}

uint16_t BrokerServer::port() const { return port_; }

std::string BrokerServer::address() const { return ctx_ ? ctx_->broker_addr : std::string(); }

uint16_t BrokerServer::metricsPort() const { return metrics_http_ ? metrics_http_->port() : 0; }

std::string BrokerServer::metricsText() const {
  if (!ctx_) return {};
  std::string extra;
  auto gauge = [&extra](const char* name, const char* help, int64_t value) {
    prom::family(extra, name, "gauge", help);
    prom::sample(extra, name, {}, value);
  };
  gauge("rocketrpc_broker_producers", "Producer connections registered by heartbeat.",
        static_cast<int64_t>(ctx_->clients.producerCount()));
  gauge("rocketrpc_broker_consumers", "Consumer connections registered by heartbeat.",
        static_cast<int64_t>(ctx_->clients.consumerCount()));
  prom::family(
      extra, "rocketrpc_broker_caught_exceptions_total", "counter",
      "Exceptions caught at the top of a thread, task or request handler (each one a bug; the broker went "
      "on serving).");
  prom::sample(extra, "rocketrpc_broker_caught_exceptions_total", {},
               static_cast<int64_t>(caughtExceptionCount()));
  if (ctx_->store) {
    gauge("rocketrpc_broker_commitlog_max_offset", "Commit-log bytes written (the next physical offset).",
          ctx_->store->commitLogMaxOffset());
    prom::family(
        extra, "rocketrpc_broker_store_corrupt_entries_skipped_total", "counter",
        "Messages pulls skipped because their consume-queue entry or commit-log record was damaged on disk.");
    prom::sample(extra, "rocketrpc_broker_store_corrupt_entries_skipped_total", {},
                 static_cast<int64_t>(ctx_->store->corruptEntriesSkipped()));
    const auto& st = *ctx_->store;
    gauge("rocketrpc_broker_store_writable",
          "1 while the store accepts writes; 0 after a failed fsync or write error (until restart).",
          st.writeError().isOk() ? 1 : 0);
    gauge("rocketrpc_broker_store_disk_full", "1 while sends are refused for a full disk.", st.diskFull() ? 1 : 0);
    prom::family(extra, "rocketrpc_broker_store_puts_refused_total", "counter",
                 "Puts refused for a passing reason (reason: disk_full or out_of_files); the sender may retry.");
    prom::sample(extra, "rocketrpc_broker_store_puts_refused_total", "reason=\"disk_full\"",
                 static_cast<int64_t>(st.putsRefusedDiskFull()));
    prom::sample(extra, "rocketrpc_broker_store_puts_refused_total", "reason=\"out_of_files\"",
                 static_cast<int64_t>(st.putsRefusedOutOfFiles()));
    gauge("rocketrpc_broker_store_open_files", "Store files holding a descriptor (bounded by maxOpenFiles).",
          static_cast<int64_t>(st.openFiles()));
    extra += renderConsumerLag(*ctx_->store, static_cast<size_t>(config_.metrics_max_topics));
  }
  return ctx_->metrics.render(extra);
}

void BrokerServer::shutdown() {
  std::lock_guard<std::mutex> lock(lifecycle_mu_);
  if (!started_ || stopped_) return;
  stopped_ = true;
  if (scheduler_) scheduler_->shutdown();
  if (ctx_ && ctx_->topics) ctx_->topics->setChangeListener(nullptr);
  if (metrics_http_) metrics_http_->shutdown();
  if (server_) server_->shutdown();
  if (namesrv_client_) namesrv_client_->shutdown();
  if (schedule_) schedule_->shutdown();
  if (holds_) holds_->shutdown();
  if (workers_) workers_->shutdown();
  if (namesrv_) namesrv_->shutdown();
  if (ctx_ && ctx_->store) {
    ctx_->store->setMessageArrivedListener(nullptr);
    Status s = ctx_->store->close();
    if (!s.isOk()) RRPC_LOG(kError, "broker", "closing the store failed: {}", s.toString());
  }
  store_lock_.reset();
  RRPC_LOG(kInfo, "broker", "broker {} stopped", config_.broker_name);
}

}  // namespace rocketrpc::broker
