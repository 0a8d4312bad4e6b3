// PULL_MESSAGE (11) / LITE_PULL_MESSAGE (361) with long polling (protocol reference 3.3, 7.1).
#include <algorithm>

#include "broker/processor/processors.h"
#include "broker/pull_request_hold_service.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/heartbeat_data.h"
#include "remoting/protocol/route_data.h"

namespace rocketrpc::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

namespace {

constexpr int64_t kFlagCommitOffset = 0x1;
constexpr int64_t kFlagSuspend = 0x2;
constexpr int64_t kFlagSubscription = 0x4;
constexpr int32_t kDefaultMaxBytes = 4 * 1024 * 1024;

int32_t pullCode(store::GetMessageStatus status, int64_t requested_offset) {
  using S = store::GetMessageStatus;
  switch (status) {
    case S::kFound: return resp::kSuccess;
    case S::kNoMatchedMessage: return resp::kPullRetryImmediately;
    case S::kNoMessageInQueue: return requested_offset != 0 ? resp::kPullOffsetMoved : resp::kPullNotFound;
    case S::kOffsetOverflowOne: return resp::kPullNotFound;
    case S::kOffsetOverflowBadly:
    case S::kOffsetTooSmall: return resp::kPullOffsetMoved;
  }
  return resp::kSystemError;
}

void processPull(const std::shared_ptr<BrokerContext>& ctx, const RemotingCommand& request,
                 const remoting::Responder& responder, bool allow_suspend) {
  auto response = RemotingCommand::responseTo(request, resp::kSuccess);
  response.serialize_type = request.serialize_type;
  auto fail = [&](int32_t code, std::string remark) {
    response.code = code;
    response.remark = std::move(remark);
    responder.respond(std::move(response));
  };
  const std::string* group = request.get("consumerGroup");
  const std::string* topic = request.get("topic");
  auto queue_id = request.getInt("queueId");
  auto offset = request.getInt("queueOffset");
  if (!group || !topic || !queue_id || !offset) return fail(resp::kSystemError, "pull header lacks required fields");
  const int64_t sys_flag = request.getInt("sysFlag").value_or(0);
  const int32_t max_msgs = static_cast<int32_t>(std::clamp<int64_t>(request.getInt("maxMsgNums").value_or(32), 1, 1024));
  // The broker's cap (maxTransferBytesOnMessageInMemory) bounds what the store reads, whatever the client
  // asks: the store stops before an entry that would pass it (at least one message is returned).
  const int64_t cap = ctx->config.max_transfer_bytes_on_message_in_memory;
  const int64_t asked_bytes = request.getInt("maxMsgBytes").value_or(kDefaultMaxBytes);
  const auto max_bytes = static_cast<int32_t>(asked_bytes <= 0 ? cap : std::min(asked_bytes, cap));
  const int64_t sub_version = request.getInt("subVersion").value_or(0);

  auto group_config = ctx->groups->findOrCreate(*group);
  if (!group_config) return fail(resp::kSubscriptionGroupNotExist, "subscription group [" + *group + "] does not exist");
  if (!group_config->consume_enable) return fail(resp::kNoPermission, "subscription group no permission, " + *group);

  auto config = ctx->topics->find(*topic);
  if (!config) return fail(resp::kTopicNotExist, "topic[" + *topic + "] not exist, apply first please!");
  if ((config->perm & remoting::perm::kRead) == 0)
    return fail(resp::kNoPermission, "the topic[" + *topic + "] pulling message is forbidden");
  if (*queue_id < 0 || *queue_id >= config->read_queue_nums)
    return fail(resp::kSystemError, "queueId[" + std::to_string(*queue_id) + "] is illegal, topic:[" + *topic +
                                        "] topicConfig.readQueueNums:[" + std::to_string(config->read_queue_nums) + "]");

  std::optional<remoting::SubscriptionData> sub;
  if (sys_flag & kFlagSubscription) {
    const std::string* expr = request.get("subscription");
    auto built = remoting::buildSubscription(*topic, expr ? *expr : "*", sub_version);
    if (!built.isOk()) return fail(resp::kSubscriptionParseFailed, "parse the consumer's subscription failed");
    sub = std::move(*built);
  } else {
    if (!ctx->clients.hasConsumerGroup(*group))
      return fail(resp::kSubscriptionNotExist, "the consumer's group info not exist");
    sub = ctx->clients.findSubscription(*group, *topic);
    if (!sub) return fail(resp::kSubscriptionNotExist, "the consumer's subscription not exist");
    if (sub->sub_version < sub_version) return fail(resp::kSubscriptionNotLatest, "the consumer's subscription not latest");
  }
  store::TagsFilter filter;
  if (sub->sub_string != "*" && !sub->code_set.empty()) {
    filter = [codes = sub->code_set](int64_t tags_code) { return codes.count(static_cast<int32_t>(tags_code)) > 0; };
  }

  ctx->metrics.pull_requests.fetch_add(1, std::memory_order_relaxed);
  auto got = ctx->store->getMessages(*topic, static_cast<int32_t>(*queue_id), *offset, max_msgs, max_bytes, filter);
  if (!got.isOk()) return fail(resp::kSystemError, "store getMessage failed: " + got.status().toString());

  response.code = pullCode(got->status, *offset);
  response.remark = std::string(store::getMessageStatusName(got->status));
  response.set("suggestWhichBrokerId", int64_t{0});
  response.set("nextBeginOffset", got->next_begin_offset);
  response.set("minOffset", got->min_offset);
  response.set("maxOffset", got->max_offset);

  if (allow_suspend && (sys_flag & kFlagCommitOffset)) {
    if (auto commit = request.getInt("commitOffset"); commit && *commit >= 0)
      ctx->store->consumerOffsets().set(*group, *topic, static_cast<int32_t>(*queue_id), *commit);
  }

  if (response.code == resp::kSuccess) {
    ctx->metrics.messages_out.fetch_add(got->message_count, std::memory_order_relaxed);
    ctx->metrics.topics.addOut(*topic, got->message_count, static_cast<int64_t>(got->data.size()));
    response.body = std::move(got->data);
  } else if (response.code == resp::kPullNotFound && allow_suspend && (sys_flag & kFlagSuspend)) {
    // The client's suspend time, up to maxPullHoldTimeMills.
    const int64_t asked_ms = request.getInt("suspendTimeoutMillis").value_or(15000);
    const int64_t hold_ms = ctx->config.long_polling_enable
                                ? std::clamp<int64_t>(asked_ms, 1, ctx->config.max_pull_hold_time_mills)
                                : ctx->config.short_polling_time_mills;
    if (ctx->pull_holds->hold(*topic, static_cast<int32_t>(*queue_id), *offset, request, responder, hold_ms,
                              std::move(filter)))
      return;
    ctx->metrics.pulls_refused_busy.fetch_add(1, std::memory_order_relaxed);
    response.code = resp::kSystemBusy;
    response.remark = "[PULL_HOLD_LIMIT]broker busy: this connection already has " +
                      std::to_string(ctx->config.max_pull_holds_per_connection) +
                      " long-polling pulls held (maxPullHoldsPerConnection); try again later";
  }
  responder.respond(std::move(response));
}

}  // namespace

void replayPull(const std::shared_ptr<BrokerContext>& ctx, RemotingCommand request, remoting::Responder responder) {
  processPull(ctx, request, responder, /*allow_suspend=*/false);
}

void answerHeldPull(const std::shared_ptr<BrokerContext>& ctx, const RemotingCommand& request,
                    const remoting::Responder& responder, const store::ArrivedMessage& msg) {
  auto response = RemotingCommand::responseTo(request, resp::kSuccess);
  response.serialize_type = request.serialize_type;
  response.remark = std::string(store::getMessageStatusName(store::GetMessageStatus::kFound));
  response.set("suggestWhichBrokerId", int64_t{0});
  response.set("nextBeginOffset", msg.queue_offset + 1);
  response.set("minOffset", ctx->store->minOffset(msg.topic, msg.queue_id));
  response.set("maxOffset", std::max(ctx->store->maxOffset(msg.topic, msg.queue_id), msg.queue_offset + 1));
  response.body.assign(msg.record.data(), msg.record.size());
  ctx->metrics.messages_out.fetch_add(1, std::memory_order_relaxed);
  ctx->metrics.topics.addOut(msg.topic, 1, static_cast<int64_t>(msg.record.size()));
  responder.respond(std::move(response));
}

// Runs on the I/O thread: a pull only reads the store (page cache) or parks itself, so a hand-off to the
// worker pool would cost more than the work.
remoting::RequestHandler makePullMessageHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    // A pull means nothing by a body; one sent anyway is dropped before a held pull could keep it.
    if (!request.body.empty()) std::string().swap(request.body);
    processPull(ctx, request, responder, /*allow_suspend=*/true);
  };
}

}  // namespace rocketrpc::broker
