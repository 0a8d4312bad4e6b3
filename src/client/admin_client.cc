#include "client/admin_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "client/client_instance.h"
#include "common/address.h"
#include "remoting/protocol/codes.h"
#include "remoting/response_status.h"
#include "remoting/transport.h"

namespace rocketrpc::client {

namespace rc = remoting::request_code;
namespace rs = remoting::response_code;
using remoting::RemotingCommand;
using Json = nlohmann::json;

namespace {

// Copies the JSON string starting at json[i] (a '"') to out; returns the index after it.
size_t copyString(std::string_view json, size_t i, std::string& out) {
  const size_t start = i++;
  while (i < json.size() && json[i] != '"') i += json[i] == '\\' ? 2 : 1;
  i = std::min(i + 1, json.size());
  out.append(json.substr(start, i - start));
  return i;
}

// Index after the JSON object starting at json[i] (a '{'), strings respected; json.size() when unbalanced.
size_t objectEnd(std::string_view json, size_t i) {
  int depth = 0;
  while (i < json.size()) {
    const char c = json[i];
    if (c == '"') {
      ++i;
      while (i < json.size() && json[i] != '"') i += json[i] == '\\' ? 2 : 1;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
    ++i;
  }
  return json.size();
}

Result<Json> parseBody(const RemotingCommand& resp, std::string_view what) {
  Json j = Json::parse(quoteNonStringKeys(resp.body), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::corrupt(std::string(what) + ": body is not a JSON object");
  return j;
}

int64_t intField(const Json& j, const char* key, int64_t fallback = 0) {
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number()) return static_cast<int64_t>(it->get<double>());
  return fallback;
}

bool boolField(const Json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

std::string stringField(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string quoteNonStringKeys(std::string_view json) {
  std::string out;
  out.reserve(json.size() + 64);
  std::vector<char> stack;  // 'o' object, 'a' array
  bool expect_key = false;
  size_t i = 0;
  while (i < json.size()) {
    const char c = json[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      out += c;
      ++i;
    } else if (c == '"') {
      i = copyString(json, i, out);
      expect_key = false;
    } else if (expect_key && c == '{') {
      const size_t end = objectEnd(json, i);
      out += Json(std::string(json.substr(i, end - i))).dump(-1, ' ', false, Json::error_handler_t::replace);
      i = end;
      expect_key = false;
    } else if (expect_key && (c == '-' || (c >= '0' && c <= '9'))) {
      const size_t start = i;
      while (i < json.size() && (json[i] == '-' || (json[i] >= '0' && json[i] <= '9'))) ++i;
      out += '"';
      out.append(json.substr(start, i - start));
      out += '"';
      expect_key = false;
    } else {
      if (c == '{') stack.push_back('o');
      if (c == '[') stack.push_back('a');
      if ((c == '}' || c == ']') && !stack.empty()) stack.pop_back();
      expect_key = c == '{' || (c == ',' && !stack.empty() && stack.back() == 'o');
      out += c;
      ++i;
    }
  }
  return out;
}

Result<std::unique_ptr<AdminClient>> AdminClient::create(const ClientOptions& options) {
  auto namesrvs = splitAddressList(options.namesrv_addr);
  if (namesrvs.empty()) return Status::invalidArgument("namesrv_addr is empty");
  if (!options.access_key.empty() && options.secret_key.empty()) {
    return Status::invalidArgument("secret_key is required when access_key is set");
  }
  remoting::TransportOptions t;
  t.io_threads = 1;
  t.name = "admin";
  t.request_serialize_type = options.header_format == HeaderFormat::kJson ? remoting::SerializeType::kJson
                                                                           : remoting::SerializeType::kRocketMq;
  t.credentials = remoting::AclCredentials{options.access_key, options.secret_key, options.security_token};
  t.tls = options.tls;
  auto remoting = std::make_unique<remoting::RemotingClient>(t);
  if (Status s = remoting->start(); !s.isOk()) return s;
  return std::unique_ptr<AdminClient>(new AdminClient(std::move(remoting), std::move(namesrvs), options.api_timeout));
}

AdminClient::AdminClient(std::unique_ptr<remoting::RemotingClient> owned, std::vector<std::string> namesrvs,
                         std::chrono::milliseconds timeout)
    : owned_(std::move(owned)), remoting_(owned_.get()), namesrvs_(std::move(namesrvs)), timeout_(timeout) {}

AdminClient::AdminClient(ClientInstance& instance, std::chrono::milliseconds timeout)
    : remoting_(&instance.remoting()),
      namesrvs_(splitAddressList(instance.options().namesrv_addr)),
      timeout_(timeout) {}

AdminClient::~AdminClient() {
  if (owned_) owned_->shutdown();
}

namespace {

// Sends `req` to the name servers in turn; returns the first success response, or the last failure. An ACL
// refusal stops the walk (another name server would refuse it too). `not_found_code` answers NotFound.
Result<RemotingCommand> askNamesrvs(remoting::RemotingClient& client, const std::vector<std::string>& namesrvs,
                                    const RemotingCommand& req, std::chrono::milliseconds timeout,
                                    const std::string& what, int32_t not_found_code = -1) {
  Status last = Status::invalidArgument("no name server address");
  for (const std::string& addr : namesrvs) {
    auto r = client.invokeSync(addr, req, timeout);
    if (!r.isOk()) {
      last = r.status().withContext(what + " at name server " + addr);
      continue;
    }
    if (r->code == rs::kSuccess) return r;
    if (r->code == not_found_code) return Status::notFound(what + ": " + r->remarkOrEmpty());
    last = remoting::statusFromResponse(*r, what + " at name server " + addr + ": " + r->remarkOrEmpty());
    if (last.code() == StatusCode::kAccessDenied) return last;
  }
  return last;
}

// Sends `req` to the broker at `addr`; a non-success response becomes a Status naming `what` and the broker.
Result<RemotingCommand> brokerCall(remoting::RemotingClient& client, const std::string& addr, RemotingCommand req,
                                   std::chrono::milliseconds timeout, const std::string& what) {
  auto r = client.invokeSync(addr, std::move(req), timeout);
  if (!r.isOk()) return r.status().withContext(what + " at broker " + addr);
  if (r->code != rs::kSuccess) {
    return remoting::statusFromResponse(*r, what + " at broker " + addr + ": " + r->remarkOrEmpty());
  }
  return r;
}

}  // namespace

Result<remoting::ClusterInfo> AdminClient::clusterInfo() {
  auto r = askNamesrvs(remoting(), namesrvs_, RemotingCommand::request(rc::kGetBrokerClusterInfo), timeout_,
                       "GET_BROKER_CLUSTER_INFO");
  if (!r.isOk()) return r.status();
  return remoting::parseClusterInfo(r->body);
}

Result<std::vector<std::string>> AdminClient::topicList() {
  auto r = askNamesrvs(remoting(), namesrvs_, RemotingCommand::request(rc::kGetAllTopicListFromNameServer),
                       timeout_, "GET_ALL_TOPIC_LIST_FROM_NAMESERVER");
  if (!r.isOk()) return r.status();
  auto j = parseBody(*r, "GET_ALL_TOPIC_LIST_FROM_NAMESERVER");
  if (!j.isOk()) return j.status();
  std::vector<std::string> topics;
  if (auto it = j->find("topicList"); it != j->end() && it->is_array()) {
    for (const auto& t : *it) {
      if (t.is_string()) topics.push_back(t.get<std::string>());
    }
  }
  std::sort(topics.begin(), topics.end());
  return topics;
}

Result<remoting::TopicRouteData> AdminClient::topicRoute(const std::string& topic) {
  auto req = RemotingCommand::request(rc::kGetRouteInfoByTopic);
  req.set("topic", topic);
  auto r = askNamesrvs(remoting(), namesrvs_, req, timeout_, "route of topic " + topic, rs::kTopicNotExist);
  if (!r.isOk()) return r.status();
  return remoting::parseTopicRouteData(r->body);
}

Status AdminClient::deleteTopicInNamesrvs(const std::string& topic) {
  for (const std::string& addr : namesrvs_) {
    auto req = RemotingCommand::request(rc::kDeleteTopicInNamesrv);
    req.set("topic", topic);
    auto r = remoting().invokeSync(addr, std::move(req), timeout_);
    if (!r.isOk()) return r.status().withContext("DELETE_TOPIC_IN_NAMESRV of " + topic + " at " + addr);
    if (r->code != rs::kSuccess) {
      return remoting::statusFromResponse(
          *r, "DELETE_TOPIC_IN_NAMESRV of " + topic + " at name server " + addr + ": " + r->remarkOrEmpty());
    }
  }
  return Status::ok();
}

Result<std::vector<std::string>> AdminClient::masterAddrs(const std::string& cluster) {
  auto info = clusterInfo();
  if (!info.isOk()) return info.status();
  std::set<std::string> names;
  if (cluster.empty()) {
    for (const auto& [name, bd] : info->broker_addr_table) names.insert(name);
  } else {
    auto it = info->cluster_addr_table.find(cluster);
    if (it == info->cluster_addr_table.end()) return Status::notFound("no cluster named " + cluster);
    names.insert(it->second.begin(), it->second.end());
  }
  std::vector<std::string> addrs;
  for (const std::string& name : names) {
    auto it = info->broker_addr_table.find(name);
    if (it != info->broker_addr_table.end() && !it->second.masterAddr().empty()) {
      addrs.push_back(it->second.masterAddr());
    }
  }
  if (addrs.empty()) {
    return Status::notFound(cluster.empty() ? std::string("no broker master is registered")
                                            : "cluster " + cluster + " has no broker master");
  }
  return addrs;
}

Status AdminClient::createOrUpdateTopic(const std::string& addr, const TopicSpec& spec) {
  auto req = RemotingCommand::request(rc::kUpdateAndCreateTopic);
  req.set("topic", spec.topic);
  req.set("defaultTopic", "TBW102");
  req.set("readQueueNums", int64_t{spec.read_queues});
  req.set("writeQueueNums", int64_t{spec.write_queues});
  req.set("perm", int64_t{spec.perm});
  req.set("topicFilterType", "SINGLE_TAG");
  req.set("topicSysFlag", int64_t{0});
  req.setBool("order", spec.order);
  return brokerCall(remoting(), addr, std::move(req), timeout_, "UPDATE_AND_CREATE_TOPIC of " + spec.topic).status();
}

Status AdminClient::deleteTopicInBroker(const std::string& addr, const std::string& topic) {
  auto req = RemotingCommand::request(rc::kDeleteTopicInBroker);
  req.set("topic", topic);
  return brokerCall(remoting(), addr, std::move(req), timeout_, "DELETE_TOPIC_IN_BROKER of " + topic).status();
}

Result<std::vector<SubscriptionGroupInfo>> AdminClient::subscriptionGroups(const std::string& addr) {
  const std::string what = "GET_ALL_SUBSCRIPTIONGROUP_CONFIG";
  auto r = brokerCall(remoting(), addr, RemotingCommand::request(rc::kGetAllSubscriptionGroupConfig),
                      timeout_, what);
  if (!r.isOk()) return r.status();
  auto j = parseBody(*r, what);
  if (!j.isOk()) return j.status();
  std::vector<SubscriptionGroupInfo> groups;
  if (auto it = j->find("subscriptionGroupTable"); it != j->end() && it->is_object()) {
    for (const auto& [name, g] : it->items()) {
      if (!g.is_object()) continue;
      SubscriptionGroupInfo info;
      info.group = name;
      info.consume_enable = boolField(g, "consumeEnable", true);
      info.broadcast = boolField(g, "consumeBroadcastEnable", false);
      info.retry_queue_nums = static_cast<int32_t>(intField(g, "retryQueueNums", 1));
      info.retry_max_times = static_cast<int32_t>(intField(g, "retryMaxTimes", 16));
      groups.push_back(std::move(info));
    }
  }
  std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.group < b.group; });
  return groups;
}

Result<ConsumeStats> AdminClient::consumeStats(const std::string& addr, const std::string& group,
                                               const std::string& topic) {
  const std::string what = "GET_CONSUME_STATS of group " + group;
  auto req = RemotingCommand::request(rc::kGetConsumeStats);
  req.set("consumerGroup", group);
  if (!topic.empty()) req.set("topic", topic);
  auto r = brokerCall(remoting(), addr, std::move(req), timeout_, what);
  if (!r.isOk()) return r.status();
  auto j = parseBody(*r, what);
  if (!j.isOk()) return j.status();
  ConsumeStats stats;
  if (auto it = j->find("consumeTps"); it != j->end() && it->is_number()) stats.consume_tps = it->get<double>();
  if (auto it = j->find("offsetTable"); it != j->end() && it->is_object()) {
    for (const auto& [key, value] : it->items()) {
      Json mq = Json::parse(key, nullptr, /*allow_exceptions=*/false);
      if (!mq.is_object() || !value.is_object()) return Status::corrupt(what + ": bad offsetTable entry");
      QueueProgress p;
      p.queue.topic = stringField(mq, "topic");
      p.queue.broker_name = stringField(mq, "brokerName");
      p.queue.queue_id = static_cast<int32_t>(intField(mq, "queueId"));
      p.broker_offset = intField(value, "brokerOffset");
      p.consumer_offset = intField(value, "consumerOffset");
      p.last_timestamp = intField(value, "lastTimestamp");
      stats.queues.push_back(std::move(p));
    }
  }
  std::sort(stats.queues.begin(), stats.queues.end(),
            [](const QueueProgress& a, const QueueProgress& b) { return a.queue < b.queue; });
  return stats;
}

Result<std::map<std::string, std::string>> AdminClient::brokerRuntimeInfo(const std::string& addr) {
  const std::string what = "GET_BROKER_RUNTIME_INFO";
  auto r = brokerCall(remoting(), addr, RemotingCommand::request(rc::kGetBrokerRuntimeInfo), timeout_, what);
  if (!r.isOk()) return r.status();
  auto j = parseBody(*r, what);
  if (!j.isOk()) return j.status();
  std::map<std::string, std::string> table;
  if (auto it = j->find("table"); it != j->end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) table[k] = v.is_string() ? v.get<std::string>() : v.dump();
  }
  return table;
}

Result<std::vector<std::string>> AdminClient::topicConsumerGroups(const std::string& addr, const std::string& topic) {
  const std::string what = "QUERY_TOPIC_CONSUME_BY_WHO of topic " + topic;
  auto req = RemotingCommand::request(rc::kQueryTopicConsumeByWho);
  req.set("topic", topic);
  auto r = brokerCall(remoting(), addr, std::move(req), timeout_, what);
  if (!r.isOk()) return r.status();
  auto j = parseBody(*r, what);
  if (!j.isOk()) return j.status();
  std::vector<std::string> groups;
  if (auto it = j->find("groupList"); it != j->end() && it->is_array()) {
    for (const auto& g : *it) {
      if (g.is_string()) groups.push_back(g.get<std::string>());
    }
  }
  return groups;
}

Result<std::optional<ConsumerConnectionInfo>> AdminClient::consumerConnection(const std::string& addr,
                                                                              const std::string& group) {
  const std::string what = "GET_CONSUMER_CONNECTION_LIST of group " + group;
  auto req = RemotingCommand::request(rc::kGetConsumerConnectionList);
  req.set("consumerGroup", group);
  auto r = remoting().invokeSync(addr, std::move(req), timeout_);
  if (!r.isOk()) return r.status().withContext(what + " at broker " + addr);
  if (r->code == rs::kConsumerNotOnline) return std::optional<ConsumerConnectionInfo>();
  if (r->code != rs::kSuccess) {
    return remoting::statusFromResponse(*r, what + " at broker " + addr + ": " + r->remarkOrEmpty());
  }
  auto j = parseBody(*r, what);
  if (!j.isOk()) return j.status();
  ConsumerConnectionInfo info;
  if (auto it = j->find("connectionSet"); it != j->end() && it->is_array()) info.connections = it->size();
  if (auto it = j->find("subscriptionTable"); it != j->end() && it->is_object()) {
    for (const auto& [t, sub] : it->items()) info.topics.insert(t);
  }
  return std::optional<ConsumerConnectionInfo>(std::move(info));
}

}  // namespace rocketrpc::client
