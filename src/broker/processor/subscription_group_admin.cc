// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200, body SubscriptionGroupConfig JSON: `mqadmin updateSubGroup`),
// GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201, body {"dataVersion", "subscriptionGroupTable"}) and
// DELETE_SUBSCRIPTIONGROUP (207, header groupName; `mqadmin deleteSubGroup`). See subscription_group_manager.h.
#include "broker/processor/processors.h"
#include "remoting/protocol/codes.h"

namespace rocketrpc::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

remoting::RequestHandler makeUpdateAndCreateSubscriptionGroupHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    auto config = parseSubscriptionGroupConfig(request.body);
    if (!config.isOk()) {
      responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, config.status().message()));
      return;
    }
    ctx->post([ctx, request = std::move(request), responder = std::move(responder), config = *config] {
      Status s = ctx->groups->upsert(config);
      responder.respond(s.isOk() ? RemotingCommand::responseTo(request, resp::kSuccess)
                                 : RemotingCommand::responseTo(request, resp::kSystemError, s.toString()));
    });
  };
}

remoting::RequestHandler makeGetAllSubscriptionGroupConfigHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    auto response = RemotingCommand::responseTo(request, resp::kSuccess);
    response.body = ctx->groups->encodeAll();
    responder.respond(std::move(response));
  };
}

remoting::RequestHandler makeDeleteSubscriptionGroupHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    const std::string* group = request.get("groupName");
    if (!group || group->empty()) {
      responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, "missing groupName"));
      return;
    }
    const std::string* clean = request.get("cleanOffset");  // 4.9.4+: also drop the group's committed offsets
    const bool clean_offset = clean && *clean == "true";
    ctx->post([ctx, request = std::move(request), responder = std::move(responder), group = *group, clean_offset] {
      Status s = ctx->groups->remove(group);
      if (s.isOk() && clean_offset) ctx->store->consumerOffsets().removeGroup(group);
      responder.respond(s.isOk() ? RemotingCommand::responseTo(request, resp::kSuccess)
                                 : RemotingCommand::responseTo(request, resp::kSystemError, s.toString()));
    });
  };
}

}  // namespace rocketrpc::broker
