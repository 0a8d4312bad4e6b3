// libFuzzer target for what an RpcServer decodes from the requests it consumes (src/rpc/server_core.h): the
// RPC properties of single requests (reply-to, correlation id, TTL, deadline, empty marker) and of streaming
// sessions (kind, session id, sequence number, count), all from untrusted messages; and, on the requester's
// side, what the reply-error text of such a server decodes to (src/rpc/error_mapping.h).
//
// The input is a sequence of messages. Each is either raw (a RocketMQ properties string and a body, decoded
// as the broker delivers them) or built from a few fuzzed choices that reach the streaming paths quickly.
// Small session bounds make every limit reachable; the clock moves forward by fuzzed steps and the sweeper runs
// in between, so idle expiry and gap timeouts are exercised too.
// Checked on every input: onMessage neither crashes nor throws; no handler call is left running after it
// returns (handlers are synchronous here); every reply carries the correlation id of a request that had one and
// a reply-to address; open sessions never exceed max-concurrent-sessions; the requester's decoding of any
// error text yields a result, never an exception.
#include <fuzzer/FuzzedDataProvider.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "remoting/protocol/message_codec.h"
#include "rocketrpc/errors.h"
#include "rocketrpc/producer.h"
#include "rocketrpc/rpc_server.h"
#include "rpc/error_mapping.h"
#include "rpc/server_core.h"
#include "rpc/wire.h"

namespace {

using namespace rocketrpc;
using namespace std::chrono_literals;

/// Echoes requests, joins streams; throws on a body starting with '!' (the handler-error path).
class FuzzReceiver : public RpcReceiver {
 public:
  std::string processRequest(std::string_view request) override {
    if (!request.empty() && request[0] == '!') throw std::runtime_error(std::string(request.substr(1)));
    return std::string(request);
  }
  std::string processStreamingRequest(const std::string& /*session_id*/,
                                      const std::vector<std::string>& messages) override {
    std::string out;
    for (const auto& m : messages) {
      if (!m.empty() && m[0] == '!') throw std::runtime_error("stream refused");
      out += m;
    }
    return out;
  }
};

/// One message built from a few choices, so that sessions, sequence numbers and ends line up often.
MessageExt structuredMessage(FuzzedDataProvider& in, int64_t now_ms) {
  static constexpr std::string_view kKinds[] = {"", rpc::kind::kStart, rpc::kind::kMsg, rpc::kind::kEnd,
                                                rpc::kind::kInit, "bogus"};
  MessageExt m;
  m.setTopic("T");
  const auto kind = kKinds[in.ConsumeIntegralInRange<size_t>(0, std::size(kKinds) - 1)];
  if (!kind.empty()) m.putProperty(rpc::prop::kKind, kind);
  if (in.ConsumeBool()) m.putProperty(rpc::prop::kSession, "s" + std::to_string(in.ConsumeIntegralInRange(0, 5)));
  if (in.ConsumeBool()) {
    m.putProperty(rpc::prop::kSeq, in.ConsumeBool() ? std::to_string(in.ConsumeIntegralInRange(-2, 12))
                                                    : in.ConsumeRandomLengthString(24));
  }
  if (in.ConsumeBool()) m.putProperty(rpc::prop::kCount, std::to_string(in.ConsumeIntegralInRange(-1, 12)));
  if (in.ConsumeBool()) m.putProperty(property::kReplyToClient, "127.0.0.1@requester");
  if (in.ConsumeBool()) m.putProperty(property::kCluster, "DefaultCluster");
  if (in.ConsumeBool()) m.putProperty(property::kCorrelationId, "c" + std::to_string(in.ConsumeIntegralInRange(0, 7)));
  if (in.ConsumeBool()) m.putProperty(property::kTtl, in.ConsumeRandomLengthString(12));
  if (in.ConsumeBool()) {
    m.putProperty(rpc::prop::kDeadline,
                  std::to_string(now_ms + in.ConsumeIntegralInRange<int64_t>(-10'000, 10'000)));
  }
  if (in.ConsumeBool()) m.putProperty(rpc::prop::kEmpty, in.ConsumeBool() ? "1" : "0");
  m.setBornTimestamp(now_ms - in.ConsumeIntegralInRange<int64_t>(-1000, 10'000));
  m.setBody(in.ConsumeRandomLengthString(64));
  return m;
}

/// One message as the broker would deliver an arbitrary one: any properties string, any body.
MessageExt rawMessage(FuzzedDataProvider& in) {
  MessageExt m;
  m.setTopic("T");
  for (const auto& [k, v] : remoting::decodeProperties(in.ConsumeRandomLengthString(256))) m.putProperty(k, v);
  m.setBornTimestamp(in.ConsumeIntegral<int64_t>());
  m.setBody(in.ConsumeRandomLengthString(256));
  return m;
}

void checkRequesterDecoding(const std::string& text) {
  // The error text of a reply, as the requester's producer reports it.
  Outcome<MessageExt> outcome(std::make_exception_ptr(ReplyErrorException("responder failed: " + text)));
  auto result = rpc::mapRequestOutcome(outcome, "fuzz", 1000ms, 1us);
  (void)result;
  (void)rpc::decodeErrorText(text);
  (void)rpc::parseNonNegative(text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quietLogs();
  FuzzedDataProvider in(data, size);
  RpcServerOptions options;
  options.broker_url = "127.0.0.1:9876";
  options.request_topic = "T";
  options.max_concurrent_sessions = in.ConsumeIntegralInRange<size_t>(1, 4);
  options.max_session_bytes = in.ConsumeIntegralInRange<size_t>(1, 256);
  options.max_session_messages = in.ConsumeIntegralInRange<size_t>(1, 8);
  options.session_idle_timeout = 100ms;
  options.stream_gap_timeout = 50ms;
  options.dedup_cache_size = in.ConsumeIntegralInRange<size_t>(0, 4);

  int64_t now_ms = 1'700'000'000'000;
  std::set<std::string> correlations;  // ids of requests that could be answered
  std::vector<Message> replies;
  rpc::ServerCore core(
      options, std::make_shared<FuzzReceiver>(),
      [&](const Message& reply, rpc::ServerCore::ReplyDone done) {
        replies.push_back(reply);
        done(nullptr);
      },
      [&] { return now_ms; });

  auto steady = std::chrono::steady_clock::now();
  for (int i = 0; i < 64 && in.remaining_bytes() > 0; ++i) {
    MessageExt msg = in.ConsumeBool() ? structuredMessage(in, now_ms) : rawMessage(in);
    if (!msg.getProperty(property::kReplyToClient).empty()) {
      correlations.insert(msg.getProperty(property::kCorrelationId));
    }
    core.onMessage(msg);
    RpcServerStats stats = core.stats();
    if (stats.in_flight != 0) __builtin_trap();
    if (stats.sessions_open > options.max_concurrent_sessions) __builtin_trap();
    if (in.ConsumeBool()) {
      const int step_ms = in.ConsumeIntegralInRange(0, 300);
      now_ms += step_ms;
      steady += std::chrono::milliseconds(step_ms);
      core.sweep(steady);
    }
  }
  for (const Message& reply : replies) {
    if (!correlations.count(reply.getProperty(property::kCorrelationId))) __builtin_trap();
    if (reply.hasProperty(property::kReplyToClient) &&
        reply.getProperty(property::kReplyToClient).empty()) {
      __builtin_trap();
    }
    checkRequesterDecoding(reply.getProperty(reply_property::kError));
  }
  if (in.remaining_bytes() > 0) checkRequesterDecoding(in.ConsumeRemainingBytesAsString());
  core.clear();
  return 0;
}
