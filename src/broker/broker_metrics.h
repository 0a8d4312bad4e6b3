// BrokerMetrics: the broker's counters, latency histograms and per-topic traffic, rendered in Prometheus text
// format for the metricsPort endpoint (remoting/metrics_http_server.h) and read by GET_BROKER_RUNTIME_INFO.
// Counters are relaxed atomics; everything here is thread-safe. The metric names are listed in
// docs/design/broker.md ("Metrics").
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/prometheus_text.h"

namespace rocketrpc::store {
class MessageStore;
}

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

/// Messages and bytes in and out per topic, for at most `max_topics` topics (metricsMaxTopics): the first
/// topics seen get their own series, the others add to topic="__other__", so a client inventing topic names
/// cannot grow the scrape or the broker's memory without bound. Counters of a deleted topic stay until
/// restart. Thread-safe: the hot path takes a shared lock and bumps relaxed atomics; a new topic takes it
/// exclusively.
class TopicTraffic {
 public:
  static constexpr std::string_view kOther = "__other__";
  void setMaxTopics(size_t max_topics) { max_topics_.store(max_topics, std::memory_order_relaxed); }
  void addIn(std::string_view topic, int64_t messages, int64_t bytes);
  void addOut(std::string_view topic, int64_t messages, int64_t bytes);
  /// The four counter families, one series per tracked topic plus __other__ once it was used.
  void render(std::string& out) const;
  /// Topics with a series of their own.
  size_t trackedTopics() const;

 private:
  struct Counters {
    std::atomic<int64_t> messages_in{0};
    std::atomic<int64_t> bytes_in{0};
    std::atomic<int64_t> messages_out{0};
    std::atomic<int64_t> bytes_out{0};
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  Counters& find(std::string_view topic);

  std::atomic<size_t> max_topics_{1000};
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<Counters>, Hash, std::equal_to<>>
      topics_;  // guarded by mu_
  Counters other_;
  std::atomic<bool> other_used_{false};
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
  std::atomic<int64_t> requests_refused_overload{0};  // the worker queue held workerQueueCapacity tasks
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
  /// rocketrpc_broker_requests_total{request="SEND_MESSAGE_V2"}, to see what a workload costs in remoting
  /// commands.
  static constexpr int32_t kMaxCountedCode = 511;
  std::array<std::atomic<int64_t>, kMaxCountedCode + 2> requests_by_code{};
  static size_t codeSlot(int32_t code) {
    return static_cast<size_t>(code >= 0 && code <= kMaxCountedCode ? code : kMaxCountedCode + 1);
  }
  void countRequest(int32_t code) {
    requests_by_code[codeSlot(code)].fetch_add(1, std::memory_order_relaxed);
  }
  /// Time a request's handler ran on the thread that dispatched it (until it answered or handed the work
  /// off: store appends and parked pulls have histograms of their own), per request code.
  std::array<prom::Histogram, kMaxCountedCode + 2> request_seconds{};
  void recordRequest(int32_t code, std::chrono::steady_clock::time_point started) {
    request_seconds[codeSlot(code)].recordSince(started);
  }
  /// From a put handed to the store to its completion (in SYNC_FLUSH including the group's fsync).
  prom::Histogram store_append_seconds;
  /// One commit-log fsync (fdatasync of the dirty segments). Shared with the store's sync hook, which may
  /// run while the broker context is being torn down.
  std::shared_ptr<prom::Histogram> store_fsync_seconds = std::make_shared<prom::Histogram>();
  /// How long a long-polling pull stayed parked (woken by a message, expired, or dropped with its
  /// connection).
  prom::Histogram pull_hold_seconds;
  /// From PUSH_REPLY_MESSAGE_TO_CLIENT sent to the requester's answer (or failure).
  prom::Histogram reply_push_seconds;
  TopicTraffic topics;

  /// Counters and histograms, then the families in `extra` (complete, with HELP and TYPE), in Prometheus text
  /// format.
  std::string render(const std::string& extra = {}) const;
};

/// rocketrpc_broker_consumer_lag{group,topic}: per consumer group and topic with a committed offset, the sum
/// over its queues of (queue max offset - committed offset), computed now from the consume queues and the
/// consumer offset table. At most `max_series` series (metricsMaxTopics); the number left out is the gauge
/// rocketrpc_broker_consumer_lag_series_dropped.
std::string renderConsumerLag(store::MessageStore& store, size_t max_series);

}  // namespace rocketrpc::broker
