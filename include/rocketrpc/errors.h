/// \file
/// Exceptions of the RocketMQ client layer, and Outcome<T>: the value-or-error handed to callbacks.
/// Every exception derives from MQException (itself a std::runtime_error) and tells what happened through its
/// ErrorCode, so callers can react without parsing messages.
#pragma once

#include "rocketrpc/export.h"
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace rocketrpc {

/// What went wrong in the client layer (Producer, PushConsumer); carried by every MQException.
///
/// The RPC layer's RpcErrorCode shares names with this enum where the meaning is the same (InvalidArgument,
/// NotStarted, Closed, SendFailed, Network, OverLimit, Internal, AccessDenied); a name in only one of them means
/// something only that layer has. The table of both, with retriability and the CLI exit codes, is in README.md
/// ("Errors").
enum class ErrorCode : int {
  kInvalidArgument = 1,  ///< an argument or option is unusable. Not retriable.
  kNotStarted,           ///< start() was not called (or failed). Not retriable.
  kClosed,               ///< shutdown()/close() was called; also pending work failed by it. Not retriable.
  kNoRoute,              ///< the name server knows no route (or no writable queue) for the topic. Retriable.
  kSendFailed,           ///< a send or request could not be handed to a broker (network, busy or refusing broker,
                         ///< no answer to the send). Retriable.
  kBrokerError,          ///< a broker answered an operation other than a send with an error code (responseCode()
                         ///< says which). Retriable only for busy codes (2, 14, 1500).
  kRequestTimeout,       ///< the request was sent, but no reply arrived in time (RPC layer: kTimeout). Retriable.
  kReplyError,           ///< a reply arrived and says the responder failed (RPC layer: kRemoteError). Not retriable.
  kOverLimit,            ///< a configured bound is reached (in-flight requests, queued bytes, size). Retriable.
  kNetwork,              ///< outside a send: a connection to a name server or broker could not be made or broke.
                         ///< Retriable.
  kOperationTimeout,     ///< outside a send or request: a name server or broker did not answer in time (route
                         ///< lookup, heartbeat, offset query). Retriable.
  kInternal,             ///< a bug or an unexpected state. Not retriable.
  kAccessDenied,         ///< the broker or name server refused the credentials or the permission (ACL). Not
                         ///< retriable.
};

/// The code's stable name without the k: "InvalidArgument", "NoRoute", ... (for logs and the CLI).
ROCKETRPC_API std::string_view errorCodeName(ErrorCode code);

/// Base of every exception the client layer throws: a std::runtime_error whose what() explains the failure,
/// plus an ErrorCode and, for broker refusals, the broker's response code.
class ROCKETRPC_API MQException : public std::runtime_error {
 public:
  /// An exception with `code`, what() == `message` and, for broker refusals, the broker's `response_code`.
  MQException(ErrorCode code, const std::string& message, int response_code = 0)
      : std::runtime_error(message), code_(code), response_code_(response_code) {}
  /// What went wrong.
  ErrorCode code() const noexcept { return code_; }
  /// Broker response code for kBrokerError / kSendFailed caused by a broker and for kAccessDenied (e.g. 16
  /// NO_PERMISSION, or 1 for Apache 4.9 plain ACL refusals), else 0.
  int responseCode() const noexcept { return response_code_; }
  /// True when the same call may succeed later without changes (network, busy broker, timeout).
  bool retriable() const noexcept;

 private:
  ErrorCode code_;
  int response_code_;
};

/// The request was sent, but no reply arrived before the timeout.
class ROCKETRPC_API RequestTimeoutException : public MQException {
 public:
  /// An exception with code kRequestTimeout and what() == `message`.
  explicit RequestTimeoutException(const std::string& message) : MQException(ErrorCode::kRequestTimeout, message) {}
};

/// A reply arrived, marked as an error by the responder (its handler threw).
class ROCKETRPC_API ReplyErrorException : public MQException {
 public:
  /// An exception with code kReplyError; `message` is the responder's error text.
  explicit ReplyErrorException(const std::string& message) : MQException(ErrorCode::kReplyError, message) {}
};

/// A value or the exception that explains its absence. Handed to asynchronous callbacks, which are called
/// exactly once. Thread-compatible.
template <typename T>
class Outcome {
 public:
  /// A successful outcome holding `value`.
  Outcome(T value) : value_(std::move(value)) {}                       // NOLINT(google-explicit-constructor)
  /// A failed outcome holding `error` (normally an MQException); must not be null.
  Outcome(std::exception_ptr error) : error_(std::move(error)) {}      // NOLINT(google-explicit-constructor)

  /// True when there is a value, false when there is an error.
  bool ok() const { return !error_; }
  /// The value; rethrows the error when there is none.
  const T& value() const& {
    if (error_) std::rethrow_exception(error_);
    return *value_;
  }
  /// Moves the value out of an rvalue Outcome; rethrows the error when there is none.
  T&& value() && {
    if (error_) std::rethrow_exception(error_);
    return std::move(*value_);
  }
  /// The error, or null when ok().
  std::exception_ptr error() const { return error_; }
  /// The error's code (kInternal for an exception that is not an MQException); undefined when ok().
  ErrorCode errorCode() const;
  /// The error's what(), or "" when ok().
  std::string errorMessage() const;

 private:
  std::optional<T> value_;
  std::exception_ptr error_;
};

template <typename T>
ErrorCode Outcome<T>::errorCode() const {
  try {
    if (error_) std::rethrow_exception(error_);
  } catch (const MQException& e) {
    return e.code();
  } catch (...) {
  }
  return ErrorCode::kInternal;
}

template <typename T>
std::string Outcome<T>::errorMessage() const {
  try {
    if (error_) std::rethrow_exception(error_);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
  return {};
}

}  // namespace rocketrpc
