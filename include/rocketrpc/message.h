/// \file
/// Messages and queues, as users of Apache RocketMQ's clients know them. Plain value types (thread-compatible).
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
/// Space-separated message keys (indexed by the broker for lookups).
inline constexpr std::string_view kKeys = "KEYS";
/// The message's tag, matched by subscription expressions.
inline constexpr std::string_view kTags = "TAGS";
/// "false": the broker may answer before the message is stored.
inline constexpr std::string_view kWaitStoreMsgOk = "WAIT";
/// Delay level of a scheduled message (1..18 on the broker's default levels).
inline constexpr std::string_view kDelayTimeLevel = "DELAY";
/// Original topic of a message moved to a retry topic.
inline constexpr std::string_view kRetryTopic = "RETRY_TOPIC";
/// Topic a scheduled or transactional message is delivered to eventually.
inline constexpr std::string_view kRealTopic = "REAL_TOPIC";
/// Queue id a scheduled or transactional message is delivered to eventually.
inline constexpr std::string_view kRealQueueId = "REAL_QID";
/// "true" on a half (prepared) transactional message.
inline constexpr std::string_view kTransactionPrepared = "TRAN_MSG";
/// Smallest offset of the queue at pull time, set on pulled messages.
inline constexpr std::string_view kMinOffset = "MIN_OFFSET";
/// Largest offset of the queue at pull time, set on pulled messages.
inline constexpr std::string_view kMaxOffset = "MAX_OFFSET";
/// Message id of the original of a retried message.
inline constexpr std::string_view kOriginMessageId = "ORIGIN_MESSAGE_ID";
/// Delivery attempt count carried by a message sent back for retry.
inline constexpr std::string_view kReconsumeTime = "RECONSUME_TIME";
/// Retry limit of the consumer group, carried by a message sent back for retry.
inline constexpr std::string_view kMaxReconsumeTimes = "MAX_RECONSUME_TIMES";
/// Milliseconds since the epoch at which the listener call began (set by the consumer).
inline constexpr std::string_view kConsumeStartTime = "CONSUME_START_TIME";
/// Client message id assigned by the producer (MessageExt::msgId()).
inline constexpr std::string_view kUniqClientMessageId = "UNIQ_KEY";
/// Id pairing a request with its reply (request-reply).
inline constexpr std::string_view kCorrelationId = "CORRELATION_ID";
/// Client id of the requester the reply goes to (request-reply).
inline constexpr std::string_view kReplyToClient = "REPLY_TO_CLIENT";
/// Request timeout in milliseconds, from which the responder derives the deadline (request-reply).
inline constexpr std::string_view kTtl = "TTL";
/// Milliseconds since the epoch at which a reply reached the requester (request-reply).
inline constexpr std::string_view kArriveTime = "ARRIVE_TIME";
/// Milliseconds since the epoch at which the broker pushed the reply (request-reply).
inline constexpr std::string_view kPushReplyTime = "PUSH_REPLY_TIME";
/// Cluster of the broker that stored a request; names its reply topic (request-reply).
inline constexpr std::string_view kCluster = "CLUSTER";
/// Message type; kReplyMessageFlag on replies.
inline constexpr std::string_view kMessageType = "MSG_TYPE";
/// Value of MSG_TYPE on replies.
inline constexpr std::string_view kReplyMessageFlag = "reply";
}  // namespace property

/// A message to send. Body bytes are opaque (may hold NUL). Properties are UTF-8 strings; names and values
/// must not contain the separators `\x01` and `\x02`.
class ROCKETRPC_API Message {
 public:
  Message() = default;
  /// A message to `topic` carrying `body`, without tags or properties.
  Message(std::string topic, std::string body) : topic_(std::move(topic)), body_(std::move(body)) {}
  /// A message to `topic` carrying `body`, with the TAGS property set to `tags` (none when empty).
  Message(std::string topic, std::string tags, std::string body);

  /// The topic the message is sent to.
  const std::string& topic() const { return topic_; }
  /// Sets the topic the message is sent to.
  void setTopic(std::string topic) { topic_ = std::move(topic); }
  /// The payload (opaque bytes).
  const std::string& body() const { return body_; }
  /// The payload, for in-place changes.
  std::string& mutableBody() { return body_; }
  /// Replaces the payload.
  void setBody(std::string body) { body_ = std::move(body); }
  /// The application-defined flag sent with the message (not interpreted by RocketMQ). Default 0.
  int32_t flag() const { return flag_; }
  /// Sets the application-defined flag.
  void setFlag(int32_t flag) { flag_ = flag; }

  /// The TAGS property, or "" when absent.
  std::string tags() const { return getProperty(property::kTags); }
  /// Sets the TAGS property (an empty value removes it).
  void setTags(std::string_view tags) { putProperty(property::kTags, tags); }
  /// The KEYS property (space-separated keys), or "" when absent.
  std::string keys() const { return getProperty(property::kKeys); }
  /// Keys are joined with a space.
  void setKeys(const std::vector<std::string>& keys);
  /// Sets the KEYS property as given (several keys separated by spaces).
  void setKeys(std::string_view keys) { putProperty(property::kKeys, keys); }
  /// The DELAY property as a level, or 0 when absent or not a number (not delayed).
  int delayTimeLevel() const;
  /// Delays delivery by the broker's delay `level` (1..18 with the default levels); 0 or less clears it.
  void setDelayTimeLevel(int level);
  /// False only when the WAIT property is "false". Default true.
  bool waitStoreMsgOk() const { return getProperty(property::kWaitStoreMsgOk) != "false"; }
  /// Sets the WAIT property: whether the broker answers only once the message is stored.
  void setWaitStoreMsgOk(bool wait) { putProperty(property::kWaitStoreMsgOk, wait ? "true" : "false"); }

  /// Empty string when absent.
  std::string getProperty(std::string_view name) const;
  /// True when the property `name` is set.
  bool hasProperty(std::string_view name) const { return properties_.find(name) != properties_.end(); }
  /// Empty values are not stored (RocketMQ drops them on the wire); use clearProperty to remove.
  void putProperty(std::string_view name, std::string_view value);
  /// Removes the property `name`; no effect when absent.
  void clearProperty(std::string_view name);
  /// Every property, sorted by name.
  const std::map<std::string, std::string, std::less<>>& properties() const { return properties_; }
  /// Every property, for direct changes (the rules of putProperty still apply on the wire).
  std::map<std::string, std::string, std::less<>>& mutableProperties() { return properties_; }

 private:
  std::string topic_;
  std::string body_;
  int32_t flag_ = 0;
  std::map<std::string, std::string, std::less<>> properties_;
};

/// A queue of a topic on one broker.
struct ROCKETRPC_API MessageQueue {
  std::string topic;        ///< the topic
  std::string broker_name;  ///< name of the broker (master/slave set) holding the queue
  int32_t queue_id = 0;     ///< queue number on that broker, from 0

  // Spelled out (not defaulted) so that the header compiles as C++17. Order: topic, broker, queue id.
  /// Equal when topic, broker name and queue id are.
  friend bool operator==(const MessageQueue& a, const MessageQueue& b) {
    return a.queue_id == b.queue_id && a.topic == b.topic && a.broker_name == b.broker_name;
  }
  /// Not equal.
  friend bool operator!=(const MessageQueue& a, const MessageQueue& b) { return !(a == b); }
  /// Orders by topic, then broker name, then queue id.
  friend bool operator<(const MessageQueue& a, const MessageQueue& b) {
    if (int c = a.topic.compare(b.topic); c != 0) return c < 0;
    if (int c = a.broker_name.compare(b.broker_name); c != 0) return c < 0;
    return a.queue_id < b.queue_id;
  }
  /// Greater, in the order of operator<.
  friend bool operator>(const MessageQueue& a, const MessageQueue& b) { return b < a; }
  /// Less or equal, in the order of operator<.
  friend bool operator<=(const MessageQueue& a, const MessageQueue& b) { return !(b < a); }
  /// Greater or equal, in the order of operator<.
  friend bool operator>=(const MessageQueue& a, const MessageQueue& b) { return !(a < b); }
  /// "MessageQueue [topic=..., brokerName=..., queueId=...]", as the Java client prints it.
  std::string toString() const;
};

/// A message as stored by a broker and delivered to a consumer (or a reply delivered to a requester).
class ROCKETRPC_API MessageExt : public Message {
 public:
  /// Client message id (UNIQ_KEY) when present, else the broker's offset message id.
  const std::string& msgId() const { return msg_id_; }
  /// Sets msgId() (done by the client when it decodes a message).
  void setMsgId(std::string id) { msg_id_ = std::move(id); }
  /// The broker's offset message id (store host + commit-log offset).
  const std::string& offsetMsgId() const { return offset_msg_id_; }
  /// Sets offsetMsgId().
  void setOffsetMsgId(std::string id) { offset_msg_id_ = std::move(id); }
  /// Name of the broker that stored the message.
  const std::string& brokerName() const { return broker_name_; }
  /// Sets brokerName().
  void setBrokerName(std::string name) { broker_name_ = std::move(name); }
  /// Queue id of the message on its broker.
  int32_t queueId() const { return queue_id_; }
  /// Sets queueId().
  void setQueueId(int32_t id) { queue_id_ = id; }
  /// Position of the message in its queue (consume-queue index, from 0).
  int64_t queueOffset() const { return queue_offset_; }
  /// Sets queueOffset().
  void setQueueOffset(int64_t offset) { queue_offset_ = offset; }
  /// Byte offset of the message in the broker's commit log.
  int64_t commitLogOffset() const { return commit_log_offset_; }
  /// Sets commitLogOffset().
  void setCommitLogOffset(int64_t offset) { commit_log_offset_ = offset; }
  /// RocketMQ system flag bits (compressed body, transaction type, ...).
  int32_t sysFlag() const { return sys_flag_; }
  /// Sets sysFlag().
  void setSysFlag(int32_t flag) { sys_flag_ = flag; }
  /// CRC32 of the body as stored by the broker.
  int32_t bodyCrc() const { return body_crc_; }
  /// Sets bodyCrc().
  void setBodyCrc(int32_t crc) { body_crc_ = crc; }
  /// When the producer created the message, in milliseconds since the Unix epoch.
  int64_t bornTimestamp() const { return born_timestamp_; }
  /// Sets bornTimestamp() (milliseconds since the Unix epoch).
  void setBornTimestamp(int64_t ms) { born_timestamp_ = ms; }
  /// When the broker stored the message, in milliseconds since the Unix epoch.
  int64_t storeTimestamp() const { return store_timestamp_; }
  /// Sets storeTimestamp() (milliseconds since the Unix epoch).
  void setStoreTimestamp(int64_t ms) { store_timestamp_ = ms; }
  /// "ip:port"
  const std::string& bornHost() const { return born_host_; }
  /// Sets bornHost() ("ip:port" of the producer).
  void setBornHost(std::string host) { born_host_ = std::move(host); }
  /// "ip:port" of the broker that stored the message.
  const std::string& storeHost() const { return store_host_; }
  /// Sets storeHost().
  void setStoreHost(std::string host) { store_host_ = std::move(host); }
  /// How many times the message was delivered again after failed consumption (0 on first delivery).
  int32_t reconsumeTimes() const { return reconsume_times_; }
  /// Sets reconsumeTimes().
  void setReconsumeTimes(int32_t n) { reconsume_times_ = n; }
  /// Commit-log offset of the prepared (half) message of a transactional message, else 0.
  int64_t preparedTransactionOffset() const { return prepared_transaction_offset_; }
  /// Sets preparedTransactionOffset().
  void setPreparedTransactionOffset(int64_t o) { prepared_transaction_offset_ = o; }
  /// Size in bytes of the stored record in the commit log.
  int32_t storeSize() const { return store_size_; }
  /// Sets storeSize().
  void setStoreSize(int32_t n) { store_size_ = n; }

  /// The queue the message was stored in: topic(), brokerName(), queueId().
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
