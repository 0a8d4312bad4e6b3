// BrokerMetrics: counters exported in Prometheus text format, and MetricsHttpServer, a tiny HTTP/1.0
// responder on 127.0.0.1 that answers every request with them. Counters are relaxed atomics (thread-safe).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"

namespace rocketrpc::broker {

struct BrokerMetrics {
  std::atomic<int64_t> messages_in{0};
  std::atomic<int64_t> messages_out{0};
  std::atomic<int64_t> send_requests{0};
  std::atomic<int64_t> send_failures{0};
  std::atomic<int64_t> pull_requests{0};
  std::atomic<int64_t> pulls_held{0};     // total pulls parked
  std::atomic<int64_t> pulls_holding{0};  // currently parked
  std::atomic<int64_t> replies_pushed{0};
  std::atomic<int64_t> reply_push_failures{0};
  std::atomic<int64_t> connections_closed{0};
  std::atomic<int64_t> messages_delayed{0};
  std::atomic<int64_t> messages_retried{0};
  std::atomic<int64_t> messages_dlq{0};

  /// Broker requests received per request code (codes above kMaxCountedCode share the last slot):
  /// rocketrpc_broker_requests_total{code="..."}, to see what a workload costs in remoting commands.
  static constexpr int32_t kMaxCountedCode = 511;
  std::array<std::atomic<int64_t>, kMaxCountedCode + 2> requests_by_code{};
  void countRequest(int32_t code) {
    const auto slot = static_cast<size_t>(code >= 0 && code <= kMaxCountedCode ? code : kMaxCountedCode + 1);
    requests_by_code[slot].fetch_add(1, std::memory_order_relaxed);
  }

  /// Counters plus the gauges from `extra` ("name value\n" lines appended) in Prometheus text format.
  std::string render(const std::string& extra = {}) const;
};

class MetricsHttpServer {
 public:
  /// `body` is called for every request (on the server's thread).
  explicit MetricsHttpServer(std::function<std::string()> body);
  ~MetricsHttpServer();
  /// Binds 127.0.0.1:port (0 = any) and starts the thread.
  Status start(uint16_t port);
  uint16_t port() const { return port_; }
  void shutdown();

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

}  // namespace rocketrpc::broker
