// The public value types of the RPC layer: error names, RpcResponse, RpcResult, RpcContext, stats printing.
#include <fmt/format.h>

#include "rocketrpc/rpc_client.h"
#include "rocketrpc/rpc_errors.h"
#include "rocketrpc/rpc_server.h"
#include "rpc/context.h"

namespace rocketrpc {

std::string_view rpcErrorCodeName(RpcErrorCode code) {
  switch (code) {
    case RpcErrorCode::kInvalidArgument:
      return "InvalidArgument";
    case RpcErrorCode::kConfig:
      return "Config";
    case RpcErrorCode::kNotStarted:
      return "NotStarted";
    case RpcErrorCode::kClosed:
      return "Closed";
    case RpcErrorCode::kSendFailed:
      return "SendFailed";
    case RpcErrorCode::kNoResponder:
      return "NoResponder";
    case RpcErrorCode::kTimeout:
      return "Timeout";
    case RpcErrorCode::kRemoteError:
      return "RemoteError";
    case RpcErrorCode::kOverLimit:
      return "OverLimit";
    case RpcErrorCode::kSession:
      return "Session";
    case RpcErrorCode::kCorrelation:
      return "Correlation";
    case RpcErrorCode::kInternal:
      return "Internal";
    case RpcErrorCode::kAccessDenied:
      return "AccessDenied";
    case RpcErrorCode::kNetwork:
      return "Network";
  }
  return "Unknown";
}

bool RpcException::retriable() const noexcept {
  switch (code_) {
    case RpcErrorCode::kSendFailed:
    case RpcErrorCode::kNoResponder:
    case RpcErrorCode::kTimeout:
    case RpcErrorCode::kOverLimit:
    case RpcErrorCode::kNetwork:
      return true;
    default:
      return false;
  }
}

RpcResponse RpcResponse::makeOk(std::string payload, std::string correlation_id,
                                std::chrono::microseconds latency) {
  RpcResponse r;
  r.success_ = true;
  r.data_ = std::move(payload);
  r.correlation_id_ = std::move(correlation_id);
  r.latency_ = latency;
  return r;
}

RpcResponse RpcResponse::makeError(RpcErrorCode code, std::string message, std::string correlation_id,
                                   std::chrono::microseconds latency) {
  RpcResponse r;
  r.success_ = false;
  r.error_code_ = code;
  r.data_ = std::move(message);
  r.correlation_id_ = std::move(correlation_id);
  r.latency_ = latency;
  return r;
}

const RpcResponse& RpcResult::value() const& {
  if (error_) std::rethrow_exception(error_);
  return *response_;
}

RpcResponse&& RpcResult::value() && {
  if (error_) std::rethrow_exception(error_);
  return std::move(*response_);
}

RpcErrorCode RpcResult::errorCode() const {
  try {
    if (error_) std::rethrow_exception(error_);
  } catch (const RpcException& e) {
    return e.code();
  } catch (...) {
  }
  return RpcErrorCode::kInternal;
}

std::string RpcResult::errorMessage() const {
  try {
    if (error_) std::rethrow_exception(error_);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
  return {};
}

namespace {
thread_local const RpcContext* tl_context = nullptr;

std::string latencyText(const char* name, const LatencySummary& l) {
  return fmt::format("{}_us count={} p50={} p90={} p99={} max={}", name, l.count, l.p50.count(),
                     l.p90.count(), l.p99.count(), l.max.count());
}
}  // namespace

const RpcContext* RpcContext::current() { return tl_context; }

std::chrono::milliseconds RpcContext::remaining() const {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - std::chrono::system_clock::now());
  return left.count() > 0 ? left : std::chrono::milliseconds(0);
}

namespace rpc {
ScopedContext::ScopedContext(const RpcContext* ctx) : prev_(tl_context) { tl_context = ctx; }
ScopedContext::~ScopedContext() { tl_context = prev_; }
}  // namespace rpc

std::string RpcReceiver::processStreamingRequest(const std::string& session_id,
                                                 const std::vector<std::string>& messages) {
  throw std::runtime_error("streaming is not supported by this receiver");
}

std::string toString(const RpcClientStats& s) {
  return fmt::format(
      "requests={} succeeded={} remote_errors={} timeouts={} send_failures={} no_responder={} closed={} "
      "session_errors={} rejected_over_limit={} unmatched_replies={} in_flight={} sessions_started={} "
      "sessions_open={} sessions_expired={} stream_messages={} {}",
      s.requests, s.succeeded, s.remote_errors, s.timeouts, s.send_failures, s.no_responder, s.closed,
      s.session_errors, s.rejected_over_limit, s.unmatched_replies, s.in_flight, s.sessions_started,
      s.sessions_open, s.sessions_expired, s.stream_messages, latencyText("latency", s.latency));
}

std::string toString(const RpcServerStats& s) {
  return fmt::format(
      "requests={} replies={} handler_errors={} limit_errors={} session_errors={} expired_dropped={} "
      "late_replies_dropped={} dedup_hits={} reply_failures={} ignored={} in_flight={} sessions_open={} "
      "sessions_completed={} sessions_expired={} sessions_rejected={} session_overflows={} "
      "stream_messages={} "
      "stream_duplicates={} stream_dropped={} {}",
      s.requests, s.replies, s.handler_errors, s.limit_errors, s.session_errors, s.expired_dropped,
      s.late_replies_dropped, s.dedup_hits, s.reply_failures, s.ignored, s.in_flight, s.sessions_open,
      s.sessions_completed, s.sessions_expired, s.sessions_rejected, s.session_overflows, s.stream_messages,
      s.stream_duplicates, s.stream_dropped, latencyText("handler_latency", s.handler_latency));
}

}  // namespace rocketrpc
