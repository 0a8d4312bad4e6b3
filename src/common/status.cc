#include "common/status.h"

#include <cstring>

namespace rocketrpc {

std::string_view statusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "InvalidArgument";
    case StatusCode::kTimeout: return "Timeout";
    case StatusCode::kNetwork: return "Network";
    case StatusCode::kCorrupt: return "Corrupt";
    case StatusCode::kRemoteError: return "RemoteError";
    case StatusCode::kNotFound: return "NotFound";
    case StatusCode::kClosed: return "Closed";
    case StatusCode::kOverLimit: return "OverLimit";
    case StatusCode::kNoRoute: return "NoRoute";
    case StatusCode::kInternal: return "Internal";
    case StatusCode::kAccessDenied: return "AccessDenied";
  }
  return "Unknown";
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return rep_ ? rep_->message : kEmpty;
}

std::string Status::toString() const {
  if (!rep_) return "OK";
  std::string s(statusCodeName(rep_->code));
  if (rep_->code == StatusCode::kRemoteError || rep_->code == StatusCode::kAccessDenied) {
    s += "(" + std::to_string(rep_->remote_code) + ")";
  }
  s += ": ";
  s += rep_->message;
  return s;
}

Status Status::withContext(std::string_view context) const {
  if (!rep_) return *this;
  std::string m(context);
  m += ": ";
  m += rep_->message;
  return Status(rep_->code, std::move(m), rep_->remote_code);
}

Status statusFromErrno(int err, std::string_view context) {
  std::string m(context);
  m += ": ";
  m += std::strerror(err);
  return Status::network(std::move(m));
}

}  // namespace rocketrpc
