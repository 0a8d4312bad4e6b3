// W3C traceparent validation and propagation (rocketrpc/trace_context.h). Format per the Trace Context
// recommendation, section 3.2: version "-" trace-id "-" parent-id "-" trace-flags, lowercase hex.
#include "rocketrpc/trace_context.h"

#include "rocketrpc/rpc_errors.h"
#include "rocketrpc/rpc_server.h"
#include "rpc/tracing.h"

namespace rocketrpc {

namespace {

thread_local const std::string* tl_traceparent = nullptr;

bool isLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool allZeros(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

}  // namespace

bool isValidTraceparent(std::string_view v) {
  constexpr size_t kLength = 55;  // 2 + 1 + 32 + 1 + 16 + 1 + 2
  if (v.size() < kLength) return false;
  const std::string_view version = v.substr(0, 2);
  if (!isLowerHex(version) || version == "ff") return false;
  // Version 00 is exactly 55 characters; later versions may append "-..." fields.
  if (version == "00" ? v.size() != kLength : (v.size() > kLength && v[kLength] != '-')) return false;
  if (v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
  const std::string_view trace_id = v.substr(3, 32);
  const std::string_view parent_id = v.substr(36, 16);
  const std::string_view flags = v.substr(53, 2);
  return isLowerHex(trace_id) && isLowerHex(parent_id) && isLowerHex(flags) && !allZeros(trace_id) &&
         !allZeros(parent_id);
}

ScopedTraceparent::ScopedTraceparent(std::string traceparent)
    : value_(std::move(traceparent)), prev_(nullptr) {
  if (!isValidTraceparent(value_))
    throw RpcException(RpcErrorCode::kInvalidArgument,
                       "not a W3C traceparent: '" + value_.substr(0, 64) + "'");
  prev_ = tl_traceparent;
  tl_traceparent = &value_;
}

ScopedTraceparent::~ScopedTraceparent() { tl_traceparent = prev_; }

std::string ScopedTraceparent::current() {
  if (tl_traceparent != nullptr) return *tl_traceparent;
  if (const RpcContext* ctx = RpcContext::current()) return ctx->traceparent();
  return {};
}

void RpcContext::setTraceparent(std::string traceparent) {
  if (isValidTraceparent(traceparent)) traceparent_ = std::move(traceparent);
}

namespace rpc {

void attachTraceparent(Message& msg) {
  std::string tp = ScopedTraceparent::current();
  if (!tp.empty()) msg.putProperty(std::string(kTraceparentProperty), tp);
}

}  // namespace rpc

}  // namespace rocketrpc
