// HEART_BEAT body (protocol reference 3.6) and TAG subscriptions (FilterAPI in the Java client).
#include "remoting/protocol/heartbeat_data.h"

#include <limits>
#include <nlohmann/json.hpp>

#include "remoting/protocol/message_codec.h"

namespace rocketrpc::remoting {

namespace {

using Json = nlohmann::json;

constexpr std::string_view kSubAll = "*";

// Thrown by the field readers below on a type mismatch; turned into Corrupt at each parser's edge.
struct FieldError {
  std::string message;
};

std::string_view trim(std::string_view s) {
  const auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Member `key` of `obj`, or nullptr when absent or JSON null.
const Json* member(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

void requireObject(const Json& value, const std::string& what) {
  if (!value.is_object()) throw FieldError{what + " is not an object"};
}

std::string getString(const Json& obj, const char* key, std::string fallback = {}) {
  const Json* v = member(obj, key);
  if (v == nullptr) return fallback;
  if (!v->is_string()) throw FieldError{std::string(key) + " is not a string"};
  return v->get<std::string>();
}

bool getBool(const Json& obj, const char* key, bool fallback) {
  const Json* v = member(obj, key);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) throw FieldError{std::string(key) + " is not a boolean"};
  return v->get<bool>();
}

int64_t getInt64(const Json& obj, const char* key, int64_t fallback) {
  const Json* v = member(obj, key);
  if (v == nullptr) return fallback;
  if (v->is_number_unsigned()) {
    const auto u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      throw FieldError{std::string(key) + " out of long range"};
    }
    return static_cast<int64_t>(u);
  }
  if (v->is_number_integer()) return v->get<int64_t>();
  throw FieldError{std::string(key) + " is not an integer"};
}

const Json* getArray(const Json& obj, const char* key) {
  const Json* v = member(obj, key);
  if (v != nullptr && !v->is_array()) throw FieldError{std::string(key) + " is not an array"};
  return v;
}

int32_t toInt32(const Json& v, const char* what) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u <= static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) return static_cast<int32_t>(u);
  } else if (v.is_number_integer()) {
    const auto i = v.get<int64_t>();
    if (i >= std::numeric_limits<int32_t>::min() && i <= std::numeric_limits<int32_t>::max()) {
      return static_cast<int32_t>(i);
    }
  }
  throw FieldError{std::string(what) + " is not an int"};
}

SubscriptionData readSubscription(const Json& value) {
  requireObject(value, "subscriptionData");
  SubscriptionData sub;
  sub.topic = getString(value, "topic");
  sub.sub_string = getString(value, "subString", sub.sub_string);
  sub.sub_version = getInt64(value, "subVersion", 0);
  sub.expression_type = getString(value, "expressionType", sub.expression_type);
  sub.class_filter_mode = getBool(value, "classFilterMode", false);
  if (const Json* tags = getArray(value, "tagsSet")) {
    for (const Json& tag : *tags) {
      if (!tag.is_string()) throw FieldError{"tagsSet entry is not a string"};
      sub.tags_set.insert(tag.get<std::string>());
    }
  }
  if (const Json* codes = getArray(value, "codeSet")) {
    for (const Json& code : *codes) sub.code_set.insert(toInt32(code, "codeSet entry"));
  }
  return sub;
}

ConsumerData readConsumer(const Json& value) {
  requireObject(value, "consumerData");
  ConsumerData cd;
  cd.group_name = getString(value, "groupName");
  cd.consume_type = getString(value, "consumeType", cd.consume_type);
  cd.message_model = getString(value, "messageModel", cd.message_model);
  cd.consume_from_where = getString(value, "consumeFromWhere", cd.consume_from_where);
  cd.unit_mode = getBool(value, "unitMode", false);
  if (const Json* subs = getArray(value, "subscriptionDataSet")) {
    for (const Json& s : *subs) cd.subscriptions.push_back(readSubscription(s));
  }
  return cd;
}

std::string dumpJson(const Json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

}  // namespace

bool SubscriptionData::matches(std::string_view tags) const {
  // As the Java client's re-filter after a pull: no tag set means everything passes; otherwise the message
  // must carry one of the subscribed tags.
  if (sub_string == kSubAll || tags_set.empty()) return true;
  if (tags.empty()) return false;
  return tags_set.find(std::string(tags)) != tags_set.end();
}

Result<SubscriptionData> buildSubscription(const std::string& topic, const std::string& expression,
                                           int64_t sub_version) {
  SubscriptionData sub;
  sub.topic = topic;
  sub.sub_version = sub_version;
  const std::string_view expr = trim(expression);
  if (expr.empty() || expr == kSubAll) {
    sub.sub_string = std::string(kSubAll);
    return sub;
  }
  sub.sub_string = std::string(expr);
  size_t pos = 0;
  while (pos <= expr.size()) {
    size_t end = expr.find("||", pos);
    if (end == std::string_view::npos) end = expr.size();
    const std::string_view tag = trim(expr.substr(pos, end - pos));
    if (!tag.empty()) {
      sub.tags_set.emplace(tag);
      sub.code_set.insert(javaStringHash(tag));
    }
    pos = end + 2;
  }
  if (sub.tags_set.empty()) {
    return Status::invalidArgument("subscription expression '" + expression + "' names no tag");
  }
  return sub;
}

std::string encodeHeartbeat(const HeartbeatData& hb) {
  Json consumers = Json::array();
  for (const ConsumerData& cd : hb.consumers) {
    Json subs = Json::array();
    for (const SubscriptionData& s : cd.subscriptions) {
      subs.push_back(Json{{"classFilterMode", s.class_filter_mode},
                          {"codeSet", s.code_set},
                          {"expressionType", s.expression_type},
                          {"subString", s.sub_string},
                          {"subVersion", s.sub_version},
                          {"tagsSet", s.tags_set},
                          {"topic", s.topic}});
    }
    consumers.push_back(Json{{"consumeFromWhere", cd.consume_from_where},
                             {"consumeType", cd.consume_type},
                             {"groupName", cd.group_name},
                             {"messageModel", cd.message_model},
                             {"subscriptionDataSet", std::move(subs)},
                             {"unitMode", cd.unit_mode}});
  }
  Json producers = Json::array();
  for (const std::string& group : hb.producer_groups) producers.push_back(Json{{"groupName", group}});
  // nlohmann objects keep keys sorted, which is also fastjson's (SortField) order.
  const Json root{{"clientID", hb.client_id},
                  {"consumerDataSet", std::move(consumers)},
                  {"producerDataSet", std::move(producers)}};
  return dumpJson(root);
}

Result<HeartbeatData> parseHeartbeat(std::string_view json) {
  try {
    const Json root = Json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded()) return Status::corrupt("HeartbeatData: invalid JSON");
    requireObject(root, "HeartbeatData");
    HeartbeatData hb;
    const Json* client_id = member(root, "clientID");
    if (client_id == nullptr) return Status::corrupt("HeartbeatData: missing clientID");
    hb.client_id = getString(root, "clientID");
    if (const Json* producers = getArray(root, "producerDataSet")) {
      for (const Json& p : *producers) {
        requireObject(p, "producerData");
        hb.producer_groups.push_back(getString(p, "groupName"));
      }
    }
    if (const Json* consumers = getArray(root, "consumerDataSet")) {
      for (const Json& c : *consumers) hb.consumers.push_back(readConsumer(c));
    }
    return hb;
  } catch (const FieldError& e) {
    return Status::corrupt("HeartbeatData: " + e.message);
  } catch (const std::exception& e) {
    return Status::corrupt(std::string("HeartbeatData: ") + e.what());
  }
}

Result<std::vector<std::string>> parseConsumerIdList(std::string_view json) {
  try {
    const Json root = Json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded()) return Status::corrupt("GetConsumerListByGroupResponseBody: invalid JSON");
    requireObject(root, "GetConsumerListByGroupResponseBody");
    std::vector<std::string> ids;
    if (const Json* list = getArray(root, "consumerIdList")) {
      for (const Json& id : *list) {
        if (!id.is_string()) throw FieldError{"consumerIdList entry is not a string"};
        ids.push_back(id.get<std::string>());
      }
    }
    return ids;
  } catch (const FieldError& e) {
    return Status::corrupt("GetConsumerListByGroupResponseBody: " + e.message);
  } catch (const std::exception& e) {
    return Status::corrupt(std::string("GetConsumerListByGroupResponseBody: ") + e.what());
  }
}

std::string encodeConsumerIdList(const std::vector<std::string>& ids) {
  return dumpJson(Json{{"consumerIdList", ids}});
}

}  // namespace rocketrpc::remoting
