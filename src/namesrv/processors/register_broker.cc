// REGISTER_BROKER (103): RegisterBrokerRequestHeader + RegisterBrokerBody (protocol reference 8.1).
#include "common/log.h"
#include "namesrv/processors/processors.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/message_codec.h"

namespace rocketrpc::namesrv {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

remoting::RequestHandler makeRegisterBrokerHandler(std::shared_ptr<NamesrvContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    auto id = parseBrokerIdentity(request);
    if (!id) {
      responder.respond(RemotingCommand::responseTo(request, resp::kSystemError,
                                                    "REGISTER_BROKER: missing clusterName/brokerAddr/brokerName/brokerId"));
      return;
    }
    auto crc = request.getInt("bodyCrc32").value_or(0);
    if (crc != 0 && crc != remoting::bodyCrc(request.body)) {
      responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, "crc32 not match"));
      return;
    }
    RegisterBrokerRequest req;
    req.cluster_name = std::move(id->cluster_name);
    req.broker_addr = std::move(id->broker_addr);
    req.broker_name = std::move(id->broker_name);
    req.broker_id = id->broker_id;
    if (const std::string* ha = request.get("haServerAddr")) req.ha_server_addr = *ha;
    req.channel = responder.remoteAddress();
    if (!request.body.empty()) {
      auto body = parseRegisterBrokerBody(request.body, request.getBool("compressed"));
      if (!body.isOk()) {
        responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, body.status().toString()));
        return;
      }
      req.topics = std::move(body->topic_config_wrapper);
    }
    auto result = ctx->routes.registerBroker(req, ctx->clock());
    auto response = RemotingCommand::responseTo(request, resp::kSuccess);
    response.set("haServerAddr", result.ha_server_addr);
    response.set("masterAddr", result.master_addr);
    responder.respond(std::move(response));
  };
}

std::optional<BrokerIdentityHeader> parseBrokerIdentity(const RemotingCommand& request) {
  const std::string* cluster = request.get("clusterName");
  const std::string* addr = request.get("brokerAddr");
  const std::string* name = request.get("brokerName");
  auto broker_id = request.getInt("brokerId");
  if (!cluster || !addr || !name || !broker_id) return std::nullopt;
  return BrokerIdentityHeader{*cluster, *addr, *name, *broker_id};
}

}  // namespace rocketrpc::namesrv
