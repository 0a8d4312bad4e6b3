#include "store/consumer_offset_table.h"

#include <nlohmann/json.hpp>

namespace rocketrpc::store {

ConsumerOffsetTable::ConsumerOffsetTable(std::shared_ptr<FileSystem> fs, std::string path)
    : fs_(std::move(fs)), path_(std::move(path)) {}

Status ConsumerOffsetTable::load() {
  auto data = readWholeFile(*fs_, path_);
  Table table;
  if (!data && data.status().code() != StatusCode::kNotFound) return data.status();
  if (data) {
    const auto json = nlohmann::json::parse(*data, nullptr, false);
    if (json.is_discarded() || !json.is_object() || !json.contains("offsetTable") ||
        !json["offsetTable"].is_object()) {
      return Status::corrupt("consumer offsets file " + path_ + " is not valid");
    }
    for (const auto& [name, queues] : json["offsetTable"].items()) {
      if (!queues.is_object())
        return Status::corrupt("consumer offsets file " + path_ + ": bad entry " + name);
      for (const auto& [queue, offset] : queues.items()) {
        if (!offset.is_number_integer() || queue.empty() ||
            queue.find_first_not_of("0123456789") != std::string::npos || queue.size() > 9) {
          return Status::corrupt("consumer offsets file " + path_ + ": bad offset in " + name);
        }
        table[name][std::stoi(queue)] = offset.get<int64_t>();
      }
    }
  }
  std::lock_guard lock(mu_);
  table_ = std::move(table);
  return Status::ok();
}

Status ConsumerOffsetTable::persist() {
  std::lock_guard persist_lock(persist_mu_);
  nlohmann::json queues_by_key = nlohmann::json::object();
  uint64_t version = 0;
  {
    std::lock_guard lock(mu_);
    version = version_;
    if (version == persisted_version_ && fs_->exists(path_)) return Status::ok();
    for (const auto& [name, queues] : table_) {
      auto& entry = queues_by_key[name] = nlohmann::json::object();
      for (const auto& [queue, offset] : queues) entry[std::to_string(queue)] = offset;
    }
  }
  const nlohmann::json doc = {{"offsetTable", std::move(queues_by_key)}};
  if (Status s = writeFileAtomically(*fs_, path_, doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)); !s) return s;
  persisted_version_ = version;
  return Status::ok();
}

void ConsumerOffsetTable::set(const std::string& group, const std::string& topic, int32_t queue_id,
                              int64_t offset) {
  std::lock_guard lock(mu_);
  table_[key(group, topic)][queue_id] = offset;
  ++version_;
}

std::optional<int64_t> ConsumerOffsetTable::get(const std::string& group, const std::string& topic,
                                                int32_t queue_id) const {
  std::lock_guard lock(mu_);
  auto it = table_.find(key(group, topic));
  if (it == table_.end()) return std::nullopt;
  auto q = it->second.find(queue_id);
  if (q == it->second.end()) return std::nullopt;
  return q->second;
}

void ConsumerOffsetTable::remove(const std::string& group, const std::string& topic) {
  std::lock_guard lock(mu_);
  if (table_.erase(key(group, topic)) > 0) ++version_;
}

void ConsumerOffsetTable::removeGroup(const std::string& group) {
  std::lock_guard lock(mu_);
  const std::string suffix = "@" + group;
  for (auto it = table_.begin(); it != table_.end();) {
    const std::string& k = it->first;
    bool match = k.size() > suffix.size() && k.compare(k.size() - suffix.size(), suffix.size(), suffix) == 0;
    if (match) {
      it = table_.erase(it);
      ++version_;
    } else {
      ++it;
    }
  }
}

void ConsumerOffsetTable::removeTopic(const std::string& topic) {
  std::lock_guard lock(mu_);
  const std::string prefix = topic + "@";
  for (auto it = table_.lower_bound(prefix); it != table_.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
    it = table_.erase(it);
    ++version_;
  }
}

ConsumerOffsetTable::Table ConsumerOffsetTable::snapshot() const {
  std::lock_guard lock(mu_);
  return table_;
}

}  // namespace rocketrpc::store
