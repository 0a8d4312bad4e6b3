#include "rpc/error_mapping.h"

#include "rpc/wire.h"

namespace rocketrpc::rpc {

namespace {
constexpr std::string_view kReplyErrorPrefix = "responder failed: ";
}

std::exception_ptr mapSendException(const MQException& e, const std::string& what) {
  auto ex = [](auto&& x) { return std::make_exception_ptr(std::forward<decltype(x)>(x)); };
  switch (e.code()) {
    case ErrorCode::kInvalidArgument:
      return ex(RpcException(RpcErrorCode::kInvalidArgument, what + ": " + e.what()));
    case ErrorCode::kNotStarted:
      return ex(RpcException(RpcErrorCode::kNotStarted, what + ": " + e.what()));
    case ErrorCode::kClosed:
      return ex(RpcException(RpcErrorCode::kClosed, what + ": client closed (" + e.what() + ")"));
    case ErrorCode::kOverLimit:
      return ex(RpcException(RpcErrorCode::kOverLimit, what + ": " + e.what()));
    case ErrorCode::kNoRoute:
    case ErrorCode::kSendFailed:
    case ErrorCode::kBrokerError:
    case ErrorCode::kNetwork:
    case ErrorCode::kOperationTimeout:
      return ex(RpcException(RpcErrorCode::kSendFailed, what + " could not be sent: " + e.what()));
    case ErrorCode::kRequestTimeout:
      return ex(RpcTimeoutException(what + ": " + e.what()));
    case ErrorCode::kAccessDenied:
      // e.what() already says "access denied: <operation> <resource> ...".
      return ex(RpcException(RpcErrorCode::kAccessDenied, what + ": " + e.what()));
    case ErrorCode::kReplyError:
    case ErrorCode::kInternal:
      break;
  }
  return ex(RpcException(RpcErrorCode::kInternal, what + ": " + e.what()));
}

void throwSendException(const MQException& e, const std::string& what) {
  std::rethrow_exception(mapSendException(e, what));
}

std::exception_ptr mapStartException(const MQException& e, const std::string& what) {
  switch (e.code()) {
    case ErrorCode::kNetwork:
    case ErrorCode::kOperationTimeout:
      // Nothing was being sent: the name server or a broker is unreachable. The same failure of a PushConsumer
      // is ErrorCode::kNetwork, so both layers (and `rocketrpc serve` / `respond`) name it alike.
      return std::make_exception_ptr(RpcException(RpcErrorCode::kNetwork, what + ": " + e.what()));
    default:
      return mapSendException(e, what);
  }
}

void throwStartException(const MQException& e, const std::string& what) {
  std::rethrow_exception(mapStartException(e, what));
}

RpcResult mapRequestOutcome(const Outcome<MessageExt>& outcome, const std::string& what,
                            std::chrono::milliseconds timeout, std::chrono::microseconds latency) {
  if (outcome.ok()) {
    const MessageExt& reply = outcome.value();
    return RpcResponse::makeOk(std::string(payloadOf(reply)), reply.getProperty(property::kCorrelationId), latency);
  }
  try {
    std::rethrow_exception(outcome.error());
  } catch (const ReplyErrorException& e) {
    std::string_view text = e.what();
    if (text.substr(0, kReplyErrorPrefix.size()) == kReplyErrorPrefix)
      text.remove_prefix(kReplyErrorPrefix.size());
    auto [kind, message] = decodeErrorText(text);
    switch (kind) {
      case ReplyErrorKind::kSession:
        return RpcResult(std::make_exception_ptr(SessionException(message)));
      case ReplyErrorKind::kOverLimit:
        return RpcResponse::makeError(RpcErrorCode::kOverLimit, message, {}, latency);
      case ReplyErrorKind::kHandler:
        break;
    }
    return RpcResponse::makeError(RpcErrorCode::kRemoteError, message, {}, latency);
  } catch (const RequestTimeoutException& e) {
    return RpcResult(std::make_exception_ptr(RpcTimeoutException(
        what + ": no reply within " + std::to_string(timeout.count()) + " ms (the request was sent)")));
  } catch (const MQException& e) {
    return RpcResult(mapSendException(e, what));
  } catch (const RpcException& e) {
    return RpcResult(std::current_exception());
  } catch (const std::exception& e) {
    return RpcResult(std::make_exception_ptr(RpcException(RpcErrorCode::kInternal, what + ": " + e.what())));
  } catch (...) {
    return RpcResult(
        std::make_exception_ptr(RpcException(RpcErrorCode::kInternal, what + ": unknown error")));
  }
}

}  // namespace rocketrpc::rpc
