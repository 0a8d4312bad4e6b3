// Pure parts of the send paths (protocol reference 3.1, 3.2, 7.2): header decoding (V1 names or V2
// letters), send checks and auto-create, message building with CLUSTER, the send response.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/broker_context.h"
#include "remoting/remoting_command.h"

namespace rocketrpc::broker {

struct SendHeader {
  std::string producer_group;
  std::string topic;
  std::string default_topic;
  int32_t default_topic_queue_nums = 4;
  int32_t queue_id = 0;
  int32_t sys_flag = 0;
  int64_t born_timestamp = 0;
  int32_t flag = 0;
  std::string properties;
  int32_t reconsume_times = 0;
  bool unit_mode = false;
  std::optional<int32_t> max_reconsume_times;
  bool batch = false;
};

/// True for the letter-keyed V2 codes (310, 320, 325).
bool isV2SendCode(int32_t code);
/// Missing required fields -> InvalidArgument.
Result<SendHeader> parseSendHeader(const remoting::RemotingCommand& request);

/// A response with the MSG_REGION / TRACE_ON extFields every send response carries.
remoting::RemotingCommand makeSendResponse(const BrokerContext& ctx, const remoting::RemotingCommand& request);

/// Send checks: topic name, forbidden topics, properties size, topic existence (auto-create from the default
/// topic), write permission, queueId range (queueId < 0 -> random writable queue). On failure fills
/// `response` code/remark and returns false.
bool checkSend(BrokerContext& ctx, SendHeader& header, remoting::RemotingCommand& response);

/// Builds the stored message from the header and body: properties + CLUSTER, born host = `born_host`,
/// store host = the broker address. Retry topics past maxReconsumeTimes go to the group's DLQ; DELAY moves
/// the message to SCHEDULE_TOPIC_XXXX.
MessageExt buildMessage(BrokerContext& ctx, const SendHeader& header, std::string body, const std::string& born_host);

/// True when a send/reply request can be processed on the I/O thread: its topic exists (no topics.json
/// write) and is not a retry topic (which may create a DLQ topic).
bool canProcessInline(const BrokerContext& ctx, const remoting::RemotingCommand& request);

/// Fills msgId (comma-joined for batches), queueId, queueOffset from a put.
void fillSendResponse(remoting::RemotingCommand& response, const store::PutResult& put, int32_t queue_id);
/// maxMessageSize, as Apache applies it: to a message body, to a whole batch body and to each message of a
/// batch. `what` names the part ("message body", "batch", "message 3 of the batch"). Over the limit: fills
/// `response` with MESSAGE_ILLEGAL (13) and Apache's remark, plus the size, and returns false.
bool checkBodySize(const BrokerContext& ctx, size_t size, std::string_view what, remoting::RemotingCommand& response);
/// Maps a store failure to SYSTEM_ERROR / MESSAGE_ILLEGAL / SERVICE_NOT_AVAILABLE.
void fillStoreError(remoting::RemotingCommand& response, const Status& status);

}  // namespace rocketrpc::broker
