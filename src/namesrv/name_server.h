// NameServer: the name-server role (protocol reference section 8). It owns the route table, serves
// REGISTER_BROKER, UNREGISTER_BROKER, GET_ROUTEINFO_BY_TOPIC, GET_BROKER_CLUSTER_INFO and
// GET_ALL_TOPIC_LIST_FROM_NAMESERVER on a RemotingServer it does not own (the broker's, when both roles
// share one port), and expires silent brokers. In-process brokers call registerBrokerDirect().
// Lifecycle: construct -> registerProcessors(server) (before server start) -> start() -> shutdown().
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "namesrv/route_info_manager.h"
#include "remoting/transport.h"

namespace rocketrpc {
class Scheduler;
}

namespace rocketrpc::namesrv {

struct NameServerOptions {
  /// A broker not registered for this long is dropped. Default 120 s (Apache's BROKER_CHANNEL_EXPIRED_TIME).
  std::chrono::milliseconds broker_expiry{120000};
  /// Period of the expiry scan. Default 5 s.
  std::chrono::milliseconds scan_interval{5000};
  /// ms since the Unix epoch; default the system clock.
  std::function<int64_t()> clock;
};

/// Shared state of the name-server processors.
struct NamesrvContext {
  RouteInfoManager routes;
  std::function<int64_t()> clock;
};

class NameServer {
 public:
  explicit NameServer(NameServerOptions options = {});
  ~NameServer();
  NameServer(const NameServer&) = delete;
  NameServer& operator=(const NameServer&) = delete;

  /// Wraps a handler before it is registered (rocketrpc-broker's access check, broker/acl/acl_guard.h).
  using HandlerDecorator = std::function<remoting::RequestHandler(remoting::RequestHandler)>;
  /// Registers the name-server request handlers on `server`, each passed through `decorate` when given.
  /// Call before server.start().
  void registerProcessors(remoting::RemotingServer& server, const HandlerDecorator& decorate = {});
  /// Starts the expiry scanner.
  void start();
  void shutdown();
  /// Forget brokers registered over the connection from `remote_addr` (wire to the server close listener).
  void onConnectionClosed(const std::string& remote_addr);

  /// Registration without the network (the broker sharing this process).
  RegisterBrokerResult registerBrokerDirect(RegisterBrokerRequest req);
  void unregisterBrokerDirect(const std::string& cluster, const std::string& addr, const std::string& name,
                              int64_t broker_id);
  RouteInfoManager& routes() { return context_->routes; }

 private:
  NameServerOptions options_;
  std::shared_ptr<NamesrvContext> context_;
  std::unique_ptr<Scheduler> scheduler_;
};

}  // namespace rocketrpc::namesrv
