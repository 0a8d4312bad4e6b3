// QUERY_CONSUMER_OFFSET (14) and UPDATE_CONSUMER_OFFSET (15, also sent oneway) over the store's offset table
// (protocol reference 3.4).
#include "broker/processor/processors.h"
#include "remoting/protocol/codes.h"

namespace rocketrpc::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

remoting::RequestHandler makeQueryConsumerOffsetHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    const std::string* group = request.get("consumerGroup");
    const std::string* topic = request.get("topic");
    auto queue_id = request.getInt("queueId");
    if (!group || !topic || !queue_id) {
      responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, "missing header fields"));
      return;
    }
    auto q = static_cast<int32_t>(*queue_id);
    auto stored = ctx->store->consumerOffsets().get(*group, *topic, q);
    if (stored) {
      auto response = RemotingCommand::responseTo(request, resp::kSuccess);
      response.set("offset", *stored);
      responder.respond(std::move(response));
      return;
    }
    // No committed offset: offset 0 when the queue still starts at 0 (4.9.8 behaviour; 5.x clients may opt out
    // with setZeroIfNotFound=false).
    const std::string* zero = request.get("setZeroIfNotFound");
    bool zero_if_not_found = zero == nullptr || request.getBool("setZeroIfNotFound");
    if (zero_if_not_found && ctx->store->minOffset(*topic, q) <= 0) {
      auto response = RemotingCommand::responseTo(request, resp::kSuccess);
      response.set("offset", int64_t{0});
      responder.respond(std::move(response));
      return;
    }
    responder.respond(RemotingCommand::responseTo(request, resp::kQueryNotFound, "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first"));
  };
}

remoting::RequestHandler makeUpdateConsumerOffsetHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    const std::string* group = request.get("consumerGroup");
    const std::string* topic = request.get("topic");
    auto queue_id = request.getInt("queueId");
    auto offset = request.getInt("commitOffset");
    if (!group || !topic || !queue_id || !offset) {
      responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, "missing header fields"));
      return;
    }
    ctx->store->consumerOffsets().set(*group, *topic, static_cast<int32_t>(*queue_id), *offset);
    responder.respond(RemotingCommand::responseTo(request, resp::kSuccess));
  };
}

}  // namespace rocketrpc::broker
