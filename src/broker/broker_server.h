// BrokerServer: one process serving the broker role and (by default) the name-server role on one port.
// Owns the store, the RemotingServer, the worker pool, long polling, delayed delivery, name-server
// registration (in-process and to namesrvAddr), client expiry and the optional metrics endpoint.
// Lifecycle: construct -> start() -> shutdown() (idempotent; also run by the destructor): stop accepting,
// answer parked pulls, drain workers, flush and close the store. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "broker/broker_config.h"
#include "common/status.h"

namespace rocketrpc {
class ThreadPool;
class Scheduler;
namespace remoting {
class RemotingServer;
class RemotingClient;
}  // namespace remoting
namespace namesrv {
class NameServer;
}
namespace store {
class DirectoryLock;
class FileSystem;
}
namespace remoting {
class MetricsHttpServer;
}
}  // namespace rocketrpc

namespace rocketrpc::broker {

struct BrokerContext;
namespace acl {
class AclGuard;
}
class PullRequestHoldService;
class ScheduleMessageService;

class BrokerServer {
 public:
  explicit BrokerServer(BrokerConfig config);
  ~BrokerServer();
  BrokerServer(const BrokerServer&) = delete;
  BrokerServer& operator=(const BrokerServer&) = delete;

  /// Validates the config, locks the store directory (OverLimit naming the directory and the holder's pid when
  /// another broker has it), opens (recovers) the store, binds listenHost:listenPort and registers with the
  /// name servers. Errors: InvalidArgument (config), store errors, Network (bind).
  Status start();
  /// Bound port (after start()).
  uint16_t port() const;
  /// "brokerIP1:port": the address clients and name servers use.
  std::string address() const;
  /// Metrics endpoint port, 0 when off.
  uint16_t metricsPort() const;
  void shutdown();

  BrokerContext& context() { return *ctx_; }
  /// Null when namesrvEnable=false.
  namesrv::NameServer* nameServer() { return namesrv_.get(); }
  /// Registers with every name server now (also runs periodically and on topic changes).
  void registerBrokerAll();
  /// The access check, null when aclEnable=false.
  acl::AclGuard* aclGuard() { return acl_.get(); }
  /// Prometheus text of the counters.
  std::string metricsText() const;
  /// Test seam, before start(): the filesystem the store's files live on (default: the POSIX one). The fault
  /// tests give it one that fails chosen calls (ENOSPC, EIO, EMFILE).
  void setStoreFileSystem(std::shared_ptr<store::FileSystem> fs) { store_fs_ = std::move(fs); }

 private:
  void onConnectionClosed(const std::string& remote_addr);

  BrokerConfig config_;
  std::unique_ptr<store::DirectoryLock> store_lock_;  // held from start() until the store is closed
  std::shared_ptr<BrokerContext> ctx_;
  std::unique_ptr<remoting::RemotingServer> server_;
  std::unique_ptr<remoting::RemotingClient> namesrv_client_;
  std::unique_ptr<namesrv::NameServer> namesrv_;
  std::unique_ptr<ThreadPool> workers_;
  std::unique_ptr<Scheduler> scheduler_;
  std::shared_ptr<PullRequestHoldService> holds_;
  std::unique_ptr<ScheduleMessageService> schedule_;
  std::unique_ptr<remoting::MetricsHttpServer> metrics_http_;
  std::shared_ptr<acl::AclGuard> acl_;  // null when aclEnable=false
  std::shared_ptr<store::FileSystem> store_fs_;  // null: POSIX
  uint16_t port_ = 0;
  std::mutex lifecycle_mu_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace rocketrpc::broker
