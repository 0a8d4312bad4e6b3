// `rocketrpc request`: one request printing its reply, or --count N requests with K in flight and a latency
// summary.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cli_util.h"
#include "commands.h"
#include "run_monitor.h"
#include "rocketrpc/producer.h"

namespace rocketrpc::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct RequestOptions {
  std::string namesrv;
  std::string topic;
  std::string body;
  bool has_body = false;
  int64_t timeout_ms = 3000;
  int64_t count = 0;  // 0: single request mode
  int64_t inflight = 1;
  int64_t size = 16;
  std::vector<std::string> props;
  bool expect_echo = false;
  SecurityFlags security;
};

/// Outcomes of --count mode, shared with the callbacks (which may outlive runMany if the library stalls).
struct Tally {
  std::mutex mu;
  std::condition_variable cv;
  int64_t inflight = 0, done = 0;
  std::vector<int64_t> latencies_us;  // successful requests only
  std::map<std::string, int64_t> error_kinds;
  std::string first_kind, first_error;

  void fail(int64_t n, std::string_view kind, std::string text) {  // caller holds mu
    error_kinds[std::string(kind)] += n;
    if (first_error.empty()) first_kind = kind, first_error = std::move(text);
  }
  void finish(int64_t latency_us, std::string_view error_kind = {}, std::string text = {}) {
    std::lock_guard lock(mu);
    if (error_kind.empty())
      latencies_us.push_back(latency_us);
    else
      fail(1, error_kind, std::move(text));
    --inflight, ++done;
    cv.notify_one();
  }
};

constexpr std::string_view kEchoMismatch = "EchoMismatch";
constexpr std::string_view kEchoMismatchText = "reply body differs from request body";

int runOne(Producer& producer, const Message& msg, const RequestOptions& o) {
  const std::chrono::milliseconds timeout(o.timeout_ms);
  MessageExt reply;
  try {
    reply = producer.request(msg, timeout);
  } catch (const MQException& e) {
    printError(e.code(), describeRequestError(e.code(), e.what(), o.topic, timeout));
    return exitCodeFor(e.code());
  }
  std::cout.write(reply.body().data(), static_cast<std::streamsize>(reply.body().size()));
  std::cout << std::endl;
  if (!o.expect_echo || reply.body() == msg.body()) return kExitOk;
  printError(kEchoMismatch, kEchoMismatchText);
  return kExitRuntimeError;
}

// Waits on `cv` until `ready`, the deadline, or a stop signal (checked every 100 ms: a signal handler cannot
// notify a condition variable). True when `ready` holds.
template <typename Pred>
bool waitOrStop(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, Clock::time_point deadline,
                Pred ready) {
  while (!ready()) {
    if (RunMonitor::stopSignal() != 0 || Clock::now() >= deadline) return false;
    cv.wait_for(lock, std::min<Clock::duration>(std::chrono::milliseconds(100), deadline - Clock::now()));
  }
  return true;
}

int runMany(Producer& producer, const Message& msg, const RequestOptions& o) {
  const std::chrono::milliseconds timeout(o.timeout_ms);
  const auto stall_limit = timeout + std::chrono::seconds(10);  // every outcome is due by the timeout
  auto tally = std::make_shared<Tally>();
  auto expected = o.expect_echo ? std::make_shared<const std::string>(msg.body()) : nullptr;
  const std::string topic = o.topic;
  auto on_error = [topic, timeout](Tally& t, int64_t us, ErrorCode code, const std::string& what) {
    t.finish(us, errorCodeName(code), describeRequestError(code, what, topic, timeout));
  };

  const auto t0 = Clock::now();
  RunMonitor monitor([tally, t0, count = o.count] {
    std::lock_guard lock(tally->mu);
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    const auto failed = tally->done - static_cast<int64_t>(tally->latencies_us.size());
    return "done=" + std::to_string(tally->done) + "/" + std::to_string(count) + " failed=" +
           std::to_string(failed) + " inflight=" + std::to_string(tally->inflight) +
           " rate=" + formatRate(static_cast<double>(tally->done), secs) + "/s";
  });
  bool stalled = false;
  int64_t sent = 0;
  for (int64_t i = 0; i < o.count && !stalled && RunMonitor::stopSignal() == 0; ++i) {
    {
      std::unique_lock lock(tally->mu);
      if (!waitOrStop(tally->cv, lock, Clock::now() + stall_limit, [&] { return tally->inflight < o.inflight; })) {
        stalled = RunMonitor::stopSignal() == 0;
        break;
      }
      ++tally->inflight;
    }
    ++sent;
    const auto start = Clock::now();
    try {
      producer.request(
          msg,
          [tally, expected, start, on_error](Outcome<MessageExt> out) {
            const auto us =
                std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
            if (!out.ok())
              on_error(*tally, us, out.errorCode(), out.errorMessage());
            else if (expected && out.value().body() != *expected)
              tally->finish(us, kEchoMismatch, std::string(kEchoMismatchText));
            else
              tally->finish(us);
          },
          timeout);
    } catch (const MQException& e) {  // refused before sending; the callback will not run
      on_error(*tally, 0, e.code(), e.what());
    }
  }

  std::unique_lock lock(tally->mu);
  if (!stalled) waitOrStop(tally->cv, lock, Clock::now() + stall_limit, [&] { return tally->inflight == 0; });
  monitor.finish();
  const int stop_signal = RunMonitor::stopSignal();
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  // Interrupted: the summary covers the requests that have an outcome; the others are named below.
  const int64_t total = stop_signal != 0 ? tally->done : o.count;
  const int64_t abandoned = sent - tally->done;
  if (stop_signal == 0 && o.count > tally->done) {
    tally->fail(o.count - tally->done, errorCodeName(ErrorCode::kInternal),
                "no outcome within " + std::to_string(stall_limit.count()) + " ms");
  }
  std::vector<int64_t>& lat = tally->latencies_us;
  std::sort(lat.begin(), lat.end());
  const auto ok = static_cast<int64_t>(lat.size());
  const int64_t errors = total - ok;
  std::printf("ok=%lld errors=%lld p50_us=%lld p99_us=%lld p999_us=%lld throughput_rps=%.1f\n",
              static_cast<long long>(ok), static_cast<long long>(errors),
              static_cast<long long>(percentile(lat, 0.50)), static_cast<long long>(percentile(lat, 0.99)),
              static_cast<long long>(percentile(lat, 0.999)),
              seconds > 0 ? static_cast<double>(ok) / seconds : 0.0);
  std::fflush(stdout);
  if (stop_signal != 0) {
    printError("Interrupted", std::string(stop_signal == SIGINT ? "SIGINT" : "SIGTERM") + " after " +
                                  std::to_string(tally->done) + " of " + std::to_string(o.count) +
                                  " requests (" + std::to_string(errors) + " failed, " +
                                  std::to_string(abandoned) + " in flight abandoned)");
    return 128 + stop_signal;
  }
  if (errors == 0) return kExitOk;

  std::string by_kind;
  for (const auto& [kind, n] : tally->error_kinds)
    by_kind += (by_kind.empty() ? "" : ", ") + kind + "=" + std::to_string(n);
  printError(tally->first_kind, std::to_string(errors) + " of " + std::to_string(o.count) +
                                    " requests failed (" + by_kind + "); first: " + tally->first_error);
  return exitCodeForName(tally->first_kind);
}

int runRequest(const RequestOptions& o) {
  Message msg(o.topic, o.has_body ? o.body : patternBody(static_cast<size_t>(o.size)));
  for (const std::string& prop : o.props) {
    auto [name, value] = splitProperty(prop);
    msg.putProperty(name, value);
  }

  ProducerOptions options;
  options.group = "rocketrpc_cli_" + std::to_string(::getpid());
  options.namesrv_addr = o.namesrv;
  options.instance_name = uniqueInstanceName("request");
  applySecurityFlags(o.security, options);
  Producer producer(options);
  try {
    producer.start();
  } catch (const MQException& e) {
    printError(e.code(), std::string("cannot start producer: ") + e.what());
    return exitCodeFor(e.code());
  }
  const int rc = o.count > 0 ? runMany(producer, msg, o) : runOne(producer, msg, o);
  producer.shutdown();
  return rc;
}

}  // namespace

Command addRequestCommand(CLI::App& parent) {
  auto o = std::make_shared<RequestOptions>();
  CLI::App* app = parent.add_subcommand("request", "Send requests and wait for their replies");
  app->footer(
      "With BODY (or neither BODY nor --count) sends one request and prints the reply body.\n"
      "With --count N sends N requests, K in flight, and prints\n"
      "  ok=N errors=E p50_us=.. p99_us=.. p999_us=.. throughput_rps=..\n"
      "On a terminal a progress line (done/failed/rate) is kept on stderr. SIGINT/SIGTERM print the summary so\n"
      "far and exit 130/143.");
  addNamesrvOption(*app, o->namesrv);
  addTopicOption(*app, o->topic);
  app->add_option("--timeout-ms", o->timeout_ms, "Reply timeout per request (default 3000)")
      ->check(integerIn(1, int64_t{3600} * 1000));
  CLI::Option* count = app->add_option("--count", o->count, "Send N requests and print a summary")
                           ->check(integerIn(1, INT64_MAX));
  app->add_option("--inflight", o->inflight, "Requests in flight at once with --count (default 1)")
      ->check(integerIn(1, 100000))
      ->needs(count);
  CLI::Option* size = app->add_option("--size", o->size, "Body size in bytes when no BODY (default 16)")
                          ->check(integerIn(0, int64_t{16} * 1024 * 1024));
  app->add_option("--prop", o->props, "Message property NAME=VALUE (repeatable)")
      ->allow_extra_args(false)  // one value per --prop, so BODY may follow
      ->check(checkWith(checkProperty, "NAME=VALUE"));
  app->add_flag("--expect-echo", o->expect_echo, "Fail unless each reply body equals the request body");
  addSecurityOptions(*app, o->security);
  CLI::Option* body = app->add_option("BODY", o->body, "Request body");
  size->excludes(body);
  return {app, [o, body] {
            o->has_body = body->count() > 0;
            return runRequest(*o);
          }};
}

}  // namespace rocketrpc::cli
