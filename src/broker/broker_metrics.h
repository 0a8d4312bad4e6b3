// BrokerMetrics: counters exported in Prometheus text format, and MetricsHttpServer, a tiny HTTP/1.0
// responder on 127.0.0.1 that answers every request with them. Counters are relaxed atomics (thread-safe).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"

namespace rocketrpc::broker {

/// Rates of monotonically growing counters over the last 10 s, 1 min and 10 min, from one sample per second
/// (GET_BROKER_RUNTIME_INFO's putTps / getTransferedTps / getTotalTps, formatted as Apache's "%.2f %.2f %.2f").
/// Thread-safe.
class RateSampler {
 public:
  static constexpr size_t kCounters = 3;  // messages in, messages out, pull requests
  using Values = std::array<int64_t, kCounters>;
  /// Records the counters at `now_ms`; keeps 10 minutes of samples.
  void sample(int64_t now_ms, const Values& values);
  /// "r10 r60 r600" per second for counter `index`; a window reaching past the first sample uses all there is.
  std::string rates(size_t index) const;

 private:
  struct Sample {
    int64_t at_ms;
    Values values;
  };
  mutable std::mutex mu_;
  std::deque<Sample> samples_;  // guarded by mu_, oldest first
};

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
  std::atomic<int64_t> acl_denied{0};  // requests refused by the access check (aclEnable)
  std::atomic<int64_t> requests_refused_names{0};
  std::atomic<int64_t> pulls_refused_busy{0};  // over maxPullHoldsPerConnection
  int64_t boot_timestamp_ms = 0;  // set once before serving
  RateSampler rates;
  /// Messages in and out at the start of today and of yesterday (UTC days; 0 before the broker saw that day
  /// start), as Apache's msgPutTotal{Today,Yesterday}Morning / msgGetTotal...
  struct DayTotals {
    int64_t put_today_morning = 0;
    int64_t put_yesterday_morning = 0;
    int64_t get_today_morning = 0;
    int64_t get_yesterday_morning = 0;
  };
  DayTotals dayTotals() const {
    std::lock_guard<std::mutex> lock(day_mu_);
    return day_totals_;
  }
  /// Takes one rate sample of messages_in, messages_out and pull_requests, and rolls the day totals at the
  /// first sample of a new day.
  void sampleRates(int64_t now_ms);

 private:
  mutable std::mutex day_mu_;
  int64_t day_ = -1;        // guarded by day_mu_
  DayTotals day_totals_;    // guarded by day_mu_

 public:

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
