// `rocketrpc serve`: hosts a built-in RpcReceiver in an RpcServer until SIGINT/SIGTERM. Prints READY once
// started and "stats: ..." (the server's counters) when it stops; with --metrics-port, serves the counters as
// Prometheus text (rocketrpc/metrics.h) and prints "METRICS host:port" before READY.
#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "cli_util.h"
#include "commands.h"
#include "rocketrpc/rpc.h"

namespace rocketrpc::cli {
namespace {

struct ServeOptions {
  std::string config;
  std::string receiver = "echo";
  int64_t delay_ms = 0;
  int64_t metrics_port = -1;  // -1: no endpoint
  std::string metrics_host = "127.0.0.1";
  SecurityFlags security;
};

/// echo: the request; upper: its ASCII uppercase; concat: like echo, and answers a session with its parts
/// joined by single spaces (the seed's ConcatenateReceiver). Thread-safe (stateless).
class BuiltinReceiver : public RpcReceiver {
 public:
  BuiltinReceiver(std::string mode, std::chrono::milliseconds delay)
      : mode_(std::move(mode)), delay_(delay) {}
  std::string processRequest(std::string_view request) override {
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    std::string s(request);
    return mode_ == "upper" ? asciiUpper(std::move(s)) : s;
  }
  std::string processStreamingRequest(const std::string&, const std::vector<std::string>& messages) override {
    if (mode_ != "concat") return RpcReceiver::processStreamingRequest({}, messages);
    std::string out;
    for (const std::string& m : messages) {
      if (!out.empty()) out += ' ';
      out += m;
    }
    return out;
  }

 private:
  std::string mode_;
  std::chrono::milliseconds delay_;
};

int runServe(const ServeOptions& o) {
  // Signals are blocked before any library thread exists, so only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  if (pthread_sigmask(SIG_BLOCK, &signals, nullptr) != 0) {
    printError(rpcErrorCodeName(RpcErrorCode::kInternal), "pthread_sigmask failed");
    return kExitRuntimeError;
  }
  try {
    RpcConfig config = loadRpcConfig(o.config);
    RpcServerOptions options = config.server;
    if (!config.has_server) {  // a client-only file: serve its topic with the default group
      options.broker_url = config.client.broker_url;
      options.request_topic = config.client.request_topic;
      options.access_key = config.client.access_key;
      options.secret_key = config.client.secret_key;
      options.security_token = config.client.security_token;
      options.tls = config.client.tls;
    }
    applySecurityFlags(o.security, options);
    RpcServer server(options,
                     std::make_shared<BuiltinReceiver>(o.receiver, std::chrono::milliseconds(o.delay_ms)));
    server.start();
    MetricsEndpoint metrics([&server] { return prometheusText(server); });
    if (o.metrics_port >= 0) {
      metrics.start(static_cast<uint16_t>(o.metrics_port), o.metrics_host);
      std::cout << "METRICS " << o.metrics_host << ":" << metrics.port() << std::endl;
    }
    std::cout << "READY" << std::endl;
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    metrics.close();
    server.close();
    std::cout << "stats: " << toString(server.stats()) << std::endl;
    return kExitOk;
  } catch (const RpcException& e) {
    printError(rpcErrorCodeName(e.code()), e.what());
    return exitCodeFor(e.code());
  }
}

}  // namespace

Command addServeCommand(CLI::App& parent) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* app = parent.add_subcommand("serve", "Serve RPCs with a built-in receiver until SIGINT/SIGTERM");
  app->footer(
      "Prints READY once started and 'stats: ...' when stopped. The YAML file's rocketmq.rpc.server section "
      "is used "
      "(or, without one, the client section's broker-url and request-topic with the default consumer "
      "group).");
  app->add_option("--config", o->config, "YAML file with rocketmq.rpc.server and/or .client")
      ->required()
      ->check(CLI::ExistingFile);
  app->add_option("--receiver", o->receiver, "echo (default), upper, or concat (joins a session's parts)")
      ->check(CLI::IsMember({"echo", "upper", "concat"}));
  app->add_option("--delay-ms", o->delay_ms, "Sleep this long in each processRequest (testing)")
      ->check(integerIn(0, 300000));
  app->add_option("--metrics-port", o->metrics_port,
                  "Serve Prometheus text at http://<metrics-host>:N/metrics (0 = any free port; printed)")
      ->check(integerIn(0, 65535));
  app->add_option("--metrics-host", o->metrics_host, "Address of --metrics-port (default 127.0.0.1)");
  addSecurityOptions(*app, o->security);
  return {app, [o] { return runServe(*o); }};
}

}  // namespace rocketrpc::cli
