// rocketrpc-broker: a RocketMQ-compatible name server + broker in one process (docs/design/broker.md).
//   rocketrpc-broker [-c broker.conf] [--port N] [--store DIR] [--cluster NAME] [--broker-name NAME]
//                    [--metrics-port N] [--set key=value ...] [--help-config]
// Prints "READY <host:port>" on stdout once serving; SIGTERM/SIGINT stop it gracefully (exit 0).
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <pthread.h>

#include "broker/broker_config.h"
#include "broker/broker_server.h"
#include "common/log.h"

int main(int argc, char** argv) {
  using rocketrpc::broker::BrokerConfig;
  CLI::App app{"rocketrpc-broker: RocketMQ-compatible name server + broker"};
  std::string config_file;
  std::optional<int64_t> port;
  std::optional<int64_t> metrics_port;
  std::string store_dir, cluster, broker_name;
  std::vector<std::string> overrides;
  bool help_config = false;
  app.add_option("-c,--config", config_file, "key=value config file (Apache key names)");
  app.add_option("-p,--port", port, "listen port (listenPort), default 9876");
  app.add_option("--store", store_dir, "store directory (storePathRootDir)");
  app.add_option("--cluster", cluster, "cluster name (brokerClusterName)");
  app.add_option("--broker-name", broker_name, "broker name (brokerName)");
  app.add_option("--metrics-port", metrics_port, "Prometheus endpoint on 127.0.0.1 (metricsPort)");
  app.add_option("--set", overrides, "key=value, applied after the config file");
  app.add_flag("--help-config", help_config, "print every config property with its default and meaning");
  CLI11_PARSE(app, argc, argv);
  if (std::string bad_level; !rocketrpc::logLevelFromEnvironment(&bad_level)) {
    std::cerr << "rocketrpc-broker: " << bad_level << "\n";
    return 2;
  }

  if (help_config) {
    std::cout << rocketrpc::broker::describeConfig();
    return 0;
  }
  BrokerConfig config;
  if (!config_file.empty()) {
    if (auto s = rocketrpc::broker::loadConfigFile(config, config_file); !s.isOk()) {
      std::cerr << "rocketrpc-broker: " << s.toString() << "\n";
      return 2;
    }
  }
  for (const auto& kv : overrides) {
    auto eq = kv.find('=');
    auto s = eq == std::string::npos
                 ? rocketrpc::Status::invalidArgument("--set expects key=value: " + kv)
                 : rocketrpc::broker::setConfigProperty(config, kv.substr(0, eq), kv.substr(eq + 1));
    if (!s.isOk()) {
      std::cerr << "rocketrpc-broker: " << s.toString() << "\n";
      return 2;
    }
  }
  if (port) config.listen_port = *port;
  if (metrics_port) config.metrics_port = *metrics_port;
  if (!store_dir.empty()) config.store_path_root_dir = store_dir;
  if (!cluster.empty()) config.broker_cluster_name = cluster;
  if (!broker_name.empty()) config.broker_name = broker_name;

  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  rocketrpc::broker::BrokerServer server(config);
  if (auto s = server.start(); !s.isOk()) {
    std::cerr << "rocketrpc-broker: start failed: " << s.toString() << "\n";
    server.shutdown();
    return 1;
  }
  std::cout << "READY " << server.address() << std::endl;
  if (server.metricsPort() != 0) std::cout << "METRICS 127.0.0.1:" << server.metricsPort() << std::endl;

  int sig = 0;
  sigwait(&stop_signals, &sig);
  RRPC_LOG(kInfo, "broker", "signal {} received, shutting down", sig);
  server.shutdown();
  return 0;
}
