// VIEW_MESSAGE_BY_ID (33): the stored record at a commit-log offset (body = raw stored message).
#include "broker/processor/processors.h"
#include "remoting/protocol/codes.h"

namespace rocketrpc::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

remoting::RequestHandler makeViewMessageByIdHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    ctx->post([ctx, request = std::move(request), responder = std::move(responder)] {
      auto offset = request.getInt("offset");
      if (!offset) {
        responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, "missing offset"));
        return;
      }
      auto record = ctx->store->getMessageByPhysicalOffset(*offset);
      if (!record.isOk()) {
        responder.respond(RemotingCommand::responseTo(
            request, resp::kSystemError, "can not find message by the offset, " + std::to_string(*offset)));
        return;
      }
      auto response = RemotingCommand::responseTo(request, resp::kSuccess);
      response.body = std::move(*record);
      responder.respond(std::move(response));
    });
  };
}

}  // namespace rocketrpc::broker
