// Non-inline members of the public message types (include/rocketrpc/message.h).
#include "rocketrpc/message.h"

#include <charconv>

namespace rocketrpc {

Message::Message(std::string topic, std::string tags, std::string body)
    : topic_(std::move(topic)), body_(std::move(body)) {
  setTags(tags);
}

void Message::setKeys(const std::vector<std::string>& keys) {
  std::string joined;
  for (const auto& key : keys) {
    if (key.empty()) continue;
    if (!joined.empty()) joined += ' ';
    joined += key;
  }
  putProperty(property::kKeys, joined);
}

int Message::delayTimeLevel() const {
  auto it = properties_.find(property::kDelayTimeLevel);
  if (it == properties_.end()) return 0;
  int level = 0;
  const std::string& text = it->second;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), level);
  if (ec != std::errc() || ptr != text.data() + text.size()) return 0;
  return level;
}

void Message::setDelayTimeLevel(int level) {
  if (level <= 0) {
    clearProperty(property::kDelayTimeLevel);
    return;
  }
  putProperty(property::kDelayTimeLevel, std::to_string(level));
}

std::string Message::getProperty(std::string_view name) const {
  auto it = properties_.find(name);
  return it == properties_.end() ? std::string() : it->second;
}

void Message::putProperty(std::string_view name, std::string_view value) {
  if (name.empty()) return;
  if (value.empty()) {
    clearProperty(name);
    return;
  }
  auto it = properties_.find(name);
  if (it != properties_.end()) {
    it->second.assign(value);
  } else {
    properties_.emplace(std::string(name), std::string(value));
  }
}

void Message::clearProperty(std::string_view name) {
  auto it = properties_.find(name);
  if (it != properties_.end()) properties_.erase(it);
}

std::string MessageQueue::toString() const {
  std::string s = "MessageQueue [topic=";
  s += topic;
  s += ", brokerName=";
  s += broker_name;
  s += ", queueId=";
  s += std::to_string(queue_id);
  s += ']';
  return s;
}

}  // namespace rocketrpc
