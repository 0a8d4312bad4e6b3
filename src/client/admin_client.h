// AdminClient: the administrative requests of RocketMQ's remoting protocol, as mqadmin sends them
// (MQClientAPIImpl), to name servers and brokers: Apache RocketMQ and rocketrpc-broker alike.
//
//   name server: GET_BROKER_CLUSTER_INFO (106), GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206),
//                GET_ROUTEINFO_BY_TOPIC (105), DELETE_TOPIC_IN_NAMESRV (216)
//   broker:      UPDATE_AND_CREATE_TOPIC (17), DELETE_TOPIC_IN_BROKER (215), GET_ALL_SUBSCRIPTIONGROUP_CONFIG
//                (201), GET_CONSUME_STATS (208), GET_BROKER_RUNTIME_INFO (28), QUERY_TOPIC_CONSUME_BY_WHO (300),
//                GET_CONSUMER_CONNECTION_LIST (203)
//
// It is the one place outside the broker that knows these codes and bodies: the `rocketrpc admin` CLI and the
// RPC layer's responder probe both go through it. An AdminClient either owns its connections (create(), for
// the CLI) or borrows a ClientInstance's (the probe: no second connection set, same credentials and TLS).
// Name-server requests go to the name servers in turn until one answers. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "remoting/protocol/route_data.h"
#include "rocketrpc/client_options.h"
#include "rocketrpc/message.h"

namespace rocketrpc::remoting {
class RemotingClient;
}

namespace rocketrpc::client {

class ClientInstance;

/// Fields of UPDATE_AND_CREATE_TOPIC (mqadmin updateTopic's defaults).
struct TopicSpec {
  std::string topic;
  int32_t read_queues = 8;
  int32_t write_queues = 8;
  int32_t perm = 6;  // PermName: 2 read, 4 write, 1 inherit
  bool order = false;
};

/// One entry of a ConsumeStats offset table: where a group stands on one queue.
struct QueueProgress {
  MessageQueue queue;
  int64_t broker_offset = 0;    // max offset of the queue
  int64_t consumer_offset = 0;  // committed offset of the group
  int64_t last_timestamp = 0;   // store time of the last consumed message (ms), 0 when unknown
  int64_t lag() const { return broker_offset > consumer_offset ? broker_offset - consumer_offset : 0; }
};

/// GET_CONSUME_STATS answer of one broker (ConsumeStats).
struct ConsumeStats {
  std::vector<QueueProgress> queues;  // sorted by queue
  double consume_tps = 0;
};

/// One SubscriptionGroupConfig of GET_ALL_SUBSCRIPTIONGROUP_CONFIG.
struct SubscriptionGroupInfo {
  std::string group;
  bool consume_enable = true;
  bool broadcast = false;
  int32_t retry_queue_nums = 1;
  int32_t retry_max_times = 16;
};

/// What GET_CONSUMER_CONNECTION_LIST says about an online group.
struct ConsumerConnectionInfo {
  size_t connections = 0;
  std::set<std::string> topics;  // subscribed topics
};

class AdminClient {
 public:
  /// An AdminClient with its own connections, configured like a ClientInstance from `options` (name servers,
  /// credentials, TLS, header format; api_timeout is the per-request timeout). InvalidArgument for unusable
  /// options (e.g. a TLS file that cannot be loaded).
  static Result<std::unique_ptr<AdminClient>> create(const ClientOptions& options);
  /// Borrows `instance`'s connections and name servers; the instance must outlive this.
  explicit AdminClient(ClientInstance& instance, std::chrono::milliseconds timeout);
  ~AdminClient();
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;

  // --- name server ---
  Result<remoting::ClusterInfo> clusterInfo();
  /// Topic names the name servers know (sorted).
  Result<std::vector<std::string>> topicList();
  /// NotFound when the name servers have no route for `topic`.
  Result<remoting::TopicRouteData> topicRoute(const std::string& topic);
  /// Deletes the route of `topic` on every name server (each one, not the first that answers).
  Status deleteTopicInNamesrvs(const std::string& topic);
  /// Master addresses of the brokers of `cluster` (every cluster when empty), sorted by broker name.
  /// NotFound when the cluster is unknown or has no master.
  Result<std::vector<std::string>> masterAddrs(const std::string& cluster = {});

  // --- broker at `addr` ---
  Status createOrUpdateTopic(const std::string& addr, const TopicSpec& spec);
  Status deleteTopicInBroker(const std::string& addr, const std::string& topic);
  Result<std::vector<SubscriptionGroupInfo>> subscriptionGroups(const std::string& addr);
  /// Progress of `group` on `topic` (on every topic it has offsets for, when empty).
  Result<ConsumeStats> consumeStats(const std::string& addr, const std::string& group, const std::string& topic);
  /// The broker's KVTable of runtime figures (brokerVersionDesc, putTps, commitLogMaxOffset, ...).
  Result<std::map<std::string, std::string>> brokerRuntimeInfo(const std::string& addr);
  /// Groups subscribed to `topic` while online or with an offset committed on it.
  Result<std::vector<std::string>> topicConsumerGroups(const std::string& addr, const std::string& topic);
  /// Connections and subscriptions of `group`; nullopt when no member is online (CONSUMER_NOT_ONLINE).
  Result<std::optional<ConsumerConnectionInfo>> consumerConnection(const std::string& addr, const std::string& group);

  std::chrono::milliseconds timeout() const { return timeout_; }

 private:
  AdminClient(std::unique_ptr<remoting::RemotingClient> owned, std::vector<std::string> namesrvs,
              std::chrono::milliseconds timeout);
  remoting::RemotingClient& remoting() { return *remoting_; }

  std::unique_ptr<remoting::RemotingClient> owned_;
  remoting::RemotingClient* remoting_ = nullptr;
  std::vector<std::string> namesrvs_;
  std::chrono::milliseconds timeout_;
};

/// Rewrites object keys that are JSON objects (fastjson writes Map<MessageQueue, V> as
/// {{"brokerName":"b","queueId":0,"topic":"t"}:{...}}) into strings holding that object's text, and bare
/// integer keys into strings, so that a standard JSON parser reads the body. Strings are copied as they are.
std::string quoteNonStringKeys(std::string_view json);

}  // namespace rocketrpc::client
