// CONSUMER_SEND_MSG_BACK (36): re-store a failed message in %RETRY%<group> with a delay level, or in
// %DLQ%<group> after maxReconsumeTimes (protocol reference 3.5, 7.2).
#include "broker/processor/processors.h"
#include "broker/schedule_message_service.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/message_codec.h"
#include "remoting/protocol/route_data.h"

namespace rocketrpc::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

namespace {
constexpr int32_t kVersionHonoursMaxReconsume = 121;  // V3_4_9
}  // namespace

remoting::RequestHandler makeConsumerSendMsgBackHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    ctx->post([ctx, request = std::move(request), responder = std::move(responder)] {
      auto fail = [&](int32_t code, std::string remark) {
        responder.respond(RemotingCommand::responseTo(request, code, std::move(remark)));
      };
      auto offset = request.getInt("offset");
      const std::string* group = request.get("group");
      if (!offset || !group) return fail(resp::kSystemError, "missing offset or group");
      int64_t delay_level = request.getInt("delayLevel").value_or(0);
      auto group_config = ctx->groups->findOrCreate(*group);
      if (!group_config) return fail(resp::kSubscriptionGroupNotExist, "subscription group not exist, " + *group);
      int32_t max_reconsume = group_config->retry_max_times;
      if (request.version >= kVersionHonoursMaxReconsume) {
        if (auto m = request.getInt("maxReconsumeTimes")) max_reconsume = static_cast<int32_t>(*m);
      }
      auto record = ctx->store->getMessageByPhysicalOffset(*offset);
      if (!record.isOk()) return fail(resp::kSystemError, "look message by offset failed, " + std::to_string(*offset));
      auto decoded = remoting::decodeStoredMessages(*record, /*decompress=*/false);
      if (!decoded.isOk() || decoded->size() != 1) return fail(resp::kSystemError, "stored message is corrupt");
      MessageExt original = std::move(decoded->front());

      MessageExt msg;
      msg.setBody(original.body());
      msg.setFlag(original.flag());
      msg.mutableProperties() = original.properties();
      msg.setSysFlag(original.sysFlag());
      msg.setBornTimestamp(original.bornTimestamp());
      msg.setBornHost(original.bornHost());
      msg.setStoreHost(ctx->broker_addr);
      msg.setReconsumeTimes(original.reconsumeTimes() + 1);
      if (!msg.hasProperty(property::kRetryTopic)) msg.putProperty(property::kRetryTopic, original.topic());
      if (!msg.hasProperty(property::kOriginMessageId)) {
        const std::string* origin = request.get("originMsgId");
        msg.putProperty(property::kOriginMessageId,
                        origin && !origin->empty() ? *origin : original.msgId());
      }
      msg.putProperty(property::kCluster, ctx->config.broker_cluster_name);
      msg.clearProperty(property::kDelayTimeLevel);

      const int32_t rw = remoting::perm::kRead | remoting::perm::kWrite;
      if (original.reconsumeTimes() >= max_reconsume || delay_level < 0) {
        std::string dlq = std::string(kDlqPrefix) + *group;
        ctx->topics->createIfMissing(dlq, 1, rw);
        msg.setTopic(dlq);
        msg.setQueueId(0);
        ctx->metrics.messages_dlq.fetch_add(1, std::memory_order_relaxed);
      } else {
        std::string retry = std::string(kRetryPrefix) + *group;
        auto config = ctx->topics->createIfMissing(retry, 1, rw);
        msg.setTopic(retry);
        msg.setQueueId(0);
        if (delay_level == 0) delay_level = 3 + original.reconsumeTimes();
        msg.setDelayTimeLevel(static_cast<int>(delay_level));
        prepareDelay(msg, ctx->delay_levels_ms.size());
        ctx->metrics.messages_retried.fetch_add(1, std::memory_order_relaxed);
      }
      std::vector<MessageExt> msgs;
      msgs.push_back(std::move(msg));
      ctx->store->putMessagesAsync(std::move(msgs), [request, responder](Result<store::PutResult> put) {
        if (put.isOk()) {
          responder.respond(RemotingCommand::responseTo(request, resp::kSuccess));
        } else if (store::isStoreBusy(put.status())) {
          responder.respond(RemotingCommand::responseTo(request, resp::kSystemBusy, put.status().message()));
        } else {
          responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, put.status().toString()));
        }
      });
    });
  };
}

}  // namespace rocketrpc::broker
