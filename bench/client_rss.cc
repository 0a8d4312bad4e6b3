// bench_client_rss: client memory per request in flight (issue #11: 10,000 requests in flight cost at most
// 10 MB of client RSS above idle; 100,000 work).
//
//   bench_client_rss --namesrv 127.0.0.1:9876 [--levels 10000,100000] [--payload 100] [--api rpc|producer]
//                    [--rate N]
//
// Against a running rocketrpc-broker (or any RocketMQ cluster with autoCreateTopicEnable). Nobody answers the
// request topic, so every request stays in flight (sent, stored by the broker, awaiting its reply) until the
// client closes. The client is warmed up (connections, routes, thread stacks touched), its RSS sampled as
// "idle", then requests are added up to each level in turn (levels are cumulative) and the RSS is sampled
// once it has settled. Prints one line per level: requests, RSS delta over idle, bytes per request.
// --rate N issues N requests per second (default 0: as fast as the caller can, one burst). A burst issues far
// faster than the broker acknowledges the sends, so the send path's short-lived blocks (frame, prepared
// message, send closure) of most requests exist at once; glibc keeps that high-water mark as RSS.
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "rocketrpc/producer.h"
#include "rocketrpc/rpc_client.h"

namespace {

using namespace std::chrono_literals;

/// Bytes the allocator has handed out and not had back (all arenas).
long heapInUse() { return static_cast<long>(mallinfo2().uordblks); }

long rssBytes() {
  std::ifstream statm("/proc/self/statm");
  long size = 0;
  long resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

/// Samples RSS once the heap in use changed by less than 64 KiB over two seconds: the sends are acknowledged
/// and their frames freed (RSS alone settles early: freed memory is not given back).
long settledRss() {
  long last = heapInUse();
  for (int i = 0; i < 120; ++i) {
    std::this_thread::sleep_for(2s);
    long now = heapInUse();
    if (std::labs(now - last) < 64 * 1024) break;
    last = now;
  }
  return rssBytes();
}

std::string arg(int argc, char** argv, const std::string& name, const std::string& def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return def;
}

std::vector<long> parseLevels(const std::string& s) {
  std::vector<long> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stol(item));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string namesrv = arg(argc, argv, "--namesrv", "");
  if (namesrv.empty()) {
    std::fprintf(stderr, "usage: %s --namesrv host:port [--levels 10000,100000] [--payload 100] [--api rpc|producer]\n",
                 argv[0]);
    return 2;
  }
  const std::vector<long> levels = parseLevels(arg(argc, argv, "--levels", "10000,100000"));
  const size_t payload_bytes = std::stoul(arg(argc, argv, "--payload", "100"));
  const std::string api = arg(argc, argv, "--api", "rpc");
  const double rate = std::stod(arg(argc, argv, "--rate", "0"));
  const std::string topic = "bench_rss_" + std::to_string(::getpid());
  const std::string payload(payload_bytes, 'p');
  const auto timeout = 300000ms;  // longer than the run: nothing times out while measured
  std::atomic<long> ended{0};

  std::unique_ptr<rocketrpc::RpcClient> rpc;
  std::unique_ptr<rocketrpc::Producer> producer;
  std::function<void(std::chrono::milliseconds)> issue;
  try {
    if (api == "producer") {
      rocketrpc::ProducerOptions o;
      o.namesrv_addr = namesrv;
      o.group = "bench_rss_producer";
      o.max_pending_requests = 1000000;
      o.max_async_in_flight = 1000000;
      producer = std::make_unique<rocketrpc::Producer>(o);
      producer->start();
      issue = [&](std::chrono::milliseconds t) {
        producer->request(rocketrpc::Message(topic, payload), [&](rocketrpc::Outcome<rocketrpc::MessageExt>) { ended++; },
                          t);
      };
    } else {
      // RpcClient does not create its request topic: one plain send does (the broker's autoCreateTopicEnable).
      {
        rocketrpc::ProducerOptions po;
        po.namesrv_addr = namesrv;
        po.group = "bench_rss_topic_creator";
        rocketrpc::Producer creator(po);
        creator.start();
        creator.send(rocketrpc::Message(topic, "create"));
        creator.shutdown();
      }
      rocketrpc::RpcClientOptions o;
      o.broker_url = namesrv;
      o.request_topic = topic;
      o.fail_fast = false;  // nobody answers on purpose
      o.max_concurrent_requests = 1000000;
      rpc = std::make_unique<rocketrpc::RpcClient>(o);
      rpc->start();
      issue = [&](std::chrono::milliseconds t) { rpc->sendAsync(payload, t, [&](rocketrpc::RpcResult) { ended++; }); };
    }
    // Warm-up: the route, the connections, the reply topic's heartbeat, the threads' stacks; then let the
    // warm-up requests time out so nothing is in flight.
    for (int i = 0; i < 200; ++i) issue(1000ms);
    while (ended.load() < 200) std::this_thread::sleep_for(50ms);
    malloc_trim(0);
    const long idle = settledRss();
    const long idle_heap = heapInUse();
    std::printf("api=%s payload=%zu rate=%.0f idle_rss_kib=%ld\n", api.c_str(), payload_bytes, rate, idle / 1024);
    long issued = 0;
    for (long level : levels) {
      // The heap's high-water mark while the level is issued and settles: what the send path holds at once.
      std::atomic<bool> sampling{true};
      std::atomic<long> peak_heap{heapInUse()};
      std::thread sampler([&] {
        while (sampling.load()) {
          const long h = heapInUse();
          if (h > peak_heap.load()) peak_heap.store(h);
          std::this_thread::sleep_for(1ms);
        }
      });
      const auto start = std::chrono::steady_clock::now();
      for (long n = 0; issued < level; ++issued, ++n) {
        if (rate > 0) std::this_thread::sleep_until(start + std::chrono::duration<double>(n / rate));
        issue(timeout);
      }
      const double issue_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const long rss = settledRss();
      sampling.store(false);
      sampler.join();
      const long delta = rss - idle;
      // What the heap still holds from the sends once they completed (freed but not returned) vs. what the
      // requests in flight keep: RSS again after handing free heap pages back.
      malloc_trim(0);
      const long trimmed = rssBytes() - idle;
      const long heap = heapInUse() - idle_heap;
      std::printf("in_flight=%ld rss_delta_kib=%ld bytes_per_request=%ld trimmed_delta_kib=%ld "
                  "trimmed_bytes_per_request=%ld heap_bytes_per_request=%ld peak_heap_bytes_per_request=%ld "
                  "issue_seconds=%.2f ended_early=%ld\n",
                  level, delta / 1024, level > 0 ? delta / level : 0, trimmed / 1024,
                  level > 0 ? trimmed / level : 0, level > 0 ? heap / level : 0,
                  level > 0 ? (peak_heap.load() - idle_heap) / level : 0, issue_s, ended.load() - 200);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_client_rss: %s\n", e.what());
    return 1;
  }
  if (rpc) rpc->close();
  if (producer) producer->shutdown();
  return 0;
}
