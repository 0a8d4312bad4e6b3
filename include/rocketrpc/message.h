// Messages and queues, as users of Apache RocketMQ's clients know them. Plain value types (thread-compatible).
#pragma once

#include "rocketrpc/export.h"
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace rocketrpc {

/// Reserved property names (MessageConst in the Java client).
namespace property {
inline constexpr std::string_view kKeys = "KEYS";
inline constexpr std::string_view kTags = "TAGS";
inline constexpr std::string_view kWaitStoreMsgOk = "WAIT";
inline constexpr std::string_view kDelayTimeLevel = "DELAY";
inline constexpr std::string_view kRetryTopic = "RETRY_TOPIC";
inline constexpr std::string_view kRealTopic = "REAL_TOPIC";
inline constexpr std::string_view kRealQueueId = "REAL_QID";
inline constexpr std::string_view kTransactionPrepared = "TRAN_MSG";
inline constexpr std::string_view kMinOffset = "MIN_OFFSET";
inline constexpr std::string_view kMaxOffset = "MAX_OFFSET";
inline constexpr std::string_view kOriginMessageId = "ORIGIN_MESSAGE_ID";
inline constexpr std::string_view kReconsumeTime = "RECONSUME_TIME";
inline constexpr std::string_view kMaxReconsumeTimes = "MAX_RECONSUME_TIMES";
inline constexpr std::string_view kConsumeStartTime = "CONSUME_START_TIME";
inline constexpr std::string_view kUniqClientMessageId = "UNIQ_KEY";
inline constexpr std::string_view kCorrelationId = "CORRELATION_ID";
inline constexpr std::string_view kReplyToClient = "REPLY_TO_CLIENT";
inline constexpr std::string_view kTtl = "TTL";
inline constexpr std::string_view kArriveTime = "ARRIVE_TIME";
inline constexpr std::string_view kPushReplyTime = "PUSH_REPLY_TIME";
inline constexpr std::string_view kCluster = "CLUSTER";
inline constexpr std::string_view kMessageType = "MSG_TYPE";
inline constexpr std::string_view kReplyMessageFlag = "reply";  // value of MSG_TYPE on replies
}  // namespace property

/// A message to send. Body bytes are opaque (may hold NUL). Properties are UTF-8 strings; names and values
/// must not contain the separators \x01 and \x02.
class ROCKETRPC_API Message {
 public:
  Message() = default;
  Message(std::string topic, std::string body) : topic_(std::move(topic)), body_(std::move(body)) {}
  Message(std::string topic, std::string tags, std::string body);

  const std::string& topic() const { return topic_; }
  void setTopic(std::string topic) { topic_ = std::move(topic); }
  const std::string& body() const { return body_; }
  std::string& mutableBody() { return body_; }
  void setBody(std::string body) { body_ = std::move(body); }
  int32_t flag() const { return flag_; }
  void setFlag(int32_t flag) { flag_ = flag; }

  std::string tags() const { return getProperty(property::kTags); }
  void setTags(std::string_view tags) { putProperty(property::kTags, tags); }
  std::string keys() const { return getProperty(property::kKeys); }
  /// Keys are joined with a space.
  void setKeys(const std::vector<std::string>& keys);
  void setKeys(std::string_view keys) { putProperty(property::kKeys, keys); }
  int delayTimeLevel() const;
  void setDelayTimeLevel(int level);
  bool waitStoreMsgOk() const { return getProperty(property::kWaitStoreMsgOk) != "false"; }
  void setWaitStoreMsgOk(bool wait) { putProperty(property::kWaitStoreMsgOk, wait ? "true" : "false"); }

  /// Empty string when absent.
  std::string getProperty(std::string_view name) const;
  bool hasProperty(std::string_view name) const { return properties_.find(name) != properties_.end(); }
  /// Empty values are not stored (RocketMQ drops them on the wire); use clearProperty to remove.
  void putProperty(std::string_view name, std::string_view value);
  void clearProperty(std::string_view name);
  const std::map<std::string, std::string, std::less<>>& properties() const { return properties_; }
  std::map<std::string, std::string, std::less<>>& mutableProperties() { return properties_; }

 private:
  std::string topic_;
  std::string body_;
  int32_t flag_ = 0;
  std::map<std::string, std::string, std::less<>> properties_;
};

/// A queue of a topic on one broker.
struct ROCKETRPC_API MessageQueue {
  std::string topic;
  std::string broker_name;
  int32_t queue_id = 0;

  // Spelled out (not defaulted) so that the header compiles as C++17. Order: topic, broker, queue id.
  friend bool operator==(const MessageQueue& a, const MessageQueue& b) {
    return a.queue_id == b.queue_id && a.topic == b.topic && a.broker_name == b.broker_name;
  }
  friend bool operator!=(const MessageQueue& a, const MessageQueue& b) { return !(a == b); }
  friend bool operator<(const MessageQueue& a, const MessageQueue& b) {
    if (int c = a.topic.compare(b.topic); c != 0) return c < 0;
    if (int c = a.broker_name.compare(b.broker_name); c != 0) return c < 0;
    return a.queue_id < b.queue_id;
  }
  friend bool operator>(const MessageQueue& a, const MessageQueue& b) { return b < a; }
  friend bool operator<=(const MessageQueue& a, const MessageQueue& b) { return !(b < a); }
  friend bool operator>=(const MessageQueue& a, const MessageQueue& b) { return !(a < b); }
  std::string toString() const;
};

/// A message as stored by a broker and delivered to a consumer (or a reply delivered to a requester).
class ROCKETRPC_API MessageExt : public Message {
 public:
  /// Client message id (UNIQ_KEY) when present, else the broker's offset message id.
  const std::string& msgId() const { return msg_id_; }
  void setMsgId(std::string id) { msg_id_ = std::move(id); }
  /// The broker's offset message id (store host + commit-log offset).
  const std::string& offsetMsgId() const { return offset_msg_id_; }
  void setOffsetMsgId(std::string id) { offset_msg_id_ = std::move(id); }
  const std::string& brokerName() const { return broker_name_; }
  void setBrokerName(std::string name) { broker_name_ = std::move(name); }
  int32_t queueId() const { return queue_id_; }
  void setQueueId(int32_t id) { queue_id_ = id; }
  int64_t queueOffset() const { return queue_offset_; }
  void setQueueOffset(int64_t offset) { queue_offset_ = offset; }
  int64_t commitLogOffset() const { return commit_log_offset_; }
  void setCommitLogOffset(int64_t offset) { commit_log_offset_ = offset; }
  int32_t sysFlag() const { return sys_flag_; }
  void setSysFlag(int32_t flag) { sys_flag_ = flag; }
  int32_t bodyCrc() const { return body_crc_; }
  void setBodyCrc(int32_t crc) { body_crc_ = crc; }
  int64_t bornTimestamp() const { return born_timestamp_; }
  void setBornTimestamp(int64_t ms) { born_timestamp_ = ms; }
  int64_t storeTimestamp() const { return store_timestamp_; }
  void setStoreTimestamp(int64_t ms) { store_timestamp_ = ms; }
  /// "ip:port"
  const std::string& bornHost() const { return born_host_; }
  void setBornHost(std::string host) { born_host_ = std::move(host); }
  const std::string& storeHost() const { return store_host_; }
  void setStoreHost(std::string host) { store_host_ = std::move(host); }
  int32_t reconsumeTimes() const { return reconsume_times_; }
  void setReconsumeTimes(int32_t n) { reconsume_times_ = n; }
  int64_t preparedTransactionOffset() const { return prepared_transaction_offset_; }
  void setPreparedTransactionOffset(int64_t o) { prepared_transaction_offset_ = o; }
  int32_t storeSize() const { return store_size_; }
  void setStoreSize(int32_t n) { store_size_ = n; }

  MessageQueue messageQueue() const { return {topic(), broker_name_, queue_id_}; }

 private:
  std::string msg_id_;
  std::string offset_msg_id_;
  std::string broker_name_;
  int32_t queue_id_ = 0;
  int64_t queue_offset_ = 0;
  int64_t commit_log_offset_ = 0;
  int32_t sys_flag_ = 0;
  int32_t body_crc_ = 0;
  int64_t born_timestamp_ = 0;
  int64_t store_timestamp_ = 0;
  std::string born_host_;
  std::string store_host_;
  int32_t reconsume_times_ = 0;
  int64_t prepared_transaction_offset_ = 0;
  int32_t store_size_ = 0;
};

}  // namespace rocketrpc
