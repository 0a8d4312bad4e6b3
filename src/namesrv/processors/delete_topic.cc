// DELETE_TOPIC_IN_NAMESRV (216): header topic (4.9.x), plus clusterName (5.x: only that cluster's brokers).
// The broker side (215) is deleted first by mqadmin; a broker still serving the topic would register it again.
#include "namesrv/processors/processors.h"
#include "remoting/protocol/codes.h"

namespace rocketrpc::namesrv {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

remoting::RequestHandler makeDeleteTopicHandler(std::shared_ptr<NamesrvContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    const std::string* topic = request.get("topic");
    if (!topic || topic->empty()) {
      responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, "DELETE_TOPIC_IN_NAMESRV: missing topic"));
      return;
    }
    const std::string* cluster = request.get("clusterName");
    ctx->routes.deleteTopic(*topic, cluster ? *cluster : std::string());  // unknown topics succeed, as in Apache
    responder.respond(RemotingCommand::responseTo(request, resp::kSuccess));
  };
}

}  // namespace rocketrpc::namesrv
