// Frame codec: encode/decode of a SEND_MESSAGE_V2 request as the producer writes it (request-reply properties
// included), with JSON and binary (ROCKETMQ) headers and 128 B / 4 KiB / 64 KiB bodies; and building that
// request's header plus encoding it, as each send does.
#include <benchmark/benchmark.h>

#include "common/bench_common.h"
#include "remoting/frame_codec.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/message_codec.h"

namespace {

using rocketrpc::remoting::RemotingCommand;
using rocketrpc::remoting::SerializeType;

RemotingCommand sendRequest(size_t body_bytes, SerializeType type) {
  auto cmd = RemotingCommand::request(rocketrpc::remoting::request_code::kSendMessageV2);
  cmd.opaque = 123456;
  cmd.serialize_type = type;
  rocketrpc::remoting::Properties props{
      {"UNIQ_KEY", "7F000001A1B2C3D4E5F6A7B8C9D0E1F2"},
      {"CORRELATION_ID", "7F000001A1B2C3D4E5F6A7B8C9D0E1F3"},
      {"REPLY_TO_CLIENT", "127.0.0.1@bench-requester-12345"},
      {"TTL", "10000"},
      {"CLUSTER", "DefaultCluster"},
      {"WAIT", "true"},
  };
  cmd.set("a", "BenchRequester");
  cmd.set("b", "BenchEcho");
  cmd.set("c", "TBW102");
  cmd.set("d", int64_t{4});
  cmd.set("e", int64_t{2});
  cmd.set("f", int64_t{0});
  cmd.set("g", int64_t{1700000000000});
  cmd.set("h", int64_t{0});
  cmd.set("i", rocketrpc::remoting::encodeProperties(props));
  cmd.set("j", int64_t{0});
  cmd.setBool("k", false);
  cmd.setBool("m", false);
  cmd.set("n", "broker-a");
  cmd.body = bench::makePayload(body_bytes);
  return cmd;
}

void BM_FrameEncode(benchmark::State& state) {
  const auto type = static_cast<SerializeType>(state.range(1));
  const RemotingCommand cmd = sendRequest(static_cast<size_t>(state.range(0)), type);
  std::string out;
  for (auto _ : state) {
    out.clear();
    auto st = rocketrpc::remoting::encodeFrame(cmd, &out);
    benchmark::DoNotOptimize(st);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(out.size()));
  state.SetLabel(type == SerializeType::kJson ? "json-header" : "binary-header");
}

// What a producer pays per send for the header: the 13 fields set one by one, then the frame encoded.
void BM_FrameBuildAndEncode(benchmark::State& state) {
  const auto type = static_cast<SerializeType>(state.range(1));
  const size_t body = static_cast<size_t>(state.range(0));
  std::string out;
  for (auto _ : state) {
    RemotingCommand cmd = sendRequest(body, type);
    out.clear();
    auto st = rocketrpc::remoting::encodeFrame(cmd, &out);
    benchmark::DoNotOptimize(st);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(type == SerializeType::kJson ? "json-header" : "binary-header");
}

void BM_FrameDecode(benchmark::State& state) {
  const auto type = static_cast<SerializeType>(state.range(1));
  std::string frame;
  if (!rocketrpc::remoting::encodeFrame(sendRequest(static_cast<size_t>(state.range(0)), type), &frame).isOk()) {
    state.SkipWithError("encode failed");
    return;
  }
  for (auto _ : state) {
    RemotingCommand cmd;
    auto r = rocketrpc::remoting::decodeFrame(frame, 16 * 1024 * 1024, &cmd);
    if (r.state != rocketrpc::remoting::DecodeState::kComplete) {
      state.SkipWithError("decode failed");
      break;
    }
    benchmark::DoNotOptimize(cmd);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(frame.size()));
  state.SetLabel(type == SerializeType::kJson ? "json-header" : "binary-header");
}

void codecArgs(benchmark::internal::Benchmark* b) {
  for (int64_t type : {0, 1})
    for (int64_t size : {128, 4096, 65536}) b->Args({size, type});
  b->ArgNames({"body", "hdr"});
}

}  // namespace

BENCHMARK(BM_FrameEncode)->Apply(codecArgs);
BENCHMARK(BM_FrameDecode)->Apply(codecArgs);
BENCHMARK(BM_FrameBuildAndEncode)->Apply(codecArgs);
