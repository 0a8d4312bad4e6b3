// Prometheus text exposition format (version 0.0.4) for the broker's and the clients' metrics: family
// headers, samples with escaped label values, and Histogram, a fixed-bound latency histogram cheap enough to
// record on every request. Format reference: the exposition-format spec (HELP and TYPE before the samples of
// a family; histogram samples _bucket{le=...} cumulative and ending with le="+Inf", then _sum and _count).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rocketrpc::prom {

/// A label value with backslash, double quote and newline escaped.
std::string escapeLabel(std::string_view value);

/// Appends "# HELP name help\n# TYPE name type\n"; `help` is escaped (backslash, newline).
void family(std::string& out, std::string_view name, std::string_view type, std::string_view help);

/// Appends "name{labels} value\n" (`labels` already formatted, e.g. `topic="a",group="b"`, or empty).
void sample(std::string& out, std::string_view name, std::string_view labels, int64_t value);
void sample(std::string& out, std::string_view name, std::string_view labels, double value);

/// One figure of a stats struct (RpcClientStats, ProducerStats, ...): its JSON key, its Prometheus family (the
/// name after the object's prefix) and kind, and its value. The stats renderers of the client and RPC layers
/// list their figures once and render both formats from the list.
struct Figure {
  const char* field;   // JSON key: the stats struct's field name
  const char* metric;  // family name without the prefix (rocketrpc_producer_, rocketrpc_client_, ...)
  const char* type;    // "counter" or "gauge"
  const char* help;
  uint64_t value;
};

/// Appends every figure as a family `prefix` + metric with one sample labelled `labels`.
void figures(std::string& out, std::string_view prefix, std::string_view labels, const std::vector<Figure>& list);
/// Appends `,"field":value` for every figure (to continue a JSON object).
void jsonFigures(std::string& out, const std::vector<Figure>& list);
/// `s` as a JSON string literal: quotes, backslashes and control characters escaped.
std::string jsonString(std::string_view s);

/// Latency histogram with fixed bucket bounds from 50 us to 60 s (Prometheus buckets are cumulative; these
/// are kept per bucket and summed when rendered). record() is three relaxed atomic adds and a search of 21
/// bounds. Thread-safe.
class Histogram {
 public:
  /// Upper bounds in microseconds, ascending; a last implicit bucket is +Inf.
  static constexpr std::array<int64_t, 21> kBoundsUs = {
      50,        100,       250,        500,        1'000,      2'500,      5'000,
      10'000,    25'000,    50'000,     100'000,    250'000,    500'000,    1'000'000,
      2'500'000, 5'000'000, 10'000'000, 15'000'000, 20'000'000, 30'000'000, 60'000'000};

  void recordUs(int64_t us);
  void record(std::chrono::steady_clock::duration d) {
    recordUs(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
  }
  /// Records the time since `start`.
  void recordSince(std::chrono::steady_clock::time_point start) {
    record(std::chrono::steady_clock::now() - start);
  }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  /// Appends name_bucket{labels,le="..."} for every bound and +Inf, name_sum (seconds) and name_count.
  /// `labels` may be empty. The family header is the caller's.
  void render(std::string& out, std::string_view name, std::string_view labels) const;

 private:
  std::array<std::atomic<uint64_t>, kBoundsUs.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_us_{0};
};

}  // namespace rocketrpc::prom
