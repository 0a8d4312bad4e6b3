// What the broker's metrics add to each request: prom::Histogram::recordSince() (a clock read, a search of
// 21 bounds, three relaxed atomic adds), alone and with two threads recording into the same histogram (the
// per-code histogram of SEND_MESSAGE_V2 under load), and a bare steady_clock read for comparison.
#include <benchmark/benchmark.h>

#include <chrono>

#include "common/prometheus_text.h"

namespace {

rocketrpc::prom::Histogram shared_histogram;

void BM_PromHistogram_RecordSince(benchmark::State& state) {
  auto start = std::chrono::steady_clock::now();
  for (auto _ : state) shared_histogram.recordSince(start);
  benchmark::DoNotOptimize(shared_histogram.count());
}
BENCHMARK(BM_PromHistogram_RecordSince)->Threads(1)->Threads(2);

void BM_PromHistogram_RecordUs(benchmark::State& state) {
  rocketrpc::prom::Histogram h;
  int64_t us = 1;
  for (auto _ : state) {
    h.recordUs(us);
    us = us * 7 % 100'000'000 + 1;  // walks the buckets
  }
  benchmark::DoNotOptimize(h.count());
}
BENCHMARK(BM_PromHistogram_RecordUs);

void BM_SteadyClockNow(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(std::chrono::steady_clock::now());
}
BENCHMARK(BM_SteadyClockNow);

}  // namespace
