// RequestFutureTable: the pending-call table of request-reply. One iteration = add() + markSent() +
// completeWithReply() of one correlation id, with the completion run inline or posted to the callback pool,
// and with a backlog of other pending requests in the table (what K in flight looks like).
#include <benchmark/benchmark.h>

#include <atomic>
#include <thread>

#include "client/request_future_table.h"
#include "common/executor.h"

namespace {

std::vector<std::string> correlationIds(size_t n, const char* tag) {
  std::vector<std::string> ids;
  ids.reserve(n);
  for (size_t i = 0; i < n; ++i) ids.push_back(std::string("7F000001A1B2C3D4") + tag + std::to_string(100000000 + i));
  return ids;
}

void BM_AddComplete(benchmark::State& state) {
  const bool inline_done = state.range(0) == 0;
  const auto backlog = static_cast<size_t>(state.range(1));
  rocketrpc::ThreadPool pool("bench-cb", 2);
  rocketrpc::Scheduler scheduler("bench-timer");
  rocketrpc::client::RequestFutureTable table(&pool, &scheduler);
  std::atomic<int64_t> completed{0};
  const auto timeout = std::chrono::milliseconds(60000);
  for (const auto& id : correlationIds(backlog, "B")) {
    table.add(id, timeout, "BenchEcho", 1000000, [](rocketrpc::Result<rocketrpc::MessageExt>) {}, true);
  }
  const auto ids = correlationIds(4096, "A");
  rocketrpc::MessageExt reply;
  reply.setTopic("DefaultCluster_REPLY_TOPIC");
  reply.setBody(std::string(128, 'x'));
  size_t i = 0;
  int64_t issued = 0;
  for (auto _ : state) {
    const std::string& id = ids[i++ & 4095];
    auto st = table.add(id, timeout, "BenchEcho", 1000000,
                        [&completed](rocketrpc::Result<rocketrpc::MessageExt> r) {
                          benchmark::DoNotOptimize(r);
                          completed.fetch_add(1, std::memory_order_relaxed);
                        },
                        inline_done);
    if (!st.isOk()) {
      state.SkipWithError("add failed");
      break;
    }
    table.markSent(id);
    table.completeWithReply(id, reply);
    ++issued;
  }
  // Let posted completions finish before the table and pool go away.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (completed.load() < issued && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
  state.SetItemsProcessed(issued);
  state.SetLabel(inline_done ? "inline" : "pool");
  table.failAll(rocketrpc::Status::closed("bench done"));
  pool.shutdown();
  scheduler.shutdown();
}

}  // namespace

BENCHMARK(BM_AddComplete)
    ->ArgNames({"pool", "backlog"})
    ->Args({0, 0})
    ->Args({0, 1024})
    ->Args({1, 0})
    ->Args({1, 1024})
    ->UseRealTime();
