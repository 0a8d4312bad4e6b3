// RouteInfoManager: the name server's tables (protocol reference section 8): which brokers exist, which
// cluster each belongs to, and which queues every topic has on each broker. Brokers register periodically;
// one silent for longer than the expiry, or whose connection closes, is dropped with its queues.
// Thread-safe (one mutex; every operation is short).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "namesrv/topic_config.h"
#include "remoting/protocol/route_data.h"

namespace rocketrpc::namesrv {

struct RegisterBrokerRequest {
  std::string cluster_name;
  std::string broker_addr;  // "ip:port"
  std::string broker_name;
  int64_t broker_id = 0;  // 0 = master
  std::string ha_server_addr;
  TopicConfigWrapper topics;
  /// Remote address of the registering connection ("" for the in-process broker: never closes).
  std::string channel;
};

struct RegisterBrokerResult {
  std::string ha_server_addr;  // of the master, for slaves
  std::string master_addr;     // "" for masters or when no master is alive
};

class RouteInfoManager {
 public:
  /// Records the broker; a master's queue data is (re)read when its DataVersion changed, on first
  /// registration, or for topics not yet routed to it. Topics missing from a changed master table are
  /// removed from its routes.
  RegisterBrokerResult registerBroker(const RegisterBrokerRequest& req, int64_t now_ms);
  /// Removes one address of a broker; the broker (and its queue data) goes when it has no address left.
  void unregisterBroker(const std::string& cluster_name, const std::string& broker_addr,
                        const std::string& broker_name, int64_t broker_id);
  /// Route of `topic`, or nullopt when no live broker serves it.
  std::optional<remoting::TopicRouteData> pickupTopicRouteData(const std::string& topic) const;
  remoting::ClusterInfo clusterInfo() const;
  std::vector<std::string> allTopics() const;
  /// Forgets `topic` (DELETE_TOPIC_IN_NAMESRV): every broker's queue data, or with `cluster_name` (5.x) only
  /// those of that cluster's brokers. False when the topic was unknown.
  bool deleteTopic(const std::string& topic, const std::string& cluster_name = {});
  /// Drops brokers whose last registration is older than `expiry_ms`; returns their addresses.
  std::vector<std::string> scanNotActiveBroker(int64_t now_ms, int64_t expiry_ms);
  /// Drops brokers registered over the connection from `channel`.
  void onChannelClosed(const std::string& channel);
  /// Last DataVersion registered by `broker_addr` (tests, QUERY_DATA_VERSION).
  std::optional<DataVersion> dataVersionOf(const std::string& broker_addr) const;

 private:
  struct LiveInfo {
    int64_t last_update_ms = 0;
    DataVersion data_version;
    std::string ha_server_addr;
    std::string channel;
    std::string cluster_name;
    std::string broker_name;
    int64_t broker_id = 0;
  };
  void removeAddrLocked(const std::string& broker_addr);
  void removeBrokerNameLocked(const std::string& broker_name);

  mutable std::mutex mu_;
  // topic -> brokerName -> queue data
  std::map<std::string, std::map<std::string, remoting::QueueData>> topic_queue_table_;
  std::map<std::string, remoting::BrokerData> broker_addr_table_;  // brokerName -> data
  std::map<std::string, std::set<std::string>> cluster_addr_table_;  // cluster -> brokerNames
  std::map<std::string, LiveInfo> broker_live_table_;                // brokerAddr -> live info
};

}  // namespace rocketrpc::namesrv
