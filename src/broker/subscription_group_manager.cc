#include "broker/subscription_group_manager.h"

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "store/file_system.h"

namespace rocketrpc::broker {

namespace {

using Json = nlohmann::json;

// Groups Apache's broker creates at start (MixAll *_GROUP constants used by its own tools and clients).
constexpr const char* kSystemGroups[] = {"TOOLS_CONSUMER", "FILTERSRV_CONSUMER", "__MONITOR_CONSUMER",
                                         "CLIENT_INNER_PRODUCER", "SELF_TEST_P_GROUP", "SELF_TEST_C_GROUP",
                                         "CID_ONS-HTTP-PROXY", "CID_ONSAPI_PERMISSION", "CID_ONSAPI_OWNER",
                                         "CID_ONSAPI_PULL", "CID_RMQ_SYS_TRANS"};

Json configJson(const SubscriptionGroupConfig& c) {
  return Json{{"brokerId", c.broker_id},
              {"consumeBroadcastEnable", c.consume_broadcast_enable},
              {"consumeEnable", c.consume_enable},
              {"consumeFromMinEnable", c.consume_from_min_enable},
              {"groupName", c.group_name},
              {"notifyConsumerIdsChangedEnable", c.notify_consumer_ids_changed_enable},
              {"retryMaxTimes", c.retry_max_times},
              {"retryQueueNums", c.retry_queue_nums},
              {"whichBrokerWhenConsumeSlowly", c.which_broker_when_consume_slowly}};
}

Result<SubscriptionGroupConfig> configFromJson(const Json& j) {
  if (!j.is_object()) return Status::invalidArgument("subscription group config is not a JSON object");
  SubscriptionGroupConfig c;
  try {
    c.group_name = j.value("groupName", std::string());
    c.consume_enable = j.value("consumeEnable", c.consume_enable);
    c.consume_from_min_enable = j.value("consumeFromMinEnable", c.consume_from_min_enable);
    c.consume_broadcast_enable = j.value("consumeBroadcastEnable", c.consume_broadcast_enable);
    c.retry_queue_nums = j.value("retryQueueNums", c.retry_queue_nums);
    c.retry_max_times = j.value("retryMaxTimes", c.retry_max_times);
    c.broker_id = j.value("brokerId", c.broker_id);
    c.which_broker_when_consume_slowly = j.value("whichBrokerWhenConsumeSlowly", c.which_broker_when_consume_slowly);
    c.notify_consumer_ids_changed_enable =
        j.value("notifyConsumerIdsChangedEnable", c.notify_consumer_ids_changed_enable);
  } catch (const Json::exception& e) {
    return Status::invalidArgument(std::string("subscription group config: ") + e.what());
  }
  if (!isValidGroupName(c.group_name)) {
    return Status::invalidArgument("subscription group config: invalid groupName '" + c.group_name + "'");
  }
  if (c.retry_max_times < -1 || c.retry_queue_nums < 0) {
    return Status::invalidArgument("subscription group config: retryMaxTimes/retryQueueNums out of range");
  }
  return c;
}

}  // namespace

std::string encodeSubscriptionGroupConfig(const SubscriptionGroupConfig& config) { return configJson(config).dump(-1, ' ', false, Json::error_handler_t::replace); }

Result<SubscriptionGroupConfig> parseSubscriptionGroupConfig(std::string_view json) {
  Json j = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::invalidArgument("subscription group config is not valid JSON");
  return configFromJson(j);
}

SubscriptionGroupManager::SubscriptionGroupManager(std::string path, bool auto_create, std::function<int64_t()> clock)
    : path_(std::move(path)), auto_create_(auto_create), clock_(std::move(clock)) {}

Status SubscriptionGroupManager::load() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!path_.empty()) {
    auto text = store::readWholeFile(*store::posixFileSystem(), path_);
    if (text.isOk()) {
      Json j = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded() || !j.is_object()) return Status::corrupt(path_ + ": not a JSON object");
      if (auto t = j.find("subscriptionGroupTable"); t != j.end() && t->is_object()) {
        for (const auto& [name, value] : t->items()) {
          auto c = configFromJson(value);
          if (!c.isOk()) return c.status().withContext(path_);
          table_[c->group_name] = *c;
        }
      }
      if (auto dv = j.find("dataVersion"); dv != j.end() && dv->is_object()) {
        data_version_.counter = dv->value("counter", int64_t{0});
        data_version_.timestamp = dv->value("timestamp", int64_t{0});
      }
    } else if (text.status().code() != StatusCode::kNotFound) {
      return text.status();
    }
  }
  for (const char* name : kSystemGroups) {
    if (!table_.count(name)) table_[name] = SubscriptionGroupConfig{.group_name = name};
  }
  data_version_.next(clock_());
  Status s = persistLocked();
  if (!s && store::isDiskFullError(s)) {
    // The broker starts on a full disk (docs/design/broker.md "Files and disks"); the next change writes it.
    RRPC_LOG(kWarn, "broker", "subscription groups not rewritten at start: {}", s.toString());
    return Status::ok();
  }
  return s;
}

std::optional<SubscriptionGroupConfig> SubscriptionGroupManager::find(const std::string& group) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = table_.find(group);
  if (it == table_.end()) return std::nullopt;
  return it->second;
}

std::optional<SubscriptionGroupConfig> SubscriptionGroupManager::findOrCreate(const std::string& group) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = table_.find(group); it != table_.end()) return it->second;
  if (!auto_create_ || !isValidGroupName(group)) return std::nullopt;
  SubscriptionGroupConfig c{.group_name = group};
  table_[group] = c;
  data_version_.next(clock_());
  if (Status s = persistLocked(); !s.isOk()) {
    RRPC_LOG(kWarn, "broker", "persisting subscription groups failed: {}", s.toString());
  }
  RRPC_LOG(kInfo, "broker", "subscription group {} auto-created", group);
  return c;
}

Status SubscriptionGroupManager::upsert(const SubscriptionGroupConfig& config) {
  if (!isValidGroupName(config.group_name)) {
    return Status::invalidArgument("invalid group name '" + config.group_name + "'");
  }
  std::lock_guard<std::mutex> lock(mu_);
  table_[config.group_name] = config;
  data_version_.next(clock_());
  RRPC_LOG(kInfo, "broker", "subscription group {} updated: consumeEnable={} retryMaxTimes={}", config.group_name,
           config.consume_enable, config.retry_max_times);
  return persistLocked();
}

Status SubscriptionGroupManager::remove(const std::string& group) {
  std::lock_guard<std::mutex> lock(mu_);
  if (table_.erase(group) == 0) return Status::ok();
  data_version_.next(clock_());
  RRPC_LOG(kInfo, "broker", "subscription group {} deleted", group);
  return persistLocked();
}

std::string SubscriptionGroupManager::encodeAll() const {
  std::lock_guard<std::mutex> lock(mu_);
  return encodeLocked(-1);
}

std::string SubscriptionGroupManager::encodeLocked(int indent) const {
  Json table = Json::object();
  for (const auto& [name, c] : table_) table[name] = configJson(c);
  Json root{{"dataVersion",
             {{"counter", data_version_.counter},
              {"stateVersion", data_version_.state_version},
              {"timestamp", data_version_.timestamp}}},
            {"subscriptionGroupTable", std::move(table)}};
  return root.dump(indent, ' ', false, Json::error_handler_t::replace);
}

Status SubscriptionGroupManager::persist() const {
  std::lock_guard<std::mutex> lock(mu_);
  return persistLocked();
}

size_t SubscriptionGroupManager::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_.size();
}

namesrv::DataVersion SubscriptionGroupManager::dataVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return data_version_;
}

Status SubscriptionGroupManager::persistLocked() const {
  if (path_.empty()) return Status::ok();
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
  if (ec) return Status::internal("create directory for " + path_ + ": " + ec.message());
  return store::writeFileAtomically(*store::posixFileSystem(), path_, encodeLocked(2));
}

}  // namespace rocketrpc::broker
