// GET_CONSUME_STATS (208, header consumerGroup, optional topic): where a consumer group stands on each queue
// of this broker, as mqadmin consumerProgress and `rocketrpc admin consumer-progress` ask it. The body is
// Apache's ConsumeStats: {"consumeTps":..,"offsetTable":{<MessageQueue>:<OffsetWrapper>,...}}, the map keyed
// by the MessageQueue object itself as fastjson writes a map with object keys (not valid JSON; clients read
// it with client::quoteNonStringKeys). Like Apache (AdminBrokerProcessor.getConsumeStats): without a topic,
// every topic the group has offsets for; a topic the online group does not subscribe to is left out; offsets
// below zero read 0; lastTimestamp is the store time of the last consumed message.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

#include "broker/processor/processors.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/message_codec.h"

namespace rocketrpc::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;
using Json = nlohmann::json;

namespace {

// Store time of the message at `offset` of the queue, 0 when it cannot be read (aged out, damaged).
int64_t storeTimeAt(store::MessageStore& store, const std::string& topic, int32_t queue_id, int64_t offset) {
  auto got = store.getMessages(topic, queue_id, offset, 1, 64 * 1024);
  if (!got.isOk() || got->status != store::GetMessageStatus::kFound) return 0;
  auto msgs = remoting::decodeStoredMessages(got->data, /*decompress=*/false);
  return msgs.isOk() && !msgs->empty() ? msgs->front().storeTimestamp() : 0;
}

std::string quote(const std::string& s) { return Json(s).dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace

std::string encodeConsumeStats(BrokerContext& ctx, const std::string& group, const std::string& topic) {
  std::set<std::string> topics;
  if (!topic.empty()) {
    topics.insert(topic);
  } else {
    const std::string suffix = "@" + group;
    for (const auto& [key, queues] : ctx.store->consumerOffsets().snapshot()) {
      if (key.size() > suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0) {
        topics.insert(key.substr(0, key.size() - suffix.size()));
      }
    }
  }
  const bool online = ctx.clients.consumerGroup(group).has_value();
  std::string table;
  for (const std::string& t : topics) {
    auto config = ctx.topics->find(t);
    if (!config) continue;
    if (online && !ctx.clients.findSubscription(group, t)) continue;
    for (int32_t q = 0; q < config->read_queue_nums; ++q) {
      const int64_t broker_offset = std::max<int64_t>(0, ctx.store->maxOffset(t, q));
      const int64_t consumer_offset =
          std::max<int64_t>(0, ctx.store->consumerOffsets().get(group, t, q).value_or(0));
      const int64_t last = consumer_offset > 0 ? storeTimeAt(*ctx.store, t, q, consumer_offset - 1) : 0;
      if (!table.empty()) table += ',';
      // Field order as fastjson writes them (sorted).
      table += fmt::format(
          "{{\"brokerName\":{},\"queueId\":{},\"topic\":{}}}:"
          "{{\"brokerOffset\":{},\"consumerOffset\":{},\"lastTimestamp\":{}}}",
          quote(ctx.config.broker_name), q, quote(t), broker_offset, consumer_offset, last);
    }
  }
  // consumeTps: this broker keeps no per-group rate; 0 like an idle Apache group.
  return "{\"consumeTps\":0.0,\"offsetTable\":{" + table + "}}";
}

remoting::RequestHandler makeGetConsumeStatsHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    // Reads message records for lastTimestamp: off the I/O thread.
    ctx->post([ctx, request = std::move(request), responder = std::move(responder)] {
      const std::string* group = request.get("consumerGroup");
      if (!group || group->empty()) {
        responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, "consumerGroup is required"));
        return;
      }
      const std::string* topic = request.get("topic");
      auto response = RemotingCommand::responseTo(request, resp::kSuccess);
      response.body = encodeConsumeStats(*ctx, *group, topic ? *topic : std::string());
      responder.respond(std::move(response));
    });
  };
}

}  // namespace rocketrpc::broker
