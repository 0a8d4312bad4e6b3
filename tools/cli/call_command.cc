// `rocketrpc call`: one RPC through RpcClient, configured by the seed's YAML file. Prints the reply payload
// on stdout, or the error on stderr ("error: <Kind>: <text>", exit 1). With --stream, sends the parts as one
// streaming session and prints the session's answer.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli_util.h"
#include "commands.h"
#include "run_monitor.h"
#include "rocketrpc/rpc.h"

namespace rocketrpc::cli {
namespace {

struct CallOptions {
  std::string config;
  int64_t timeout_ms = 0;  // 0: default-timeout-millis of the file
  bool stream = false;
  bool stats = false;
  int64_t count = 0;  // 0: one call
  std::vector<std::string> payloads;
  SecurityFlags security;
};

int printResponse(const RpcResponse& r) {
  if (r.success()) {
    std::cout.write(r.payload().data(), static_cast<std::streamsize>(r.payload().size()));
    std::cout << std::endl;
    return kExitOk;
  }
  printError(rpcErrorCodeName(r.errorCode()), r.errorMessage());
  return exitCodeFor(r.errorCode());
}

// --count N: N calls one after the other, then the summary line `request --count` prints.
int runMany(RpcClient& client, const std::string& payload, std::chrono::milliseconds timeout, int64_t count) {
  using Clock = std::chrono::steady_clock;
  std::mutex mu;  // the progress line reads the counters from the monitor's thread
  int64_t done = 0, failed = 0;
  std::vector<int64_t> lat;
  std::map<std::string, int64_t> kinds;
  std::string first_kind, first_error;
  const auto t0 = Clock::now();
  RunMonitor monitor([&] {
    std::lock_guard lock(mu);
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    return "done=" + std::to_string(done) + "/" + std::to_string(count) + " failed=" + std::to_string(failed) +
           " rate=" + formatRate(static_cast<double>(done), secs) + "/s";
  });
  for (int64_t i = 0; i < count && RunMonitor::stopSignal() == 0; ++i) {
    const auto start = Clock::now();
    std::string kind, error;
    try {
      RpcResponse r = client.sendSync(payload, timeout);
      if (!r.success()) kind = rpcErrorCodeName(r.errorCode()), error = r.errorMessage();
    } catch (const RpcException& e) {
      kind = rpcErrorCodeName(e.code()), error = e.what();
    }
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    std::lock_guard lock(mu);
    ++done;
    if (kind.empty()) {
      lat.push_back(us);
    } else {
      ++failed, ++kinds[kind];
      if (first_kind.empty()) first_kind = kind, first_error = error;
    }
  }
  monitor.finish();
  std::lock_guard lock(mu);
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::sort(lat.begin(), lat.end());
  std::printf("ok=%lld errors=%lld p50_us=%lld p99_us=%lld p999_us=%lld throughput_rps=%.1f\n",
              static_cast<long long>(lat.size()), static_cast<long long>(failed),
              static_cast<long long>(percentile(lat, 0.50)), static_cast<long long>(percentile(lat, 0.99)),
              static_cast<long long>(percentile(lat, 0.999)),
              seconds > 0 ? static_cast<double>(lat.size()) / seconds : 0.0);
  std::fflush(stdout);
  if (const int sig = RunMonitor::stopSignal(); sig != 0) {
    printError("Interrupted", std::string(sig == SIGINT ? "SIGINT" : "SIGTERM") + " after " + std::to_string(done) +
                                  " of " + std::to_string(count) + " calls (" + std::to_string(failed) +
                                  " failed)");
    return 128 + sig;
  }
  if (failed == 0) return kExitOk;
  std::string by_kind;
  for (const auto& [kind, n] : kinds) by_kind += (by_kind.empty() ? "" : ", ") + kind + "=" + std::to_string(n);
  printError(first_kind, std::to_string(failed) + " of " + std::to_string(count) + " calls failed (" + by_kind +
                             "); first: " + first_error);
  return exitCodeForName(first_kind);
}

int runCall(const CallOptions& o) {
  try {
    RpcConfig config = loadRpcConfig(o.config);
    if (!config.has_client) {
      printError(rpcErrorCodeName(RpcErrorCode::kConfig), o.config + ": no rocketmq.rpc.client section");
      return kExitUsageError;
    }
    if (!o.stream && o.payloads.size() != 1) {
      printError(rpcErrorCodeName(RpcErrorCode::kInvalidArgument),
                 "call takes exactly one PAYLOAD (use --stream to send several parts as one session)");
      return kExitUsageError;
    }
    const auto timeout =
        o.timeout_ms > 0 ? std::chrono::milliseconds(o.timeout_ms) : config.client.default_timeout;
    applySecurityFlags(o.security, config.client);
    RpcClient client(config.client);
    client.start();
    int rc = kExitOk;
    try {
      if (o.count > 0) {
        rc = runMany(client, o.payloads.front(), timeout, o.count);
      } else if (o.stream) {
        std::string session = client.sendStreamingStart();
        for (const std::string& part : o.payloads) client.sendStreamingMessage(session, part);
        rc = printResponse(client.sendStreamingEnd(session, timeout));
      } else {
        rc = printResponse(client.sendSync(o.payloads.front(), timeout));
      }
    } catch (const RpcException& e) {
      printError(rpcErrorCodeName(e.code()), e.what());
      rc = exitCodeFor(e.code());
    }
    if (o.stats) std::cerr << "stats: " << toString(client.stats()) << std::endl;
    client.close();
    return rc;
  } catch (const RpcException& e) {
    printError(rpcErrorCodeName(e.code()), e.what());
    return exitCodeFor(e.code());
  }
}

}  // namespace

Command addCallCommand(CLI::App& parent) {
  auto o = std::make_shared<CallOptions>();
  CLI::App* app = parent.add_subcommand("call", "Send one RPC (or one streaming session) through RpcClient");
  app->footer(
      "Prints the reply payload, or 'error: <Kind>: <text>' on stderr and exits with the Kind's code: 1 "
      "RemoteError, Session and other failures; 2 InvalidArgument, Config; 3 AccessDenied; 4 Timeout; 5 "
      "NoResponder, SendFailed, Network; 6 OverLimit. Security flags override the file's access-key, "
      "secret-key, security-token and tls.");
  app->add_option("--config", o->config, "YAML file with rocketmq.rpc.client (the seed's format)")
      ->required()
      ->check(CLI::ExistingFile);
  app->add_option("--timeout-ms", o->timeout_ms, "Reply timeout (default: default-timeout-millis)")
      ->check(integerIn(1, 300000));
  app->add_flag("--stream", o->stream, "Send the PARTs as one streaming session and print its answer");
  app->add_option("--count", o->count,
                  "Send N calls one after another and print ok=.. errors=.. p50_us=.. summary (progress on a "
                  "terminal; SIGINT/SIGTERM print the summary so far, exit 130/143)")
      ->check(integerIn(1, INT64_MAX))
      ->excludes("--stream");
  app->add_flag("--stats", o->stats, "Print the client's counters and latency on stderr at the end");
  addSecurityOptions(*app, o->security);
  app->add_option("payload", o->payloads, "PAYLOAD, or with --stream the PARTs of the session")->required();
  return {app, [o] { return runCall(*o); }};
}

}  // namespace rocketrpc::cli
