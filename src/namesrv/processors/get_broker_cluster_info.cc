// GET_BROKER_CLUSTER_INFO (106): ClusterInfo, always in fastjson's legacy form (protocol reference 3.8).
#include "namesrv/processors/processors.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/route_data.h"

namespace rocketrpc::namesrv {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

remoting::RequestHandler makeGetBrokerClusterInfoHandler(std::shared_ptr<NamesrvContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    auto response = RemotingCommand::responseTo(request, resp::kSuccess);
    response.body = remoting::encodeClusterInfo(ctx->routes.clusterInfo(), /*legacy=*/true);
    responder.respond(std::move(response));
  };
}

}  // namespace rocketrpc::namesrv
