#include "namesrv/route_info_manager.h"

#include "common/log.h"

namespace rocketrpc::namesrv {

RegisterBrokerResult RouteInfoManager::registerBroker(const RegisterBrokerRequest& req, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  cluster_addr_table_[req.cluster_name].insert(req.broker_name);

  bool first = false;
  auto [bit, inserted] = broker_addr_table_.try_emplace(req.broker_name);
  remoting::BrokerData& bd = bit->second;
  if (inserted) {
    bd.cluster = req.cluster_name;
    bd.broker_name = req.broker_name;
    first = true;
  }
  // The same address re-registered under another id replaces the old entry.
  for (auto it = bd.broker_addrs.begin(); it != bd.broker_addrs.end();) {
    if (it->second == req.broker_addr && it->first != req.broker_id) {
      it = bd.broker_addrs.erase(it);
    } else {
      ++it;
    }
  }
  auto old = bd.broker_addrs.find(req.broker_id);
  if (old == bd.broker_addrs.end() || old->second != req.broker_addr) first = true;
  bd.broker_addrs[req.broker_id] = req.broker_addr;

  auto live_it = broker_live_table_.find(req.broker_addr);
  const bool version_changed =
      live_it == broker_live_table_.end() || !(live_it->second.data_version == req.topics.data_version);

  if (req.broker_id == 0) {
    for (const auto& [name, tc] : req.topics.topic_config_table) {
      auto& per_broker = topic_queue_table_[name];
      auto q = per_broker.find(req.broker_name);
      if (first || version_changed || q == per_broker.end()) {
        remoting::QueueData qd;
        qd.broker_name = req.broker_name;
        qd.read_queue_nums = tc.read_queue_nums;
        qd.write_queue_nums = tc.write_queue_nums;
        qd.perm = tc.perm;
        qd.topic_sys_flag = tc.topic_sys_flag;
        per_broker[req.broker_name] = qd;
      }
    }
    if (version_changed && !req.topics.topic_config_table.empty()) {
      for (auto it = topic_queue_table_.begin(); it != topic_queue_table_.end();) {
        if (req.topics.topic_config_table.count(it->first) == 0) it->second.erase(req.broker_name);
        it = it->second.empty() ? topic_queue_table_.erase(it) : std::next(it);
      }
    }
  }

  LiveInfo& live = broker_live_table_[req.broker_addr];
  live.last_update_ms = now_ms;
  live.data_version = req.topics.data_version;
  live.ha_server_addr = req.ha_server_addr;
  live.channel = req.channel;
  live.cluster_name = req.cluster_name;
  live.broker_name = req.broker_name;
  live.broker_id = req.broker_id;

  RegisterBrokerResult result;
  if (req.broker_id != 0) {
    auto master = bd.broker_addrs.find(0);
    if (master != bd.broker_addrs.end()) {
      auto ml = broker_live_table_.find(master->second);
      if (ml != broker_live_table_.end()) {
        result.ha_server_addr = ml->second.ha_server_addr;
        result.master_addr = master->second;
      }
    }
  }
  if (first) {
    RRPC_LOG(kInfo, "namesrv", "new broker registered: {} {} id={} cluster={}", req.broker_name, req.broker_addr,
             req.broker_id, req.cluster_name);
  }
  return result;
}

void RouteInfoManager::removeBrokerNameLocked(const std::string& broker_name) {
  broker_addr_table_.erase(broker_name);
  for (auto it = cluster_addr_table_.begin(); it != cluster_addr_table_.end();) {
    it->second.erase(broker_name);
    it = it->second.empty() ? cluster_addr_table_.erase(it) : std::next(it);
  }
  for (auto it = topic_queue_table_.begin(); it != topic_queue_table_.end();) {
    it->second.erase(broker_name);
    it = it->second.empty() ? topic_queue_table_.erase(it) : std::next(it);
  }
}

void RouteInfoManager::removeAddrLocked(const std::string& broker_addr) {
  broker_live_table_.erase(broker_addr);
  std::vector<std::string> emptied;
  for (auto& [name, bd] : broker_addr_table_) {
    for (auto it = bd.broker_addrs.begin(); it != bd.broker_addrs.end();) {
      it = it->second == broker_addr ? bd.broker_addrs.erase(it) : std::next(it);
    }
    if (bd.broker_addrs.empty()) emptied.push_back(name);
  }
  for (const auto& name : emptied) removeBrokerNameLocked(name);
}

void RouteInfoManager::unregisterBroker(const std::string& cluster_name, const std::string& broker_addr,
                                        const std::string& broker_name, int64_t broker_id) {
  std::lock_guard<std::mutex> lock(mu_);
  broker_live_table_.erase(broker_addr);
  auto it = broker_addr_table_.find(broker_name);
  if (it == broker_addr_table_.end()) return;
  auto a = it->second.broker_addrs.find(broker_id);
  if (a != it->second.broker_addrs.end() && a->second == broker_addr) it->second.broker_addrs.erase(a);
  if (it->second.broker_addrs.empty()) removeBrokerNameLocked(broker_name);
  RRPC_LOG(kInfo, "namesrv", "broker unregistered: {} {} id={} cluster={}", broker_name, broker_addr, broker_id,
           cluster_name);
}

std::optional<remoting::TopicRouteData> RouteInfoManager::pickupTopicRouteData(const std::string& topic) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = topic_queue_table_.find(topic);
  if (it == topic_queue_table_.end() || it->second.empty()) return std::nullopt;
  remoting::TopicRouteData route;
  for (const auto& [broker_name, qd] : it->second) {
    auto b = broker_addr_table_.find(broker_name);
    if (b == broker_addr_table_.end()) continue;
    route.queue_datas.push_back(qd);
    route.broker_datas.push_back(b->second);
  }
  if (route.broker_datas.empty()) return std::nullopt;
  return route;
}

remoting::ClusterInfo RouteInfoManager::clusterInfo() const {
  std::lock_guard<std::mutex> lock(mu_);
  remoting::ClusterInfo info;
  info.broker_addr_table = broker_addr_table_;
  for (const auto& [cluster, names] : cluster_addr_table_)
    info.cluster_addr_table[cluster] = std::vector<std::string>(names.begin(), names.end());
  return info;
}

std::vector<std::string> RouteInfoManager::allTopics() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  out.reserve(topic_queue_table_.size());
  for (const auto& [topic, _] : topic_queue_table_) out.push_back(topic);
  return out;
}

bool RouteInfoManager::deleteTopic(const std::string& topic, const std::string& cluster_name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = topic_queue_table_.find(topic);
  if (it == topic_queue_table_.end()) return false;
  if (cluster_name.empty()) {
    topic_queue_table_.erase(it);
    return true;
  }
  auto cluster = cluster_addr_table_.find(cluster_name);
  if (cluster != cluster_addr_table_.end()) {
    for (const std::string& broker_name : cluster->second) it->second.erase(broker_name);
  }
  if (it->second.empty()) topic_queue_table_.erase(it);
  return true;
}

std::vector<std::string> RouteInfoManager::scanNotActiveBroker(int64_t now_ms, int64_t expiry_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> expired;
  for (const auto& [addr, live] : broker_live_table_) {
    if (now_ms - live.last_update_ms > expiry_ms) expired.push_back(addr);
  }
  for (const auto& addr : expired) {
    RRPC_LOG(kWarn, "namesrv", "broker {} expired: no registration for {} ms", addr, expiry_ms);
    removeAddrLocked(addr);
  }
  return expired;
}

void RouteInfoManager::onChannelClosed(const std::string& channel) {
  if (channel.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> gone;
  for (const auto& [addr, live] : broker_live_table_)
    if (live.channel == channel) gone.push_back(addr);
  for (const auto& addr : gone) {
    RRPC_LOG(kInfo, "namesrv", "broker {} connection closed; removed", addr);
    removeAddrLocked(addr);
  }
}

std::optional<DataVersion> RouteInfoManager::dataVersionOf(const std::string& broker_addr) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = broker_live_table_.find(broker_addr);
  if (it == broker_live_table_.end()) return std::nullopt;
  return it->second.data_version;
}

}  // namespace rocketrpc::namesrv
