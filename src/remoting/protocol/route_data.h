// Name-server bodies: TopicRouteData (GET_ROUTEINFO_BY_TOPIC) and ClusterInfo (GET_BROKER_CLUSTER_INFO).
// Parsers accept both fastjson encodings: standard JSON and the legacy form with unquoted integer map keys
// ({0:"ip:port"}). Encoders emit standard JSON. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rocketrpc::remoting {

namespace perm {
inline constexpr int32_t kPriority = 8;
inline constexpr int32_t kRead = 4;
inline constexpr int32_t kWrite = 2;
inline constexpr int32_t kInherit = 1;
}  // namespace perm

struct QueueData {
  std::string broker_name;
  int32_t read_queue_nums = 0;
  int32_t write_queue_nums = 0;
  int32_t perm = 6;
  int32_t topic_sys_flag = 0;  // also read from the <=4.8 spelling "topicSynFlag"
  friend bool operator==(const QueueData&, const QueueData&) = default;
};

struct BrokerData {
  std::string cluster;
  std::string broker_name;
  std::map<int64_t, std::string> broker_addrs;  // brokerId -> "ip:port"; 0 = master
  /// Master address or "" when none.
  std::string masterAddr() const;
  friend bool operator==(const BrokerData&, const BrokerData&) = default;
};

struct TopicRouteData {
  std::string order_topic_conf;
  std::vector<QueueData> queue_datas;
  std::vector<BrokerData> broker_datas;
  friend bool operator==(const TopicRouteData&, const TopicRouteData&) = default;
};

struct ClusterInfo {
  std::map<std::string, BrokerData> broker_addr_table;               // brokerName -> data
  std::map<std::string, std::vector<std::string>> cluster_addr_table;  // cluster -> brokerNames
};

/// Rewrites bare integer object keys ({0:"a"} -> {"0":"a"}) outside strings; everything else is copied.
std::string quoteBareIntegerKeys(std::string_view json);

Result<TopicRouteData> parseTopicRouteData(std::string_view json);
std::string encodeTopicRouteData(const TopicRouteData& route);
Result<ClusterInfo> parseClusterInfo(std::string_view json);
/// `legacy` writes integer keys unquoted, as Java name servers always do for cluster info.
std::string encodeClusterInfo(const ClusterInfo& info, bool legacy);

}  // namespace rocketrpc::remoting
