// REGISTER_BROKER (103): RegisterBrokerRequestHeader + RegisterBrokerBody (protocol reference 8.1).
#include <algorithm>

#include "common/log.h"
#include "namesrv/processors/processors.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/message_codec.h"
#include "remoting/protocol/names.h"

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
    if (Status s = checkBrokerIdentity(*id); !s.isOk()) {
      responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, s.message()));
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
      // Topic names of the body go to every client asking for routes: the same rules as a header's topic.
      for (const auto& [name, config] : body->topic_config_wrapper.topic_config_table) {
        Status s = remoting::checkName(remoting::NameKind::kTopic, name);
        if (s.isOk() && config.topic_name != name) {
          s = Status::invalidArgument("topic config key [" + remoting::printableBytes(name) +
                                      "] differs from its topicName [" +
                                      remoting::printableBytes(config.topic_name) + "]");
        }
        if (!s.isOk()) {
          responder.respond(
              RemotingCommand::responseTo(request, resp::kSystemError, "REGISTER_BROKER body: " + s.message()));
          return;
        }
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

Status checkBrokerIdentity(const BrokerIdentityHeader& id) {
  auto token = [](std::string_view field, const std::string& value) {
    const bool printable = std::all_of(value.begin(), value.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    if (!value.empty() && value.size() <= 255 && printable) return Status::ok();
    return Status::invalidArgument("The specified " + std::string(field) + "[" + remoting::printableBytes(value) +
                                   "] must be 1..255 printable ASCII characters");
  };
  if (Status s = token("clusterName", id.cluster_name); !s.isOk()) return s;
  return token("brokerAddr", id.broker_addr);
}

}  // namespace rocketrpc::namesrv
