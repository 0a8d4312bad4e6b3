// Building blocks of the RPC layer: latency histogram, reply cache (dedup LRU), responder probe caching.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "rpc/latency_histogram.h"
#include "rpc/reply_cache.h"
#include "rpc/responder_probe.h"
#include "rpc/wire.h"

namespace rocketrpc::rpc {
namespace {

using namespace std::chrono_literals;

TEST(WirePayloadTest, EmptyPayloadTravelsAsMarkedByteAndComesBackEmpty) {
  Message m("T", "");
  rpc::setPayload(m, "");
  EXPECT_FALSE(m.body().empty());  // RocketMQ refuses empty bodies
  EXPECT_EQ(m.getProperty(rpc::prop::kEmpty), "1");
  EXPECT_EQ(rpc::payloadOf(m), "");
  Message n("T", "");
  rpc::setPayload(n, "-");  // the marker byte itself, as a real payload
  EXPECT_FALSE(n.hasProperty(rpc::prop::kEmpty));
  EXPECT_EQ(rpc::payloadOf(n), "-");
  std::string binary("\0x", 2);
  rpc::setPayload(n, binary);
  EXPECT_EQ(rpc::payloadOf(n), binary);
}

TEST(LatencyHistogramTest, EmptyHasZeroes) {
  LatencyHistogram h;
  LatencySummary s = h.summary();
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.p99.count(), 0);
}

TEST(LatencyHistogramTest, PercentilesWithinResolution) {
  LatencyHistogram h;
  for (int i = 1; i <= 1000; ++i) h.record(std::chrono::microseconds(i * 100));  // 100us .. 100ms
  LatencySummary s = h.summary();
  EXPECT_EQ(s.count, 1000u);
  EXPECT_NEAR(s.p50.count(), 50000, 50000 * 0.04);
  EXPECT_NEAR(s.p90.count(), 90000, 90000 * 0.04);
  EXPECT_NEAR(s.p99.count(), 99000, 99000 * 0.04);
  EXPECT_EQ(s.max.count(), 100000);
}

TEST(LatencyHistogramTest, BucketsAreMonotonic) {
  size_t prev = 0;
  for (uint64_t v = 0; v < (1u << 20); v = v * 3 / 2 + 1) {
    size_t b = LatencyHistogram::bucketOf(v);
    EXPECT_GE(b, prev);
    prev = b;
    uint64_t rep = LatencyHistogram::valueOf(b);
    EXPECT_LE(rep > v ? rep - v : v - rep, v / 16 + 1) << v;
  }
  EXPECT_EQ(LatencyHistogram::bucketOf(UINT64_MAX), LatencyHistogram::kBuckets - 1);
}

TEST(LatencyHistogramTest, ConcurrentRecordsAreAllCounted) {
  LatencyHistogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h] {
      for (int i = 0; i < 10000; ++i) h.record(std::chrono::microseconds(i));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(h.summary().count, 40000u);
}

Message replyWithBody(const std::string& body) {
  Message m("R", body);
  m.putProperty("CORRELATION_ID", "x");
  return m;
}

TEST(ReplyCacheTest, SecondClaimSeesInProgressThenDone) {
  ReplyCache c(10, 1 << 20);
  Message cached;
  EXPECT_EQ(c.claim("a", &cached), ReplyCache::Claim::kNew);
  EXPECT_EQ(c.claim("a", &cached), ReplyCache::Claim::kInProgress);
  c.complete("a", replyWithBody("r1"));
  EXPECT_EQ(c.claim("a", &cached), ReplyCache::Claim::kDone);
  EXPECT_EQ(cached.body(), "r1");
}

TEST(ReplyCacheTest, AbandonForgets) {
  ReplyCache c(10, 1 << 20);
  EXPECT_EQ(c.claim("a", nullptr), ReplyCache::Claim::kNew);
  c.abandon("a");
  EXPECT_EQ(c.claim("a", nullptr), ReplyCache::Claim::kNew);
}

TEST(ReplyCacheTest, LeastRecentlyUsedIsEvicted) {
  ReplyCache c(3, 1 << 20);
  for (const char* id : {"a", "b", "c"}) {
    c.claim(id, nullptr);
    c.complete(id, replyWithBody(id));
  }
  Message m;
  EXPECT_EQ(c.claim("a", &m), ReplyCache::Claim::kDone);  // touch a: b is now the oldest
  c.claim("d", nullptr);
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c.claim("b", &m), ReplyCache::Claim::kNew);
  EXPECT_EQ(c.claim("a", &m), ReplyCache::Claim::kDone);
}

TEST(ReplyCacheTest, BytesAreBounded) {
  ReplyCache c(100, 1000);
  for (int i = 0; i < 10; ++i) {
    std::string id = "id" + std::to_string(i);
    c.claim(id, nullptr);
    c.complete(id, replyWithBody(std::string(300, 'x')));
  }
  EXPECT_LE(c.size(), 3u);
  c.claim("huge", nullptr);
  c.complete("huge", replyWithBody(std::string(5000, 'x')));  // larger than the bound: not kept
  EXPECT_EQ(c.claim("huge", nullptr), ReplyCache::Claim::kNew);
}

TEST(ReplyCacheTest, DisabledCacheNeverDedups) {
  ReplyCache c(0, 1000);
  EXPECT_EQ(c.claim("a", nullptr), ReplyCache::Claim::kNew);
  EXPECT_EQ(c.claim("a", nullptr), ReplyCache::Claim::kNew);
  ReplyCache c2(10, 1000);
  EXPECT_EQ(c2.claim("", nullptr), ReplyCache::Claim::kNew);  // no correlation id: nothing to dedup on
  EXPECT_EQ(c2.claim("", nullptr), ReplyCache::Claim::kNew);
}

TEST(ResponderProbeTest, VerdictIsCachedForTheTtl) {
  std::atomic<int> calls{0};
  ResponderProbe p(
      [&] {
        calls++;
        return ResponderProbe::Verdict{ResponderProbe::Answer::kNone, "nobody"};
      },
      200ms);
  EXPECT_FALSE(p.cached().has_value());
  EXPECT_EQ(p.check().answer, ResponderProbe::Answer::kNone);
  EXPECT_EQ(p.check().detail, "nobody");
  ASSERT_TRUE(p.cached().has_value());
  EXPECT_EQ(calls.load(), 1);
  std::this_thread::sleep_for(250ms);
  EXPECT_FALSE(p.cached().has_value());
  p.check();
  EXPECT_EQ(calls.load(), 2);
}

TEST(ResponderProbeTest, ConcurrentChecksShareOneQuery) {
  std::atomic<int> calls{0};
  ResponderProbe p(
      [&] {
        calls++;
        std::this_thread::sleep_for(100ms);
        return ResponderProbe::Verdict{ResponderProbe::Answer::kOnline, "g"};
      },
      10000ms);
  std::vector<std::thread> threads;
  std::atomic<int> online{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (p.check().answer == ResponderProbe::Answer::kOnline) online++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(online.load(), 8);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(p.queries(), 1u);
}

TEST(ResponderProbeTest, ZeroTtlAsksEveryTimeAndQueryExceptionsAreUnknown) {
  std::atomic<int> calls{0};
  ResponderProbe p(
      [&]() -> ResponderProbe::Verdict {
        calls++;
        throw std::runtime_error("broker says no");
      },
      0ms);
  EXPECT_EQ(p.check().answer, ResponderProbe::Answer::kUnknown);
  EXPECT_EQ(p.check().detail, "broker says no");
  EXPECT_EQ(calls.load(), 2);
}

}  // namespace
}  // namespace rocketrpc::rpc
