/// \file
/// Metrics of RpcClient, RpcServer, Producer and PushConsumer for scraping and periodic reporting.
///
/// The figures are those of the objects' stats(); this header only renders them:
///  - prometheusText(client) / prometheusText(server): Prometheus text exposition format 0.0.4, one call per
///    object, labelled with the request topic and the group, ready to be concatenated with other objects'
///    text (each family is rendered with its HELP and TYPE, so concatenate objects of different kinds only).
///  - statsJson(client) / statsJson(server): the same figures as one JSON object, the document handed to
///    RpcClientOptions::stats_callback / RpcServerOptions::stats_callback every stats_interval.
///  - MetricsEndpoint: an optional HTTP endpoint (GET /metrics, GET /healthz; 404 otherwise), loopback by
///    default, serving whatever text its callback returns (e.g. prometheusText of a server).
///
///  - prometheusText / statsJson of a Producer or PushConsumer: the same, labelled with the group only
///    (families rocketrpc_producer_* and rocketrpc_consumer_*; JSON "type" "producer" / "push_consumer").
///
/// Metric names are listed in docs/design/rpc.md ("Metrics") and docs/design/client.md ("Metrics").
/// Latencies (RpcClient, RpcServer) are exported as Prometheus summaries (quantiles 0.5, 0.9, 0.99 and
/// _count) of the lifetime of the object, in seconds.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "rocketrpc/export.h"
#include "rocketrpc/producer.h"
#include "rocketrpc/push_consumer.h"
#include "rocketrpc/rpc_client.h"
#include "rocketrpc/rpc_server.h"

namespace rocketrpc {

/// Prometheus text of client.stats(), labelled with topic (the request topic) and group (the producer group). Never throws
/// (but for std::bad_alloc); valid in every state of the client.
ROCKETRPC_API std::string prometheusText(const RpcClient& client);
/// Prometheus text of server.stats(), labelled with topic (the request topic) and group (the consumer group). Never throws
/// (but for std::bad_alloc); valid in every state of the server.
ROCKETRPC_API std::string prometheusText(const RpcServer& server);

/// client.stats() as a JSON object: {"type":"rpc_client","topic":...,"group":...,"ts_ms":(epoch ms),
/// "requests":...,...,"latency_us":{"count","p50","p90","p99","max"}} (keys are the RpcClientStats field
/// names). Never throws (but for std::bad_alloc).
ROCKETRPC_API std::string statsJson(const RpcClient& client);
/// server.stats() as a JSON object: {"type":"rpc_server",...} with the RpcServerStats field names and
/// "handler_latency_us". Never throws (but for std::bad_alloc).
ROCKETRPC_API std::string statsJson(const RpcServer& server);

/// Prometheus text of producer.stats(): families rocketrpc_producer_*, labelled with group. Never throws (but
/// for std::bad_alloc); valid in every state of the producer.
ROCKETRPC_API std::string prometheusText(const Producer& producer);
/// Prometheus text of consumer.stats(): families rocketrpc_consumer_*, labelled with group (the subscribed
/// topics are not labels). Never throws (but for std::bad_alloc); valid in every state of the consumer.
ROCKETRPC_API std::string prometheusText(const PushConsumer& consumer);
/// producer.stats() as a JSON object: {"type":"producer","group":...,"ts_ms":(epoch ms),"sends_ok":...}
/// (keys are the ProducerStats field names); the document handed to ProducerOptions::stats_callback.
/// Never throws (but for std::bad_alloc).
ROCKETRPC_API std::string statsJson(const Producer& producer);
/// consumer.stats() as a JSON object: {"type":"push_consumer","group":...,"ts_ms":...} with the
/// PushConsumerStats field names; the document handed to PushConsumerOptions::stats_callback. Never throws
/// (but for std::bad_alloc).
ROCKETRPC_API std::string statsJson(const PushConsumer& consumer);

/// A small HTTP/1.0 server answering GET /metrics with `body()` (Content-Type text/plain; version=0.0.4),
/// GET /healthz with "ok", any other path with 404. One thread of its own; `body` runs on it, one scrape at a
/// time. At most 16 connections at once (more are closed at once), 10 s each. Lifecycle: construct, start() once, close() (or the destructor) stops and joins. Thread-safe.
class ROCKETRPC_API MetricsEndpoint {
 public:
  /// Keeps `body`; nothing is bound before start().
  explicit MetricsEndpoint(std::function<std::string()> body);
  /// Calls close().
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  /// Binds `host`:`port` (port 0: any free port; host "127.0.0.1" unless the metrics must be reachable from
  /// other machines) and starts serving.
  /// @throws RpcException kInvalidArgument (already started or closed), kConfig (the address cannot be bound,
  ///         e.g. the port is in use; the message names it).
  void start(uint16_t port, const std::string& host = "127.0.0.1");
  /// The bound port; 0 before start().
  uint16_t port() const;
  /// Stops serving and joins the thread. Idempotent, noexcept.
  void close() noexcept;

  class ROCKETRPC_LOCAL Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace rocketrpc
