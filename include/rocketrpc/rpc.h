/// \file
/// The RPC layer of rocketrpc in one include: RpcClient, RpcServer / RpcReceiver / RpcContext, RpcResponse /
/// RpcResult, the RpcException family, the options with their YAML loader, metrics (Prometheus text, stats
/// JSON, the HTTP endpoint) and traceparent propagation. See docs/design/rpc.md.
#pragma once

#include "rocketrpc/metrics.h"      // IWYU pragma: export
#include "rocketrpc/rpc_client.h"   // IWYU pragma: export
#include "rocketrpc/rpc_errors.h"   // IWYU pragma: export
#include "rocketrpc/rpc_options.h"  // IWYU pragma: export
#include "rocketrpc/rpc_server.h"   // IWYU pragma: export
#include "rocketrpc/trace_context.h"  // IWYU pragma: export
