// Installs the RpcContext that RpcContext::current() returns on the calling thread for one handler call.
#pragma once

#include "rocketrpc/rpc_server.h"

namespace rocketrpc::rpc {

/// Sets the thread's current context for its lifetime (restores the previous one after). Not copyable.
class ScopedContext {
 public:
  explicit ScopedContext(const RpcContext* ctx);
  ~ScopedContext();
  ScopedContext(const ScopedContext&) = delete;
  ScopedContext& operator=(const ScopedContext&) = delete;

 private:
  const RpcContext* prev_;
};

}  // namespace rocketrpc::rpc
