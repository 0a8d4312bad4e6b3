// LOCK_BATCH_MQ (41) / UNLOCK_BATCH_MQ (42): queue locks for orderly consumers (protocol reference 3.9).
#include <nlohmann/json.hpp>

#include "broker/processor/processors.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/names.h"

namespace rocketrpc::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;
using Json = nlohmann::json;

namespace {

struct LockBody {
  std::string group;
  std::string client_id;
  std::vector<RebalanceLockManager::Queue> queues;
};

Result<LockBody> parseLockBody(const std::string& body) {
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::corrupt("lock body is not a JSON object");
  LockBody out;
  try {
    out.group = j.value("consumerGroup", std::string());
    out.client_id = j.value("clientId", std::string());
    if (auto it = j.find("mqSet"); it != j.end() && it->is_array()) {
      for (const auto& q : *it) {
        out.queues.push_back({q.value("topic", std::string()), q.value("brokerName", std::string()),
                              q.value("queueId", 0)});
      }
    }
  } catch (const std::exception& e) {
    return Status::corrupt(std::string("lock body: ") + e.what());
  }
  using remoting::NameKind;
  if (Status s = remoting::checkName(NameKind::kGroup, out.group); !s.isOk()) return s;
  if (Status s = remoting::checkName(NameKind::kClientId, out.client_id); !s.isOk()) return s;
  for (const auto& q : out.queues) {
    if (Status s = remoting::checkName(NameKind::kTopic, q.topic); !s.isOk()) return s;
    if (Status s = remoting::checkName(NameKind::kBrokerName, q.broker_name); !s.isOk()) return s;
  }
  return out;
}

}  // namespace

remoting::RequestHandler makeLockBatchHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    auto body = parseLockBody(request.body);
    if (!body.isOk()) {
      responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, body.status().toString()));
      return;
    }
    auto locked = ctx->locks.tryLockBatch(body->group, body->queues, body->client_id, ctx->now());
    Json set = Json::array();
    for (const auto& q : locked) set.push_back({{"brokerName", q.broker_name}, {"queueId", q.queue_id}, {"topic", q.topic}});
    auto response = RemotingCommand::responseTo(request, resp::kSuccess);
    response.body = Json{{"lockOKMQSet", std::move(set)}}.dump(-1, ' ', false, Json::error_handler_t::replace);
    responder.respond(std::move(response));
  };
}

remoting::RequestHandler makeUnlockBatchHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    auto body = parseLockBody(request.body);
    if (!body.isOk()) {
      responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, body.status().toString()));
      return;
    }
    ctx->locks.unlockBatch(body->group, body->queues, body->client_id);
    responder.respond(RemotingCommand::responseTo(request, resp::kSuccess));
  };
}

}  // namespace rocketrpc::broker
