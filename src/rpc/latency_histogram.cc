#include "rpc/latency_histogram.h"

#include <bit>

namespace rocketrpc::rpc {

size_t LatencyHistogram::bucketOf(uint64_t us) {
  if (us < static_cast<uint64_t>(kSub)) return static_cast<size_t>(us);
  int e = 63 - std::countl_zero(us);
  if (e > kMaxExp) return kBuckets - 1;
  uint64_t sub = (us >> (e - kSubBits)) & (kSub - 1);
  return static_cast<size_t>(kSub + (e - kSubBits) * kSub + static_cast<int>(sub));
}

uint64_t LatencyHistogram::valueOf(size_t bucket) {
  if (bucket < static_cast<size_t>(kSub)) return bucket;
  size_t rel = bucket - kSub;
  int e = static_cast<int>(rel / kSub) + kSubBits;
  uint64_t sub = rel % kSub;
  uint64_t width = uint64_t{1} << (e - kSubBits);
  uint64_t lower = (kSub + sub) << (e - kSubBits);
  return lower + width / 2;
}

void LatencyHistogram::record(std::chrono::microseconds latency) {
  uint64_t us = latency.count() < 0 ? 0 : static_cast<uint64_t>(latency.count());
  buckets_[bucketOf(us)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  uint64_t prev = max_.load(std::memory_order_relaxed);
  while (us > prev && !max_.compare_exchange_weak(prev, us, std::memory_order_relaxed)) {
  }
}

LatencySummary LatencyHistogram::summary() const {
  LatencySummary s;
  std::array<uint64_t, kBuckets> snap;
  uint64_t total = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    snap[i] = buckets_[i].load(std::memory_order_relaxed);
    total += snap[i];
  }
  s.count = total;
  if (total == 0) return s;
  uint64_t max = max_.load(std::memory_order_relaxed);
  auto at = [&](double q) {
    // Nearest rank: the smallest value with at least q*total values at or below it.
    uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(total) + 0.999999);
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += snap[i];
      if (seen >= rank) {
        uint64_t v = valueOf(i);
        return std::chrono::microseconds(static_cast<int64_t>(v > max ? max : v));
      }
    }
    return std::chrono::microseconds(static_cast<int64_t>(max));
  };
  s.p50 = at(0.50);
  s.p90 = at(0.90);
  s.p99 = at(0.99);
  s.max = std::chrono::microseconds(static_cast<int64_t>(max));
  return s;
}

}  // namespace rocketrpc::rpc
