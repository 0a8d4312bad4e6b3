// MetricsHttpServer: the small HTTP/1.0 responder behind the broker's metricsPort and the CLI's
// `serve|respond --metrics-port`. GET /metrics answers the body callback's Prometheus text, GET /healthz
// answers "ok", any other path 404 and any other method 405; one request per connection. It runs one thread
// of its own (never the remoting I/O loops), so a slow scraper costs nothing to the traffic. Fixed bounds: a
// request head of 8 KiB, 16 connections at once (more are closed at accept), 10 s per exchange.
// Lifecycle: start() once, shutdown() (or the destructor) stops and joins. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"

namespace rocketrpc::remoting {

class MetricsHttpServer {
 public:
  /// `body` is called for every GET /metrics, on the server's thread.
  explicit MetricsHttpServer(std::function<std::string()> body);
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  /// Binds `host`:`port` (port 0 = any free one) and starts the thread. Network status when the bind fails.
  Status start(const std::string& host, uint16_t port);
  /// The bound port (0 before start()).
  uint16_t port() const { return port_; }
  void shutdown();

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

/// The status line and body MetricsHttpServer answers to `request_head` (the request line and headers):
/// exposed for tests. Returns {status code, reason, content type, body}.
struct HttpAnswer {
  int status = 200;
  std::string reason;
  std::string content_type;
  std::string body;
};
HttpAnswer answerMetricsRequest(std::string_view request_head, const std::function<std::string()>& body);

}  // namespace rocketrpc::remoting
