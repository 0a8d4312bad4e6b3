// QUERY_TOPIC_CONSUME_BY_WHO (300) and GET_CONSUMER_CONNECTION_LIST (203): who consumes a topic, and who is
// online in a consumer group. Apache's mqadmin (topicRoute/consumerConnection) and rocketrpc's fail-fast
// check (docs/design/rpc.md, "No responder") ask these. Bodies are the JSON of Apache's GroupList and
// ConsumerConnection (protocol reference 7.4).
#include <set>

#include <nlohmann/json.hpp>

#include "broker/processor/processors.h"
#include "remoting/protocol/codes.h"

namespace rocketrpc::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;
using Json = nlohmann::json;

namespace {

Json subscriptionJson(const remoting::SubscriptionData& s) {
  return Json{{"classFilterMode", s.class_filter_mode},
              {"codeSet", s.code_set},
              {"expressionType", s.expression_type},
              {"subString", s.sub_string},
              {"subVersion", s.sub_version},
              {"tagsSet", s.tags_set},
              {"topic", s.topic}};
}

}  // namespace

std::string encodeTopicConsumers(const ClientManager& clients, const store::ConsumerOffsetTable& offsets,
                                 const std::string& topic) {
  // Apache answers the online groups subscribed to the topic plus every group with a committed offset on it.
  std::set<std::string> groups;
  for (auto& g : clients.groupsSubscribedTo(topic)) groups.insert(std::move(g));
  const std::string suffix = topic + "@";
  for (const auto& [key, queues] : offsets.snapshot()) {
    if (key.size() > suffix.size() && key.compare(0, suffix.size(), suffix) == 0) groups.insert(key.substr(suffix.size()));
  }
  return Json{{"groupList", groups}}.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<std::string> encodeConsumerConnection(const ClientManager& clients, const std::string& group) {
  auto snapshot = clients.consumerGroup(group);
  if (!snapshot) return std::nullopt;
  Json connections = Json::array();
  for (const auto& m : snapshot->members) {
    connections.push_back(Json{{"clientAddr", m.channel},
                               {"clientId", m.client_id},
                               {"language", m.language},
                               {"version", m.version}});
  }
  Json subscriptions = Json::object();
  for (const auto& s : snapshot->subscriptions) subscriptions[s.topic] = subscriptionJson(s);
  return Json{{"connectionSet", std::move(connections)},
              {"consumeFromWhere", snapshot->consume_from_where},
              {"consumeType", snapshot->consume_type},
              {"messageModel", snapshot->message_model},
              {"subscriptionTable", std::move(subscriptions)}}
      .dump(-1, ' ', false, Json::error_handler_t::replace);
}

remoting::RequestHandler makeQueryTopicConsumeByWhoHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    const std::string* topic = request.get("topic");
    if (!topic || topic->empty()) {
      responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, "missing topic"));
      return;
    }
    auto response = RemotingCommand::responseTo(request, resp::kSuccess);
    response.body = encodeTopicConsumers(ctx->clients, ctx->store->consumerOffsets(), *topic);
    responder.respond(std::move(response));
  };
}

remoting::RequestHandler makeGetConsumerConnectionListHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    const std::string* group = request.get("consumerGroup");
    if (!group || group->empty()) {
      responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, "missing consumerGroup"));
      return;
    }
    auto body = encodeConsumerConnection(ctx->clients, *group);
    if (!body) {
      responder.respond(RemotingCommand::responseTo(request, resp::kConsumerNotOnline,
                                                    "the consumer group[" + *group + "] not online"));
      return;
    }
    auto response = RemotingCommand::responseTo(request, resp::kSuccess);
    response.body = std::move(*body);
    responder.respond(std::move(response));
  };
}

}  // namespace rocketrpc::broker
