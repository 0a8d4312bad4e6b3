/// \file
/// W3C Trace Context propagation through RPC calls: the `traceparent` of the caller's trace travels with a
/// request as the message user property "traceparent" and is read by the handler from
/// RpcContext::traceparent(), so a trace can span the hop through the broker.
///
/// The caller sets it per call with a ScopedTraceparent around the RpcClient call (sendSync, sendAsync,
/// sendStreamingStart/Message/End on the same thread). Inside a handler, calls made on the handler's thread
/// carry the incoming request's traceparent unless a ScopedTraceparent says otherwise. A Java or Go requester
/// sets the same user property on its request message.
#pragma once

#include <string>
#include <string_view>

#include "rocketrpc/export.h"

namespace rocketrpc {

/// The message user property carrying the W3C traceparent header value.
inline constexpr std::string_view kTraceparentProperty = "traceparent";

/// True when `value` is a valid W3C traceparent: "vv-<32 hex trace id>-<16 hex parent id>-<2 hex flags>"
/// in lowercase hex, version not "ff", trace id and parent id not all zeros (longer values are accepted for
/// versions above 00, as the spec asks).
ROCKETRPC_API bool isValidTraceparent(std::string_view value);

/// Sets the traceparent sent with the RpcClient calls made on this thread while it lives (restoring the
/// previous one after). Not copyable; create and destroy it on the same thread.
class ROCKETRPC_API ScopedTraceparent {
 public:
  /// @throws RpcException(kInvalidArgument) when `traceparent` is not a valid traceparent
  ///         (isValidTraceparent), so that a malformed header never travels.
  explicit ScopedTraceparent(std::string traceparent);
  /// Restores the previous traceparent of the thread.
  ~ScopedTraceparent();
  ScopedTraceparent(const ScopedTraceparent&) = delete;
  ScopedTraceparent& operator=(const ScopedTraceparent&) = delete;

  /// The traceparent calls on this thread send now: the innermost ScopedTraceparent's, else the traceparent
  /// of the request the thread's handler is processing (RpcContext::current()), else "".
  static std::string current();

 private:
  std::string value_;
  const std::string* prev_;
};

}  // namespace rocketrpc
