// The one translation from the client layer's errors (MQException family, Outcome<MessageExt>) to the RPC
// layer's: RpcException family or an error RpcResponse (docs/design/rpc.md, "Failure taxonomy").
#pragma once

#include <chrono>
#include <exception>
#include <string>

#include "rocketrpc/errors.h"
#include "rocketrpc/message.h"
#include "rocketrpc/rpc_client.h"

namespace rocketrpc::rpc {

/// Maps a request outcome: a reply -> RpcResponse (ok, or an error response for handler / limit errors);
/// a session error reply -> SessionException; failures -> the RpcException subclass for their kind.
/// `what` names the call ("request to topic T") for messages.
RpcResult mapRequestOutcome(const Outcome<MessageExt>& outcome, const std::string& what,
                            std::chrono::milliseconds timeout, std::chrono::microseconds latency);

/// Maps an MQException thrown by a plain send (streaming start / message, route lookups).
std::exception_ptr mapSendException(const MQException& e, const std::string& what);
[[noreturn]] void throwSendException(const MQException& e, const std::string& what);
/// Maps an MQException thrown while starting (RpcClient / RpcServer): an unreachable name server or broker is
/// RpcErrorCode::kNetwork, as it is ErrorCode::kNetwork for a PushConsumer; anything else as mapSendException.
std::exception_ptr mapStartException(const MQException& e, const std::string& what);
[[noreturn]] void throwStartException(const MQException& e, const std::string& what);

}  // namespace rocketrpc::rpc
