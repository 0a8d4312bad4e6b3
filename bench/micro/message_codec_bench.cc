// decodeStoredMessages: a PULL_MESSAGE body of 32 request messages (the pull batch size) with the properties
// a RIP-16 request carries, bodies of 128 B / 4 KiB / 64 KiB.
#include <benchmark/benchmark.h>

#include "common/bench_common.h"
#include "remoting/protocol/message_codec.h"

namespace {

std::string pullBody(size_t body_bytes, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    rocketrpc::MessageExt m;
    m.setTopic("BenchEcho");
    m.setBody(bench::makePayload(body_bytes, static_cast<uint64_t>(i)));
    m.putProperty("UNIQ_KEY", "7F000001A1B2C3D4E5F6A7B8C9D0" + std::to_string(1000 + i));
    m.putProperty("CORRELATION_ID", "7F000001A1B2C3D4E5F6A7B8C9D1" + std::to_string(1000 + i));
    m.putProperty("REPLY_TO_CLIENT", "127.0.0.1@bench-requester-12345");
    m.putProperty("TTL", "10000");
    m.putProperty("CLUSTER", "DefaultCluster");
    m.putProperty("WAIT", "true");
    m.putProperty("MIN_OFFSET", "0");
    m.putProperty("MAX_OFFSET", std::to_string(5000 + i));
    m.setQueueId(2);
    m.setQueueOffset(4000 + i);
    m.setCommitLogOffset(1000000 + static_cast<int64_t>(i) * 300);
    m.setBornTimestamp(1700000000000);
    m.setStoreTimestamp(1700000000001);
    m.setBornHost("127.0.0.1:50000");
    m.setStoreHost("127.0.0.1:10911");
    m.setBodyCrc(rocketrpc::remoting::bodyCrc(m.body()));
    out += rocketrpc::remoting::encodeStoredMessage(m);
  }
  return out;
}

void BM_DecodeStoredMessages(benchmark::State& state) {
  const int count = static_cast<int>(state.range(1));
  const std::string data = pullBody(static_cast<size_t>(state.range(0)), count);
  for (auto _ : state) {
    auto r = rocketrpc::remoting::decodeStoredMessages(data, /*decompress=*/true);
    if (!r.isOk() || r->size() != static_cast<size_t>(count)) {
      state.SkipWithError("decode failed");
      break;
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * count);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(data.size()));
}

void BM_DecodeProperties(benchmark::State& state) {
  rocketrpc::remoting::Properties props{{"UNIQ_KEY", "7F000001A1B2C3D4E5F6A7B8C9D0E1F2"},
                                        {"CORRELATION_ID", "7F000001A1B2C3D4E5F6A7B8C9D0E1F3"},
                                        {"REPLY_TO_CLIENT", "127.0.0.1@bench-requester-12345"},
                                        {"TTL", "10000"},
                                        {"CLUSTER", "DefaultCluster"},
                                        {"WAIT", "true"}};
  const std::string text = rocketrpc::remoting::encodeProperties(props);
  for (auto _ : state) benchmark::DoNotOptimize(rocketrpc::remoting::decodeProperties(text));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

}  // namespace

BENCHMARK(BM_DecodeStoredMessages)
    ->ArgNames({"body", "msgs"})
    ->Args({128, 32})
    ->Args({4096, 32})
    ->Args({65536, 32})
    ->Args({128, 1});
BENCHMARK(BM_DecodeProperties);
