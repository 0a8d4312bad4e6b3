#include "broker/topic_config_manager.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

#include "common/log.h"
#include "remoting/protocol/route_data.h"
#include "store/file_system.h"

namespace rocketrpc::broker {

namespace perm = remoting::perm;
using namesrv::TopicConfig;

bool isNotAllowedSendTopic(std::string_view topic) {
  return topic == kScheduleTopic || topic == "RMQ_SYS_TRANS_HALF_TOPIC" || topic == "RMQ_SYS_TRANS_OP_HALF_TOPIC" ||
         topic == "TRANS_CHECK_MAX_TIME_TOPIC" || topic == kSelfTestTopic || topic == kOffsetMovedEvent;
}

bool isSystemTopic(std::string_view topic) {
  static constexpr std::string_view kSystem[] = {
      kAutoCreateTopicKey, kScheduleTopic, kSelfTestTopic, kOffsetMovedEvent, "BenchmarkTest",
      "RMQ_SYS_TRANS_HALF_TOPIC", "RMQ_SYS_TRANS_OP_HALF_TOPIC", "TRANS_CHECK_MAX_TIME_TOPIC", "RMQ_SYS_TRACE_TOPIC",
      "CHECKPOINT_TOPIC", "rmq_sys_REVIVE_LOG_"};
  for (std::string_view s : kSystem) {
    if (topic == s) return true;
  }
  return topic.substr(0, 8) == "rmq_sys_";
}

TopicConfigManager::TopicConfigManager(const BrokerConfig& config, std::string path, std::function<int64_t()> clock)
    : config_(config), path_(std::move(path)), clock_(std::move(clock)) {}

void TopicConfigManager::setChangeListener(std::function<void()> listener) {
  std::lock_guard<std::mutex> lock(mu_);
  listener_ = std::move(listener);
}

Status TopicConfigManager::load() {
  std::lock_guard<std::mutex> lock(mu_);
  std::ifstream in(path_);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    auto parsed = namesrv::parseTopicConfigWrapper(ss.str());
    if (!parsed.isOk()) return parsed.status().withContext(path_);
    table_ = std::move(*parsed);
  }
  addSystemTopicsLocked();
  table_.data_version.next(clock_());
  Status s = persistLocked();
  if (!s && store::isDiskFullError(s)) {
    // The broker starts on a full disk (docs/design/broker.md "Files and disks"); the next change writes it.
    RRPC_LOG(kWarn, "broker", "topic config not rewritten at start: {}", s.toString());
    return Status::ok();
  }
  return s;
}

void TopicConfigManager::addSystemTopicsLocked() {
  auto add = [this](const std::string& name, int32_t queues, int32_t p) {
    if (table_.topic_config_table.count(name)) return;
    TopicConfig c;
    c.topic_name = name;
    c.read_queue_nums = c.write_queue_nums = queues;
    c.perm = p;
    table_.topic_config_table[name] = c;
  };
  const int32_t rw = perm::kRead | perm::kWrite;
  add(std::string(kSelfTestTopic), 1, rw);
  if (config_.auto_create_topic_enable) {
    add(std::string(kAutoCreateTopicKey), static_cast<int32_t>(config_.default_topic_queue_nums), rw | perm::kInherit);
  }
  add(config_.broker_cluster_name, 16, rw | perm::kInherit);
  add(config_.broker_name, 1, rw | perm::kInherit);
  add(std::string(kOffsetMovedEvent), 1, rw);
  add(std::string(kScheduleTopic), 18, rw);
  add(replyTopic(), 1, rw);
}

Status TopicConfigManager::persistLocked() const {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
  std::string tmp = path_ + ".tmp";
  std::string text = namesrv::encodeTopicConfigWrapper(table_);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return store::fsErrorStatus(errno, "open " + tmp);
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return store::fsErrorStatus(err, "write " + tmp);
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return store::fsErrorStatus(err, "fsync " + tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) return store::fsErrorStatus(errno, "rename " + tmp);
  return Status::ok();
}

void TopicConfigManager::notify() {
  std::function<void()> listener;
  {
    std::lock_guard<std::mutex> lock(mu_);
    listener = listener_;
  }
  if (listener) listener();
}

std::optional<TopicConfig> TopicConfigManager::find(const std::string& topic) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = table_.topic_config_table.find(topic);
  if (it == table_.topic_config_table.end()) return std::nullopt;
  return it->second;
}

Status TopicConfigManager::upsert(const TopicConfig& config) {
  Status s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // A change that cannot be persisted is undone, so one bad request cannot leave the table in a state that
    // fails every later persist.
    const namesrv::TopicConfigWrapper before = table_;
    table_.topic_config_table[config.topic_name] = config;
    table_.data_version.next(clock_());
    s = persistLocked();
    if (!s.isOk()) {
      table_ = before;
      return s;
    }
  }
  RRPC_LOG(kInfo, "broker", "topic {} updated: r={} w={} perm={}", config.topic_name, config.read_queue_nums,
           config.write_queue_nums, config.perm);
  notify();
  return s;
}

bool TopicConfigManager::isSystem(std::string_view topic) const {
  return isSystemTopic(topic) || topic == config_.broker_cluster_name || topic == config_.broker_name ||
         topic == replyTopic();
}

Status TopicConfigManager::remove(const std::string& topic) {
  Status s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (table_.topic_config_table.erase(topic) == 0) return Status::notFound("topic " + topic + " does not exist");
    table_.data_version.next(clock_());
    s = persistLocked();
  }
  RRPC_LOG(kInfo, "broker", "topic {} deleted", topic);
  notify();
  return s;
}

std::optional<TopicConfig> TopicConfigManager::createTopicInSendMessageMethod(const std::string& topic,
                                                                              const std::string& default_topic,
                                                                              int32_t client_default_queue_nums,
                                                                              int32_t topic_sys_flag) {
  TopicConfig created;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto existing = table_.topic_config_table.find(topic);
    if (existing != table_.topic_config_table.end()) return existing->second;
    auto def = table_.topic_config_table.find(default_topic);
    if (def == table_.topic_config_table.end()) return std::nullopt;
    if (default_topic == kAutoCreateTopicKey && !config_.auto_create_topic_enable) return std::nullopt;
    if ((def->second.perm & perm::kInherit) == 0) return std::nullopt;
    int32_t queues = std::min(std::max(client_default_queue_nums, 1), def->second.write_queue_nums);
    created.topic_name = topic;
    created.read_queue_nums = created.write_queue_nums = queues;
    created.perm = def->second.perm & ~perm::kInherit;
    created.topic_sys_flag = topic_sys_flag;
    table_.topic_config_table[topic] = created;
    table_.data_version.next(clock_());
    Status s = persistLocked();
    if (!s.isOk()) RRPC_LOG(kError, "broker", "persisting topics failed: {}", s.toString());
  }
  RRPC_LOG(kInfo, "broker", "auto-created topic {} with {} queues", topic, created.write_queue_nums);
  notify();
  return created;
}

TopicConfig TopicConfigManager::createIfMissing(const std::string& topic, int32_t queues, int32_t p) {
  TopicConfig created;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto existing = table_.topic_config_table.find(topic);
    if (existing != table_.topic_config_table.end()) return existing->second;
    created.topic_name = topic;
    created.read_queue_nums = created.write_queue_nums = queues;
    created.perm = p;
    table_.topic_config_table[topic] = created;
    table_.data_version.next(clock_());
    Status s = persistLocked();
    if (!s.isOk()) RRPC_LOG(kError, "broker", "persisting topics failed: {}", s.toString());
  }
  notify();
  return created;
}

Status TopicConfigManager::persist() const {
  std::lock_guard<std::mutex> lock(mu_);
  return persistLocked();
}

namesrv::TopicConfigWrapper TopicConfigManager::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_;
}

namesrv::DataVersion TopicConfigManager::dataVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_.data_version;
}

}  // namespace rocketrpc::broker
