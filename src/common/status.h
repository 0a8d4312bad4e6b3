// Status and Result<T>: cheap error values used everywhere below the public API.
// A Status is one pointer wide when OK; errors carry a code, an optional remote (broker) response code
// and a message. Thread-compatible value types.
#pragma once

#include <cassert>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace rocketrpc {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,  // caller passed something unusable
  kTimeout,          // a deadline passed
  kNetwork,          // connect / write failed, connection closed under a pending call
  kCorrupt,          // bytes that do not decode
  kRemoteError,      // peer answered with a non-success response code (see remoteCode())
  kNotFound,         // route, topic, offset or entry missing
  kClosed,           // the object was shut down
  kOverLimit,        // a configured bound was reached
  kNoRoute,          // no usable route / queue for a topic
  kInternal,         // anything else
  kAccessDenied,     // a broker or name server refused the credentials or the permission (ACL); remoteCode()
                     // is the response code it answered with. Not retriable. Made only by
                     // remoting::statusFromResponse.
};

std::string_view statusCodeName(StatusCode code);

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, int remote_code = 0)
      : rep_(code == StatusCode::kOk ? nullptr
                                     : std::make_shared<const Rep>(Rep{code, remote_code, std::move(message)})) {}

  static Status ok() { return Status(); }
  static Status invalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status timeout(std::string m) { return {StatusCode::kTimeout, std::move(m)}; }
  static Status network(std::string m) { return {StatusCode::kNetwork, std::move(m)}; }
  static Status corrupt(std::string m) { return {StatusCode::kCorrupt, std::move(m)}; }
  static Status remote(int code, std::string m) { return {StatusCode::kRemoteError, std::move(m), code}; }
  static Status notFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status closed(std::string m) { return {StatusCode::kClosed, std::move(m)}; }
  static Status overLimit(std::string m) { return {StatusCode::kOverLimit, std::move(m)}; }
  static Status noRoute(std::string m) { return {StatusCode::kNoRoute, std::move(m)}; }
  static Status internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status accessDenied(int code, std::string m) { return {StatusCode::kAccessDenied, std::move(m), code}; }

  bool isOk() const { return rep_ == nullptr; }
  explicit operator bool() const { return isOk(); }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  /// Broker / peer response code for kRemoteError and kAccessDenied, else 0.
  int remoteCode() const { return rep_ ? rep_->remote_code : 0; }
  const std::string& message() const;
  /// "Timeout: message" style text for logs and exceptions.
  std::string toString() const;
  /// Returns a copy with "context: " prefixed to the message.
  Status withContext(std::string_view context) const;

 private:
  struct Rep {
    StatusCode code;
    int remote_code;
    std::string message;
  };
  std::shared_ptr<const Rep> rep_;
};

/// Either a T or a non-OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).isOk()); }  // NOLINT

  bool isOk() const { return v_.index() == 0; }
  explicit operator bool() const { return isOk(); }
  const Status& status() const {
    static const Status kOk;
    return isOk() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

/// Maps errno to a Status (the one place errno is translated).
Status statusFromErrno(int err, std::string_view context);

}  // namespace rocketrpc
