/// \file
/// RpcClient: RPC over a RocketMQ request topic (the seed's RpcClient, C++ shape). One client per request
/// topic; requests are RocketMQ request-reply messages (RIP-16) answered by an RpcServer, or by any
/// RocketMQ 4.6+ responder (e.g. a Java consumer using MessageUtil.createReplyMessage).
///
/// Lifecycle: created -> start() -> started -> close() -> closed (terminal; the destructor closes).
/// Thread-safe: every method may be called from any thread at once, except that messages of one streaming
/// session sent from several threads at once have no defined order.
#pragma once

#include "rocketrpc/export.h"
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "rocketrpc/rpc_errors.h"
#include "rocketrpc/rpc_options.h"

namespace rocketrpc {

/// The answer to a request: the receiver's reply payload, or (success() == false) the message of the
/// exception its handler threw, or of a limit the server enforced. Thread-compatible value type.
class ROCKETRPC_API RpcResponse {
 public:
  RpcResponse() = default;
  /// A successful reply carrying `payload`.
  static RpcResponse makeOk(std::string payload, std::string correlation_id = {},
                            std::chrono::microseconds latency = {});
  /// An error reply: `code` is kRemoteError (the handler threw) or kOverLimit (a server bound was reached).
  static RpcResponse makeError(RpcErrorCode code, std::string message, std::string correlation_id = {},
                               std::chrono::microseconds latency = {});

  /// True when the receiver returned normally.
  bool success() const { return success_; }
  /// The reply payload (any bytes); empty when !success().
  std::string_view payload() const { return success_ ? std::string_view(data_) : std::string_view(); }
  /// Moves the payload out (empty when !success()).
  std::string takePayload() { return success_ ? std::move(data_) : std::string(); }
  /// The error text (the handler's exception message, at most 1024 bytes); empty when success().
  std::string_view errorMessage() const { return success_ ? std::string_view() : std::string_view(data_); }
  /// kRemoteError or kOverLimit when !success(); meaningless when success().
  RpcErrorCode errorCode() const { return error_code_; }
  /// The request's correlation id (CORRELATION_ID).
  const std::string& correlationId() const { return correlation_id_; }
  /// Time from the call to the reply.
  std::chrono::microseconds latency() const { return latency_; }

 private:
  bool success_ = true;
  RpcErrorCode error_code_ = RpcErrorCode::kRemoteError;
  std::string data_;
  std::string correlation_id_;
  std::chrono::microseconds latency_{0};
};

/// A response or the exception that explains its absence (an RpcException subclass): what asynchronous
/// continuations receive, exactly once. ok() means a reply arrived, which may still be an error reply
/// (value().success() == false). Thread-compatible.
class ROCKETRPC_API RpcResult {
 public:
  /// A result holding a reply (normal or error reply).
  RpcResult(RpcResponse response) : response_(std::move(response)) {}  // NOLINT(google-explicit-constructor)
  /// A result holding the exception (an RpcException) that explains why there is no reply; must not be null.
  RpcResult(std::exception_ptr error) : error_(std::move(error)) {}    // NOLINT(google-explicit-constructor)

  /// True when a reply arrived (check value().success() for an error reply), false when there is an error.
  bool ok() const { return !error_; }
  /// The response. @throws the error (an RpcException) when !ok().
  const RpcResponse& value() const&;
  /// Moves the response out of an rvalue result. @throws the error (an RpcException) when !ok().
  RpcResponse&& value() &&;
  /// The error, or null when ok().
  std::exception_ptr error() const { return error_; }
  /// The error's code (kInternal for a non-RpcException); meaningless when ok().
  RpcErrorCode errorCode() const;
  /// The error's what(), or "" when ok().
  std::string errorMessage() const;

 private:
  std::optional<RpcResponse> response_;
  std::exception_ptr error_;
};

/// Latency percentiles over the object's lifetime (log-linear histogram, about 3% resolution).
struct LatencySummary {
  uint64_t count = 0;                ///< samples recorded
  std::chrono::microseconds p50{0};  ///< median (0 with no samples)
  std::chrono::microseconds p90{0};  ///< 90th percentile
  std::chrono::microseconds p99{0};  ///< 99th percentile
  std::chrono::microseconds max{0};  ///< largest sample
};

/// Counters of an RpcClient since it was created. Each finished request counts in exactly one of succeeded,
/// remote_errors, timeouts, send_failures, no_responder, closed, session_errors.
struct RpcClientStats {
  uint64_t requests = 0;        ///< calls accepted (sendSync, sendAsync, sendStreamingEnd)
  uint64_t succeeded = 0;       ///< replies with success()
  uint64_t remote_errors = 0;   ///< error replies (handler threw, server limit)
  uint64_t timeouts = 0;        ///< sent, no reply in time
  uint64_t send_failures = 0;   ///< could not be sent
  uint64_t no_responder = 0;    ///< failed fast: no consumer group online on the topic
  uint64_t closed = 0;          ///< failed by close()
  uint64_t session_errors = 0;  ///< ends answered with a session error
  uint64_t rejected_over_limit =
      0;  ///< calls rejected by max-concurrent-requests / -sessions (not in requests)
  uint64_t unmatched_replies = 0;  ///< replies that matched no pending request (late or foreign)
  uint64_t in_flight = 0;          ///< requests awaiting replies now
  uint64_t sessions_started = 0;  ///< streaming sessions started (sendStreamingStart)
  uint64_t sessions_open = 0;     ///< streaming sessions open now
  uint64_t sessions_expired = 0;  ///< sessions expired by session-idle-timeout-millis
  uint64_t stream_messages = 0;   ///< streaming messages sent
  LatencySummary latency;        ///< of requests answered by a reply
};

/// One line "requests=... succeeded=... latency_us p50=... p99=..." for logs and the CLI.
ROCKETRPC_API std::string toString(const RpcClientStats& stats);

/// Calls the RpcServer (or any RocketMQ request-reply responder) of one request topic: single requests
/// (sendSync, sendAsync) and streaming sessions. Thread-safe; see the file's description for the lifecycle.
class ROCKETRPC_API RpcClient {
 public:
  /// Keeps the options; nothing is connected before start().
  /// @throws RpcException(kConfig) when an option is invalid (the message names the key).
  explicit RpcClient(RpcClientOptions options);
  /// Calls close().
  ~RpcClient();
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  /// Starts the producer (connects to the name servers) and the session expiry timer.
  /// Precondition: not started and not closed. Postcondition: isStarted(); requests may be sent.
  /// @throws RpcException kClosed (after close()), kInternal (already started), kSendFailed (name servers
  ///         unreachable); the client stays unstarted on failure and start() may be retried.
  void start();

  /// Sends `payload` (any bytes, may be empty) as one request with a unique correlation id and blocks until
  /// the reply or the timeout. A handler exception comes back as success() == false with its message.
  /// Preconditions: started; timeout in 1..300000 ms; fewer than max-concurrent-requests pending.
  /// @throws RpcException kNotStarted / kClosed (state), kInvalidArgument (timeout; payload over 4 MiB),
  ///         kOverLimit (at once), kNoResponder (no server online; at once with fail-fast),
  ///         kSendFailed (never sent), kClosed (close() while waiting);
  ///         RpcTimeoutException (sent, no reply in time).
  RpcResponse sendSync(std::string_view payload, std::chrono::milliseconds timeout);
  /// sendSync with default-timeout-millis. @throws as sendSync.
  RpcResponse sendSync(std::string_view payload);

  /// Sends without blocking; the future gets the response, or the exception sendSync would throw after the
  /// request was accepted (kNoResponder, kSendFailed, kInvalidArgument for a payload over 4 MiB,
  /// RpcTimeoutException, kClosed).
  /// Preconditions as sendSync; they are checked at once.
  /// @throws RpcException kNotStarted / kClosed, kInvalidArgument, kOverLimit (nothing was sent).
  std::future<RpcResponse> sendAsync(std::string_view payload, std::chrono::milliseconds timeout);
  /// Continuation form: `on_done` runs exactly once with the response or the error, on a library thread
  /// (never on the caller's, never on an I/O thread), or on the thread calling close() when close() fails it;
  /// it must not block for long. It may call any method of this client, close() included.
  /// @throws as the future form (then `on_done` is never called).
  void sendAsync(std::string_view payload, std::chrono::milliseconds timeout,
                 std::function<void(RpcResult)> on_done);

  /// Opens a streaming session and returns its id (a random UUID). All its messages go to one queue of the
  /// request topic, chosen from the id, and are assembled in send order by the server.
  /// Preconditions: started; fewer than max-concurrent-sessions open.
  /// Postcondition: the session is open (active) and tracked until sendStreamingEnd, expiry or close().
  /// @throws RpcException kNotStarted / kClosed, kOverLimit (too many open sessions), kNoResponder,
  ///         kSendFailed (the start could not be sent).
  std::string sendStreamingStart();

  /// Sends one message of a session (any bytes, may be empty); returns once the broker stored it.
  /// Preconditions: the session exists and is active. Postcondition: its message count and last activity
  /// are updated. A failed send marks the session failed: later calls on it throw SessionException.
  /// @throws SessionException (unknown, ended, expired or failed session),
  ///         RpcException kNotStarted / kClosed,
  ///         kInvalidArgument (payload over 4 MiB; nothing sent, the session stays active), kSendFailed (not
  ///         stored; the session is now failed).
  void sendStreamingMessage(const std::string& session_id, std::string_view payload);

  /// Ends a session: asks the server for processStreamingRequest over all its messages and waits for the
  /// answer. Postcondition: the session is removed (inactive), whatever the outcome.
  /// Preconditions: the session exists; timeout in 1..300000 ms; fewer than max-concurrent-requests pending.
  /// @throws SessionException (unknown, ended, expired or failed here, or unknown / expired on the server),
  ///         RpcTimeoutException, RpcException kNotStarted / kClosed / kInvalidArgument / kOverLimit /
  ///         kNoResponder / kSendFailed.
  RpcResponse sendStreamingEnd(const std::string& session_id, std::chrono::milliseconds timeout);
  /// sendStreamingEnd with default-timeout-millis. @throws as above.
  RpcResponse sendStreamingEnd(const std::string& session_id);

  /// Fails every pending request with RpcException(kClosed) at once (their continuations run on this thread
  /// before close() returns), ends every session, stops the producer and joins every thread the client
  /// started. Later calls throw RpcException(kClosed). Idempotent, noexcept. Called from a continuation of
  /// this client, it fails the pending requests at once and finishes stopping on a helper thread (it cannot
  /// join its own).
  void close() noexcept;

  /// True between a successful start() and close().
  bool isStarted() const;
  /// The options given to the constructor, with an empty producer_group replaced by its default.
  const RpcClientOptions& options() const;
  /// A snapshot of the counters. Never throws; valid in every state.
  RpcClientStats stats() const;

  class ROCKETRPC_LOCAL Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace rocketrpc
