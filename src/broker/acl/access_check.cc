#include "broker/acl/access_check.h"

#include "broker/acl/reply_registry.h"
#include "broker/schedule_message_service.h"
#include "remoting/acl_signer.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/heartbeat_data.h"
#include "remoting/protocol/message_codec.h"
#include "rocketrpc/message.h"

namespace rocketrpc::broker::acl {

namespace rc = remoting::request_code;
using remoting::RemotingCommand;

namespace {

// Apache's trace topic: Apache lets any signed account publish to it (PlainPermissionManager.validate).
constexpr std::string_view kTraceTopic = "RMQ_SYS_TRACE_TOPIC";

std::string codeName(int32_t code) {
  switch (code) {
    case rc::kUpdateAndCreateTopic: return "UPDATE_AND_CREATE_TOPIC (17)";
    case rc::kUpdateBrokerConfig: return "UPDATE_BROKER_CONFIG (25)";
    case rc::kDeleteTopicInBroker: return "DELETE_TOPIC_IN_BROKER (215)";
    case rc::kUpdateAndCreateSubscriptionGroup: return "UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200)";
    case rc::kDeleteSubscriptionGroup: return "DELETE_SUBSCRIPTIONGROUP (207)";
    case rc::kRegisterBroker: return "REGISTER_BROKER (103)";
    case rc::kUnregisterBroker: return "UNREGISTER_BROKER (104)";
    case rc::kDeleteTopicInNamesrv: return "DELETE_TOPIC_IN_NAMESRV (216)";
    case rc::kGetAllTopicConfig: return "GET_ALL_TOPIC_CONFIG (21)";
    case rc::kGetAllSubscriptionGroupConfig: return "GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201)";
    case rc::kUpdateConsumerOffset: return "UPDATE_CONSUMER_OFFSET (15)";
    case rc::kQueryConsumerOffset: return "QUERY_CONSUMER_OFFSET (14)";
    default: return "request code " + std::to_string(code);
  }
}

const std::string* field(const RemotingCommand& cmd, std::string_view key) { return cmd.get(key); }

// A client-supplied name as it may appear in a remark and a log line: at most 128 bytes, control characters
// replaced, so a hostile header cannot forge log lines or blow up the log.
std::string shown(std::string_view s) {
  constexpr size_t kMax = 128;
  std::string out(s.substr(0, kMax));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (s.size() > kMax) out += "...";
  return out;
}

void need(Requirements& r, std::string resource, uint8_t p) {
  // Apache keeps a map (a later entry for the same resource replaces the earlier one).
  for (auto& [res, perm] : r.resources) {
    if (res == resource) {
      perm = p;
      return;
    }
  }
  r.resources.emplace_back(std::move(resource), p);
}

void needTopic(Requirements& r, const std::string* topic, uint8_t p) {
  if (topic != nullptr) need(r, *topic, p);
}

void needGroup(Requirements& r, const std::string* group) {
  if (group != nullptr) need(r, retryTopicOf(*group), perm::kSub);
}

bool isRetryTopic(std::string_view topic) { return topic.starts_with(kRetryTopicPrefix); }

void requireSend(Requirements& r, const std::string* topic) {
  if (topic == nullptr) return;
  // A send to %RETRY%<group> is a consumer's retry: it needs SUB on the group. (Apache reads the group from the
  // producer-group field instead; the retry topic itself names the group the message goes back to.)
  if (isRetryTopic(*topic)) {
    need(r, *topic, perm::kSub);
  } else {
    need(r, *topic, perm::kPub);
  }
}

std::string describeResource(std::string_view resource) {
  if (isRetryTopic(resource)) return "group " + shown(resource.substr(kRetryTopicPrefix.size()));
  return "topic " + shown(resource);
}

std::string verb(uint8_t needed) {
  if (needed & perm::kPub) return "PUB to";
  if (needed & perm::kSub) return "SUB to";
  return "use";
}

}  // namespace

bool isAdminCode(int32_t code) {
  switch (code) {
    // Apache 4.9 Permission.ADMIN_CODE.
    case rc::kUpdateAndCreateTopic:
    case rc::kUpdateBrokerConfig:
    case rc::kDeleteTopicInBroker:
    case rc::kUpdateAndCreateSubscriptionGroup:
    case rc::kDeleteSubscriptionGroup:
    // rocketrpc: the embedded name server's writes (Apache's name server has no ACL at all) and the broker's
    // full configuration dumps.
    case rc::kRegisterBroker:
    case rc::kUnregisterBroker:
    case rc::kDeleteTopicInNamesrv:
    case rc::kGetAllTopicConfig:
    case rc::kGetAllSubscriptionGroupConfig:
      return true;
    default:
      return false;
  }
}

Requirements requirementsOf(const RemotingCommand& request) {
  Requirements r;
  r.admin = isAdminCode(request.code);
  switch (request.code) {
    case rc::kSendMessage:
      requireSend(r, field(request, "topic"));
      break;
    case rc::kSendMessageV2:
    case rc::kSendBatchMessage:
      requireSend(r, field(request, "b"));
      break;
    case rc::kSendReplyMessage:
    case rc::kSendReplyMessageV2:
      r.reply = true;
      break;
    case rc::kConsumerSendMsgBack:
      needGroup(r, field(request, "group"));
      break;
    case rc::kPullMessage:
    case rc::kLitePullMessage:
      needTopic(r, field(request, "topic"), perm::kSub);
      needGroup(r, field(request, "consumerGroup"));
      break;
    case rc::kQueryMessage:
      needTopic(r, field(request, "topic"), perm::kSub);
      break;
    case rc::kHeartBeat: {
      if (request.body.empty()) break;
      auto hb = remoting::parseHeartbeat(request.body);
      if (!hb.isOk()) {
        r.malformed = "heartbeat body is not HeartbeatData JSON";
        break;
      }
      for (const auto& consumer : hb->consumers) {
        need(r, retryTopicOf(consumer.group_name), perm::kSub);
        for (const auto& sub : consumer.subscriptions) need(r, sub.topic, perm::kSub);
      }
      break;
    }
    case rc::kUnregisterClient:
    case rc::kGetConsumerListByGroup:
      needGroup(r, field(request, "consumerGroup"));
      break;
    case rc::kUpdateConsumerOffset:
    case rc::kQueryConsumerOffset:  // rocketrpc: Apache checks updates only; reading a group's offsets is SUB too
      needGroup(r, field(request, "consumerGroup"));
      needTopic(r, field(request, "topic"), perm::kSub);
      // The broker's own delayed-delivery progress is kept as offsets of %SCHEDULE_DELAY%: only an admin may
      // touch it (rewinding it would deliver delayed messages again).
      if (const std::string* group = field(request, "consumerGroup"); group && *group == kScheduleOffsetGroup)
        r.admin = true;
      break;
    default:
      break;
  }
  return r;
}

std::optional<TrackedRequest> trackedRequestOf(const RemotingCommand& request) {
  const std::string* topic = nullptr;
  const std::string* props = nullptr;
  if (request.code == rc::kSendMessage) {
    topic = request.get("topic");
    props = request.get("properties");
  } else if (request.code == rc::kSendMessageV2 || request.code == rc::kSendBatchMessage) {
    topic = request.get("b");
    props = request.get("i");
  } else {
    return std::nullopt;
  }
  if (topic == nullptr || props == nullptr) return std::nullopt;
  // Cheap test first: ordinary messages never pay for decoding their properties.
  if (props->find(property::kCorrelationId) == std::string::npos) return std::nullopt;
  auto decoded = remoting::decodeProperties(*props);
  auto corr = decoded.find(property::kCorrelationId);
  auto reply_to = decoded.find(property::kReplyToClient);
  if (corr == decoded.end() || corr->second.empty() || reply_to == decoded.end() || reply_to->second.empty())
    return std::nullopt;
  auto type = decoded.find(property::kMessageType);
  if (type != decoded.end() && type->second == property::kReplyMessageFlag) return std::nullopt;
  return TrackedRequest{*topic, corr->second, reply_to->second};
}

std::string_view hostOf(std::string_view remote_addr) {
  size_t colon = remote_addr.rfind(':');
  if (colon == std::string_view::npos) return remote_addr;
  return remote_addr.substr(0, colon);
}

namespace {

Verdict deny(std::string reason, std::string access_key = {}) {
  Verdict v;
  v.reason = "No permission: " + std::move(reason);
  v.access_key = std::move(access_key);
  return v;
}

// PlainPermissionManager.checkPerm for one resource; empty when allowed, else the refusal.
std::string checkResource(const AclAccount& account, const std::string& resource, uint8_t needed) {
  auto it = account.resource_perms.find(resource);
  uint8_t owned;
  if (it == account.resource_perms.end()) {
    owned = isRetryTopic(resource) ? account.default_group_perm : account.default_topic_perm;
  } else {
    owned = it->second;
  }
  if (permits(needed, owned)) return {};
  return "account " + shown(account.access_key) + " may not " + verb(needed) + " " + describeResource(resource) +
         " (has " + permName(owned) + (it == account.resource_perms.end() ? " by default)" : ")");
}

std::string checkResources(const AclAccount& account, const std::vector<std::pair<std::string, uint8_t>>& needed) {
  // Apache: an admin without any topicPerms/groupPerms entries may use every resource.
  if (account.admin && account.resource_perms.empty()) return {};
  for (const auto& [resource, p] : needed) {
    if (std::string why = checkResource(account, resource, p); !why.empty()) return why;
  }
  return {};
}

}  // namespace

Verdict checkAccess(const AclConfig& config, const RemotingCommand& request, std::string_view remote_host,
                    ReplyRegistry* replies, int64_t now_ms) {
  for (const auto& pattern : config.global_white_remote_addresses) {
    if (pattern.matches(remote_host)) return Verdict{true, {}, {}};
  }
  const std::string* access_key = request.get(remoting::kAclAccessKey);
  if (access_key == nullptr || access_key->empty()) {
    return deny(codeName(request.code) + " from " + shown(remote_host) +
                " is not signed (no AccessKey) and the address is not white-listed");
  }
  const AclAccount* account = config.find(*access_key);
  const std::string ak = shown(*access_key);
  if (account == nullptr) return deny("unknown AccessKey " + ak, *access_key);
  if (account->white_remote_address.matches(remote_host)) return Verdict{true, {}, *access_key};
  if (!remoting::aclSignatureMatches(request, account->secret_key)) {
    return deny("signature check failed for AccessKey " + ak, *access_key);
  }
  Requirements needed = requirementsOf(request);
  if (!needed.malformed.empty()) return deny(needed.malformed, *access_key);
  if (needed.admin && !account->admin) {
    return deny("account " + ak + " is not admin; " + codeName(request.code) + " needs admin", *access_key);
  }
  if (needed.resources.size() == 1 && needed.resources.front().first == kTraceTopic &&
      needed.resources.front().second == perm::kPub) {
    return Verdict{true, {}, *access_key};
  }
  if (std::string why = checkResources(*account, needed.resources); !why.empty()) return deny(why, *access_key);
  if (needed.reply && replies != nullptr) {
    const std::string* props = request.get(request.code == rc::kSendReplyMessageV2 ? "i" : "properties");
    auto decoded = remoting::decodeProperties(props ? *props : std::string());
    auto corr = decoded.find(property::kCorrelationId);
    auto reply_to = decoded.find(property::kReplyToClient);
    if (corr == decoded.end() || corr->second.empty())
      return deny("reply from account " + ak + " carries no CORRELATION_ID", *access_key);
    std::optional<ReplyRegistry::Entry> origin = replies->find(corr->second, now_ms, /*touch=*/false);
    if (!origin) {
      return deny("reply from account " + ak + " answers correlation id " + shown(corr->second) +
                      ", which matches no request this broker stored (or it expired)",
                  *access_key);
    }
    if (reply_to == decoded.end() || reply_to->second != origin->reply_to_client) {
      return deny("reply from account " + ak + " for correlation id " + shown(corr->second) +
                      " names another requester than the request did",
                  *access_key);
    }
    if (std::string why = checkResources(*account, {{origin->topic, perm::kSub}}); !why.empty()) {
      return deny(why + ", so it may not answer requests sent to it", *access_key);
    }
    replies->find(corr->second, now_ms, /*touch=*/true);
  }
  return Verdict{true, {}, *access_key};
}

}  // namespace rocketrpc::broker::acl
