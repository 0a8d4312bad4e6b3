#include "client/error_mapping.h"

namespace rocketrpc::client {

std::exception_ptr toException(const Status& status, bool send_context) {
  const std::string& m = status.message();
  switch (status.code()) {
    case StatusCode::kOk:
      return std::make_exception_ptr(MQException(ErrorCode::kInternal, "unexpected OK status"));
    case StatusCode::kInvalidArgument:
      return std::make_exception_ptr(MQException(ErrorCode::kInvalidArgument, m));
    case StatusCode::kTimeout:
      return std::make_exception_ptr(MQException(send_context ? ErrorCode::kSendFailed : ErrorCode::kOperationTimeout, m));
    case StatusCode::kNetwork:
      return std::make_exception_ptr(MQException(send_context ? ErrorCode::kSendFailed : ErrorCode::kNetwork, m));
    case StatusCode::kRemoteError:
      return std::make_exception_ptr(MQException(send_context ? ErrorCode::kSendFailed : ErrorCode::kBrokerError,
                                                 m, status.remoteCode()));
    case StatusCode::kAccessDenied:
      // Never kSendFailed, even for sends: retrying or reporting a generic failure would hide the cause.
      return std::make_exception_ptr(MQException(ErrorCode::kAccessDenied, m, status.remoteCode()));
    case StatusCode::kNotFound:
    case StatusCode::kNoRoute:
      return std::make_exception_ptr(MQException(ErrorCode::kNoRoute, m));
    case StatusCode::kClosed:
      return std::make_exception_ptr(MQException(ErrorCode::kClosed, m));
    case StatusCode::kOverLimit:
      return std::make_exception_ptr(MQException(ErrorCode::kOverLimit, m));
    case StatusCode::kCorrupt:
    case StatusCode::kInternal:
      break;
  }
  return std::make_exception_ptr(MQException(ErrorCode::kInternal, m));
}

void throwStatus(const Status& status, bool send_context) { std::rethrow_exception(toException(status, send_context)); }

}  // namespace rocketrpc::client
