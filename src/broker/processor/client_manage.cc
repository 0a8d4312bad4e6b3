// HEART_BEAT (34), UNREGISTER_CLIENT (35), GET_CONSUMER_LIST_BY_GROUP (38): the producer and consumer tables
// (protocol reference 3.6, 7.4). Membership changes are announced with NOTIFY_CONSUMER_IDS_CHANGED (40).
#include <algorithm>

#include "broker/processor/processors.h"
#include "common/log.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/heartbeat_data.h"
#include "remoting/protocol/names.h"
#include "remoting/protocol/route_data.h"

namespace rocketrpc::broker {

namespace rc = remoting::request_code;
namespace resp = remoting::response_code;
using remoting::RemotingCommand;

namespace {

// The names a heartbeat body carries, by the rules of the door (request_names.h).
Status checkHeartbeatNames(const remoting::HeartbeatData& hb) {
  using remoting::NameKind;
  if (Status s = remoting::checkName(NameKind::kClientId, hb.client_id); !s.isOk()) return s;
  for (const auto& group : hb.producer_groups) {
    if (Status s = remoting::checkName(NameKind::kGroup, group); !s.isOk()) return s;
  }
  for (const auto& consumer : hb.consumers) {
    if (Status s = remoting::checkName(NameKind::kGroup, consumer.group_name); !s.isOk()) return s;
    for (const auto& sub : consumer.subscriptions) {
      if (Status s = remoting::checkName(NameKind::kTopic, sub.topic); !s.isOk()) return s;
    }
  }
  return Status::ok();
}

}  // namespace

void notifyConsumerIdsChanged(BrokerContext& ctx, const std::string& group) {
  for (const auto& member : ctx.clients.consumerMembers(group)) {
    auto cmd = RemotingCommand::request(rc::kNotifyConsumerIdsChanged);
    cmd.set("consumerGroup", group);
    Status s = ctx.server->invokeOneway(member.channel, std::move(cmd));
    if (!s.isOk()) RRPC_LOG(kDebug, "broker", "notify {} of group {} failed: {}", member.client_id, group, s.toString());
  }
}

remoting::RequestHandler makeHeartbeatHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    ctx->post([ctx, request = std::move(request), responder = std::move(responder)] {
      auto hb = remoting::parseHeartbeat(request.body);
      Status names = hb.isOk() ? checkHeartbeatNames(*hb) : hb.status();
      if (!names.isOk()) {
        responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, names.toString()));
        return;
      }
      const std::string& channel = responder.remoteAddress();
      const int64_t now = ctx->now();
      for (const auto& consumer : hb->consumers) {
        // As Apache: the member is registered either way; a group that does not exist (autoCreateSubscriptionGroup
        // off, not created by an admin) gets no retry topic and its pulls are refused.
        bool notify = true;
        if (auto group = ctx->groups->findOrCreate(consumer.group_name)) {
          notify = group->notify_consumer_ids_changed_enable;
          ctx->topics->createIfMissing(std::string(kRetryPrefix) + consumer.group_name,
                                       std::max<int32_t>(1, group->retry_queue_nums),
                                       remoting::perm::kRead | remoting::perm::kWrite);
        } else {
          RRPC_LOG(kWarn, "broker", "heartbeat: subscription group {} does not exist", consumer.group_name);
        }
        if (ctx->clients.registerConsumer(consumer, channel, hb->client_id, now,
                                          std::string(remoting::languageName(request.language)), request.version) &&
            notify)
          notifyConsumerIdsChanged(*ctx, consumer.group_name);
      }
      for (const auto& group : hb->producer_groups) ctx->clients.registerProducer(group, channel, hb->client_id, now);
      auto response = RemotingCommand::responseTo(request, resp::kSuccess);
      response.version = kBrokerVersion;
      responder.respond(std::move(response));
    });
  };
}

remoting::RequestHandler makeUnregisterClientHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    const std::string* client_id = request.get("clientID");
    if (!client_id) {
      responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, "missing clientID"));
      return;
    }
    if (const std::string* group = request.get("producerGroup"); group && !group->empty())
      ctx->clients.unregisterProducer(*group, *client_id);
    if (const std::string* group = request.get("consumerGroup"); group && !group->empty()) {
      if (ctx->clients.unregisterConsumer(*group, *client_id)) notifyConsumerIdsChanged(*ctx, *group);
    }
    responder.respond(RemotingCommand::responseTo(request, resp::kSuccess));
  };
}

remoting::RequestHandler makeGetConsumerListHandler(std::shared_ptr<BrokerContext> ctx) {
  return [ctx](RemotingCommand request, remoting::Responder responder) {
    const std::string* group = request.get("consumerGroup");
    if (!group) {
      responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, "missing consumerGroup"));
      return;
    }
    auto ids = ctx->clients.consumerIds(*group);
    if (ids.empty()) {
      responder.respond(RemotingCommand::responseTo(request, resp::kSystemError, "no consumer for this group, " + *group));
      return;
    }
    auto response = RemotingCommand::responseTo(request, resp::kSuccess);
    response.body = remoting::encodeConsumerIdList(ids);
    responder.respond(std::move(response));
  };
}

}  // namespace rocketrpc::broker
