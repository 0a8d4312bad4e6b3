#include "broker/request_names.h"

#include "remoting/protocol/codes.h"
#include "remoting/protocol/names.h"
#include "rocketrpc/message.h"

namespace rocketrpc::broker {

namespace rc = remoting::request_code;
using remoting::NameKind;

namespace {

struct NameField {
  std::string_view key;
  NameKind kind;
};

// Header fields holding names, by their wire key, for every broker code. Sends with the V2 header (310, 320,
// 325) use one-letter keys: a = producerGroup, b = topic, c = defaultTopic, i = properties.
constexpr NameField kFields[] = {
    {"topic", NameKind::kTopic},          {"defaultTopic", NameKind::kTopic},
    {"consumerGroup", NameKind::kGroup},  {"producerGroup", NameKind::kGroup},
    {"group", NameKind::kGroup},          {"groupName", NameKind::kGroup},
    {"clientID", NameKind::kClientId},    {"brokerName", NameKind::kBrokerName},
    {"topicFilterType", NameKind::kFilterType},
};
constexpr NameField kV2SendFields[] = {
    {"a", NameKind::kGroup},
    {"b", NameKind::kTopic},
    {"c", NameKind::kTopic},
};

bool isV2Send(int32_t code) {
  return code == rc::kSendMessageV2 || code == rc::kSendBatchMessage || code == rc::kSendReplyMessageV2;
}

bool isSend(int32_t code) { return isV2Send(code) || code == rc::kSendMessage || code == rc::kSendReplyMessage; }

Status checkField(const remoting::RemotingCommand& request, const NameField& field) {
  const std::string* value = request.get(field.key);
  if (value == nullptr) return Status::ok();
  return remoting::checkName(field.kind, *value);
}

}  // namespace

std::string_view findKeysProperty(std::string_view properties) {
  constexpr std::string_view kName = property::kKeys;
  size_t pos = 0;
  while (pos < properties.size()) {
    size_t end = properties.find('\x02', pos);
    if (end == std::string_view::npos) end = properties.size();
    std::string_view entry = properties.substr(pos, end - pos);
    if (entry.size() > kName.size() && entry.starts_with(kName) && entry[kName.size()] == '\x01')
      return entry.substr(kName.size() + 1);
    pos = end + 1;
  }
  return {};
}

Status checkRequestNames(const remoting::RemotingCommand& request) {
  // A V2 header's one-letter keys mean nothing in other requests; the long keys are checked for every code.
  if (isV2Send(request.code)) {
    for (const NameField& field : kV2SendFields) {
      if (Status s = checkField(request, field); !s.isOk()) return s;
    }
  }
  for (const NameField& field : kFields) {
    if (Status s = checkField(request, field); !s.isOk()) return s;
  }
  if (isSend(request.code)) {
    const std::string* props = request.get(isV2Send(request.code) ? "i" : "properties");
    if (props != nullptr) {
      if (Status s = remoting::checkName(NameKind::kMessageKeys, findKeysProperty(*props)); !s.isOk()) return s;
    }
  }
  return Status::ok();
}

}  // namespace rocketrpc::broker
