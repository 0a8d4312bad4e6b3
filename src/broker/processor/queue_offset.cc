// GET_MAX_OFFSET (30), GET_MIN_OFFSET (31), SEARCH_OFFSET_BY_TIMESTAMP (29), GET_EARLIEST_MSG_STORETIME (32):
// queue bounds straight from the store (protocol reference 3.4).
#include <strings.h>

#include "broker/processor/processors.h"
#include "remoting/protocol/codes.h"

namespace rocketrpc::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

namespace {

// Reads topic/queueId, or answers SYSTEM_ERROR and returns false.
bool readQueue(const RemotingCommand& request, const remoting::Responder& responder, std::string& topic,
               int32_t& queue_id) {
  const std::string* t = request.get("topic");
  auto q = request.getInt("queueId");
  if (!t || !q) {
    responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, "missing topic or queueId"));
    return false;
  }
  topic = *t;
  queue_id = static_cast<int32_t>(*q);
  return true;
}

void answer(const RemotingCommand& request, const remoting::Responder& responder, const char* key, int64_t value) {
  auto response = RemotingCommand::responseTo(request, resp::kSuccess);
  response.set(key, value);
  responder.respond(std::move(response));
}

}  // namespace

remoting::RequestHandler makeGetMaxOffsetHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    std::string topic;
    int32_t q = 0;
    if (readQueue(request, responder, topic, q)) answer(request, responder, "offset", ctx->store->maxOffset(topic, q));
  };
}

remoting::RequestHandler makeGetMinOffsetHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    std::string topic;
    int32_t q = 0;
    if (readQueue(request, responder, topic, q)) answer(request, responder, "offset", ctx->store->minOffset(topic, q));
  };
}

remoting::RequestHandler makeSearchOffsetHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    ctx->post([ctx, request = std::move(request), responder = std::move(responder)] {
      std::string topic;
      int32_t q = 0;
      if (!readQueue(request, responder, topic, q)) return;
      auto ts = request.getInt("timestamp");
      if (!ts) {
        responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, "missing timestamp"));
        return;
      }
      const std::string* boundary = request.get("boundaryType");
      auto type = (boundary && strcasecmp(boundary->c_str(), "UPPER") == 0) ? store::BoundaryType::kUpper
                                                                            : store::BoundaryType::kLower;
      auto found = ctx->store->searchOffsetByTimestamp(topic, q, *ts, type);
      if (!found.isOk()) {
        responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, found.status().toString()));
        return;
      }
      answer(request, responder, "offset", *found);
    });
  };
}

remoting::RequestHandler makeEarliestMsgStoreTimeHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    ctx->post([ctx, request = std::move(request), responder = std::move(responder)] {
      std::string topic;
      int32_t q = 0;
      if (!readQueue(request, responder, topic, q)) return;
      auto ts = ctx->store->earliestStoreTime(topic, q);
      answer(request, responder, "timestamp", ts.isOk() ? *ts : -1);
    });
  };
}

}  // namespace rocketrpc::broker
