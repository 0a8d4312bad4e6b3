/// \file
/// Options of RpcClient and RpcServer: plain structs with defaults, validated once (by validate() and by
/// start()), and the seed's YAML configuration file:
///
///     rocketmq:
///       rpc:
///         client:
///           broker-url: localhost:9876          # name servers, ';'-separated
///           request-topic: RPC_REQUEST
///           default-timeout-millis: 30000
///           max-concurrent-requests: 1000
///           max-concurrent-sessions: 100
///           access-key: rocketrpc-app           # ACL (optional): requests are signed with these
///           secret-key: ...                      # required with access-key; never logged
///           security-token: ...                  # optional
///           tls: {enabled: true, ca-file: ca.pem, cert-file: c.pem, key-file: c.key, verify: true}
///         server:
///           consumer-group: RPC_SERVER
///           consume-threads: 8
///
/// Every key of the file is the field's name with '-' for '_' (see each field). Unknown keys under
/// rocketmq.rpc are rejected, as are bad values, with an RpcException(kConfig) naming the key. Keys outside
/// rocketmq.rpc are ignored, so the section may live in a larger application.yml. The server section inherits
/// broker-url and request-topic from the client section when it does not set them.
#pragma once

#include "rocketrpc/export.h"
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "rocketrpc/client_options.h"
#include "rocketrpc/rpc_errors.h"

namespace rocketrpc {

/// Options of an RpcClient. Thread-compatible value type.
struct ROCKETRPC_API RpcClientOptions {
  /// broker-url: name-server addresses "host:port", ';'-separated. Required.
  std::string broker_url;
  /// request-topic: topic the requests go to. Required; [%|a-zA-Z0-9_-], at most 127 characters.
  std::string request_topic;
  /// default-timeout-millis: timeout of the calls given none. Default 30000 ms; 1..300000.
  std::chrono::milliseconds default_timeout{30000};
  /// max-concurrent-requests: requests awaiting replies at once (sendSync, sendAsync and sendStreamingEnd
  /// together); one more is rejected at once with RpcException(kOverLimit). Default 1000; 1..1000000.
  size_t max_concurrent_requests = 1000;
  /// max-concurrent-sessions: open streaming sessions; one more is rejected with RpcException(kOverLimit).
  /// Default 100; 1..100000.
  size_t max_concurrent_sessions = 100;
  /// session-idle-timeout-millis: a session with no call for this long is expired; later calls on it throw
  /// SessionException. Keep it at most the server's session-idle-timeout-millis. Default 60000 ms;
  /// 100..3600000.
  std::chrono::milliseconds session_idle_timeout{60000};
  /// send-timeout-millis: timeout of one streaming message send (start and message). Default 3000 ms;
  /// 1..300000.
  std::chrono::milliseconds send_timeout{3000};
  /// read-stall-timeout-millis: a broker or name-server connection with calls pending and nothing read from it
  /// for this long is closed, and those calls fail with RpcException(kSendFailed) naming read_stall_timeout
  /// (ClientOptions::read_stall_timeout). Default 120000 ms; 0 (off)..3600000.
  std::chrono::milliseconds read_stall_timeout{120000};
  /// fail-fast: when no consumer group is online on the request topic, calls fail at once with
  /// RpcException(kNoResponder) instead of waiting out their timeout. Default true.
  bool fail_fast = true;
  /// responder-check-cache-millis: how long the answer of the responder check is reused. Default 1000 ms;
  /// 0..60000 (0: ask the broker for every call).
  std::chrono::milliseconds responder_check_cache{1000};
  /// producer-group: the producer group of the client. Default "rpc-client-<request-topic>" (shortened to
  /// 255 characters).
  std::string producer_group;
  /// instance-name: client instance name; the client id brokers see is "<ip>@<instance-name>". Default:
  /// unique per RpcClient, so that two clients never share (and steal) each other's replies.
  std::string instance_name;
  /// Not in YAML. Called on a library thread (at most once a second) with a CorrelationException when replies
  /// that matched no pending request were seen since the last call. Must not block. Default: a warning log.
  std::function<void(const CorrelationException&)> on_unmatched_reply;
  /// access-key: ACL access key; every request to name servers and brokers is signed (ClientOptions::access_key).
  /// Default empty: unsigned. A refusal fails with RpcErrorCode::kAccessDenied naming the operation and topic.
  std::string access_key;
  /// secret-key: secret of access-key; required with it. Never logged, in exception texts or in stats.
  std::string secret_key;
  /// security-token: optional session token, sent signed. Default empty: not sent.
  std::string security_token;
  /// tls: TLS of every connection (keys enabled, ca-file, cert-file, key-file, verify; ClientOptions::tls).
  /// Default off.
  TlsOptions tls;
  /// stats-interval-millis: period of stats_callback, as librdkafka's statistics.interval.ms. Default 0
  /// (off); 0 or 100..3600000.
  std::chrono::milliseconds stats_interval{0};
  /// Not in YAML. With stats_interval set, called every interval from start() to close() on a library thread
  /// with statsJson() of the client (rocketrpc/metrics.h). Must not block for long; what it throws is logged.
  std::function<void(const std::string& json)> stats_callback;

  /// Checks every field. @throws RpcException(kConfig) whose message names the key
  /// ("rocketmq.rpc.client.<key>").
  void validate() const;
};

/// Options of an RpcServer. Thread-compatible value type.
struct ROCKETRPC_API RpcServerOptions {
  /// broker-url: name-server addresses "host:port", ';'-separated. Required (or the client section's).
  std::string broker_url;
  /// request-topic: topic served. Required (or the client section's); [%|a-zA-Z0-9_-], at most 127
  /// characters.
  std::string request_topic;
  /// consumer-group: the consumer group of the servers of this topic; servers of one group share the queues.
  /// Default "rpc-server-<request-topic>"; [%|a-zA-Z0-9_-], at most 255 characters.
  std::string consumer_group;
  /// consume-threads: the bounded executor running processRequest / processStreamingRequest: at most this
  /// many handler calls run at once; further messages wait in the consumer's bounded per-queue cache (pulling
  /// pauses when it is full). Default 8; 1..1000.
  int consume_threads = 8;
  /// max-concurrent-sessions: streaming sessions assembled at once; a message that would open one more is
  /// dropped and its session's end answered with an error (kOverLimit). Default 1000; 1..1000000.
  size_t max_concurrent_sessions = 1000;
  /// max-session-bytes: payload bytes one session may buffer; over it the buffer is freed and the end is
  /// answered with an error (kOverLimit). Default 16 MiB; 1..1 GiB.
  size_t max_session_bytes = 16 * 1024 * 1024;
  /// max-session-messages: messages one session may buffer (same handling). Default 100000; 1..10000000.
  size_t max_session_messages = 100000;
  /// session-idle-timeout-millis: a session with no message for this long is expired and its buffer freed;
  /// its end is answered with a session error. Default 120000 ms; 100..3600000.
  std::chrono::milliseconds session_idle_timeout{120000};
  /// stream-gap-timeout-millis: how long an end whose session still misses messages waits for them before it
  /// is answered with a gap error. Default 5000 ms; 1..300000.
  std::chrono::milliseconds stream_gap_timeout{5000};
  /// dedup-cache-size: replies remembered by correlation id, so that a redelivered request gets the same
  /// reply without a second handler call (LRU). Default 10000; 0 (off)..10000000.
  size_t dedup_cache_size = 10000;
  /// instance-name: client instance name of the consumer. Default: unique per RpcServer.
  std::string instance_name;
  /// compress-over: replies with bodies at least this long are zlib-compressed, unless their first 4 KiB do
  /// not shrink. SIZE_MAX (not in YAML) turns compression off. Default 4096 bytes; at least 1.
  size_t compress_over = 4096;
  /// compress-level: zlib level of compressed replies. Default 5; 1..9.
  int compress_level = 5;
  /// access-key, secret-key, security-token, tls: as RpcClientOptions (credentials and TLS of the server's
  /// consumer and reply producer). Default: the client section's in YAML, else empty / off.
  std::string access_key;
  /// secret-key: secret of access-key; required with it. Never logged, in exception texts or in stats.
  std::string secret_key;
  /// security-token: optional session token, sent signed. Default empty: not sent.
  std::string security_token;
  /// tls: TLS of every connection of the server (keys as RpcClientOptions::tls). Default off.
  TlsOptions tls;
  /// stats-interval-millis: period of stats_callback. Default 0 (off); 0 or 100..3600000.
  std::chrono::milliseconds stats_interval{0};
  /// Not in YAML. With stats_interval set, called every interval from start() to close() on a library thread
  /// with statsJson() of the server (rocketrpc/metrics.h). Must not block for long; what it throws is logged.
  std::function<void(const std::string& json)> stats_callback;

  /// Checks every field. @throws RpcException(kConfig) whose message names the key
  /// ("rocketmq.rpc.server.<key>").
  void validate() const;
};

/// The rocketmq.rpc section of a YAML file: either part may be absent.
struct ROCKETRPC_API RpcConfig {
  bool has_client = false;   ///< the text has a rocketmq.rpc.client section
  bool has_server = false;   ///< the text has a rocketmq.rpc.server section
  RpcClientOptions client;   ///< the client section (defaults when !has_client)
  RpcServerOptions server;   ///< the server section (defaults when !has_server)
};

/// Parses YAML text. Present sections are validated.
/// @throws RpcException(kConfig) on YAML syntax errors (with line and column), unknown keys under
/// rocketmq.rpc,
///         values of the wrong type or range, and when the text has no rocketmq.rpc.client or .server
///         section.
ROCKETRPC_API RpcConfig parseRpcConfig(std::string_view yaml_text);
/// Reads and parses a YAML file. @throws RpcException(kConfig) as parseRpcConfig, naming the file, also when
/// it cannot be read.
ROCKETRPC_API RpcConfig loadRpcConfig(const std::string& path);

}  // namespace rocketrpc
