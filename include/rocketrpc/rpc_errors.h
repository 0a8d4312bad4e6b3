/// \file
/// Errors of the RPC layer (RpcClient / RpcServer): RpcException and its subclasses. Every failure has exactly
/// one RpcErrorCode, so callers can tell "could not send" from "timed out" from "no responder" from "closed"
/// from "over a limit" without parsing messages; retriable() says whether the same call may succeed later. A
/// receiver's handler error is not an exception: it arrives as RpcResponse::success() == false.
#pragma once

#include "rocketrpc/export.h"
#include <stdexcept>
#include <string>
#include <string_view>

namespace rocketrpc {

/// What went wrong in the RPC layer; carried by every RpcException and by error replies.
///
/// Names shared with the client layer's ErrorCode mean the same there (README.md "Errors" has both, with
/// retriability and the CLI exit codes).
enum class RpcErrorCode : int {
  kInvalidArgument = 1,  ///< an argument is out of its documented range (e.g. timeout not in 1..300000 ms). Not
                         ///< retriable.
  kConfig,               ///< an option or configuration key is missing, unknown or invalid. Not retriable.
  kNotStarted,           ///< start() was not called (or failed). Not retriable.
  kClosed,               ///< close() was called; also work still pending when close() ran. Not retriable.
  kSendFailed,           ///< the request could not be handed to a broker (no route, network, busy or refusing
                         ///< broker). Retriable.
  kNoResponder,          ///< no consumer group serving the request topic is online: nothing was sent. Retriable.
  kTimeout,              ///< the request was sent, but no reply arrived in time (RpcTimeoutException; client
                         ///< layer: kRequestTimeout). Retriable.
  kRemoteError,          ///< the receiver's handler threw (RpcResponse::success() == false, never thrown). Not
                         ///< retriable.
  kOverLimit,            ///< a configured bound was reached (in-flight requests, sessions, session size).
                         ///< Retriable.
  kSession,              ///< unknown, ended, expired or failed streaming session (SessionException). Not retriable.
  kCorrelation,          ///< a reply matched no pending request (CorrelationException). Not retriable.
  kInternal,             ///< a bug or an unexpected state. Not retriable.
  kAccessDenied,         ///< a broker or name server refused the credentials or the permission (ACL). Not
                         ///< retriable.
  kNetwork,              ///< outside a call (start, subscription): a name server or broker could not be reached
                         ///< or did not answer in time. Retriable.
};

/// "InvalidArgument", "NoResponder", ... (stable names, used by the CLI and logs).
ROCKETRPC_API std::string_view rpcErrorCodeName(RpcErrorCode code);

/// Base of every exception the RPC layer throws. Derives from std::runtime_error; what() is a sentence that
/// names the topic, session, key or argument concerned.
class ROCKETRPC_API RpcException : public std::runtime_error {
 public:
  /// An exception with `code` and what() == `message`.
  RpcException(RpcErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  /// What went wrong.
  RpcErrorCode code() const noexcept { return code_; }
  /// True when the same call may succeed later without changes: kSendFailed, kNoResponder, kTimeout,
  /// kOverLimit, kNetwork. False for argument, configuration, state (not started, closed) and session errors.
  bool retriable() const noexcept;

 private:
  RpcErrorCode code_;
};

/// The request was sent, but no reply arrived within its timeout (code kTimeout).
class ROCKETRPC_API RpcTimeoutException : public RpcException {
 public:
  /// An exception with code kTimeout and what() == `message`.
  explicit RpcTimeoutException(const std::string& message) : RpcException(RpcErrorCode::kTimeout, message) {}
};

/// A reply arrived whose correlation id matches no pending request: it came after its request timed out or
/// was cancelled, or it was meant for another client (code kCorrelation). Reported to
/// RpcClientOptions::on_unmatched_reply and counted in RpcClientStats::unmatched_replies, never silently
/// lost.
class ROCKETRPC_API CorrelationException : public RpcException {
 public:
  /// An exception with code kCorrelation and what() == `message`.
  explicit CorrelationException(const std::string& message)
      : RpcException(RpcErrorCode::kCorrelation, message) {}
};

/// A streaming call named a session that is unknown, already ended, expired (idle too long) or failed
/// (a message of it could not be sent) (code kSession). Start a new session with sendStreamingStart().
class ROCKETRPC_API SessionException : public RpcException {
 public:
  /// An exception with code kSession and what() == `message`.
  explicit SessionException(const std::string& message) : RpcException(RpcErrorCode::kSession, message) {}
};

}  // namespace rocketrpc
