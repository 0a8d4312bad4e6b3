#include "remoting/protocol/code_names.h"

#include <algorithm>
#include <array>
#include <utility>

namespace rocketrpc::remoting {

namespace {

// Sorted by code. The codes this project serves or sends, plus the admin codes mqadmin sends to a broker or
// name server (so a scrape names what a tool asked for even when the answer was "not supported").
constexpr std::pair<int32_t, std::string_view> kNames[] = {
    {10, "SEND_MESSAGE"},
    {11, "PULL_MESSAGE"},
    {12, "QUERY_MESSAGE"},
    {14, "QUERY_CONSUMER_OFFSET"},
    {15, "UPDATE_CONSUMER_OFFSET"},
    {17, "UPDATE_AND_CREATE_TOPIC"},
    {21, "GET_ALL_TOPIC_CONFIG"},
    {25, "UPDATE_BROKER_CONFIG"},
    {26, "GET_BROKER_CONFIG"},
    {28, "GET_BROKER_RUNTIME_INFO"},
    {29, "SEARCH_OFFSET_BY_TIMESTAMP"},
    {30, "GET_MAX_OFFSET"},
    {31, "GET_MIN_OFFSET"},
    {32, "GET_EARLIEST_MSG_STORETIME"},
    {33, "VIEW_MESSAGE_BY_ID"},
    {34, "HEART_BEAT"},
    {35, "UNREGISTER_CLIENT"},
    {36, "CONSUMER_SEND_MSG_BACK"},
    {37, "END_TRANSACTION"},
    {38, "GET_CONSUMER_LIST_BY_GROUP"},
    {39, "CHECK_TRANSACTION_STATE"},
    {40, "NOTIFY_CONSUMER_IDS_CHANGED"},
    {41, "LOCK_BATCH_MQ"},
    {42, "UNLOCK_BATCH_MQ"},
    {43, "GET_ALL_CONSUMER_OFFSET"},
    {45, "GET_ALL_DELAY_OFFSET"},
    {46, "CHECK_CLIENT_CONFIG"},
    {100, "PUT_KV_CONFIG"},
    {101, "GET_KV_CONFIG"},
    {102, "DELETE_KV_CONFIG"},
    {103, "REGISTER_BROKER"},
    {104, "UNREGISTER_BROKER"},
    {105, "GET_ROUTEINFO_BY_TOPIC"},
    {106, "GET_BROKER_CLUSTER_INFO"},
    {200, "UPDATE_AND_CREATE_SUBSCRIPTIONGROUP"},
    {201, "GET_ALL_SUBSCRIPTIONGROUP_CONFIG"},
    {202, "GET_TOPIC_STATS_INFO"},
    {203, "GET_CONSUMER_CONNECTION_LIST"},
    {204, "GET_PRODUCER_CONNECTION_LIST"},
    {205, "WIPE_WRITE_PERM_OF_BROKER"},
    {206, "GET_ALL_TOPIC_LIST_FROM_NAMESERVER"},
    {207, "DELETE_SUBSCRIPTIONGROUP"},
    {208, "GET_CONSUME_STATS"},
    {215, "DELETE_TOPIC_IN_BROKER"},
    {216, "DELETE_TOPIC_IN_NAMESRV"},
    {220, "INVOKE_BROKER_TO_RESET_OFFSET"},
    {221, "INVOKE_BROKER_TO_GET_CONSUMER_STATUS"},
    {224, "GET_TOPICS_BY_CLUSTER"},
    {300, "QUERY_TOPIC_CONSUME_BY_WHO"},
    {307, "GET_CONSUMER_RUNNING_INFO"},
    {309, "CONSUME_MESSAGE_DIRECTLY"},
    {310, "SEND_MESSAGE_V2"},
    {317, "GET_BROKER_CONSUME_STATS"},
    {320, "SEND_BATCH_MESSAGE"},
    {321, "QUERY_CONSUME_QUEUE"},
    {322, "QUERY_DATA_VERSION"},
    {324, "SEND_REPLY_MESSAGE"},
    {325, "SEND_REPLY_MESSAGE_V2"},
    {326, "PUSH_REPLY_MESSAGE_TO_CLIENT"},
    {361, "LITE_PULL_MESSAGE"},
};

}  // namespace

std::string_view requestCodeName(int32_t code) {
  const auto* it = std::lower_bound(std::begin(kNames), std::end(kNames), code,
                                    [](const auto& entry, int32_t c) { return entry.first < c; });
  return it != std::end(kNames) && it->first == code ? it->second : std::string_view();
}

std::string requestCodeLabel(int32_t code) {
  std::string_view name = requestCodeName(code);
  return name.empty() ? "CODE_" + std::to_string(code) : std::string(name);
}

}  // namespace rocketrpc::remoting
