// UNREGISTER_BROKER (104): brokerName, brokerAddr, clusterName, brokerId.
#include "namesrv/processors/processors.h"
#include "remoting/protocol/codes.h"

namespace rocketrpc::namesrv {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

remoting::RequestHandler makeUnregisterBrokerHandler(std::shared_ptr<NamesrvContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    auto id = parseBrokerIdentity(request);
    if (!id) {
      responder.respond(RemotingCommand::responseTo(request, resp::kSystemError,
                                                    "UNREGISTER_BROKER: missing clusterName/brokerAddr/brokerName/brokerId"));
      return;
    }
    if (Status s = checkBrokerIdentity(*id); !s.isOk()) {
      responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, s.message()));
      return;
    }
    ctx->routes.unregisterBroker(id->cluster_name, id->broker_addr, id->broker_name, id->broker_id);
    responder.respond(RemotingCommand::responseTo(request, resp::kSuccess));
  };
}

}  // namespace rocketrpc::namesrv
