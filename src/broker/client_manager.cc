#include "broker/client_manager.h"

#include "common/log.h"

namespace rocketrpc::broker {

void ClientManager::registerProducer(const std::string& group, const std::string& channel,
                                     const std::string& client_id, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  Producer& p = producers_[client_id];
  p.channel = channel;
  p.last_update_ms = now_ms;
  p.groups.insert(group);
}

void ClientManager::unregisterProducer(const std::string& group, const std::string& client_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = producers_.find(client_id);
  if (it == producers_.end()) return;
  it->second.groups.erase(group);
  if (it->second.groups.empty()) producers_.erase(it);
}

bool ClientManager::registerConsumer(const remoting::ConsumerData& data, const std::string& channel,
                                     const std::string& client_id, int64_t now_ms, const std::string& language,
                                     int32_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  ConsumerGroup& g = consumers_[data.group_name];
  bool changed = false;
  auto it = g.members.find(channel);
  if (it == g.members.end() || it->second.client_id != client_id) {
    // A client reconnecting from a new address replaces its old entry.
    for (auto m = g.members.begin(); m != g.members.end();) {
      m = m->second.client_id == client_id ? g.members.erase(m) : std::next(m);
    }
    changed = true;
  }
  g.members[channel] = Member{client_id, now_ms, language, version};
  g.consume_type = data.consume_type;
  g.message_model = data.message_model;
  g.consume_from_where = data.consume_from_where;
  std::map<std::string, remoting::SubscriptionData> subs;
  for (const auto& s : data.subscriptions) {
    auto old = g.subscriptions.find(s.topic);
    // Keep the newest version, as Apache's ConsumerGroupInfo.updateSubscription does.
    if (old != g.subscriptions.end() && old->second.sub_version > s.sub_version) {
      subs[s.topic] = old->second;
    } else {
      subs[s.topic] = s;
    }
  }
  g.subscriptions = std::move(subs);
  if (changed) RRPC_LOG(kInfo, "broker", "consumer {} joined group {} from {}", client_id, data.group_name, channel);
  return changed;
}

bool ClientManager::unregisterConsumer(const std::string& group, const std::string& client_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto g = consumers_.find(group);
  if (g == consumers_.end()) return false;
  bool changed = false;
  for (auto m = g->second.members.begin(); m != g->second.members.end();) {
    if (m->second.client_id == client_id) {
      m = g->second.members.erase(m);
      changed = true;
    } else {
      ++m;
    }
  }
  if (g->second.members.empty()) consumers_.erase(g);
  return changed;
}

std::vector<std::string> ClientManager::onChannelClosed(const std::string& channel) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> changed;
  for (auto g = consumers_.begin(); g != consumers_.end();) {
    if (g->second.members.erase(channel) > 0) changed.push_back(g->first);
    g = g->second.members.empty() ? consumers_.erase(g) : std::next(g);
  }
  for (auto p = producers_.begin(); p != producers_.end();) {
    p = p->second.channel == channel ? producers_.erase(p) : std::next(p);
  }
  return changed;
}

std::vector<std::string> ClientManager::scanExpired(int64_t now_ms, int64_t timeout_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> changed;
  for (auto g = consumers_.begin(); g != consumers_.end();) {
    bool removed = false;
    for (auto m = g->second.members.begin(); m != g->second.members.end();) {
      if (now_ms - m->second.last_update_ms > timeout_ms) {
        RRPC_LOG(kWarn, "broker", "consumer {} of group {} expired", m->second.client_id, g->first);
        m = g->second.members.erase(m);
        removed = true;
      } else {
        ++m;
      }
    }
    if (removed) changed.push_back(g->first);
    g = g->second.members.empty() ? consumers_.erase(g) : std::next(g);
  }
  for (auto p = producers_.begin(); p != producers_.end();) {
    p = now_ms - p->second.last_update_ms > timeout_ms ? producers_.erase(p) : std::next(p);
  }
  return changed;
}

std::optional<std::string> ClientManager::findProducerChannel(const std::string& client_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = producers_.find(client_id);
  if (it == producers_.end()) return std::nullopt;
  return it->second.channel;
}

std::vector<ConsumerMember> ClientManager::consumerMembers(const std::string& group) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ConsumerMember> out;
  auto g = consumers_.find(group);
  if (g == consumers_.end()) return out;
  for (const auto& [channel, m] : g->second.members) out.push_back({channel, m.client_id, m.language, m.version});
  return out;
}

std::optional<ConsumerGroupSnapshot> ClientManager::consumerGroup(const std::string& group) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto g = consumers_.find(group);
  if (g == consumers_.end() || g->second.members.empty()) return std::nullopt;
  ConsumerGroupSnapshot out;
  for (const auto& [channel, m] : g->second.members) out.members.push_back({channel, m.client_id, m.language, m.version});
  for (const auto& [topic, sub] : g->second.subscriptions) out.subscriptions.push_back(sub);
  out.consume_type = g->second.consume_type;
  out.message_model = g->second.message_model;
  out.consume_from_where = g->second.consume_from_where;
  return out;
}

std::vector<std::string> ClientManager::groupsSubscribedTo(const std::string& topic) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;  // consumers_ is a sorted map, so out is sorted
  for (const auto& [group, g] : consumers_) {
    if (!g.members.empty() && g.subscriptions.count(topic) > 0) out.push_back(group);
  }
  return out;
}

std::vector<std::string> ClientManager::consumerIds(const std::string& group) const {
  std::vector<std::string> ids;
  for (const auto& m : consumerMembers(group)) ids.push_back(m.client_id);
  return ids;
}

bool ClientManager::hasConsumerGroup(const std::string& group) const {
  std::lock_guard<std::mutex> lock(mu_);
  return consumers_.count(group) > 0;
}

std::optional<remoting::SubscriptionData> ClientManager::findSubscription(const std::string& group,
                                                                          const std::string& topic) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto g = consumers_.find(group);
  if (g == consumers_.end()) return std::nullopt;
  auto s = g->second.subscriptions.find(topic);
  if (s == g->second.subscriptions.end()) return std::nullopt;
  return s->second;
}

size_t ClientManager::producerCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return producers_.size();
}

size_t ClientManager::consumerCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [_, g] : consumers_) n += g.members.size();
  return n;
}

std::vector<RebalanceLockManager::Queue> RebalanceLockManager::tryLockBatch(const std::string& group,
                                                                            const std::vector<Queue>& queues,
                                                                            const std::string& client_id,
                                                                            int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& table = locks_[group];
  std::vector<Queue> locked;
  for (const auto& q : queues) {
    auto it = table.find(q);
    if (it == table.end() || it->second.client_id == client_id || now_ms - it->second.last_update_ms > expiry_ms_) {
      table[q] = Holder{client_id, now_ms};
      locked.push_back(q);
    }
  }
  return locked;
}

void RebalanceLockManager::unlockBatch(const std::string& group, const std::vector<Queue>& queues,
                                       const std::string& client_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto g = locks_.find(group);
  if (g == locks_.end()) return;
  for (const auto& q : queues) {
    auto it = g->second.find(q);
    if (it != g->second.end() && it->second.client_id == client_id) g->second.erase(it);
  }
}

}  // namespace rocketrpc::broker
