// Admin codes used by mqadmin updateTopic / topicList / clusterList and the test fixture:
// UPDATE_AND_CREATE_TOPIC (17), GET_ALL_TOPIC_CONFIG (21), GET_BROKER_RUNTIME_INFO (28, KVTable),
// DELETE_TOPIC_IN_BROKER (215: topic config, consume queues and consumer offsets; the messages age out).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "broker/processor/processors.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/names.h"

namespace rocketrpc::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

remoting::RequestHandler makeUpdateAndCreateTopicHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    ctx->post([ctx, request = std::move(request), responder = std::move(responder)] {
      // The door (request_names.h) has checked the names already; a topic is required here.
      const std::string* topic = request.get("topic");
      if (Status s = remoting::checkName(remoting::NameKind::kTopic, topic ? *topic : std::string());
          !s.isOk()) {
        responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, s.message()));
        return;
      }
      if (*topic == ctx->config.broker_cluster_name) {
        responder.respond(RemotingCommand::responseTo(request, resp::kSystemError,
                                                      "The specified topic is conflict with the cluster name"));
        return;
      }
      namesrv::TopicConfig config;
      config.topic_name = *topic;
      config.read_queue_nums = static_cast<int32_t>(request.getInt("readQueueNums").value_or(16));
      config.write_queue_nums = static_cast<int32_t>(request.getInt("writeQueueNums").value_or(16));
      config.perm = static_cast<int32_t>(request.getInt("perm").value_or(6));
      if (const std::string* f = request.get("topicFilterType")) config.topic_filter_type = *f;
      config.topic_sys_flag = static_cast<int32_t>(request.getInt("topicSysFlag").value_or(0));
      config.order = request.getBool("order");
      if (config.read_queue_nums < 1 || config.write_queue_nums < 1 || config.read_queue_nums > 1024 ||
          config.write_queue_nums > 1024) {
        responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, "queue nums must be in [1, 1024]"));
        return;
      }
      Status s = ctx->topics->upsert(config);
      responder.respond(s.isOk() ? RemotingCommand::responseTo(request, resp::kSuccess)
                                 : RemotingCommand::responseTo(request, resp::kSystemError, s.toString()));
    });
  };
}

remoting::RequestHandler makeDeleteTopicInBrokerHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    ctx->post([ctx, request = std::move(request), responder = std::move(responder)] {
      const std::string* topic = request.get("topic");
      if (!topic || topic->empty()) {
        responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, "The specified topic is blank."));
        return;
      }
      if (ctx->topics->isSystem(*topic)) {
        responder.respond(RemotingCommand::responseTo(request, resp::kSystemError,
                                                      "The topic[" + *topic + "] is conflict with system topic."));
        return;
      }
      // Like Apache: deleting a topic the broker does not know is not an error (mqadmin deletes on every master).
      Status s = ctx->topics->remove(*topic);
      if (s.code() == StatusCode::kNotFound) s = Status::ok();
      if (s.isOk() && isValidTopicName(*topic)) {
        auto deleted = ctx->store->deleteTopic(*topic);
        if (!deleted.isOk()) s = deleted.status();
      }
      responder.respond(s.isOk() ? RemotingCommand::responseTo(request, resp::kSuccess)
                                 : RemotingCommand::responseTo(request, resp::kSystemError, s.toString()));
    });
  };
}

remoting::RequestHandler makeGetAllTopicConfigHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    auto response = RemotingCommand::responseTo(request, resp::kSuccess);
    response.body = namesrv::encodeTopicConfigWrapper(ctx->topics->snapshot());
    responder.respond(std::move(response));
  };
}

remoting::RequestHandler makeGetBrokerRuntimeInfoHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    const auto& m = ctx->metrics;
    auto earliest = ctx->store->earliestStoreTime();
    const BrokerMetrics::DayTotals days = m.dayTotals();
    auto disk = ctx->store->diskUsedRatio();
    nlohmann::json table{
        {"brokerVersion", std::to_string(kBrokerVersion)},
        {"brokerVersionDesc", "V4_9_8 (rocketrpc-broker)"},
        {"msgPutTotalTodayNow", std::to_string(m.messages_in.load())},
        {"msgGetTotalTodayNow", std::to_string(m.messages_out.load())},
        {"msgPutTotalYesterdayMorning", std::to_string(days.put_yesterday_morning)},
        {"msgPutTotalTodayMorning", std::to_string(days.put_today_morning)},
        {"msgGetTotalYesterdayMorning", std::to_string(days.get_yesterday_morning)},
        {"msgGetTotalTodayMorning", std::to_string(days.get_today_morning)},
        {"putTps", m.rates.rates(0)},
        {"getTransferedTps", m.rates.rates(1)},
        {"getTotalTps", m.rates.rates(2)},
        {"commitLogMinOffset", std::to_string(ctx->store->commitLogMinOffset())},
        {"commitLogMaxOffset", std::to_string(ctx->store->commitLogMaxOffset())},
        {"pullRequestHoldCount", std::to_string(m.pulls_holding.load())},
        {"bootTimestamp", std::to_string(m.boot_timestamp_ms)},
        {"earliestMessageTimeStamp", std::to_string(earliest.isOk() ? *earliest : 0)},
        {"commitLogDiskRatio", fmt::format("{}", disk.isOk() ? *disk : 0.0)},
        {"brokerActive", "true"},
    };
    auto response = RemotingCommand::responseTo(request, resp::kSuccess);
    response.body = nlohmann::json{{"table", table}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    responder.respond(std::move(response));
  };
}

}  // namespace rocketrpc::broker
