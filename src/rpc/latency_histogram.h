// LatencyHistogram: lock-free log-linear histogram of microsecond latencies (32 sub-buckets per power of two,
// about 3% resolution, values up to 2^40 us), for the percentiles of RpcClientStats / RpcServerStats.
// Thread-safe: record() from any thread; summary() gives a consistent-enough snapshot (counters are relaxed).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "rocketrpc/rpc_client.h"

namespace rocketrpc::rpc {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 5;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kMaxExp = 40;
  static constexpr size_t kBuckets = kSub + (kMaxExp - kSubBits + 1) * kSub;

  void record(std::chrono::microseconds latency);
  LatencySummary summary() const;

  /// Bucket of a value, and a representative value of a bucket (its midpoint); exposed for tests.
  static size_t bucketOf(uint64_t us);
  static uint64_t valueOf(size_t bucket);

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> max_{0};
};

}  // namespace rocketrpc::rpc
