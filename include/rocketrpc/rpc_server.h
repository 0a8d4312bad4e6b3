/// \file
/// RpcServer: hosts an RpcReceiver on a request topic as a member of a consumer group, and answers each
/// request with what the receiver returns. Servers of one group share the topic's queues; a streaming session,
/// whose messages all go to one queue, is assembled by the one server holding that queue.
///
/// Wire conventions (docs/design/rpc.md): replies are RocketMQ request-reply (RIP-16) replies; an error reply
/// has the properties `RRPC_STATUS=error` and `RRPC_ERROR=<message>` (body = message too), so any requester, a
/// Java DefaultMQProducer.request() included, can tell it from a normal reply.
///
/// Lifecycle: created -> start() -> started -> close() -> closed (terminal; the destructor closes).
/// Thread-safe.
#pragma once

#include "rocketrpc/export.h"
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rocketrpc/message.h"
#include "rocketrpc/rpc_client.h"
#include "rocketrpc/rpc_errors.h"
#include "rocketrpc/rpc_options.h"

namespace rocketrpc {

/// The request a handler is processing: ids and the end-to-end deadline. Obtain it with RpcContext::current()
/// inside processRequest / processStreamingRequest. Thread-compatible value type.
class ROCKETRPC_API RpcContext {
 public:
  /// A context for the request `correlation_id` (of session `session_id`, "" for a single request) whose
  /// requester waits until `deadline`. Made by the server; useful to applications in tests.
  RpcContext(std::string correlation_id, std::string session_id,
             std::chrono::system_clock::time_point deadline)
      : correlation_id_(std::move(correlation_id)), session_id_(std::move(session_id)), deadline_(deadline) {}

  /// The context of the request the calling thread is processing, or nullptr outside a handler call.
  static const RpcContext* current();

  /// The request's correlation id (CORRELATION_ID), as RpcResponse::correlationId() shows it to the caller.
  const std::string& correlationId() const { return correlation_id_; }
  /// The streaming session's id, or "" for a single request.
  const std::string& sessionId() const { return session_id_; }
  /// The requester's deadline: after it, nobody waits for the reply (it is then not sent).
  std::chrono::system_clock::time_point deadline() const { return deadline_; }
  /// Time left until the deadline, 0 when passed: the budget for downstream calls.
  std::chrono::milliseconds remaining() const;
  /// True when the deadline has passed (the reply will not be sent).
  bool expired() const { return remaining().count() == 0; }
  /// The W3C traceparent the requester sent (message property "traceparent", rocketrpc/trace_context.h), or
  /// "" when it sent none or an invalid one. Calls made from the handler's thread carry it on.
  const std::string& traceparent() const { return traceparent_; }
  /// Sets traceparent(); an invalid value (isValidTraceparent) is dropped. Used by the server.
  void setTraceparent(std::string traceparent);

 private:
  std::string correlation_id_;
  std::string session_id_;
  std::chrono::system_clock::time_point deadline_;
  std::string traceparent_;
};

/// Implemented by the user: turns requests into replies. Called on the server's consume threads, possibly for
/// several requests at once: implementations must be thread-safe. Whatever it throws becomes an error reply
/// (success() == false, errorMessage() == what(); "unknown error" for non-std exceptions).
class ROCKETRPC_API RpcReceiver {
 public:
  virtual ~RpcReceiver() = default;
  /// Returns the reply payload for `request` (any bytes). @throws anything: becomes an error reply.
  virtual std::string processRequest(std::string_view request) = 0;
  /// Returns the reply to the end of session `session_id`, given all its messages in send order (possibly
  /// none). Default: throws std::runtime_error("streaming is not supported by this receiver").
  virtual std::string processStreamingRequest(const std::string& session_id,
                                              const std::vector<std::string>& messages);
};

/// Counters of an RpcServer since it was created.
struct RpcServerStats {
  uint64_t requests = 0;         ///< single requests and session ends received (duplicates included)
  uint64_t replies = 0;          ///< successful replies sent
  uint64_t handler_errors = 0;   ///< error replies sent because the handler threw
  uint64_t limit_errors = 0;     ///< error replies sent because a server bound was reached
  uint64_t session_errors = 0;   ///< ends answered with a session error (unknown, expired, gap)
  uint64_t expired_dropped = 0;  ///< requests already past their deadline when dequeued: handler not called
  uint64_t late_replies_dropped = 0;  ///< replies not sent because the handler finished past the deadline
  uint64_t dedup_hits = 0;      ///< redelivered requests answered from the reply cache (or still running)
  uint64_t reply_failures = 0;  ///< replies that could not be sent
  uint64_t ignored = 0;         ///< messages that are neither requests nor streaming messages
  uint64_t in_flight = 0;       ///< handler calls running now
  uint64_t sessions_open = 0;       ///< streaming sessions being assembled now
  uint64_t sessions_completed = 0;  ///< complete sessions handed to processStreamingRequest
  uint64_t sessions_expired = 0;    ///< sessions expired by session-idle-timeout-millis
  uint64_t sessions_rejected = 0;  ///< sessions refused by max-concurrent-sessions
  uint64_t session_overflows = 0;  ///< sessions over max-session-bytes / -messages
  uint64_t stream_messages = 0;    ///< streaming messages received
  uint64_t stream_duplicates = 0;  ///< streaming messages received twice (redelivery), ignored
  uint64_t stream_dropped = 0;     ///< streaming messages of ended, expired, rejected or failed sessions
  LatencySummary handler_latency;  ///< of processRequest / processStreamingRequest calls
};

/// One line "requests=... replies=... handler_latency_us p50=..." for logs and the CLI.
ROCKETRPC_API std::string toString(const RpcServerStats& stats);

/// Serves one request topic with an RpcReceiver as a member of a consumer group. Thread-safe; see the file's
/// description for the lifecycle and the wire conventions.
class ROCKETRPC_API RpcServer {
 public:
  /// @throws RpcException(kConfig) when an option is invalid, kInvalidArgument when `receiver` is null.
  RpcServer(RpcServerOptions options, std::shared_ptr<RpcReceiver> receiver);
  /// Calls close().
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  /// Joins the consumer group on the request topic and starts answering. A group with committed offsets resumes
  /// at them; a group's first start reads the requests stored from 5 s before start() on (older ones are not
  /// served), so a request sent once the group is online is answered even before the first rebalance is done.
  /// Precondition: not started, not closed. Postcondition: isStarted(); the group is online at the brokers.
  /// @throws RpcException kClosed (after close()), kInternal (already started), kSendFailed (brokers or name
  ///         servers unreachable); the server stays unstarted on failure and start() may be retried.
  void start();
  /// Stops pulling, waits for running handler calls (and their replies), frees sessions, leaves the group and
  /// joins every thread. Idempotent, noexcept.
  void close() noexcept;
  /// True between a successful start() and close().
  bool isStarted() const;
  /// The options given to the constructor, with an empty consumer_group and instance_name replaced by their
  /// defaults.
  const RpcServerOptions& options() const;
  /// A snapshot of the counters. Never throws.
  RpcServerStats stats() const;
  /// Queues of the request topic this server consumes now (after rebalance).
  std::vector<MessageQueue> assignedQueues() const;

  class ROCKETRPC_LOCAL Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace rocketrpc
