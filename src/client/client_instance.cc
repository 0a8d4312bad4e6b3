#include "client/client_instance.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <random>

#include "client/request_future_table.h"
#include "common/address.h"
#include "common/instance_name.h"
#include "common/local_address.h"
#include "common/log.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/message_codec.h"
#include "remoting/response_status.h"

namespace rocketrpc::client {

using remoting::RemotingCommand;
namespace rc = remoting::request_code;
namespace rs = remoting::response_code;

namespace {

constexpr const char* kLog = "client";

bool isLoopbackHost(const std::string& addr) {
  std::string host = addr.substr(0, addr.rfind(':'));
  return host.rfind("127.", 0) == 0 || host == "localhost" || host == "[::1]" || host == "::1";
}


}  // namespace

// Process-wide map client id -> instance. Holds strong references while acquired.
class InstanceRegistry {
 public:
  static InstanceRegistry& get() {
    static InstanceRegistry* r = new InstanceRegistry();  // leaked on purpose: usable during static teardown
    return *r;
  }
  std::mutex mu;
  std::map<std::string, std::shared_ptr<ClientInstance>> instances;
};

std::string ClientInstance::makeClientId(const ClientOptions& options) {
  std::string ip = options.client_ip;
  if (ip.empty()) {
    auto addrs = splitAddressList(options.namesrv_addr);
    bool all_loopback = !addrs.empty() && std::all_of(addrs.begin(), addrs.end(), isLoopbackHost);
    ip = all_loopback ? "127.0.0.1" : localIpv4Text();
  }
  return ip + "@" + options.instance_name;
}

Result<std::shared_ptr<ClientInstance>> ClientInstance::acquire(const ClientOptions& in) {
  ClientOptions options = in;
  auto addrs = splitAddressList(options.namesrv_addr);
  if (addrs.empty()) return Status::invalidArgument("namesrv_addr is empty");
  for (const auto& a : addrs) {
    auto colon = a.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 >= a.size() ||
        a.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
      return Status::invalidArgument("namesrv_addr: '" + a + "' is not host:port");
    }
  }
  if (options.api_timeout.count() < 1 || options.api_timeout.count() > 300000) {
    return Status::invalidArgument("api_timeout must be 1..300000 ms");
  }
  if (options.io_threads < 1 || options.io_threads > 16) return Status::invalidArgument("io_threads must be 1..16");
  if (options.callback_threads < 1 || options.callback_threads > 256) {
    return Status::invalidArgument("callback_threads must be 1..256");
  }
  if (options.read_stall_timeout.count() < 0 || options.read_stall_timeout.count() > 3600000) {
    return Status::invalidArgument("read_stall_timeout must be 0..3600000 ms");
  }
  // Messages name the field, never a value: a secret must not reach an exception text.
  if (!options.access_key.empty() && options.secret_key.empty()) {
    return Status::invalidArgument("secret_key is required when access_key is set");
  }
  if (options.access_key.empty() && (!options.secret_key.empty() || !options.security_token.empty())) {
    return Status::invalidArgument("access_key is required when secret_key or security_token is set");
  }
  if (options.instance_name.empty()) options.instance_name = uniqueInstanceName("client");
  std::string id = makeClientId(options);

  auto& reg = InstanceRegistry::get();
  std::lock_guard<std::mutex> lock(reg.mu);
  auto it = reg.instances.find(id);
  if (it != reg.instances.end()) {
    it->second->refs_++;
    return it->second;
  }
  std::shared_ptr<ClientInstance> inst(new ClientInstance(std::move(options), id));
  inst->namesrv_addrs_ = std::move(addrs);
  Status st = inst->start();
  if (!st.isOk()) {
    inst->shutdown();
    return st;
  }
  inst->refs_ = 1;
  reg.instances.emplace(id, inst);
  return inst;
}

void ClientInstance::release() {
  std::shared_ptr<ClientInstance> last;
  {
    auto& reg = InstanceRegistry::get();
    std::lock_guard<std::mutex> lock(reg.mu);
    if (--refs_ > 0) return;
    auto it = reg.instances.find(client_id_);
    if (it != reg.instances.end() && it->second.get() == this) {
      last = it->second;
      reg.instances.erase(it);
    }
  }
  shutdown();
}

ClientInstance::ClientInstance(ClientOptions options, std::string client_id)
    : options_(std::move(options)), client_id_(std::move(client_id)) {
  remoting::TransportOptions t;
  t.io_threads = options_.io_threads;
  t.name = "client " + client_id_;
  t.request_serialize_type = options_.header_format == HeaderFormat::kJson ? remoting::SerializeType::kJson
                                                                            : remoting::SerializeType::kRocketMq;
  // Every request of this instance (name server and brokers) is signed with the first client's credentials.
  t.credentials = remoting::AclCredentials{options_.access_key, options_.secret_key, options_.security_token};
  t.tls = options_.tls;
  t.read_stall_timeout = options_.read_stall_timeout;
  remoting_ = std::make_unique<remoting::RemotingClient>(t);
  callback_pool_ = std::make_unique<ThreadPool>("callbacks", options_.callback_threads);
  service_pool_ = std::make_unique<ThreadPool>("client-service", 1);
  scheduler_ = std::make_unique<Scheduler>("client-scheduler");
  request_futures_ = std::make_unique<RequestFutureTable>(callback_pool_.get(), scheduler_.get());
}

ClientInstance::~ClientInstance() { shutdown(); }

Status ClientInstance::start() {
  std::weak_ptr<ClientInstance> weak = weak_from_this();
  remoting_->registerHandler(rc::kPushReplyMessageToClient, [weak](RemotingCommand req, remoting::Responder r) {
    if (auto self = weak.lock()) self->handlePushReply(std::move(req), std::move(r));
  });
  remoting_->registerHandler(rc::kNotifyConsumerIdsChanged, [weak](RemotingCommand req, remoting::Responder r) {
    if (auto self = weak.lock()) self->handleNotifyConsumerIdsChanged(std::move(req), std::move(r));
  });
  remoting_->registerHandler(rc::kGetConsumerRunningInfo, [weak](RemotingCommand req, remoting::Responder r) {
    if (auto self = weak.lock()) self->handleConsumerRunningInfo(std::move(req), std::move(r));
  });
  remoting_->setCloseListener([weak](const std::string& addr) {
    if (auto self = weak.lock()) self->onConnectionClosed(addr);
  });
  if (Status s = remoting_->start(); !s.isOk()) return s;  // e.g. a TLS CA/cert/key file that cannot be loaded
  scheduler_->scheduleRepeating(std::chrono::milliseconds(10), options_.poll_namesrv_interval, [weak] {
    if (auto self = weak.lock()) self->service_pool_->post([weak] {
      if (auto s = weak.lock()) s->refreshRoutes();
    });
  });
  scheduler_->scheduleRepeating(std::chrono::milliseconds(1000), options_.heartbeat_interval, [weak] {
    if (auto self = weak.lock()) self->service_pool_->post([weak] {
      if (auto s = weak.lock()) s->sendHeartbeatToAllBrokers();
    });
  });
  started_ = true;
  RRPC_LOG(kInfo, kLog, "client instance {} started (name servers {})", client_id_, options_.namesrv_addr);
  return Status::ok();
}

void ClientInstance::shutdown() {
  if (!started_) {
    if (scheduler_) scheduler_->shutdown();
    if (remoting_) remoting_->shutdown();
    if (service_pool_) service_pool_->shutdown();
    if (callback_pool_) callback_pool_->shutdown();
    return;
  }
  started_ = false;
  closing_ = true;
  scheduler_->shutdown();
  service_pool_->shutdown();
  request_futures_->failAll(Status::closed("client instance " + client_id_ + " shut down"));
  // Unregister every group from every broker (best effort, bounded by the API timeout).
  std::vector<std::string> producers;
  std::vector<std::string> consumers;
  {
    std::lock_guard<std::mutex> lock(groups_mu_);
    for (auto& [g, n] : producer_groups_) producers.push_back(g);
    for (auto& [g, c] : consumers_) consumers.push_back(g);
  }
  producers.push_back(kInnerProducerGroup);
  auto addrs = allBrokerAddrs();
  auto timeout = std::min(options_.api_timeout, std::chrono::milliseconds(3000));
  for (const auto& addr : addrs) {
    auto send = [&](const char* key, const std::string& group) {
      auto cmd = RemotingCommand::request(rc::kUnregisterClient);
      cmd.set("clientID", client_id_);
      cmd.set(key, group);
      auto r = remoting_->invokeSync(addr, std::move(cmd), timeout);
      if (!r.isOk()) RRPC_LOG(kDebug, kLog, "unregister {} from {}: {}", group, addr, r.status().toString());
    };
    for (const auto& g : producers) send("producerGroup", g);
    for (const auto& g : consumers) send("consumerGroup", g);
  }
  remoting_->shutdown();
  callback_pool_->shutdown();
  RRPC_LOG(kInfo, kLog, "client instance {} shut down", client_id_);
}

Result<remoting::TopicRouteData> ClientInstance::fetchRoute(const std::string& topic) {
  Status last = Status::network("no name server reachable");
  size_t n = namesrv_addrs_.size();
  size_t start = namesrv_index_.load();
  for (size_t i = 0; i < n; ++i) {
    const std::string& addr = namesrv_addrs_[(start + i) % n];
    auto cmd = RemotingCommand::request(rc::kGetRouteInfoByTopic);
    cmd.set("topic", topic);
    auto r = remoting_->invokeSync(addr, std::move(cmd), options_.api_timeout);
    if (!r.isOk()) {
      last = r.status().withContext("name server " + addr);
      namesrv_index_.store((start + i + 1) % n);
      continue;
    }
    if (r->code == rs::kTopicNotExist) {
      return Status::notFound("no route for topic " + topic + " on the name server (" + r->remarkOrEmpty() + ")");
    }
    if (r->code != rs::kSuccess) {
      last = remoting::statusFromResponse(
          *r, "GET_ROUTEINFO_BY_TOPIC of topic " + topic + " at name server " + addr + ": " + r->remarkOrEmpty());
      if (last.code() == StatusCode::kAccessDenied) return last;  // another name server would refuse it too
      continue;
    }
    auto route = remoting::parseTopicRouteData(r->body);
    if (!route.isOk()) return route.status().withContext("route of " + topic + " from " + addr);
    return route;
  }
  return last;
}

Result<remoting::TopicRouteData> ClientInstance::updateRoute(const std::string& topic) {
  auto route = fetchRoute(topic);
  if (!route.isOk()) return route;
  applyRoute(topic, *route);
  return route;
}

void ClientInstance::applyRoute(const std::string& topic, const remoting::TopicRouteData& route) {
  TopicPublishInfo info;
  info.route = route;
  std::vector<remoting::QueueData> qds = route.queue_datas;
  std::sort(qds.begin(), qds.end(),
            [](const remoting::QueueData& a, const remoting::QueueData& b) { return a.broker_name < b.broker_name; });
  for (const auto& qd : qds) {
    if ((qd.perm & remoting::perm::kWrite) == 0) continue;
    bool has_master = false;
    for (const auto& bd : route.broker_datas) {
      if (bd.broker_name == qd.broker_name && !bd.masterAddr().empty()) has_master = true;
    }
    if (!has_master) continue;
    for (int32_t q = 0; q < qd.write_queue_nums; ++q) info.queues.push_back({topic, qd.broker_name, q});
  }
  std::vector<std::shared_ptr<ConsumerHooks>> to_notify;
  bool changed;
  {
    std::unique_lock<std::shared_mutex> lock(route_mu_);
    auto it = routes_.find(topic);
    changed = it == routes_.end() || !(it->second == route);
    routes_[topic] = route;
    for (const auto& bd : route.broker_datas) brokers_[bd.broker_name] = bd;
    publish_infos_[topic] = std::make_shared<const TopicPublishInfo>(std::move(info));
  }
  if (changed) {
    std::lock_guard<std::mutex> lock(groups_mu_);
    for (auto& [g, c] : consumers_) {
      auto topics = c->subscribedTopics();
      if (topics.count(topic)) to_notify.push_back(c);
    }
  }
  for (auto& c : to_notify) c->onRouteChanged(topic);
}

Result<std::shared_ptr<const TopicPublishInfo>> ClientInstance::publishInfo(const std::string& topic,
                                                                            bool allow_default_topic,
                                                                            const std::string& default_topic,
                                                                            int default_queue_nums) {
  auto cached = [this, &topic]() -> std::shared_ptr<const TopicPublishInfo> {
    auto it = publish_infos_.find(topic);
    if (it == publish_infos_.end() || it->second->queues.empty()) return nullptr;
    return it->second;
  };
  {
    std::shared_lock<std::shared_mutex> lock(route_mu_);
    if (auto info = cached()) return info;
  }
  auto route = updateRoute(topic);
  if (route.isOk()) {
    std::shared_lock<std::shared_mutex> lock(route_mu_);
    if (auto info = cached()) return info;
    return Status::noRoute("topic " + topic + " has no writable queue with a master");
  }
  if (route.status().code() != StatusCode::kNotFound || !allow_default_topic) return route.status();
  if (default_topic.empty()) {
    // No default-topic fallback (RpcClient): sending would make the broker create the topic, and a
    // misspelt request topic would wait out its timeout instead of failing here.
    return Status::noRoute("no route for topic " + topic + " (not created: no default topic to create it from)");
  }
  auto def = fetchRoute(default_topic);
  if (!def.isOk()) {
    return Status::noRoute("no route for topic " + topic + " (and default topic " + default_topic +
                           " unavailable: " + def.status().message() + ")");
  }
  remoting::TopicRouteData fallback = *def;
  for (auto& qd : fallback.queue_datas) {
    qd.read_queue_nums = std::min(default_queue_nums, qd.read_queue_nums);
    qd.write_queue_nums = std::min(default_queue_nums, qd.write_queue_nums);
  }
  applyRoute(topic, fallback);
  {
    // Not a real route yet: forget it so the next refresh asks the name server again.
    std::unique_lock<std::shared_mutex> lock(route_mu_);
    routes_.erase(topic);
    if (auto info = cached()) return info;
    return Status::noRoute("no route for topic " + topic + " and no writable default topic");
  }
}

std::shared_ptr<const TopicPublishInfo> ClientInstance::cachedPublishInfo(const std::string& topic) const {
  std::shared_lock<std::shared_mutex> lock(route_mu_);
  auto it = publish_infos_.find(topic);
  if (it == publish_infos_.end() || it->second->queues.empty()) return nullptr;
  return it->second;
}

Result<std::vector<MessageQueue>> ClientInstance::subscribeQueues(const std::string& topic) {
  remoting::TopicRouteData route;
  bool found = false;
  {
    std::shared_lock<std::shared_mutex> lock(route_mu_);
    auto it = routes_.find(topic);
    if (it != routes_.end()) {
      route = it->second;
      found = true;
    }
  }
  if (!found) {
    auto r = updateRoute(topic);
    if (!r.isOk()) return r.status();
    route = std::move(r).value();
  }
  std::vector<MessageQueue> out;
  for (const auto& qd : route.queue_datas) {
    if ((qd.perm & remoting::perm::kRead) == 0) continue;
    for (int32_t q = 0; q < qd.read_queue_nums; ++q) out.push_back({topic, qd.broker_name, q});
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string ClientInstance::masterAddr(const std::string& broker_name) const {
  std::shared_lock<std::shared_mutex> lock(route_mu_);
  auto it = brokers_.find(broker_name);
  return it == brokers_.end() ? std::string() : it->second.masterAddr();
}

std::string ClientInstance::brokerAddr(const std::string& broker_name, int64_t broker_id) const {
  std::shared_lock<std::shared_mutex> lock(route_mu_);
  auto it = brokers_.find(broker_name);
  if (it == brokers_.end()) return {};
  auto a = it->second.broker_addrs.find(broker_id);
  if (a != it->second.broker_addrs.end()) return a->second;
  return it->second.masterAddr();
}

std::string ClientInstance::anyBrokerAddrForTopic(const std::string& topic) const {
  std::shared_lock<std::shared_mutex> lock(route_mu_);
  auto it = routes_.find(topic);
  if (it == routes_.end()) return {};
  std::vector<std::string> masters;
  std::vector<std::string> others;
  for (const auto& bd : it->second.broker_datas) {
    std::string m = bd.masterAddr();
    if (!m.empty()) {
      masters.push_back(m);
    } else if (!bd.broker_addrs.empty()) {
      others.push_back(bd.broker_addrs.begin()->second);
    }
  }
  static thread_local std::mt19937 rng{std::random_device{}()};
  if (!masters.empty()) return masters[rng() % masters.size()];
  if (!others.empty()) return others[rng() % others.size()];
  return {};
}

std::string ClientInstance::clusterOf(const std::string& broker_name) const {
  std::shared_lock<std::shared_mutex> lock(route_mu_);
  auto it = brokers_.find(broker_name);
  return it == brokers_.end() ? std::string() : it->second.cluster;
}

std::vector<std::string> ClientInstance::allBrokerAddrs() const {
  std::set<std::string> addrs;
  std::shared_lock<std::shared_mutex> lock(route_mu_);
  for (const auto& [name, bd] : brokers_) {
    for (const auto& [id, addr] : bd.broker_addrs) addrs.insert(addr);
  }
  return {addrs.begin(), addrs.end()};
}

void ClientInstance::addTopicOfInterest(const std::string& topic) {
  std::unique_lock<std::shared_mutex> lock(route_mu_);
  topics_of_interest_.insert(topic);
}

void ClientInstance::registerProducer(const std::string& group) {
  std::lock_guard<std::mutex> lock(groups_mu_);
  producer_groups_[group]++;
}

void ClientInstance::unregisterProducer(const std::string& group) {
  bool last = false;
  {
    std::lock_guard<std::mutex> lock(groups_mu_);
    auto it = producer_groups_.find(group);
    if (it == producer_groups_.end()) return;
    if (--it->second == 0) {
      producer_groups_.erase(it);
      last = true;
    }
  }
  if (!last || !started_) return;
  for (const auto& addr : allBrokerAddrs()) {
    auto cmd = RemotingCommand::request(rc::kUnregisterClient);
    cmd.set("clientID", client_id_);
    cmd.set("producerGroup", group);
    remoting_->invokeAsync(addr, std::move(cmd), options_.api_timeout, [](Result<RemotingCommand>) {});
  }
}

void ClientInstance::registerConsumer(std::shared_ptr<ConsumerHooks> consumer) {
  std::lock_guard<std::mutex> lock(groups_mu_);
  consumers_[consumer->group()] = std::move(consumer);
}

void ClientInstance::unregisterConsumer(const std::string& group) {
  {
    std::lock_guard<std::mutex> lock(groups_mu_);
    if (consumers_.erase(group) == 0) return;
  }
  if (!started_) return;
  for (const auto& addr : allBrokerAddrs()) {
    auto cmd = RemotingCommand::request(rc::kUnregisterClient);
    cmd.set("clientID", client_id_);
    cmd.set("consumerGroup", group);
    auto r = remoting_->invokeSync(addr, std::move(cmd), std::min(options_.api_timeout, std::chrono::milliseconds(3000)));
    if (!r.isOk()) RRPC_LOG(kDebug, kLog, "unregister consumer {} from {}: {}", group, addr, r.status().toString());
  }
}

remoting::HeartbeatData ClientInstance::heartbeatData() const {
  remoting::HeartbeatData hb;
  hb.client_id = client_id_;
  hb.producer_groups.push_back(kInnerProducerGroup);
  std::lock_guard<std::mutex> lock(groups_mu_);
  for (const auto& [g, n] : producer_groups_) {
    if (g != kInnerProducerGroup) hb.producer_groups.push_back(g);
  }
  for (const auto& [g, c] : consumers_) hb.consumers.push_back(c->consumerData());
  return hb;
}

Status ClientInstance::sendHeartbeatToAllBrokers(bool /*all_brokers*/) {
  Status first_error;
  (void)sendHeartbeat(allBrokerAddrs(), &first_error);
  return first_error;
}

bool ClientInstance::inSomeRoute(const std::string& addr) const {
  std::shared_lock<std::shared_mutex> lock(route_mu_);
  for (const auto& [topic, route] : routes_) {
    for (const auto& bd : route.broker_datas) {
      for (const auto& [id, a] : bd.broker_addrs) {
        if (a == addr) return true;
      }
    }
  }
  return false;
}

void ClientInstance::heartbeatSoon() {
  if (closing_ || heartbeat_queued_.exchange(true)) return;
  std::weak_ptr<ClientInstance> weak = weak_from_this();
  bool posted = service_pool_->post([weak] {
    if (auto self = weak.lock()) {
      self->heartbeat_queued_ = false;  // a request arriving from here on needs a later heartbeat
      (void)self->sendHeartbeatToAllBrokers();
    }
  });
  if (!posted) heartbeat_queued_ = false;
}

void ClientInstance::onConnectionClosed(const std::string& addr) {
  if (closing_) return;
  auto brokers = allBrokerAddrs();
  if (std::find(brokers.begin(), brokers.end(), addr) == brokers.end()) return;  // a name server
  std::lock_guard<std::mutex> lock(lost_mu_);
  if (lost_brokers_.emplace(addr, std::chrono::steady_clock::now()).second) {
    RRPC_LOG(kInfo, kLog, "connection to broker {} closed; heartbeating it every {} ms until it answers", addr,
             kLostBrokerRetry.count());
  }
  if (lost_retry_scheduled_) return;
  lost_retry_scheduled_ = true;
  std::weak_ptr<ClientInstance> weak = weak_from_this();
  scheduler_->schedule(kLostBrokerRetry, [weak] {
    if (auto self = weak.lock()) self->service_pool_->post([weak] {
      if (auto s = weak.lock()) s->retryLostBrokers();
    });
  });
}

void ClientInstance::retryLostBrokers() {
  // Routes first: a name server drops a dead broker's queues at once (senders stop choosing it well before
  // the next periodic refresh) and lists them again once it has re-registered (it takes traffic again).
  refreshRoutes();
  std::vector<std::string> addrs;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(lost_mu_);
    lost_retry_scheduled_ = false;
    for (const auto& [addr, since] : lost_brokers_) addrs.push_back(addr);
  }
  if (addrs.empty() || closing_) return;
  Status ignored;
  auto took = sendHeartbeat(addrs, &ignored, /*quiet=*/true);
  std::lock_guard<std::mutex> lock(lost_mu_);
  bool slow = true;
  for (auto it = lost_brokers_.begin(); it != lost_brokers_.end();) {
    // Back once it took a heartbeat and a route lists it again (a broker answers before it has registered).
    if (took.count(it->first) && inSomeRoute(it->first)) {
      RRPC_LOG(kInfo, kLog, "broker {} is back: heartbeat sent, routes refreshed", it->first);
      it = lost_brokers_.erase(it);
      continue;
    }
    if (now - it->second < kLostBrokerFastFor) slow = false;
    ++it;
  }
  if (lost_brokers_.empty() || lost_retry_scheduled_ || closing_) return;
  lost_retry_scheduled_ = true;
  std::weak_ptr<ClientInstance> weak = weak_from_this();
  // A broker gone for long (decommissioned, or a long outage) is still watched, at the heartbeat interval.
  scheduler_->schedule(slow ? options_.heartbeat_interval : kLostBrokerRetry, [weak] {
    if (auto self = weak.lock()) self->service_pool_->post([weak] {
      if (auto s = weak.lock()) s->retryLostBrokers();
    });
  });
}

std::set<std::string> ClientInstance::sendHeartbeat(const std::vector<std::string>& addrs, Status* first_error,
                                                    bool quiet) {
  std::lock_guard<std::mutex> serial(heartbeat_mu_);
  std::set<std::string> took;
  if (addrs.empty()) return took;
  const remoting::HeartbeatData hb = heartbeatData();
  std::string body = remoting::encodeHeartbeat(hb);
  // Names the resources an ACL checks for a heartbeat (SUB on each consumer group and its topics), so that a
  // refusal says which ones were asked for.
  std::string groups = "client " + client_id_;
  for (const auto& c : hb.consumers) {
    groups += ", group " + c.group_name + " (topics";
    for (const auto& sub : c.subscriptions) groups += " " + sub.topic;
    groups += ")";
  }
  struct Waiter {
    std::mutex mu;
    std::condition_variable cv;
    size_t remaining;
    Status first_error;
    std::set<std::string> took;
  };
  auto w = std::make_shared<Waiter>();
  w->remaining = addrs.size();
  for (const auto& addr : addrs) {
    auto cmd = RemotingCommand::request(rc::kHeartBeat);
    cmd.body = body;
    remoting_->invokeAsync(addr, std::move(cmd), options_.api_timeout,
                           [w, addr, groups, quiet](Result<RemotingCommand> r) {
      Status st;
      if (!r.isOk()) {
        st = r.status().withContext("heartbeat to " + addr);
      } else if (r->code != rs::kSuccess) {
        st = remoting::statusFromResponse(*r, "HEART_BEAT to " + addr + " of " + groups + ": " + r->remarkOrEmpty());
      }
      if (!st.isOk()) {
        if (quiet) {
          RRPC_LOG(kDebug, kLog, "{}", st.toString());
        } else {
          RRPC_LOG(kWarn, kLog, "{}", st.toString());
        }
      }
      std::lock_guard<std::mutex> lock(w->mu);
      if (!st.isOk() && w->first_error.isOk()) w->first_error = st;
      if (st.isOk()) w->took.insert(addr);
      if (--w->remaining == 0) w->cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(w->mu);
  w->cv.wait(lock, [&] { return w->remaining == 0; });
  *first_error = w->first_error;
  return w->took;
}

void ClientInstance::refreshRoutes() {
  std::set<std::string> topics;
  {
    std::shared_lock<std::shared_mutex> lock(route_mu_);
    for (const auto& [t, info] : publish_infos_) topics.insert(t);
    for (const auto& [t, r] : routes_) topics.insert(t);
    topics.insert(topics_of_interest_.begin(), topics_of_interest_.end());
  }
  {
    std::lock_guard<std::mutex> lock(groups_mu_);
    for (const auto& [g, c] : consumers_) {
      auto ts = c->subscribedTopics();
      topics.insert(ts.begin(), ts.end());
    }
  }
  auto before = allBrokerAddrs();
  for (const auto& t : topics) {
    auto r = updateRoute(t);
    if (!r.isOk() && r.status().code() != StatusCode::kNotFound) {
      RRPC_LOG(kDebug, kLog, "route refresh of {}: {}", t, r.status().toString());
    }
  }
  if (allBrokerAddrs() != before) sendHeartbeatToAllBrokers();
}

void ClientInstance::handlePushReply(RemotingCommand req, remoting::Responder responder) {
  // Answer first: the broker blocks its reply processor until we do (protocol doc 9.5).
  responder.respond(RemotingCommand::responseTo(req, rs::kSuccess));
  const auto flags = req.getInt("sysFlag").value_or(0);
  if ((flags & remoting::sys_flag::kCompressed) != 0) {
    // Inflating (up to 64 MiB) must not hold the I/O thread, which reads every other reply and response.
    auto shared_req = std::make_shared<RemotingCommand>(std::move(req));
    if (callback_pool_->post([self = shared_from_this(), shared_req] { self->deliverPushReply(std::move(*shared_req)); })) {
      return;
    }
    req = std::move(*shared_req);  // the pool is stopping: finish here
  }
  deliverPushReply(std::move(req));
}

void ClientInstance::deliverPushReply(RemotingCommand req) {
  MessageExt reply;
  if (const auto* v = req.get("topic")) reply.setTopic(*v);
  reply.setQueueId(static_cast<int32_t>(req.getInt("queueId").value_or(0)));
  reply.setStoreTimestamp(req.getInt("storeTimestamp").value_or(0));
  reply.setBornTimestamp(req.getInt("bornTimestamp").value_or(0));
  reply.setFlag(static_cast<int32_t>(req.getInt("flag").value_or(0)));
  reply.setReconsumeTimes(static_cast<int32_t>(req.getInt("reconsumeTimes").value_or(0)));
  int32_t sys_flag = static_cast<int32_t>(req.getInt("sysFlag").value_or(0));
  reply.setSysFlag(sys_flag);
  if (const auto* v = req.get("bornHost")) reply.setBornHost(*v);
  if (const auto* v = req.get("storeHost")) reply.setStoreHost(*v);
  if (const auto* v = req.get("properties")) reply.mutableProperties() = remoting::decodeProperties(*v);
  if (sys_flag & remoting::sys_flag::kCompressed) {
    int32_t type = sys_flag & remoting::sys_flag::kCompressionTypeMask;
    if (type != 0 && type != remoting::sys_flag::kCompressionZlib) {
      RRPC_LOG(kWarn, kLog, "reply with unsupported compression type {:#x} dropped", type);
      return;
    }
    // rocketmq-client-go v2.1.x flags every reply of 4 KiB and more COMPRESSED but sends the body as it was
    // (docs/design/rpc.md, "Go peers"): a Go reply that is not a zlib stream is delivered as sent. Any other
    // sender's compressed body that does not inflate is damaged and dropped, as the Java client does.
    const bool go_sender = remoting::isGoClientUniqId(reply.getProperty(property::kUniqClientMessageId));
    Result<std::string> body = remoting::hasZlibHeader(req.body)
                                   ? remoting::zlibDecompress(req.body, 64 * 1024 * 1024)
                                   : Result<std::string>(Status::corrupt("no zlib header"));
    if (body.isOk()) {
      reply.setBody(std::move(body).value());
    } else if (go_sender && body.status().code() == StatusCode::kCorrupt) {
      reply.setBody(std::move(req.body));
    } else {
      RRPC_LOG(kWarn, kLog, "reply body does not inflate: {}", body.status().toString());
      return;
    }
  } else {
    reply.setBody(std::move(req.body));
  }
  reply.setMsgId(reply.getProperty(property::kUniqClientMessageId));
  reply.putProperty(property::kArriveTime,
                    std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count()));
  std::string correlation = reply.getProperty(property::kCorrelationId);
  if (!request_futures_->completeWithReply(correlation, std::move(reply))) {
    static log::RateLimiter limiter(std::chrono::seconds(5));
    if (limiter.allow()) {
      RRPC_LOG(kWarn, kLog, "reply with unknown correlation id '{}' (late or not ours) ignored", correlation);
    }
  }
}

void ClientInstance::handleNotifyConsumerIdsChanged(RemotingCommand req, remoting::Responder responder) {
  const std::string* group = req.get("consumerGroup");
  std::shared_ptr<ConsumerHooks> c;
  if (group) {
    std::lock_guard<std::mutex> lock(groups_mu_);
    auto it = consumers_.find(*group);
    if (it != consumers_.end()) c = it->second;
  }
  if (c) c->triggerRebalance();
  responder.respond(RemotingCommand::responseTo(req, rs::kSuccess));  // no-op for oneway
}

void ClientInstance::handleConsumerRunningInfo(RemotingCommand req, remoting::Responder responder) {
  const std::string* group = req.get("consumerGroup");
  std::shared_ptr<ConsumerHooks> c;
  if (group) {
    std::lock_guard<std::mutex> lock(groups_mu_);
    auto it = consumers_.find(*group);
    if (it != consumers_.end()) c = it->second;
  }
  if (!c) {
    responder.respond(RemotingCommand::responseTo(
        req, rs::kSystemError, "The Consumer Group <" + (group ? *group : std::string()) + "> not exist in this consumer"));
    return;
  }
  auto resp = RemotingCommand::responseTo(req, rs::kSuccess);
  resp.body = c->runningInfoJson();
  responder.respond(std::move(resp));
}

}  // namespace rocketrpc::client
