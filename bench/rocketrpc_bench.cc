// rocketrpc request-reply through a broker (Apache RocketMQ or rocketrpc-broker).
//
//   bench_rocketrpc responder --namesrv A --topic T [--group G]   PushConsumer + setReplyListener (echo)
//   bench_rocketrpc client --namesrv A --topic T [--group G]      serves cells (bench/common/bench_common.h)
//   bench_rocketrpc prime --namesrv A --topic T                   creates T (auto-create) with one message
//
// The client keeps K requests in flight with Producer::request(msg, callback, timeout): every callback records
// the latency and issues the next request. Compression is off on the requester and on the responder's replies
// (payloads are incompressible), as on the Java driver. `--header json|binary` (both roles) picks the remoting
// header encoding; default: the library's (binary). `--access-key AK` signs every request (ACL), with the secret
// taken from ROCKETRPC_SECRET_KEY.
#include <unistd.h>

#include <atomic>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <string>
#include <thread>

#include "common/bench_common.h"
#include "rocketrpc/producer.h"
#include "rocketrpc/push_consumer.h"

namespace {

struct Args {
  std::string mode, namesrv, topic = "BenchEcho", group;
  int64_t timeout_ms = 10000;
  int queues = 4;  // queues of the topic (the responder waits until it owns them all)
  int consume_threads = 0;  // 0: the library's default
  std::string header;       // "json", "binary" or "" (library default)
  std::string access_key;   // ACL: sign every request (secret from ROCKETRPC_SECRET_KEY)
};

void applyHeader(const Args& a, rocketrpc::ClientOptions& o) {
  if (a.header == "json") o.header_format = rocketrpc::HeaderFormat::kJson;
  if (a.header == "binary") o.header_format = rocketrpc::HeaderFormat::kBinary;
  if (!a.access_key.empty()) {
    o.access_key = a.access_key;
    const char* secret = std::getenv("ROCKETRPC_SECRET_KEY");
    o.secret_key = secret ? secret : "";
  }
}

std::string instanceName(const char* role) { return std::string(role) + "-" + std::to_string(::getpid()); }

int runResponder(const Args& a) {
  rocketrpc::PushConsumerOptions o;
  o.namesrv_addr = a.namesrv;
  o.group = a.group.empty() ? "BenchResponder_" + a.topic : a.group;
  o.instance_name = instanceName("bench-responder");
  if (a.consume_threads > 0) o.consume_threads = a.consume_threads;
  o.compress_over = SIZE_MAX;
  applyHeader(a, o);
  rocketrpc::PushConsumer consumer(o);
  consumer.subscribe(a.topic, "*");
  consumer.setReplyListener([](const rocketrpc::MessageExt& request) {
    // Echo, stamped with the time we handled it (bench_common.h, kResponderStampAt).
    std::string reply = request.body();
    bench::writeStamp(reply, bench::kResponderStampAt, bench::monoNs());
    return reply;
  });
  try {
    consumer.start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_rocketrpc responder: start failed: %s\n", e.what());
    return 1;
  }
  // Ready once the rebalance has given us every queue (we are the group's only member): requests on a queue
  // not yet assigned would wait for the next rebalance.
  const auto deadline = bench::Clock::now() + std::chrono::seconds(60);
  while (consumer.assignedQueues().size() < static_cast<size_t>(a.queues) && bench::Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::printf("READY queues=%zu/%d\n", consumer.assignedQueues().size(), a.queues);
  std::fflush(stdout);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line == "quit") break;
  }
  consumer.shutdown();
  return 0;
}

/// Creates the topic on a broker with autoCreateTopicEnable by sending one plain message (a responder can only
/// subscribe to a topic that has a route).
int runPrime(const Args& a) {
  rocketrpc::ProducerOptions o;
  o.namesrv_addr = a.namesrv;
  o.group = "BenchPrimer";
  o.instance_name = instanceName("bench-primer");
  o.default_topic_queue_nums = a.queues;
  applyHeader(a, o);
  rocketrpc::Producer producer(o);
  try {
    producer.start();
    auto r = producer.send(rocketrpc::Message(a.topic, "prime"));
    std::printf("PRIMED %s queue=%d\n", r.message_queue.broker_name.c_str(), r.message_queue.queue_id);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_rocketrpc prime: %s\n", e.what());
    return 1;
  }
  producer.shutdown();
  return 0;
}

int runClient(const Args& a) {
  rocketrpc::ProducerOptions o;
  o.namesrv_addr = a.namesrv;
  o.group = a.group.empty() ? "BenchRequester_" + a.topic : a.group;
  o.instance_name = instanceName("bench-requester");
  o.compress_over = SIZE_MAX;
  applyHeader(a, o);
  rocketrpc::Producer producer(o);
  try {
    producer.start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_rocketrpc client: start failed: %s\n", e.what());
    return 1;
  }
  const std::string topic = a.topic;
  const std::chrono::milliseconds timeout(a.timeout_ms);
  int rc = bench::serveCells([&](const bench::CellSpec& spec, bool) {
    const std::string body = bench::makePayload(spec.payload);
    return bench::ClosedLoop::run(spec, body, [&](std::string b, bench::ClosedLoop::Done done) {
      try {
        producer.request(
            rocketrpc::Message(topic, std::move(b)),
            [done](rocketrpc::Outcome<rocketrpc::MessageExt> out) {
              if (out.ok()) {
                const std::string& reply = out.value().body();
                done(true, {}, bench::readStamp(reply.data(), reply.size(), bench::kResponderStampAt));
              } else {
                done(false, out.errorMessage(), 0);
              }
            },
            timeout);
      } catch (const std::exception& e) {  // refused before sending: the callback will not run
        done(false, e.what(), 0);
      }
    });
  });
  producer.shutdown();
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  a.mode = argc > 1 ? argv[1] : "";
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--namesrv") a.namesrv = argv[i + 1];
    if (k == "--topic") a.topic = argv[i + 1];
    if (k == "--group") a.group = argv[i + 1];
    if (k == "--timeout-ms") a.timeout_ms = std::atoll(argv[i + 1]);
    if (k == "--queues") a.queues = std::atoi(argv[i + 1]);
    if (k == "--consume-threads") a.consume_threads = std::atoi(argv[i + 1]);
    if (k == "--header") a.header = argv[i + 1];
    if (k == "--access-key") a.access_key = argv[i + 1];
  }
  if (a.mode == "prime" && !a.namesrv.empty()) return runPrime(a);
  if (a.namesrv.empty() || (a.mode != "responder" && a.mode != "client")) {
    std::fprintf(stderr, "usage: bench_rocketrpc responder|client|prime --namesrv HOST:PORT [--topic T] [--group G] [--queues N] [--consume-threads N] [--access-key AK (secret in ROCKETRPC_SECRET_KEY)]\n");
    return 2;
  }
  return a.mode == "responder" ? runResponder(a) : runClient(a);
}
