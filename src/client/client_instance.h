// ClientInstance: the per-client-id state shared by the producers and consumers of one process that use the
// same name servers and instance name (Java's MQClientInstance): one connection set, the route cache, the
// broker address table, heartbeats, periodic route refresh, and the handlers for broker->client requests
// (NOTIFY_CONSUMER_IDS_CHANGED, PUSH_REPLY_MESSAGE_TO_CLIENT, GET_CONSUMER_RUNNING_INFO).
//
// Lifecycle: acquire() returns a started shared instance (reference counted per client id); release() drops a
// reference and shuts the instance down with the last one (unregistering every group from every broker).
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "common/executor.h"
#include "common/status.h"
#include "remoting/protocol/heartbeat_data.h"
#include "remoting/protocol/route_data.h"
#include "remoting/transport.h"
#include "rocketrpc/client_options.h"
#include "rocketrpc/message.h"

namespace rocketrpc::client {

class RequestFutureTable;

/// Routing facts for sending to a topic (derived from its TopicRouteData).
struct TopicPublishInfo {
  bool order_topic = false;
  std::vector<MessageQueue> queues;  // writable queues on brokers that have a master
  remoting::TopicRouteData route;
};

/// What a consumer exposes to its client instance. Implementations must be thread-safe.
class ConsumerHooks {
 public:
  virtual ~ConsumerHooks() = default;
  virtual std::string group() const = 0;
  virtual remoting::ConsumerData consumerData() const = 0;
  /// Topics whose routes the instance must keep fresh.
  virtual std::set<std::string> subscribedTopics() const = 0;
  /// Asks for a rebalance soon (group membership changed). Must not block.
  virtual void triggerRebalance() = 0;
  /// Called when a topic's subscribe queues may have changed.
  virtual void onRouteChanged(const std::string& topic) = 0;
  /// JSON text for GET_CONSUMER_RUNNING_INFO.
  virtual std::string runningInfoJson() const = 0;
};

class ClientInstance : public std::enable_shared_from_this<ClientInstance> {
 public:
  /// Inner producer group every instance registers (as Java does), so brokers can push replies to any client.
  static constexpr const char* kInnerProducerGroup = "CLIENT_INNER_PRODUCER";
  /// How often a broker whose connection closed is heartbeated until it answers again (a restart is then
  /// noticed within this of the broker listening again).
  static constexpr std::chrono::milliseconds kLostBrokerRetry{500};
  /// A broker lost for longer than this is retried at the heartbeat interval only.
  static constexpr std::chrono::milliseconds kLostBrokerFastFor{120000};

  /// Returns the started instance for these options' client id, creating it if needed.
  static Result<std::shared_ptr<ClientInstance>> acquire(const ClientOptions& options);
  /// Drops one reference taken by acquire(); the last one shuts the instance down.
  void release();

  /// Computes "<ip>@<instance>" for options (resolving defaults) without creating anything.
  static std::string makeClientId(const ClientOptions& options);

  const std::string& clientId() const { return client_id_; }
  const ClientOptions& options() const { return options_; }
  remoting::RemotingClient& remoting() { return *remoting_; }
  ThreadPool& callbackPool() { return *callback_pool_; }
  Scheduler& scheduler() { return *scheduler_; }
  /// One thread for blocking housekeeping (route refresh, heartbeats, rebalance).
  ThreadPool& servicePool() { return *service_pool_; }
  RequestFutureTable& requestFutures() { return *request_futures_; }
  std::chrono::milliseconds apiTimeout() const { return options_.api_timeout; }

  // --- name-server routes ---
  /// Fetches the route of `topic` from the name servers and updates the caches. NotFound when no route.
  Result<remoting::TopicRouteData> updateRoute(const std::string& topic);
  /// Publish info from cache, fetching on miss. With `allow_default_topic`, a topic unknown to the name
  /// servers falls back to the route of `default_topic` (queue counts capped at `default_queue_nums`),
  /// so that the broker auto-creates it. An empty `default_topic` disables the fallback: an unknown topic is
  /// NoRoute at once and is never created by sending to it.
  /// The returned snapshot is immutable and shared (a route update replaces it): no copy per send.
  Result<std::shared_ptr<const TopicPublishInfo>> publishInfo(const std::string& topic,
                                                              bool allow_default_topic = false,
                                                              const std::string& default_topic = "TBW102",
                                                              int default_queue_nums = 4);
  /// The cached publish info of `topic`, or null: never asks the name servers (async paths use it to tell
  /// whether the route must be fetched first, off the caller's thread).
  std::shared_ptr<const TopicPublishInfo> cachedPublishInfo(const std::string& topic) const;
  /// Readable queues of `topic` (fetching the route if needed), sorted.
  Result<std::vector<MessageQueue>> subscribeQueues(const std::string& topic);
  /// Address of the master of `broker_name`, or "" when unknown.
  std::string masterAddr(const std::string& broker_name) const;
  /// Address of broker `broker_id` of `broker_name`, falling back to the master, or "".
  std::string brokerAddr(const std::string& broker_name, int64_t broker_id) const;
  /// Some broker address serving `topic` (master preferred), or "".
  std::string anyBrokerAddrForTopic(const std::string& topic) const;
  /// Cluster name a broker reported in routes, or "".
  std::string clusterOf(const std::string& broker_name) const;
  /// Every broker address learned from any route (masters and slaves).
  std::vector<std::string> allBrokerAddrs() const;

  /// Keeps `topic`'s route fresh even without a producer/consumer naming it (request reply topics).
  void addTopicOfInterest(const std::string& topic);

  // --- groups ---
  void registerProducer(const std::string& group);
  void unregisterProducer(const std::string& group);
  void registerConsumer(std::shared_ptr<ConsumerHooks> consumer);
  void unregisterConsumer(const std::string& group);

  /// Sends HEART_BEAT to every known broker (all of them when any consumer is registered, masters otherwise;
  /// always all when `all_brokers`). Errors are logged; returns the first error.
  Status sendHeartbeatToAllBrokers(bool all_brokers = true);
  /// Asks for a heartbeat to every broker as soon as the service thread is free, without waiting for it (a
  /// broker answered SUBSCRIPTION_NOT_EXIST, SUBSCRIPTION_NOT_LATEST or "not online": it lost or never got
  /// our last heartbeat, e.g. it restarted). Requests made while one is queued share it. Never blocks.
  void heartbeatSoon();

  ~ClientInstance();

 private:
  ClientInstance(ClientOptions options, std::string client_id);
  Status start();
  void shutdown();
  void refreshRoutes();
  void applyRoute(const std::string& topic, const remoting::TopicRouteData& route);
  remoting::HeartbeatData heartbeatData() const;
  void handlePushReply(remoting::RemotingCommand req, remoting::Responder responder);
  /// Decodes (and inflates) a pushed reply and completes its request; compressed ones run on the callback pool.
  void deliverPushReply(remoting::RemotingCommand req);
  void handleNotifyConsumerIdsChanged(remoting::RemotingCommand req, remoting::Responder responder);
  void handleConsumerRunningInfo(remoting::RemotingCommand req, remoting::Responder responder);
  Result<remoting::TopicRouteData> fetchRoute(const std::string& topic);
  /// HEART_BEAT to `addrs` (waits for every answer); returns the addresses that took it. Failures are logged
  /// at WARN, or DEBUG with `quiet` (a broker known to be down, retried every kLostBrokerRetry).
  std::set<std::string> sendHeartbeat(const std::vector<std::string>& addrs, Status* first_error,
                                      bool quiet = false);
  /// Connection-close listener: a broker connection that closed (the broker may be restarting) is put on
  /// the lost list: every kLostBrokerRetry the routes are refreshed and the lost brokers heartbeated, until
  /// each takes a heartbeat and is routed again, so that senders avoid it while it is gone, and once back it
  /// knows our consumers and can push replies to us again before anything else needs it.
  void onConnectionClosed(const std::string& addr);
  void retryLostBrokers();
  /// True when some cached route lists `addr`.
  bool inSomeRoute(const std::string& addr) const;

  ClientOptions options_;
  std::string client_id_;
  std::vector<std::string> namesrv_addrs_;
  std::atomic<size_t> namesrv_index_{0};
  std::unique_ptr<remoting::RemotingClient> remoting_;
  std::unique_ptr<ThreadPool> callback_pool_;
  std::unique_ptr<ThreadPool> service_pool_;  // route refresh and heartbeats (may block on I/O)
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<RequestFutureTable> request_futures_;

  mutable std::shared_mutex route_mu_;
  std::map<std::string, remoting::TopicRouteData> routes_;
  std::map<std::string, std::shared_ptr<const TopicPublishInfo>> publish_infos_;
  std::map<std::string, remoting::BrokerData> brokers_;  // brokerName -> data
  std::set<std::string> topics_of_interest_;

  mutable std::mutex groups_mu_;
  std::map<std::string, int> producer_groups_;  // group -> registrations
  std::map<std::string, std::shared_ptr<ConsumerHooks>> consumers_;

  std::mutex heartbeat_mu_;  // serialises heartbeats
  std::atomic<bool> heartbeat_queued_{false};  // heartbeatSoon(): one queued at a time
  std::atomic<bool> closing_{false};           // set first by shutdown(): no new lost-broker work
  std::mutex lost_mu_;
  // guarded by lost_mu_: brokers whose connection closed (-> when), until they take a heartbeat and are routed
  std::map<std::string, std::chrono::steady_clock::time_point> lost_brokers_;
  bool lost_retry_scheduled_ = false;   // guarded by lost_mu_
  int refs_ = 0;             // guarded by the registry mutex
  std::atomic<bool> started_{false};  // read by every thread that sends (unregister*, heartbeats)

  friend class InstanceRegistry;
};

}  // namespace rocketrpc::client
