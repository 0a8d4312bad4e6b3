#include "client/consumer_api.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "common/log.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/message_codec.h"
#include "remoting/response_status.h"

namespace rocketrpc::client {

namespace rc = remoting::request_code;
namespace rs = remoting::response_code;
using remoting::RemotingCommand;

namespace {

void setQueue(RemotingCommand& cmd, const MessageQueue& mq) {
  cmd.set("topic", mq.topic);
  cmd.set("queueId", static_cast<int64_t>(mq.queue_id));
}

Result<RemotingCommand> expectSuccess(Result<RemotingCommand> response, std::string_view what) {
  if (!response.isOk()) return response.status();
  if (response->code != rs::kSuccess) return responseError(*response, what);
  return response;
}

}  // namespace

Status responseError(const RemotingCommand& response, std::string_view what) {
  std::string message(what);
  if (!message.empty()) message += ": ";
  message += "code " + std::to_string(response.code);
  if (!response.remarkOrEmpty().empty()) message += ": " + response.remarkOrEmpty();
  return remoting::statusFromResponse(response, std::move(message));
}

int32_t buildPullSysFlag(bool commit_offset, bool suspend, bool subscription, bool class_filter) {
  int32_t flag = 0;
  if (commit_offset) flag |= pull_sys_flag::kCommitOffset;
  if (suspend) flag |= pull_sys_flag::kSuspend;
  if (subscription) flag |= pull_sys_flag::kSubscription;
  if (class_filter) flag |= pull_sys_flag::kClassFilter;
  return flag;
}

std::string_view pullStatusName(PullStatus status) {
  switch (status) {
    case PullStatus::kFound:
      return "FOUND";
    case PullStatus::kNoNewMsg:
      return "NO_NEW_MSG";
    case PullStatus::kNoMatchedMsg:
      return "NO_MATCHED_MSG";
    case PullStatus::kOffsetIllegal:
      return "OFFSET_ILLEGAL";
  }
  return "?";
}

RemotingCommand buildPullMessageRequest(const PullMessageArgs& args) {
  auto cmd = RemotingCommand::request(rc::kPullMessage);
  cmd.set("consumerGroup", args.group);
  setQueue(cmd, args.mq);
  cmd.set("queueOffset", args.queue_offset);
  cmd.set("maxMsgNums", static_cast<int64_t>(args.max_msg_nums));
  cmd.set("sysFlag", static_cast<int64_t>(args.sys_flag));
  cmd.set("commitOffset", args.commit_offset);
  cmd.set("suspendTimeoutMillis", static_cast<int64_t>(args.suspend_timeout.count()));
  if (args.subscription) {
    if (args.sys_flag & pull_sys_flag::kSubscription) cmd.set("subscription", args.subscription->sub_string);
    cmd.set("subVersion", args.subscription->sub_version);
    cmd.set("expressionType", args.subscription->expression_type);
  } else {
    cmd.set("subVersion", int64_t{0});
    cmd.set("expressionType", std::string("TAG"));
  }
  return cmd;
}

Result<PullResult> parsePullMessageResponse(const RemotingCommand& response, const MessageQueue& mq,
                                            const remoting::SubscriptionData* subscription) {
  PullResult result;
  switch (response.code) {
    case rs::kSuccess:
      result.status = PullStatus::kFound;
      break;
    case rs::kPullNotFound:
      result.status = PullStatus::kNoNewMsg;
      break;
    case rs::kPullRetryImmediately:
      result.status = PullStatus::kNoMatchedMsg;
      break;
    case rs::kPullOffsetMoved:
      result.status = PullStatus::kOffsetIllegal;
      break;
    default:
      return responseError(response, "PULL_MESSAGE of " + mq.toString());
  }
  auto next = response.getInt("nextBeginOffset");
  auto min = response.getInt("minOffset");
  auto max = response.getInt("maxOffset");
  if (!next || !min || !max) {
    return Status::corrupt("pull response for " + mq.toString() +
                           " lacks nextBeginOffset/minOffset/maxOffset");
  }
  result.next_begin_offset = *next;
  result.min_offset = *min;
  result.max_offset = *max;
  result.suggest_which_broker_id = response.getInt("suggestWhichBrokerId").value_or(0);
  if (result.status != PullStatus::kFound) return result;

  auto decoded = remoting::decodeStoredMessagesSalvaging(response.body, /*decompress=*/true);
  if (!decoded.first_error) {
    // Damaged (or unsupported) records: failing the pull would retry the same offset for ever and stall the
    // queue, so the consumer moves on past them, as the Java client does; they are reported, not hidden.
    result.damaged_records = decoded.skipped_records + (decoded.rest_lost ? 1 : 0);
    result.rest_of_batch_lost = decoded.rest_lost;
    RRPC_LOG(kError, "consumer", "pull of {} (offsets up to {}): {} undecodable record(s){} skipped: {}",
             mq.toString(), result.next_begin_offset, result.damaged_records,
             decoded.rest_lost ? " and the rest of the batch" : "", decoded.first_error.toString());
  }
  const int64_t offset_delta = response.getInt("offsetDelta").value_or(0);
  const std::string min_text = std::to_string(result.min_offset);
  const std::string max_text = std::to_string(result.max_offset);
  result.messages.reserve(decoded.messages.size());
  for (auto& msg : decoded.messages) {
    if (subscription && !subscription->class_filter_mode && !subscription->matches(msg.tags())) continue;
    if (offset_delta != 0) msg.setQueueOffset(msg.queueOffset() + offset_delta);
    msg.putProperty(property::kMinOffset, min_text);
    msg.putProperty(property::kMaxOffset, max_text);
    msg.setBrokerName(mq.broker_name);
    result.messages.push_back(std::move(msg));
  }
  return result;
}

void pullMessageAsync(remoting::RemotingClient& client, const std::string& addr, const PullMessageArgs& args,
                      std::chrono::milliseconds timeout, ThreadPool* decode_pool, PullDone done) {
  auto request = buildPullMessageRequest(args);
  client.invokeAsync(addr, std::move(request), timeout,
                     [mq = args.mq, sub = args.subscription, decode_pool,
                      done = std::move(done)](Result<RemotingCommand> r) mutable {
                       auto finish = [mq, sub, done](Result<RemotingCommand> response) {
                         if (!response.isOk()) {
                           done(response.status());
                           return;
                         }
                         done(parsePullMessageResponse(*response, mq, sub.get()));
                       };
                       if (decode_pool == nullptr) {
                         finish(std::move(r));
                         return;
                       }
                       auto shared = std::make_shared<Result<RemotingCommand>>(std::move(r));
                       if (!decode_pool->post([finish, shared]() mutable { finish(std::move(*shared)); })) {
                         done(Status::closed("pull of " + mq.toString() + " completed after shutdown"));
                       }
                     });
}

// --- offsets ---

RemotingCommand buildQueryConsumerOffsetRequest(const std::string& group, const MessageQueue& mq) {
  auto cmd = RemotingCommand::request(rc::kQueryConsumerOffset);
  cmd.set("consumerGroup", group);
  setQueue(cmd, mq);
  return cmd;
}

Result<int64_t> parseQueryConsumerOffsetResponse(const RemotingCommand& response) {
  if (response.code == rs::kQueryNotFound) return Status::notFound("no consumer offset stored");
  if (response.code != rs::kSuccess) return responseError(response, "QUERY_CONSUMER_OFFSET");
  auto offset = response.getInt("offset");
  if (!offset) return Status::corrupt("QUERY_CONSUMER_OFFSET response lacks offset");
  return *offset;
}

Result<int64_t> queryConsumerOffset(remoting::RemotingClient& client, const std::string& addr,
                                    const std::string& group, const MessageQueue& mq,
                                    std::chrono::milliseconds timeout) {
  auto r = client.invokeSync(addr, buildQueryConsumerOffsetRequest(group, mq), timeout);
  if (!r.isOk()) return r.status();
  return parseQueryConsumerOffsetResponse(*r);
}

RemotingCommand buildUpdateConsumerOffsetRequest(const std::string& group, const MessageQueue& mq,
                                                 int64_t offset) {
  auto cmd = RemotingCommand::request(rc::kUpdateConsumerOffset);
  cmd.set("consumerGroup", group);
  setQueue(cmd, mq);
  cmd.set("commitOffset", offset);
  return cmd;
}

Status updateConsumerOffset(remoting::RemotingClient& client, const std::string& addr,
                            const std::string& group, const MessageQueue& mq, int64_t offset,
                            std::chrono::milliseconds timeout) {
  return expectSuccess(client.invokeSync(addr, buildUpdateConsumerOffsetRequest(group, mq, offset), timeout),
                       "UPDATE_CONSUMER_OFFSET of group " + group + " for " + mq.toString() + " at " + addr)
      .status();
}

Status updateConsumerOffsetOneway(remoting::RemotingClient& client, const std::string& addr,
                                  const std::string& group, const MessageQueue& mq, int64_t offset,
                                  std::chrono::milliseconds timeout) {
  return client.invokeOneway(addr, buildUpdateConsumerOffsetRequest(group, mq, offset), timeout);
}

RemotingCommand buildGetMaxOffsetRequest(const MessageQueue& mq) {
  auto cmd = RemotingCommand::request(rc::kGetMaxOffset);
  setQueue(cmd, mq);
  cmd.setBool("committed", true);
  return cmd;
}

RemotingCommand buildGetMinOffsetRequest(const MessageQueue& mq) {
  auto cmd = RemotingCommand::request(rc::kGetMinOffset);
  setQueue(cmd, mq);
  return cmd;
}

RemotingCommand buildSearchOffsetRequest(const MessageQueue& mq, int64_t timestamp_ms) {
  auto cmd = RemotingCommand::request(rc::kSearchOffsetByTimestamp);
  setQueue(cmd, mq);
  cmd.set("timestamp", timestamp_ms);
  cmd.set("boundaryType", std::string("LOWER"));
  return cmd;
}

Result<int64_t> parseOffsetResponse(const RemotingCommand& response) {
  if (response.code != rs::kSuccess) return responseError(response, "");
  auto offset = response.getInt("offset");
  if (!offset) return Status::corrupt("offset response lacks offset");
  return *offset;
}

namespace {
Result<int64_t> invokeOffset(remoting::RemotingClient& client, const std::string& addr, RemotingCommand cmd,
                             const MessageQueue& mq, std::chrono::milliseconds timeout,
                             std::string_view what) {
  auto r = client.invokeSync(addr, std::move(cmd), timeout);
  if (!r.isOk()) return r.status().withContext(std::string(what) + " of " + mq.toString());
  auto offset = parseOffsetResponse(*r);
  if (!offset.isOk()) return offset.status().withContext(std::string(what) + " of " + mq.toString());
  return offset;
}
}  // namespace

Result<int64_t> getMaxOffset(remoting::RemotingClient& client, const std::string& addr,
                             const MessageQueue& mq, std::chrono::milliseconds timeout) {
  return invokeOffset(client, addr, buildGetMaxOffsetRequest(mq), mq, timeout, "GET_MAX_OFFSET");
}

Result<int64_t> getMinOffset(remoting::RemotingClient& client, const std::string& addr,
                             const MessageQueue& mq, std::chrono::milliseconds timeout) {
  return invokeOffset(client, addr, buildGetMinOffsetRequest(mq), mq, timeout, "GET_MIN_OFFSET");
}

Result<int64_t> searchOffset(remoting::RemotingClient& client, const std::string& addr,
                             const MessageQueue& mq, int64_t timestamp_ms,
                             std::chrono::milliseconds timeout) {
  return invokeOffset(client, addr, buildSearchOffsetRequest(mq, timestamp_ms), mq, timeout,
                      "SEARCH_OFFSET_BY_TIMESTAMP");
}

// --- group membership ---

RemotingCommand buildGetConsumerIdListRequest(const std::string& group) {
  auto cmd = RemotingCommand::request(rc::kGetConsumerListByGroup);
  cmd.set("consumerGroup", group);
  return cmd;
}

Result<std::vector<std::string>> parseGetConsumerIdListResponse(const RemotingCommand& response) {
  if (response.code != rs::kSuccess) return responseError(response, "GET_CONSUMER_LIST_BY_GROUP");
  if (response.body.empty()) return std::vector<std::string>{};
  return remoting::parseConsumerIdList(response.body);
}

Result<std::vector<std::string>> getConsumerIdListByGroup(remoting::RemotingClient& client,
                                                          const std::string& addr, const std::string& group,
                                                          std::chrono::milliseconds timeout) {
  auto r = client.invokeSync(addr, buildGetConsumerIdListRequest(group), timeout);
  if (!r.isOk()) return r.status();
  return parseGetConsumerIdListResponse(*r);
}

// --- retry ---

RemotingCommand buildConsumerSendMsgBackRequest(const MessageExt& msg, const std::string& group,
                                                int32_t delay_level, int32_t max_reconsume_times) {
  auto cmd = RemotingCommand::request(rc::kConsumerSendMsgBack);
  cmd.set("offset", msg.commitLogOffset());
  cmd.set("group", group);
  cmd.set("delayLevel", static_cast<int64_t>(delay_level));
  if (!msg.msgId().empty()) cmd.set("originMsgId", msg.msgId());
  if (!msg.topic().empty()) cmd.set("originTopic", msg.topic());
  cmd.setBool("unitMode", false);
  cmd.set("maxReconsumeTimes", static_cast<int64_t>(max_reconsume_times));
  return cmd;
}

Status consumerSendMessageBack(remoting::RemotingClient& client, const std::string& addr,
                               const MessageExt& msg, const std::string& group, int32_t delay_level,
                               int32_t max_reconsume_times, std::chrono::milliseconds timeout) {
  return expectSuccess(
             client.invokeSync(addr,
                               buildConsumerSendMsgBackRequest(msg, group, delay_level, max_reconsume_times),
                               timeout),
             "CONSUMER_SEND_MSG_BACK of group " + group + " (topic " + msg.topic() + ") at " + addr)
      .status();
}

// --- orderly queue locks ---

std::string encodeLockBatchBody(const std::string& group, const std::string& client_id,
                                const std::set<MessageQueue>& mqs) {
  nlohmann::json body;
  body["clientId"] = client_id;
  body["consumerGroup"] = group;
  auto set = nlohmann::json::array();
  for (const auto& mq : mqs) {
    set.push_back({{"brokerName", mq.broker_name}, {"queueId", mq.queue_id}, {"topic", mq.topic}});
  }
  body["mqSet"] = std::move(set);
  body["onlyThisBroker"] = false;
  return body.dump();
}

Result<std::set<MessageQueue>> parseLockBatchResponseBody(std::string_view json) {
  std::set<MessageQueue> locked;
  if (json.empty()) return locked;
  auto doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object())
    return Status::corrupt("LockBatchResponseBody is not a JSON object");
  auto it = doc.find("lockOKMQSet");
  if (it == doc.end() || it->is_null()) return locked;
  if (!it->is_array()) return Status::corrupt("LockBatchResponseBody.lockOKMQSet is not an array");
  for (const auto& e : *it) {
    if (!e.is_object()) return Status::corrupt("LockBatchResponseBody: queue is not an object");
    auto topic = e.find("topic");
    auto broker = e.find("brokerName");
    auto qid = e.find("queueId");
    if (topic == e.end() || !topic->is_string() || broker == e.end() || !broker->is_string() ||
        qid == e.end() || !qid->is_number_integer()) {
      return Status::corrupt("LockBatchResponseBody: queue lacks topic/brokerName/queueId");
    }
    locked.insert(MessageQueue{topic->get<std::string>(), broker->get<std::string>(), qid->get<int32_t>()});
  }
  return locked;
}

Result<std::set<MessageQueue>> lockBatchMQ(remoting::RemotingClient& client, const std::string& addr,
                                           const std::string& group, const std::string& client_id,
                                           const std::set<MessageQueue>& mqs,
                                           std::chrono::milliseconds timeout) {
  auto cmd = RemotingCommand::request(rc::kLockBatchMq);
  cmd.body = encodeLockBatchBody(group, client_id, mqs);
  auto r = expectSuccess(client.invokeSync(addr, std::move(cmd), timeout),
                         "LOCK_BATCH_MQ of group " + group + " at " + addr);
  if (!r.isOk()) return r.status();
  return parseLockBatchResponseBody(r->body);
}

Status unlockBatchMQ(remoting::RemotingClient& client, const std::string& addr, const std::string& group,
                     const std::string& client_id, const std::set<MessageQueue>& mqs, bool oneway,
                     std::chrono::milliseconds timeout) {
  auto cmd = RemotingCommand::request(rc::kUnlockBatchMq);
  cmd.body = encodeLockBatchBody(group, client_id, mqs);
  if (oneway) return client.invokeOneway(addr, std::move(cmd), timeout);
  return expectSuccess(client.invokeSync(addr, std::move(cmd), timeout),
                       "UNLOCK_BATCH_MQ of group " + group + " at " + addr)
      .status();
}

}  // namespace rocketrpc::client
