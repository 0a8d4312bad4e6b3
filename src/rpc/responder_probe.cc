#include "rpc/responder_probe.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "client/client_instance.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/route_data.h"
#include "remoting/response_status.h"

namespace rocketrpc::rpc {

namespace {
constexpr int32_t kQueryTopicConsumeByWho = 300;
constexpr int32_t kGetConsumerConnectionList = 203;
constexpr size_t kMaxGroupsChecked = 64;
}  // namespace

ResponderProbe::ResponderProbe(Query query, std::chrono::milliseconds ttl)
    : query_(std::move(query)), ttl_(ttl) {}

std::optional<ResponderProbe::Verdict> ResponderProbe::cached() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (verdict_ && Clock::now() - at_ < ttl_) return verdict_;
  return std::nullopt;
}

ResponderProbe::Verdict ResponderProbe::check() {
  std::unique_lock<std::mutex> lock(mu_);
  if (verdict_ && Clock::now() - at_ < ttl_) return *verdict_;
  if (querying_) {  // share the query under way
    uint64_t gen = generation_;
    cv_.wait(lock, [&] { return generation_ != gen; });
    if (verdict_) return *verdict_;
    return Verdict{};
  }
  querying_ = true;
  lock.unlock();
  Verdict v;
  try {
    v = query_();
  } catch (const std::exception& e) {
    v = Verdict{Answer::kUnknown, e.what()};
  }
  lock.lock();
  querying_ = false;
  verdict_ = v;
  at_ = Clock::now();
  ++generation_;
  ++queries_;
  cv_.notify_all();
  return v;
}

uint64_t ResponderProbe::queries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queries_;
}

ResponderProbe::Verdict queryResponders(client::ClientInstance& instance, const std::string& topic,
                                        std::chrono::milliseconds timeout) {
  using Answer = ResponderProbe::Answer;
  std::string addr = instance.anyBrokerAddrForTopic(topic);
  if (addr.empty()) {
    auto route = instance.updateRoute(topic);
    if (!route.isOk()) {
      return {Answer::kUnknown, "topic " + topic + " has no route yet: " + route.status().toString()};
    }
    addr = instance.anyBrokerAddrForTopic(topic);
    if (addr.empty()) return {Answer::kUnknown, "no broker address for topic " + topic};
  }
  auto req = remoting::RemotingCommand::request(kQueryTopicConsumeByWho);
  req.set("topic", topic);
  auto resp = instance.remoting().invokeSync(addr, req, timeout);
  if (!resp.isOk()) return {Answer::kUnknown, "QUERY_TOPIC_CONSUME_BY_WHO: " + resp.status().toString()};
  if (resp->code != remoting::response_code::kSuccess) {
    // An ACL refusal (kAccessDenied) is no answer about responders: an account may publish to a topic it may
    // not inspect (Apache 5.x wants GET on the topic for this code), so the request is sent anyway, and if
    // the account may not publish either, the send itself fails with kAccessDenied naming the topic.
    Status st = remoting::statusFromResponse(
        *resp, fmt::format("QUERY_TOPIC_CONSUME_BY_WHO of topic {} at {}: {}", topic, addr, resp->remarkOrEmpty()));
    return {Answer::kUnknown, st.toString()};
  }
  std::vector<std::string> groups;
  try {
    auto j = nlohmann::json::parse(remoting::quoteBareIntegerKeys(resp->body));
    if (j.contains("groupList") && j["groupList"].is_array()) {
      for (const auto& g : j["groupList"]) {
        if (g.is_string()) groups.push_back(g.get<std::string>());
      }
    }
  } catch (const std::exception& e) {
    return {Answer::kUnknown, std::string("QUERY_TOPIC_CONSUME_BY_WHO body: ") + e.what()};
  }
  size_t checked = 0;
  bool any_unknown = false;
  for (const std::string& group : groups) {
    if (++checked > kMaxGroupsChecked) {
      any_unknown = true;
      break;
    }
    auto creq = remoting::RemotingCommand::request(kGetConsumerConnectionList);
    creq.set("consumerGroup", group);
    auto cresp = instance.remoting().invokeSync(addr, creq, timeout);
    if (!cresp.isOk()) {
      any_unknown = true;
      continue;
    }
    if (cresp->code == remoting::response_code::kConsumerNotOnline) {
      // Apache RocketMQ 5.3.x files each subscribing group under the topic's own name (ConsumerManager adds
      // the topic instead of the group) and never removes it: an entry equal to the topic that is no online
      // group means "some consumer has subscribed since the broker started", which proves nothing either way.
      if (group == topic) any_unknown = true;
      continue;
    }
    if (cresp->code != remoting::response_code::kSuccess) {
      any_unknown = true;
      continue;
    }
    try {
      auto j = nlohmann::json::parse(remoting::quoteBareIntegerKeys(cresp->body));
      bool connected =
          j.contains("connectionSet") && j["connectionSet"].is_array() && !j["connectionSet"].empty();
      bool subscribed = j.contains("subscriptionTable") && j["subscriptionTable"].is_object() &&
                        j["subscriptionTable"].contains(topic);
      if (connected && subscribed) return {Answer::kOnline, group};
    } catch (const std::exception&) {
      any_unknown = true;
    }
  }
  if (any_unknown) return {Answer::kUnknown, "some consumer groups of " + topic + " could not be checked"};
  if (groups.empty()) {
    return {Answer::kNone, "no consumer group has ever consumed topic " + topic + " (broker " + addr + ")"};
  }
  std::string list;
  for (size_t i = 0; i < groups.size() && i < 5; ++i) list += (i ? ", " : "") + groups[i];
  return {Answer::kNone, "no consumer of topic " + topic + " is online (groups known to broker " + addr +
                             ": " + list + (groups.size() > 5 ? ", ..." : "") + ")"};
}

}  // namespace rocketrpc::rpc
