#include "rpc/responder_probe.h"

#include "client/admin_client.h"
#include "client/client_instance.h"

namespace rocketrpc::rpc {

namespace {
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
  // The instance's own connections and credentials: no second connection set for the probe.
  client::AdminClient admin(instance, timeout);
  // An ACL refusal (kAccessDenied) is no answer about responders either: an account may publish to a topic it
  // may not inspect (Apache 5.x wants GET on the topic for this query), so the request is sent anyway, and if
  // the account may not publish either, the send itself fails with kAccessDenied naming the topic.
  auto groups = admin.topicConsumerGroups(addr, topic);
  if (!groups.isOk()) return {Answer::kUnknown, groups.status().toString()};
  size_t checked = 0;
  bool any_unknown = false;
  for (const std::string& group : *groups) {
    if (++checked > kMaxGroupsChecked) {
      any_unknown = true;
      break;
    }
    auto connection = admin.consumerConnection(addr, group);
    if (!connection.isOk()) {
      any_unknown = true;
      continue;
    }
    if (!connection->has_value()) {
      // Apache RocketMQ 5.3.x files each subscribing group under the topic's own name (ConsumerManager adds
      // the topic instead of the group) and never removes it: an entry equal to the topic that is no online
      // group means "some consumer has subscribed since the broker started", which proves nothing either way.
      if (group == topic) any_unknown = true;
      continue;
    }
    const client::ConsumerConnectionInfo& info = **connection;
    if (info.connections > 0 && info.topics.count(topic) > 0) return {Answer::kOnline, group};
  }
  if (any_unknown) return {Answer::kUnknown, "some consumer groups of " + topic + " could not be checked"};
  if (groups->empty()) {
    return {Answer::kNone, "no consumer group has ever consumed topic " + topic + " (broker " + addr + ")"};
  }
  std::string list;
  for (size_t i = 0; i < groups->size() && i < 5; ++i) list += (i ? ", " : "") + (*groups)[i];
  return {Answer::kNone, "no consumer of topic " + topic + " is online (groups known to broker " + addr +
                             ": " + list + (groups->size() > 5 ? ", ..." : "") + ")"};
}

}  // namespace rocketrpc::rpc
