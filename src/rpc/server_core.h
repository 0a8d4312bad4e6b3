// ServerCore: what an RpcServer does with each consumed message, independent of the consumer that delivers it
// (so unit tests drive it without a broker): deadline check, dedup, handler call under an RpcContext, reply
// or error reply, streaming assembly, counters. The consumer's listener threads call onMessage(); a timer
// calls sweep(). Replies leave through the ReplySink. Thread-safe; never throws.
#pragma once

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>

#include "rocketrpc/message.h"
#include "rocketrpc/rpc_options.h"
#include "rocketrpc/rpc_server.h"
#include "rpc/latency_histogram.h"
#include "rpc/reply_cache.h"
#include "rpc/session_assembler.h"

namespace rocketrpc::rpc {

class ServerCore {
 public:
  /// Completion of one reply send: null when the broker took the reply, else the error (an MQException).
  using ReplyDone = std::function<void(std::exception_ptr error)>;
  /// Sends one reply (createReplyMessage form) without waiting for the broker: either throws (nothing was
  /// sent; `done` is never called) or calls `done` exactly once, on any thread, possibly before returning.
  /// `done` must not be called after the ServerCore is destroyed (RpcServer: its consumer's shutdown waits
  /// for replies in flight).
  using ReplySink = std::function<void(const Message& reply, ReplyDone done)>;
  /// Epoch milliseconds; replaceable for tests.
  using EpochClock = std::function<int64_t()>;

  ServerCore(const RpcServerOptions& options, std::shared_ptr<RpcReceiver> receiver, ReplySink sink,
             EpochClock clock = nowEpochMs);

  /// Handles one consumed message of any kind (request, start, msg, end, or foreign).
  void onMessage(const MessageExt& msg);
  /// Expires idle sessions and answers ends whose messages did not all arrive in time.
  void sweep(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  /// Frees every session.
  void clear();
  RpcServerStats stats() const;

 private:
  void handleRequest(const MessageExt& msg);
  void handleEnd(const MessageExt& msg);
  void runAction(EndAction action);
  /// Common admission of a request or a stream end: counts it, drops it when it is not a request or already
  /// expired, and answers a redelivery from the reply cache. True when the caller should handle it.
  bool admit(const MessageExt& msg, std::optional<int64_t>* deadline);
  /// Calls `handler` under `ctx`, records its latency and answers `request` with its result or its exception.
  void invoke(const MessageExt& request, const RpcContext& ctx, const std::function<std::string()>& handler);
  /// Sends `reply` through the sink; a failure (thrown or reported later) undoes `counter` (when given),
  /// counts a reply failure and, with `forget`, drops the cached reply. Never throws.
  void send(const Message& reply, const std::string& correlation, std::atomic<uint64_t>* counter, bool forget);
  /// Deadline check, then the reply (or error reply) to `request`; caches it. Never throws.
  void answer(const MessageExt& request, bool ok, const std::string& body, ReplyErrorKind kind);
  bool expired(const MessageExt& msg, std::optional<int64_t>* deadline);

  std::shared_ptr<RpcReceiver> receiver_;
  ReplySink sink_;
  EpochClock clock_;
  ReplyCache cache_;
  SessionAssembler sessions_;
  LatencyHistogram latency_;

  std::atomic<uint64_t> requests_{0}, replies_{0}, handler_errors_{0}, limit_errors_{0}, session_errors_{0},
      expired_dropped_{0}, late_dropped_{0}, dedup_hits_{0}, reply_failures_{0}, ignored_{0}, in_flight_{0};
};

}  // namespace rocketrpc::rpc
