#include "client/offset_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "client/client_instance.h"
#include "client/consumer_api.h"
#include "common/log.h"

namespace rocketrpc::client {

namespace {
constexpr std::string_view kLog = "consumer";
}

// --- OffsetStore ---

void OffsetStore::updateOffset(const MessageQueue& mq, int64_t offset, bool increase_only) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = table_.emplace(mq, offset);
  if (inserted) return;
  if (increase_only && offset < it->second) return;
  it->second = offset;
}

void OffsetStore::removeOffset(const MessageQueue& mq) {
  std::lock_guard<std::mutex> lock(mu_);
  table_.erase(mq);
}

std::map<MessageQueue, int64_t> OffsetStore::offsets() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_;
}

int64_t OffsetStore::memoryOffset(const MessageQueue& mq) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = table_.find(mq);
  return it == table_.end() ? -1 : it->second;
}

// --- RemoteBrokerOffsetStore ---

RemoteBrokerOffsetStore::RemoteBrokerOffsetStore(ClientInstance& instance, std::string group)
    : instance_(instance), group_(std::move(group)) {}

Result<std::string> RemoteBrokerOffsetStore::masterAddr(const MessageQueue& mq) {
  std::string addr = instance_.masterAddr(mq.broker_name);
  if (addr.empty()) {
    (void)instance_.updateRoute(mq.topic);
    addr = instance_.masterAddr(mq.broker_name);
  }
  if (addr.empty()) return Status::notFound("no master address for broker " + mq.broker_name);
  return addr;
}

Result<int64_t> RemoteBrokerOffsetStore::readOffset(const MessageQueue& mq, ReadOffsetType type) {
  if (type != ReadOffsetType::kStore) {
    int64_t mem = memoryOffset(mq);
    if (mem >= 0) return mem;
    if (type == ReadOffsetType::kMemory) return Status::notFound("no offset in memory for " + mq.toString());
  }
  auto addr = masterAddr(mq);
  if (!addr.isOk()) return Status::network(addr.status().message());  // unknown, not "none stored"
  auto offset = queryConsumerOffset(instance_.remoting(), *addr, group_, mq, instance_.apiTimeout());
  if (!offset.isOk()) {
    if (offset.status().code() == StatusCode::kNotFound) return offset.status();
    return offset.status().withContext("QUERY_CONSUMER_OFFSET of " + mq.toString());
  }
  updateOffset(mq, *offset, false);
  return offset;
}

Status RemoteBrokerOffsetStore::commitToBroker(const MessageQueue& mq, int64_t offset, bool sync) {
  auto addr = masterAddr(mq);
  if (!addr.isOk()) return addr.status();
  if (sync)
    return updateConsumerOffset(instance_.remoting(), *addr, group_, mq, offset, instance_.apiTimeout());
  return updateConsumerOffsetOneway(instance_.remoting(), *addr, group_, mq, offset, instance_.apiTimeout());
}

void RemoteBrokerOffsetStore::persistAll(const std::set<MessageQueue>& mqs, bool sync) {
  std::map<MessageQueue, int64_t> to_commit;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = table_.begin(); it != table_.end();) {
      if (mqs.count(it->first)) {
        to_commit.emplace(*it);
        ++it;
      } else {
        it = table_.erase(it);
      }
    }
  }
  for (const auto& [mq, offset] : to_commit) {
    Status st = commitToBroker(mq, offset, sync);
    if (!st.isOk()) {
      RRPC_LOG(kWarn, kLog, "group {}: commit offset {} of {} failed: {}", group_, offset, mq.toString(),
               st.toString());
    }
  }
}

void RemoteBrokerOffsetStore::persist(const MessageQueue& mq, bool sync) {
  int64_t offset = memoryOffset(mq);
  if (offset < 0) return;
  Status st = commitToBroker(mq, offset, sync);
  if (!st.isOk()) {
    RRPC_LOG(kWarn, kLog, "group {}: commit offset {} of {} failed: {}", group_, offset, mq.toString(),
             st.toString());
  }
}

// --- LocalFileOffsetStore ---

LocalFileOffsetStore::LocalFileOffsetStore(std::string path) : path_(std::move(path)) {}

std::string LocalFileOffsetStore::defaultPath(const std::string& client_id, const std::string& group) {
  std::string dir;
  if (const char* env = std::getenv("ROCKETRPC_OFFSET_STORE_DIR"); env && *env) {
    dir = env;
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    dir = std::string(home) + "/.rocketrpc/offsets";
  } else {
    dir = "/tmp/.rocketrpc/offsets";
  }
  return dir + "/" + client_id + "/" + group + "/offsets.json";
}

std::string LocalFileOffsetStore::encode(const std::map<MessageQueue, int64_t>& offsets) {
  auto table = nlohmann::json::array();
  for (const auto& [mq, offset] : offsets) {
    table.push_back(
        {{"brokerName", mq.broker_name}, {"offset", offset}, {"queueId", mq.queue_id}, {"topic", mq.topic}});
  }
  nlohmann::json doc;
  doc["offsetTable"] = std::move(table);
  return doc.dump(2);
}

Result<std::map<MessageQueue, int64_t>> LocalFileOffsetStore::decode(std::string_view json) {
  auto doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Status::corrupt("offset file is not a JSON object");
  std::map<MessageQueue, int64_t> out;
  auto it = doc.find("offsetTable");
  if (it == doc.end()) return out;
  if (!it->is_array()) return Status::corrupt("offset file: offsetTable is not an array");
  for (const auto& e : *it) {
    if (!e.is_object()) return Status::corrupt("offset file: entry is not an object");
    auto topic = e.find("topic");
    auto broker = e.find("brokerName");
    auto qid = e.find("queueId");
    auto offset = e.find("offset");
    if (topic == e.end() || !topic->is_string() || broker == e.end() || !broker->is_string() ||
        qid == e.end() || !qid->is_number_integer() || offset == e.end() || !offset->is_number_integer()) {
      return Status::corrupt("offset file: entry lacks topic/brokerName/queueId/offset");
    }
    out[MessageQueue{topic->get<std::string>(), broker->get<std::string>(), qid->get<int32_t>()}] =
        offset->get<int64_t>();
  }
  return out;
}

Status LocalFileOffsetStore::load() {
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path_)) return Status::ok();
    return Status::corrupt("cannot read offset file " + path_);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto decoded = decode(ss.str());
  if (!decoded.isOk()) return decoded.status().withContext(path_);
  std::lock_guard<std::mutex> lock(mu_);
  persisted_ = *decoded;
  for (const auto& [mq, offset] : persisted_) table_[mq] = offset;
  return Status::ok();
}

Result<int64_t> LocalFileOffsetStore::readOffset(const MessageQueue& mq, ReadOffsetType type) {
  std::lock_guard<std::mutex> lock(mu_);
  if (type != ReadOffsetType::kStore) {
    auto it = table_.find(mq);
    if (it != table_.end()) return it->second;
    if (type == ReadOffsetType::kMemory) return Status::notFound("no offset in memory for " + mq.toString());
  }
  auto it = persisted_.find(mq);
  if (it == persisted_.end()) return Status::notFound("no offset stored for " + mq.toString());
  table_[mq] = it->second;
  return it->second;
}

Status LocalFileOffsetStore::writeFile(const std::map<MessageQueue, int64_t>& offsets) {
  std::error_code ec;
  std::filesystem::path target(path_);
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path(), ec);
  if (ec) return Status::internal("cannot create " + target.parent_path().string() + ": " + ec.message());
  std::string tmp = path_ + ".tmp";
  std::string text = encode(offsets);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return statusFromErrno(errno, "open " + tmp);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status st = statusFromErrno(errno, "write " + tmp);
      ::close(fd);
      return st;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status st = statusFromErrno(errno, "fsync " + tmp);
    ::close(fd);
    return st;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) return statusFromErrno(errno, "rename " + tmp);
  return Status::ok();
}

void LocalFileOffsetStore::persistAll(const std::set<MessageQueue>& mqs, bool /*sync*/) {
  std::lock_guard<std::mutex> file_lock(file_mu_);  // snapshot and write in the same order
  std::map<MessageQueue, int64_t> snapshot;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = table_.begin(); it != table_.end();) {
      if (mqs.count(it->first)) {
        persisted_[it->first] = it->second;
        ++it;
      } else {
        it = table_.erase(it);
      }
    }
    snapshot = persisted_;
  }
  Status st = writeFile(snapshot);
  if (!st.isOk()) RRPC_LOG(kWarn, kLog, "persist offsets to {}: {}", path_, st.toString());
}

void LocalFileOffsetStore::persist(const MessageQueue& mq, bool /*sync*/) {
  std::lock_guard<std::mutex> file_lock(file_mu_);
  std::map<MessageQueue, int64_t> snapshot;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = table_.find(mq);
    if (it == table_.end()) return;
    persisted_[mq] = it->second;
    snapshot = persisted_;
  }
  Status st = writeFile(snapshot);
  if (!st.isOk()) RRPC_LOG(kWarn, kLog, "persist offsets to {}: {}", path_, st.toString());
}

}  // namespace rocketrpc::client
