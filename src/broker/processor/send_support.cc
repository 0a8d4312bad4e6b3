#include "broker/processor/send_support.h"

#include <random>

#include "broker/schedule_message_service.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/message_codec.h"
#include "remoting/protocol/route_data.h"
#include "store/file_system.h"

namespace rocketrpc::broker {

namespace rc = remoting::request_code;
namespace resp = remoting::response_code;
using remoting::RemotingCommand;

bool isV2SendCode(int32_t code) {
  return code == rc::kSendMessageV2 || code == rc::kSendBatchMessage || code == rc::kSendReplyMessageV2;
}

Result<SendHeader> parseSendHeader(const RemotingCommand& request) {
  const bool v2 = isV2SendCode(request.code);
  auto key = [v2](const char* letter, const char* name) { return std::string_view(v2 ? letter : name); };
  SendHeader h;
  const std::string* group = request.get(key("a", "producerGroup"));
  const std::string* topic = request.get(key("b", "topic"));
  if (!group || !topic) return Status::invalidArgument("send header lacks producerGroup or topic");
  h.producer_group = *group;
  h.topic = *topic;
  if (const std::string* d = request.get(key("c", "defaultTopic"))) h.default_topic = *d;
  if (h.default_topic.empty()) h.default_topic = std::string(kAutoCreateTopicKey);
  h.default_topic_queue_nums = static_cast<int32_t>(request.getInt(key("d", "defaultTopicQueueNums")).value_or(4));
  auto qid = request.getInt(key("e", "queueId"));
  if (!qid) return Status::invalidArgument("send header lacks queueId");
  h.queue_id = static_cast<int32_t>(*qid);
  h.sys_flag = static_cast<int32_t>(request.getInt(key("f", "sysFlag")).value_or(0));
  h.born_timestamp = request.getInt(key("g", "bornTimestamp")).value_or(0);
  h.flag = static_cast<int32_t>(request.getInt(key("h", "flag")).value_or(0));
  if (const std::string* p = request.get(key("i", "properties"))) h.properties = *p;
  h.reconsume_times = static_cast<int32_t>(request.getInt(key("j", "reconsumeTimes")).value_or(0));
  h.unit_mode = request.getBool(key("k", "unitMode"));
  if (auto m = request.getInt(key("l", "maxReconsumeTimes"))) h.max_reconsume_times = static_cast<int32_t>(*m);
  h.batch = request.getBool(key("m", "batch")) || request.code == rc::kSendBatchMessage;
  return h;
}

bool canProcessInline(const BrokerContext& ctx, const RemotingCommand& request) {
  const std::string* topic = request.get(isV2SendCode(request.code) ? "b" : "topic");
  if (topic == nullptr || topic->starts_with(kRetryPrefix)) return false;
  return ctx.topics->find(*topic).has_value();
}

RemotingCommand makeSendResponse(const BrokerContext& ctx, const RemotingCommand& request) {
  auto response = RemotingCommand::responseTo(request, resp::kSuccess);
  response.serialize_type = request.serialize_type;
  response.set("MSG_REGION", ctx.config.region_id);
  response.setBool("TRACE_ON", ctx.config.trace_on);
  return response;
}

bool checkSend(BrokerContext& ctx, SendHeader& header, RemotingCommand& response) {
  auto fail = [&response](int32_t code, std::string remark) {
    response.code = code;
    response.remark = std::move(remark);
    return false;
  };
  if (!isValidTopicName(header.topic))
    return fail(resp::kSystemError, "The specified topic[" + header.topic + "] contains illegal characters or is too long");
  if (isNotAllowedSendTopic(header.topic))
    return fail(resp::kNoPermission, "Sending message to topic[" + header.topic + "] is forbidden.");
  if (header.properties.size() > remoting::kMaxPropertiesBytes)
    return fail(resp::kMessageIllegal, "message properties length too long " + std::to_string(header.properties.size()));
  auto config = ctx.topics->find(header.topic);
  if (!config) {
    int32_t topic_sys_flag = header.unit_mode ? 1 : 0;
    if (header.topic.starts_with(kRetryPrefix)) {
      config = ctx.topics->createIfMissing(header.topic, 1, remoting::perm::kRead | remoting::perm::kWrite);
    } else {
      config = ctx.topics->createTopicInSendMessageMethod(header.topic, header.default_topic,
                                                          header.default_topic_queue_nums, topic_sys_flag);
    }
    if (!config) {
      return fail(resp::kTopicNotExist, "topic[" + header.topic + "] not exist, apply first please!");
    }
  }
  if ((config->perm & remoting::perm::kWrite) == 0)
    return fail(resp::kNoPermission, "the topic[" + header.topic + "] sending message is forbidden");
  int32_t max_queues = std::max(config->read_queue_nums, config->write_queue_nums);
  if (header.queue_id >= max_queues) {
    return fail(resp::kSystemError, "request queueId[" + std::to_string(header.queue_id) +
                                        "] is illegal, topic:" + header.topic + " topicConfig.writeQueueNums: " +
                                        std::to_string(config->write_queue_nums));
  }
  if (header.queue_id < 0) {
    thread_local std::mt19937 rng{std::random_device{}()};
    header.queue_id = static_cast<int32_t>(rng() % static_cast<uint32_t>(std::max(config->write_queue_nums, 1)));
  }
  return true;
}

MessageExt buildMessage(BrokerContext& ctx, const SendHeader& header, std::string body, const std::string& born_host) {
  MessageExt msg;
  msg.setTopic(header.topic);
  msg.setQueueId(header.queue_id);
  msg.setBody(std::move(body));
  msg.setFlag(header.flag);
  msg.mutableProperties() = remoting::decodeProperties(header.properties);
  msg.putProperty(property::kCluster, ctx.config.broker_cluster_name);
  msg.setSysFlag(header.sys_flag);
  msg.setBornTimestamp(header.born_timestamp);
  msg.setBornHost(born_host);
  msg.setStoreHost(ctx.broker_addr);
  msg.setReconsumeTimes(header.reconsume_times);
  // Retry-topic sends from the client's fallback path: past the limit they go to the dead-letter queue.
  if (header.topic.starts_with(kRetryPrefix)) {
    int32_t max = header.max_reconsume_times.value_or(16);
    if (header.reconsume_times > max) {
      std::string group = header.topic.substr(kRetryPrefix.size());
      std::string dlq = std::string(kDlqPrefix) + group;
      ctx.topics->createIfMissing(dlq, 1, remoting::perm::kRead | remoting::perm::kWrite);
      msg.setTopic(dlq);
      msg.setQueueId(0);
      msg.clearProperty(property::kDelayTimeLevel);
      ctx.metrics.messages_dlq.fetch_add(1, std::memory_order_relaxed);
    }
  }
  prepareDelay(msg, ctx.delay_levels_ms.size());
  return msg;
}

void fillSendResponse(RemotingCommand& response, const store::PutResult& put, int32_t queue_id) {
  std::string ids;
  for (const auto& id : put.offset_msg_ids) {
    if (!ids.empty()) ids += ',';
    ids += id;
  }
  response.set("msgId", ids);
  response.set("queueId", static_cast<int64_t>(queue_id));
  response.set("queueOffset", put.queue_offset);
}

bool checkBodySize(const BrokerContext& ctx, size_t size, std::string_view what, RemotingCommand& response) {
  const auto limit = static_cast<size_t>(ctx.config.max_message_size);
  if (size <= limit) return true;
  response.code = resp::kMessageIllegal;
  response.remark = "the message is illegal, maybe msg body or properties length not matched. msg body length limit " +
                    std::to_string(limit) + "B, msg properties length limit 32KB. (" + std::string(what) + " of " +
                    std::to_string(size) + " bytes exceeds maxMessageSize)";
  return false;
}

void fillStoreError(RemotingCommand& response, const Status& status) {
  if (store::isStoreBusy(status)) {
    // Nothing was stored: the producer backs off or sends to another broker (Apache's wording, unprefixed).
    response.code = resp::kSystemBusy;
    response.remark = status.message();
    return;
  }
  // Passing conditions, answered as Apache does; the sender retries (another broker, or later).
  if (store::isDiskFullError(status)) {
    response.code = resp::kServiceNotAvailable;
    response.remark = "service not available now. It may be caused by one of the following reasons: the broker's "
                      "disk is full [" + status.message() + "], messages are put to the slave, message store has "
                      "been shut down, etc.";
    return;
  }
  if (store::isOutOfFilesError(status)) {
    response.code = resp::kSystemBusy;
    response.remark = "[STORE_FILES_EXHAUSTED]broker busy, out of file descriptors, try later: " + status.message();
    return;
  }
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kOverLimit:
      response.code = resp::kMessageIllegal;
      break;
    case StatusCode::kClosed:
      response.code = resp::kServiceNotAvailable;
      break;
    default:
      response.code = resp::kSystemError;
  }
  response.remark = "store failed: " + status.toString();
}

}  // namespace rocketrpc::broker
