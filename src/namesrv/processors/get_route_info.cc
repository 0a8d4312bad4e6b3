// GET_ROUTEINFO_BY_TOPIC (105): TopicRouteData in standard JSON when the request version >= 401 (V4_9_4) or
// acceptStandardJsonOnly=true, else fastjson's legacy form with unquoted integer keys (protocol reference 3.7).
#include "namesrv/processors/processors.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/route_data.h"

namespace rocketrpc::namesrv {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

namespace {
constexpr int32_t kVersionStandardJson = 401;  // MQVersion V4_9_4
}

std::string legacyBrokerAddrsJson(const std::string& in) {
  static const std::string kKey = "\"brokerAddrs\":{";
  std::string out;
  out.reserve(in.size());
  size_t pos = 0;
  while (true) {
    size_t hit = in.find(kKey, pos);
    if (hit == std::string::npos) {
      out.append(in, pos, std::string::npos);
      return out;
    }
    size_t i = hit + kKey.size();
    out.append(in, pos, i - pos);
    // Inside the object: "digits":"value", ... until the closing brace.
    bool expect_key = true;
    while (i < in.size() && in[i] != '}') {
      char c = in[i];
      if (c == '"') {
        size_t end = i + 1;
        while (end < in.size() && in[end] != '"') end += (in[end] == '\\') ? 2 : 1;
        if (end >= in.size()) {
          out.append(in, i, std::string::npos);
          return out;
        }
        std::string_view token(in.data() + i + 1, end - i - 1);
        bool digits = expect_key && !token.empty() &&
                      token.find_first_not_of("-0123456789") == std::string_view::npos;
        if (digits) {
          out.append(token);
        } else {
          out.append(in, i, end - i + 1);
        }
        i = end + 1;
        continue;
      }
      if (c == ':') expect_key = false;
      if (c == ',') expect_key = true;
      out.push_back(c);
      ++i;
    }
    pos = i;
  }
}

remoting::RequestHandler makeGetRouteInfoHandler(std::shared_ptr<NamesrvContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    const std::string* topic = request.get("topic");
    if (!topic || topic->empty()) {
      responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, "GET_ROUTEINFO_BY_TOPIC: no topic"));
      return;
    }
    auto route = ctx->routes.pickupTopicRouteData(*topic);
    if (!route) {
      responder.respond(RemotingCommand::responseTo(
          request, resp::kTopicNotExist,
          "No topic route info in name server for the topic: " + *topic +
              ", See http://rocketmq.apache.org/docs/faq/ for further details."));
      return;
    }
    auto response = RemotingCommand::responseTo(request, resp::kSuccess);
    std::string json = remoting::encodeTopicRouteData(*route);
    bool standard = request.version >= kVersionStandardJson || request.getBool("acceptStandardJsonOnly");
    response.body = standard ? std::move(json) : legacyBrokerAddrsJson(json);
    responder.respond(std::move(response));
  };
}

}  // namespace rocketrpc::namesrv
