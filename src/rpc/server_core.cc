#include "rpc/server_core.h"

#include "common/log.h"
#include "rocketrpc/producer.h"
#include "rocketrpc/trace_context.h"
#include "rpc/context.h"

namespace rocketrpc::rpc {

namespace {
constexpr const char* kLog = "rpc.server";
constexpr size_t kReplyCacheBytes = 64 * 1024 * 1024;

SessionLimits limitsOf(const RpcServerOptions& o) {
  SessionLimits l;
  l.max_sessions = o.max_concurrent_sessions;
  l.max_bytes = o.max_session_bytes;
  l.max_messages = o.max_session_messages;
  l.idle_timeout = o.session_idle_timeout;
  l.gap_timeout = o.stream_gap_timeout;
  l.max_tombstones = std::max<size_t>(10000, o.max_concurrent_sessions * 4);
  return l;
}

std::chrono::system_clock::time_point toTimePoint(std::optional<int64_t> deadline_ms) {
  if (!deadline_ms) return std::chrono::system_clock::time_point::max();
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(*deadline_ms));
}

log::RateLimiter reply_fail_log{std::chrono::seconds(5)};
}  // namespace

ServerCore::ServerCore(const RpcServerOptions& options, std::shared_ptr<RpcReceiver> receiver, ReplySink sink,
                       EpochClock clock)
    : receiver_(std::move(receiver)),
      sink_(std::move(sink)),
      clock_(std::move(clock)),
      cache_(options.dedup_cache_size, kReplyCacheBytes),
      sessions_(limitsOf(options)) {}

bool ServerCore::expired(const MessageExt& msg, std::optional<int64_t>* deadline) {
  *deadline = requestDeadlineMs(msg);
  return *deadline && clock_() >= **deadline;
}

void ServerCore::onMessage(const MessageExt& msg) {
  const std::string kind = msg.getProperty(prop::kKind);
  try {
    if (kind.empty()) return handleRequest(msg);
    if (kind == kind::kEnd) return handleEnd(msg);
    if (kind == kind::kInit) return;  // topic-creation marker
    const std::string session = msg.getProperty(prop::kSession);
    if (session.empty()) {
      ignored_.fetch_add(1);
      return;
    }
    if (kind == kind::kStart) {
      sessions_.onStart(session, std::chrono::steady_clock::now());
      return;
    }
    if (kind == kind::kMsg) {
      auto seq = parseNonNegative(msg.getProperty(prop::kSeq));
      if (!seq) {
        ignored_.fetch_add(1);
        return;
      }
      runAction(sessions_.onMessage(session, *seq, std::string(payloadOf(msg)), std::chrono::steady_clock::now()));
      return;
    }
    ignored_.fetch_add(1);
  } catch (const std::exception& e) {  // bad_alloc and the like: never let it reach the consumer thread
    RRPC_LOG(kError, kLog, "message {} not handled: {}", msg.msgId(), e.what());
  }
}

bool ServerCore::admit(const MessageExt& msg, std::optional<int64_t>* deadline) {
  if (msg.getProperty(property::kReplyToClient).empty()) {  // a plain message, not a request
    ignored_.fetch_add(1);
    return false;
  }
  requests_.fetch_add(1);
  if (expired(msg, deadline)) {
    expired_dropped_.fetch_add(1);
    return false;
  }
  const std::string& correlation = msg.getProperty(property::kCorrelationId);
  Message cached;
  switch (cache_.claim(correlation, &cached)) {
    case ReplyCache::Claim::kInProgress:  // the first delivery is still being handled; it will answer
      dedup_hits_.fetch_add(1);
      return false;
    case ReplyCache::Claim::kDone:  // answered before: send the same reply again
      dedup_hits_.fetch_add(1);
      send(cached, correlation, nullptr, /*forget=*/false);
      return false;
    case ReplyCache::Claim::kNew:
      break;
  }
  return true;
}

void ServerCore::invoke(const MessageExt& request, const RpcContext& ctx,
                        const std::function<std::string()>& handler) {
  ScopedContext scope(&ctx);
  bool ok = true;
  std::string body;
  in_flight_.fetch_add(1);
  auto t0 = std::chrono::steady_clock::now();
  try {
    body = handler();
  } catch (const std::exception& e) {
    ok = false;
    body = e.what();
  } catch (...) {
    ok = false;
    body = "unknown error";
  }
  latency_.record(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0));
  in_flight_.fetch_sub(1);
  answer(request, ok, body, ReplyErrorKind::kHandler);
}

void ServerCore::handleRequest(const MessageExt& msg) {
  std::optional<int64_t> deadline;
  if (!admit(msg, &deadline)) return;
  RpcContext ctx(msg.getProperty(property::kCorrelationId), "", toTimePoint(deadline));
  ctx.setTraceparent(msg.getProperty(kTraceparentProperty));
  invoke(msg, ctx, [&] { return receiver_->processRequest(payloadOf(msg)); });
}

void ServerCore::handleEnd(const MessageExt& msg) {
  std::optional<int64_t> deadline;
  if (!admit(msg, &deadline)) return;
  const std::string& session = msg.getProperty(prop::kSession);
  auto count = parseNonNegative(msg.getProperty(prop::kCount));
  if (session.empty() || !count) {
    answer(msg, false, "malformed streaming end: RRPC_SESSION and RRPC_COUNT are required",
           ReplyErrorKind::kSession);
    return;
  }
  runAction(sessions_.onEnd(session, *count, msg, std::chrono::steady_clock::now()));
}

void ServerCore::runAction(EndAction action) {
  switch (action.kind) {
    case EndAction::Kind::kNone:
      return;
    case EndAction::Kind::kError:
      answer(action.end, false, action.error, action.error_kind);
      return;
    case EndAction::Kind::kProcess:
      break;
  }
  std::optional<int64_t> deadline;
  if (expired(action.end, &deadline)) {  // the end waited for missing messages past its deadline
    expired_dropped_.fetch_add(1);
    cache_.abandon(action.end.getProperty(property::kCorrelationId));
    return;
  }
  RpcContext ctx(action.end.getProperty(property::kCorrelationId), action.session_id, toTimePoint(deadline));
  ctx.setTraceparent(action.end.getProperty(kTraceparentProperty));
  invoke(action.end, ctx, [&] { return receiver_->processStreamingRequest(action.session_id, action.messages); });
}

void ServerCore::send(const Message& reply, const std::string& correlation, std::atomic<uint64_t>* counter,
                      bool forget) {
  auto failed = [this, correlation, counter, forget](const std::string& why) {
    if (counter) counter->fetch_sub(1);
    reply_failures_.fetch_add(1);
    if (forget) cache_.abandon(correlation);
    if (reply_fail_log.allow()) {
      RRPC_LOG(kWarn, kLog, "reply to request {} could not be sent: {} ({} reply failures so far)", correlation,
               why, reply_failures_.load());
    }
  };
  try {
    sink_(reply, [failed](std::exception_ptr error) {
      if (!error) return;
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        failed(e.what());
      } catch (...) {
        failed("unknown error");
      }
    });
  } catch (const std::exception& e) {
    failed(e.what());
  }
}

void ServerCore::answer(const MessageExt& request, bool ok, const std::string& body, ReplyErrorKind kind) {
  const std::string correlation = request.getProperty(property::kCorrelationId);
  std::optional<int64_t> deadline;
  if (expired(request, &deadline)) {  // nobody waits any more: do not send
    late_dropped_.fetch_add(1);
    cache_.abandon(correlation);
    return;
  }
  // Counted before the send, so that whoever got the reply also sees it counted; undone if the send fails.
  std::atomic<uint64_t>& counter = ok                                   ? replies_
                                   : kind == ReplyErrorKind::kHandler   ? handler_errors_
                                   : kind == ReplyErrorKind::kOverLimit ? limit_errors_
                                                                        : session_errors_;
  counter.fetch_add(1);
  Message reply;
  try {
    if (ok) {
      reply = createReplyMessage(request, std::string());
      setPayload(reply, body);
    } else {
      reply = createErrorReplyMessage(request, encodeErrorText(kind, body));
      reply.putProperty(prop::kErrorCode, errorKindName(kind));
    }
    // Cached before the send completes: a redelivered copy arriving meanwhile gets the same reply.
    cache_.complete(correlation, reply);
  } catch (const std::exception& e) {
    counter.fetch_sub(1);
    reply_failures_.fetch_add(1);
    cache_.abandon(correlation);
    if (reply_fail_log.allow()) {
      RRPC_LOG(kWarn, kLog, "reply to request {} could not be built: {}", correlation, e.what());
    }
    return;
  }
  // The send runs asynchronously: the consume thread moves on to the next request.
  send(reply, correlation, &counter, /*forget=*/true);
}

void ServerCore::sweep(std::chrono::steady_clock::time_point now) {
  for (EndAction& a : sessions_.sweep(now)) runAction(std::move(a));
}

void ServerCore::clear() { sessions_.clear(); }

RpcServerStats ServerCore::stats() const {
  RpcServerStats s;
  s.requests = requests_.load();
  s.replies = replies_.load();
  s.handler_errors = handler_errors_.load();
  s.limit_errors = limit_errors_.load();
  s.session_errors = session_errors_.load();
  s.expired_dropped = expired_dropped_.load();
  s.late_replies_dropped = late_dropped_.load();
  s.dedup_hits = dedup_hits_.load();
  s.reply_failures = reply_failures_.load();
  s.ignored = ignored_.load();
  s.in_flight = in_flight_.load();
  SessionCounters c = sessions_.counters();
  s.sessions_open = c.open;
  s.sessions_completed = c.completed;
  s.sessions_expired = c.expired;
  s.sessions_rejected = c.rejected;
  s.session_overflows = c.overflows;
  s.stream_messages = c.messages;
  s.stream_duplicates = c.duplicates;
  s.stream_dropped = c.dropped;
  s.handler_latency = latency_.summary();
  return s;
}

}  // namespace rocketrpc::rpc
