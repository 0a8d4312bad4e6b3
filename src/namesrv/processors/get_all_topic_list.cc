// GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206): {"topicList":[...]} (TopicList body; brokerAddr omitted).
#include <nlohmann/json.hpp>

#include "namesrv/processors/processors.h"
#include "remoting/protocol/codes.h"

namespace rocketrpc::namesrv {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

remoting::RequestHandler makeGetAllTopicListHandler(std::shared_ptr<NamesrvContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    auto response = RemotingCommand::responseTo(request, resp::kSuccess);
    nlohmann::json body{{"topicList", ctx->routes.allTopics()}};
    response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    responder.respond(std::move(response));
  };
}

}  // namespace rocketrpc::namesrv
