// SEND_REPLY_MESSAGE (324) / SEND_REPLY_MESSAGE_V2 (325): push the reply to the requester named by
// REPLY_TO_CLIENT with PUSH_REPLY_MESSAGE_TO_CLIENT (326, 10 s timeout, asynchronous: no thread waits), then
// optionally store it; the response code is decided by the push (protocol reference 5.3).
#include "broker/processor/processors.h"
#include "broker/processor/send_support.h"
#include "common/log.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/message_codec.h"

namespace rocketrpc::broker {

namespace rc = remoting::request_code;
namespace resp = remoting::response_code;
using remoting::RemotingCommand;

namespace {

constexpr std::chrono::milliseconds kPushReplyTimeout{10000};

void storeReplyAndRespond(const std::shared_ptr<BrokerContext>& ctx, const SendHeader& header, std::string body,
                          const std::string& born_host, RemotingCommand response, remoting::Responder responder) {
  if (!ctx->config.store_reply_message_enable) {
    responder.respond(std::move(response));
    return;
  }
  std::vector<MessageExt> msgs;
  const size_t body_size = body.size();
  msgs.push_back(buildMessage(*ctx, header, std::move(body), born_host));
  const int32_t queue_id = header.queue_id;
  ctx->store->putMessagesAsync(
      std::move(msgs), [ctx, response = std::move(response), responder, queue_id, topic = header.topic,
                        bytes = static_cast<int64_t>(body_size),
                        started = std::chrono::steady_clock::now()](Result<store::PutResult> put) mutable {
        ctx->metrics.store_append_seconds.recordSince(started);
        // The code stays as the push decided; a stored reply only fills in the real ids.
        if (put.isOk()) {
          ctx->metrics.messages_in.fetch_add(1, std::memory_order_relaxed);
          ctx->metrics.topics.addIn(topic, 1, bytes);
          fillSendResponse(response, *put, queue_id);
        } else {
          // Under load every stored reply can be refused SYSTEM_BUSY: one line per 10 s, with the count.
          static log::RateLimiter store_fail_log(std::chrono::seconds(10));
          RRPC_LOG_LIMITED(store_fail_log, kWarn, "broker", "storing reply message failed: {}",
                           put.status().toString());
        }
        responder.respond(std::move(response));
      });
}

void processReply(const std::shared_ptr<BrokerContext>& ctx, const RemotingCommand& request,
                  const remoting::Responder& responder) {
  ctx->metrics.send_requests.fetch_add(1, std::memory_order_relaxed);
  auto response = makeSendResponse(*ctx, request);
  auto header = parseSendHeader(request);
  if (!header.isOk()) {
    response.code = resp::kSystemError;
    response.remark = header.status().message();
    responder.respond(std::move(response));
    return;
  }
  const int32_t original_queue_id = header->queue_id;
  if (!checkBodySize(*ctx, request.body.size(), "reply body", response) || !checkSend(*ctx, *header, response)) {
    ctx->metrics.send_failures.fetch_add(1, std::memory_order_relaxed);
    responder.respond(std::move(response));
    return;
  }
  response.set("msgId", "0");
  response.set("queueId", static_cast<int64_t>(header->queue_id));
  response.set("queueOffset", int64_t{0});

  auto props = remoting::decodeProperties(header->properties);
  auto reply_to = props.find(property::kReplyToClient);
  auto fail_push = [&](std::string remark) {
    ctx->metrics.reply_push_failures.fetch_add(1, std::memory_order_relaxed);
    response.code = resp::kSystemError;
    response.remark = std::move(remark);
    storeReplyAndRespond(ctx, *header, request.body, responder.remoteAddress(), std::move(response), responder);
  };
  if (reply_to == props.end() || reply_to->second.empty())
    return fail_push("reply message properties[REPLY_TO_CLIENT] is null");
  const std::string client_id = reply_to->second;
  auto channel = ctx->clients.findProducerChannel(client_id);
  if (!channel) return fail_push("push reply message fail, channel of <" + client_id + "> not found.");

  const int64_t now = ctx->now();
  props[std::string(property::kPushReplyTime)] = std::to_string(now);
  auto push = RemotingCommand::request(rc::kPushReplyMessageToClient);
  push.serialize_type = ctx->encodings.of(*channel);  // the requester's own header encoding
  push.set("producerGroup", header->producer_group);
  push.set("topic", header->topic);
  push.set("defaultTopic", header->default_topic);
  push.set("defaultTopicQueueNums", static_cast<int64_t>(header->default_topic_queue_nums));
  push.set("queueId", static_cast<int64_t>(original_queue_id));
  push.set("sysFlag", static_cast<int64_t>(header->sys_flag));
  push.set("bornTimestamp", header->born_timestamp);
  push.set("flag", static_cast<int64_t>(header->flag));
  push.set("properties", remoting::encodeProperties(props));
  push.set("reconsumeTimes", static_cast<int64_t>(header->reconsume_times));
  push.setBool("unitMode", header->unit_mode);
  push.set("bornHost", responder.remoteAddress());
  push.set("storeHost", ctx->broker_addr);
  push.set("storeTimestamp", now);
  push.body = request.body;

  ctx->server->invokeAsync(
      *channel, std::move(push), kPushReplyTimeout,
      [ctx, header = *header, body = request.body, responder, response = std::move(response), client_id,
       started = std::chrono::steady_clock::now()](Result<RemotingCommand> result) mutable {
        ctx->metrics.reply_push_seconds.recordSince(started);
        if (result.isOk() && result->code == resp::kSuccess) {
          ctx->metrics.replies_pushed.fetch_add(1, std::memory_order_relaxed);
        } else {
          ctx->metrics.reply_push_failures.fetch_add(1, std::memory_order_relaxed);
          // One requester that went away fails every reply still on its way: one line per interval, with the count.
          static log::RateLimiter push_fail_log(std::chrono::seconds(10));
          RRPC_LOG_LIMITED(push_fail_log, kWarn, "broker", "push reply to {} failed: {}", client_id,
                           result.isOk() ? "code " + std::to_string(result->code) + " " + result->remarkOrEmpty()
                                         : result.status().toString());
          response.code = resp::kSystemError;
          response.remark = "push reply message to " + client_id + "fail.";  // Apache's wording
        }
        // Storing does not block this I/O thread: ASYNC_FLUSH writes here, SYNC_FLUSH queues to the appender.
        storeReplyAndRespond(ctx, header, std::move(body), responder.remoteAddress(), std::move(response),
                             responder);
      });
}

}  // namespace

remoting::RequestHandler makeReplyMessageHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    if (canProcessInline(*ctx, request)) {
      processReply(ctx, request, responder);
      return;
    }
    if (ctx->refuseIfOverloaded(request, responder)) return;
    ctx->post([ctx, request = std::move(request), responder = std::move(responder)] {
      processReply(ctx, request, responder);
    });
  };
}

}  // namespace rocketrpc::broker
