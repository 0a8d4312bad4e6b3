// SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320): check, store asynchronously, answer
// from the store's completion (protocol reference 3.1, 3.2, 4.7, 7.2).
#include <chrono>

#include "broker/processor/processors.h"
#include "broker/processor/send_support.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/message_codec.h"
#include "remoting/protocol/names.h"

namespace rocketrpc::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

namespace {

void processSend(const std::shared_ptr<BrokerContext>& ctx, const RemotingCommand& request,
                 const remoting::Responder& responder) {
  ctx->metrics.send_requests.fetch_add(1, std::memory_order_relaxed);
  auto response = makeSendResponse(*ctx, request);
  auto fail = [&](int32_t code, std::string remark) {
    ctx->metrics.send_failures.fetch_add(1, std::memory_order_relaxed);
    response.code = code;
    response.remark = std::move(remark);
    responder.respond(std::move(response));
  };
  auto header = parseSendHeader(request);
  if (!header.isOk()) return fail(resp::kSystemError, header.status().message());
  // Before decoding anything or creating the topic: the body (the whole batch, for a batch) against maxMessageSize.
  auto refuse = [&] {
    ctx->metrics.send_failures.fetch_add(1, std::memory_order_relaxed);
    responder.respond(std::move(response));
  };
  if (!checkBodySize(*ctx, request.body.size(), header->batch ? "batch" : "message body", response)) return refuse();
  if (!checkSend(*ctx, *header, response)) {
    ctx->metrics.send_failures.fetch_add(1, std::memory_order_relaxed);
    responder.respond(std::move(response));
    return;
  }
  std::vector<MessageExt> msgs;
  const std::string& born_host = responder.remoteAddress();
  if (header->batch) {
    if (header->topic.starts_with(kRetryPrefix)) return fail(resp::kMessageIllegal, "batch request does not support retry group");
    auto inner = remoting::decodeBatch(request.body, header->topic);
    if (!inner.isOk()) return fail(resp::kMessageIllegal, "bad batch body: " + inner.status().message());
    if (inner->empty()) return fail(resp::kMessageIllegal, "empty batch");
    auto batch_props = remoting::decodeProperties(header->properties);
    size_t index = 0;
    for (auto& m : *inner) {
      ++index;
      if (!checkBodySize(*ctx, m.body().size(), "message " + std::to_string(index) + " of the batch", response))
        return refuse();
      if (Status s = remoting::checkName(remoting::NameKind::kMessageKeys, m.keys()); !s.isOk())
        return fail(resp::kMessageIllegal, s.message() + " (message " + std::to_string(index) + " of the batch)");
      SendHeader h = *header;
      // Batch-level properties are appended to every inner message (4.8.0..5.3.3 behaviour); inner ones win
      // where they were set by the producer itself except for the batch's own keys, as duplicates are last-wins.
      remoting::Properties props = m.properties();
      for (const auto& [k, v] : batch_props) props[k] = v;
      h.properties = remoting::encodeProperties(props);
      h.flag = m.flag();
      h.batch = false;
      msgs.push_back(buildMessage(*ctx, h, m.body(), born_host));
    }
  } else {
    msgs.push_back(buildMessage(*ctx, *header, request.body, born_host));
  }
  const int32_t queue_id = header->queue_id;
  const size_t count = msgs.size();
  ctx->store->putMessagesAsync(
      std::move(msgs), [ctx, responder, response = std::move(response), queue_id, count,
                        topic = header->topic, bytes = static_cast<int64_t>(request.body.size()),
                        started = std::chrono::steady_clock::now()](Result<store::PutResult> put) mutable {
        ctx->metrics.store_append_seconds.recordSince(started);
        if (put.isOk()) {
          ctx->metrics.messages_in.fetch_add(static_cast<int64_t>(count), std::memory_order_relaxed);
          ctx->metrics.topics.addIn(topic, static_cast<int64_t>(count), bytes);
          fillSendResponse(response, *put, queue_id);
        } else {
          ctx->metrics.send_failures.fetch_add(1, std::memory_order_relaxed);
          fillStoreError(response, put.status());
        }
        responder.respond(std::move(response));
      });
}

}  // namespace

// Sends to existing topics are decoded and checked on the I/O thread and handed to the store's appender thread
// (no disk work on an I/O thread); the rest (auto-created topics, retry topics) on the worker pool. A send that
// waited longer than waitTimeMillsInSendQueue for a worker is answered SYSTEM_BUSY, as one that waited for the
// store writer (Apache's BrokerFastFailure of its send thread pool queue).
remoting::RequestHandler makeSendMessageHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    ctx->encodings.note(responder.remoteAddress(), request.serialize_type);
    if (canProcessInline(*ctx, request)) {
      processSend(ctx, request, responder);
      return;
    }
    if (ctx->refuseIfOverloaded(request, responder)) {
      ctx->metrics.send_requests.fetch_add(1, std::memory_order_relaxed);
      ctx->metrics.send_failures.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    ctx->post([ctx, request = std::move(request), responder = std::move(responder),
               queued = std::chrono::steady_clock::now()] {
      const int64_t limit = ctx->config.wait_time_mills_in_send_queue;
      const auto waited =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - queued).count();
      if (limit > 0 && waited >= limit) {
        ctx->metrics.send_requests.fetch_add(1, std::memory_order_relaxed);
        ctx->metrics.send_failures.fetch_add(1, std::memory_order_relaxed);
        responder.respond(RemotingCommand::responseTo(
            request, resp::kSystemBusy,
            "[TIMEOUT_CLEAN_QUEUE]broker busy, start flow control for a while, period in queue: " +
                std::to_string(waited) + "ms, size of queue: " + std::to_string(ctx->workers->queued())));
        return;
      }
      processSend(ctx, request, responder);
    });
  };
}

}  // namespace rocketrpc::broker
