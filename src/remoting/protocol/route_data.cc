// TopicRouteData / ClusterInfo JSON (protocol reference 3.7, 3.8, 3.10).
#include "remoting/protocol/route_data.h"

#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>

namespace rocketrpc::remoting {

namespace {

using Json = nlohmann::json;

// Thrown by the field readers below on a type mismatch; turned into Corrupt at each parser's edge.
struct FieldError {
  std::string message;
};

bool isWhitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Member `key` of `obj`, or nullptr when absent or JSON null (fastjson omits nulls; Java treats both alike).
const Json* member(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

const Json& requireObject(const Json& value, const std::string& what) {
  if (!value.is_object()) throw FieldError{what + " is not an object"};
  return value;
}

std::string getString(const Json& obj, const char* key, std::string fallback = {}) {
  const Json* v = member(obj, key);
  if (v == nullptr) return fallback;
  if (!v->is_string()) throw FieldError{std::string(key) + " is not a string"};
  return v->get<std::string>();
}

int32_t getInt32(const Json& obj, const char* key, int32_t fallback) {
  const Json* v = member(obj, key);
  if (v == nullptr) return fallback;
  if (v->is_number_unsigned()) {
    const auto u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
      throw FieldError{std::string(key) + " out of int range"};
    }
    return static_cast<int32_t>(u);
  }
  if (v->is_number_integer()) {
    const auto i = v->get<int64_t>();
    if (i < std::numeric_limits<int32_t>::min() || i > std::numeric_limits<int32_t>::max()) {
      throw FieldError{std::string(key) + " out of int range"};
    }
    return static_cast<int32_t>(i);
  }
  throw FieldError{std::string(key) + " is not an integer"};
}

int64_t parseBrokerId(const std::string& key) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
  if (key.empty() || ec != std::errc() || end != key.data() + key.size()) {
    throw FieldError{"brokerAddrs key '" + key + "' is not an integer"};
  }
  return id;
}

BrokerData readBrokerData(const Json& value) {
  requireObject(value, "brokerData");
  BrokerData bd;
  bd.cluster = getString(value, "cluster");
  bd.broker_name = getString(value, "brokerName");
  if (const Json* addrs = member(value, "brokerAddrs")) {
    requireObject(*addrs, "brokerAddrs");
    for (const auto& [key, addr] : addrs->items()) {
      if (!addr.is_string()) throw FieldError{"brokerAddrs value is not a string"};
      bd.broker_addrs[parseBrokerId(key)] = addr.get<std::string>();
    }
  }
  return bd;
}

QueueData readQueueData(const Json& value) {
  requireObject(value, "queueData");
  QueueData qd;
  qd.broker_name = getString(value, "brokerName");
  qd.read_queue_nums = getInt32(value, "readQueueNums", 0);
  qd.write_queue_nums = getInt32(value, "writeQueueNums", 0);
  qd.perm = getInt32(value, "perm", qd.perm);
  qd.topic_sys_flag = getInt32(value, "topicSynFlag", 0);  // <= 4.8.x spelling
  qd.topic_sys_flag = getInt32(value, "topicSysFlag", qd.topic_sys_flag);
  return qd;
}

const Json* getArray(const Json& obj, const char* key) {
  const Json* v = member(obj, key);
  if (v != nullptr && !v->is_array()) throw FieldError{std::string(key) + " is not an array"};
  return v;
}

// Parses fastjson output (legacy integer keys allowed). Returns a discarded value on syntax errors.
Json parseLenient(std::string_view text) {
  return Json::parse(quoteBareIntegerKeys(text), /*cb=*/nullptr, /*allow_exceptions=*/false);
}

// JSON string literal (invalid UTF-8 replaced by U+FFFD, never throws).
std::string quote(const std::string& s) {
  return Json(s).dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

std::string dumpJson(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// {"brokerAddrs":{...},"brokerName":..,"cluster":..}: keys in fastjson's sorted order; integer map keys
// unquoted when `legacy`.
void appendBrokerData(std::string& out, const BrokerData& bd, bool legacy) {
  out += "{\"brokerAddrs\":{";
  bool first = true;
  for (const auto& [id, addr] : bd.broker_addrs) {
    if (!first) out += ',';
    first = false;
    if (legacy) {
      out += std::to_string(id);
    } else {
      out += '"' + std::to_string(id) + '"';
    }
    out += ':';
    out += quote(addr);
  }
  out += "},\"brokerName\":";
  out += quote(bd.broker_name);
  out += ",\"cluster\":";
  out += quote(bd.cluster);
  out += '}';
}

}  // namespace

std::string BrokerData::masterAddr() const {
  auto it = broker_addrs.find(0);
  return it == broker_addrs.end() ? std::string() : it->second;
}

std::string quoteBareIntegerKeys(std::string_view json) {
  std::string out;
  out.reserve(json.size() + 16);
  bool in_string = false;
  size_t i = 0;
  const size_t n = json.size();
  while (i < n) {
    const char c = json[i];
    out.push_back(c);
    ++i;
    if (in_string) {
      if (c == '\\') {
        if (i < n) out.push_back(json[i++]);  // the escaped character, whatever it is
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (c != '{' && c != ',') continue;
    // A key position: copy whitespace, then look for  -?[0-9]+ \s* ':'
    while (i < n && isWhitespace(json[i])) out.push_back(json[i++]);
    size_t k = i;
    if (k < n && json[k] == '-') ++k;
    const size_t digits_begin = k;
    while (k < n && isDigit(json[k])) ++k;
    if (k == digits_begin) continue;
    size_t m = k;
    while (m < n && isWhitespace(json[m])) ++m;
    if (m < n && json[m] == ':') {
      out.push_back('"');
      out.append(json.substr(i, k - i));
      out.push_back('"');
      i = k;
    }
  }
  return out;
}

Result<TopicRouteData> parseTopicRouteData(std::string_view json) {
  try {
    const Json root = parseLenient(json);
    if (root.is_discarded()) return Status::corrupt("TopicRouteData: invalid JSON");
    requireObject(root, "TopicRouteData");
    TopicRouteData route;
    route.order_topic_conf = getString(root, "orderTopicConf");
    if (const Json* queues = getArray(root, "queueDatas")) {
      for (const Json& q : *queues) route.queue_datas.push_back(readQueueData(q));
    }
    if (const Json* brokers = getArray(root, "brokerDatas")) {
      for (const Json& b : *brokers) route.broker_datas.push_back(readBrokerData(b));
    }
    return route;
  } catch (const FieldError& e) {
    return Status::corrupt("TopicRouteData: " + e.message);
  } catch (const std::exception& e) {
    return Status::corrupt(std::string("TopicRouteData: ") + e.what());
  }
}

std::string encodeTopicRouteData(const TopicRouteData& route) {
  std::string out = "{\"brokerDatas\":[";
  for (size_t i = 0; i < route.broker_datas.size(); ++i) {
    if (i > 0) out += ',';
    appendBrokerData(out, route.broker_datas[i], /*legacy=*/false);
  }
  out += "],\"filterServerTable\":{}";
  if (!route.order_topic_conf.empty()) {
    out += ",\"orderTopicConf\":";
    out += quote(route.order_topic_conf);
  }
  out += ",\"queueDatas\":";
  Json queues = Json::array();
  for (const QueueData& q : route.queue_datas) {
    queues.push_back(Json{{"brokerName", q.broker_name},
                          {"perm", q.perm},
                          {"readQueueNums", q.read_queue_nums},
                          {"topicSysFlag", q.topic_sys_flag},
                          {"writeQueueNums", q.write_queue_nums}});
  }
  out += dumpJson(queues);
  out += '}';
  return out;
}

Result<ClusterInfo> parseClusterInfo(std::string_view json) {
  try {
    const Json root = parseLenient(json);
    if (root.is_discarded()) return Status::corrupt("ClusterInfo: invalid JSON");
    requireObject(root, "ClusterInfo");
    ClusterInfo info;
    if (const Json* brokers = member(root, "brokerAddrTable")) {
      requireObject(*brokers, "brokerAddrTable");
      for (const auto& [name, value] : brokers->items()) info.broker_addr_table[name] = readBrokerData(value);
    }
    if (const Json* clusters = member(root, "clusterAddrTable")) {
      requireObject(*clusters, "clusterAddrTable");
      for (const auto& [cluster, names] : clusters->items()) {
        if (!names.is_array()) throw FieldError{"clusterAddrTable value is not an array"};
        auto& list = info.cluster_addr_table[cluster];
        for (const Json& name : names) {
          if (!name.is_string()) throw FieldError{"clusterAddrTable broker name is not a string"};
          list.push_back(name.get<std::string>());
        }
      }
    }
    return info;
  } catch (const FieldError& e) {
    return Status::corrupt("ClusterInfo: " + e.message);
  } catch (const std::exception& e) {
    return Status::corrupt(std::string("ClusterInfo: ") + e.what());
  }
}

std::string encodeClusterInfo(const ClusterInfo& info, bool legacy) {
  std::string out = "{\"brokerAddrTable\":{";
  bool first = true;
  for (const auto& [name, bd] : info.broker_addr_table) {
    if (!first) out += ',';
    first = false;
    out += quote(name);
    out += ':';
    appendBrokerData(out, bd, legacy);
  }
  out += "},\"clusterAddrTable\":";
  Json clusters = Json::object();
  for (const auto& [cluster, names] : info.cluster_addr_table) clusters[cluster] = names;
  out += dumpJson(clusters);
  out += '}';
  return out;
}

}  // namespace rocketrpc::remoting
