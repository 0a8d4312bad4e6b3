// HEART_BEAT body (HeartbeatData JSON) and subscription expressions. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rocketrpc::remoting {

struct SubscriptionData {
  std::string topic;
  std::string sub_string = "*";   // "*" or tags joined by "||"
  std::set<std::string> tags_set;  // empty for "*"
  std::set<int32_t> code_set;      // Java String.hashCode of each tag
  int64_t sub_version = 0;         // ms timestamp when built
  std::string expression_type = "TAG";
  bool class_filter_mode = false;

  /// True when a message with `tags` passes this subscription (exact tag match, or "*").
  bool matches(std::string_view tags) const;
};

/// Builds a TAG subscription from "*", "" or "A || B" (parts trimmed, empty parts ignored).
Result<SubscriptionData> buildSubscription(const std::string& topic, const std::string& expression,
                                           int64_t sub_version);

struct ConsumerData {
  std::string group_name;
  std::string consume_type = "CONSUME_PASSIVELY";
  std::string message_model = "CLUSTERING";
  std::string consume_from_where = "CONSUME_FROM_LAST_OFFSET";
  std::vector<SubscriptionData> subscriptions;
  bool unit_mode = false;
};

struct HeartbeatData {
  std::string client_id;
  std::vector<std::string> producer_groups;
  std::vector<ConsumerData> consumers;
};

std::string encodeHeartbeat(const HeartbeatData& hb);
Result<HeartbeatData> parseHeartbeat(std::string_view json);

/// {"consumerIdList":[...]}
Result<std::vector<std::string>> parseConsumerIdList(std::string_view json);
std::string encodeConsumerIdList(const std::vector<std::string>& ids);

}  // namespace rocketrpc::remoting
