// UNREGISTER_BROKER (104): brokerName, brokerAddr, clusterName, brokerId.
#include "namesrv/processors/processors.h"
#include "remoting/protocol/codes.h"

namespace rocketrpc::namesrv {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

remoting::RequestHandler makeUnregisterBrokerHandler(std::shared_ptr<NamesrvContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    const std::string* cluster = request.get("clusterName");
    const std::string* addr = request.get("brokerAddr");
    const std::string* name = request.get("brokerName");
    auto broker_id = request.getInt("brokerId");
    if (!cluster || !addr || !name || !broker_id) {
      responder.respond(RemotingCommand::responseTo(request, resp::kSystemError,
                                                    "UNREGISTER_BROKER: missing header fields"));
      return;
    }
    ctx->routes.unregisterBroker(*cluster, *addr, *name, *broker_id);
    responder.respond(RemotingCommand::responseTo(request, resp::kSuccess));
  };
}

}  // namespace rocketrpc::namesrv
