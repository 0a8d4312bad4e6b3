// Internal side of rocketrpc/trace_context.h: the hook RpcClient calls on every outgoing request message.
#pragma once

#include "rocketrpc/message.h"

namespace rocketrpc::rpc {

/// Puts ScopedTraceparent::current() (when not empty) on `msg` as the "traceparent" user property.
void attachTraceparent(Message& msg);

}  // namespace rocketrpc::rpc
