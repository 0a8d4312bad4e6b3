#include "client/rebalance.h"

#include <algorithm>

#include "common/log.h"

namespace rocketrpc::client {

namespace {
constexpr std::string_view kLog = "rebalance";
}

std::vector<MessageQueue> allocateMessageQueueAveragely(const std::string& current_cid,
                                                        const std::vector<MessageQueue>& mq_all,
                                                        const std::vector<std::string>& cid_all) {
  std::vector<MessageQueue> result;
  auto me = std::find(cid_all.begin(), cid_all.end(), current_cid);
  if (me == cid_all.end() || mq_all.empty()) return result;
  const size_t index = static_cast<size_t>(me - cid_all.begin());
  const size_t mqs = mq_all.size();
  const size_t cids = cid_all.size();
  const size_t mod = mqs % cids;
  const size_t average = mqs <= cids ? 1 : (mod > 0 && index < mod ? mqs / cids + 1 : mqs / cids);
  const size_t start = (mod > 0 && index < mod) ? index * average : index * average + mod;
  if (start >= mqs) return result;
  const size_t range = std::min(average, mqs - start);
  result.reserve(range);
  for (size_t i = 0; i < range; ++i) result.push_back(mq_all[(start + i) % mqs]);
  return result;
}

Result<int64_t> computePullFromWhere(ConsumeFromWhere where, int64_t timestamp_ms, const MessageQueue& mq,
                                     OffsetQueries& queries) {
  auto stored = queries.storedOffset(mq);
  if (stored.isOk() && *stored >= 0) return *stored;
  if (!stored.isOk() && stored.status().code() != StatusCode::kNotFound) return stored.status();
  // No offset stored for the group: place the queue per ConsumeFromWhere.
  switch (where) {
    case ConsumeFromWhere::kLastOffset:
      if (isRetryTopic(mq.topic)) return int64_t{0};
      return queries.maxOffset(mq);
    case ConsumeFromWhere::kFirstOffset:
      return int64_t{0};
    case ConsumeFromWhere::kTimestamp:
      if (isRetryTopic(mq.topic)) return queries.maxOffset(mq);
      return queries.searchOffset(mq, timestamp_ms);
  }
  return Status::internal("unknown ConsumeFromWhere");
}

// --- RebalanceImpl ---

RebalanceImpl::RebalanceImpl(RebalanceConfig config, RebalanceEnv& env)
    : config_(std::move(config)), env_(env) {}

bool RebalanceImpl::doRebalance(const std::vector<std::string>& topics) {
  bool changed = false;
  for (const auto& topic : topics) {
    if (rebalanceByTopic(topic)) changed = true;
  }
  return changed;
}

bool RebalanceImpl::rebalanceByTopic(const std::string& topic) {
  auto mqs = env_.subscribeQueues(topic);
  if (!mqs.isOk()) {
    // A topic that does not exist yet was said once at INFO by the consumer's start() (it is polled for).
    if (isRetryTopic(topic) || mqs.status().code() == StatusCode::kNotFound) {
      RRPC_LOG(kDebug, kLog, "group {}: no queues for {} yet: {}", config_.group, topic,
               mqs.status().toString());
    } else {
      RRPC_LOG(kWarn, kLog, "group {}: no queues for {}: {}", config_.group, topic, mqs.status().toString());
    }
    return false;
  }
  std::vector<MessageQueue> mq_all = std::move(*mqs);
  std::sort(mq_all.begin(), mq_all.end());
  mq_all.erase(std::unique(mq_all.begin(), mq_all.end()), mq_all.end());

  std::set<MessageQueue> mine;
  if (config_.model == MessageModel::kBroadcasting) {
    mine.insert(mq_all.begin(), mq_all.end());
  } else {
    auto cids = env_.consumerIds(topic);
    if (!cids.isOk()) {
      RRPC_LOG(kWarn, kLog, "group {}: consumer ids for {} unknown: {}", config_.group, topic,
               cids.status().toString());
      return false;
    }
    std::vector<std::string> cid_all = std::move(*cids);
    if (cid_all.empty()) {
      RRPC_LOG(kWarn, kLog, "group {}: no consumer of the group known for {}", config_.group, topic);
      return false;
    }
    std::sort(cid_all.begin(), cid_all.end());
    cid_all.erase(std::unique(cid_all.begin(), cid_all.end()), cid_all.end());
    if (std::find(cid_all.begin(), cid_all.end(), config_.client_id) == cid_all.end()) {
      RRPC_LOG(kInfo, kLog, "group {}: {} is not (yet) among the {} consumers of {}", config_.group,
               config_.client_id, cid_all.size(), topic);
    }
    auto allocated = allocateMessageQueueAveragely(config_.client_id, mq_all, cid_all);
    mine.insert(allocated.begin(), allocated.end());
  }
  bool changed = updateProcessQueueTable(topic, mine);
  if (changed) {
    RRPC_LOG(kInfo, kLog, "group {}: {} now consumes {} queue(s) of {}", config_.group, config_.client_id,
             mine.size(), topic);
  }
  return changed;
}

bool RebalanceImpl::updateProcessQueueTable(const std::string& topic, const std::set<MessageQueue>& mq_set) {
  bool changed = false;
  // 1. Release queues no longer ours, stuck ones, and dropped ones whose removal failed earlier.
  std::vector<std::pair<MessageQueue, std::shared_ptr<ProcessQueue>>> current;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [mq, pq] : table_) {
      if (mq.topic == topic) current.emplace_back(mq, pq);
    }
  }
  for (const auto& [mq, pq] : current) {
    bool remove = false;
    if (!mq_set.count(mq)) {
      remove = true;
    } else if (pq->dropped()) {
      remove = true;
    } else if (pq->pullExpired()) {
      RRPC_LOG(kWarn, kLog, "group {}: pull of {} silent for too long, re-creating it", config_.group,
               mq.toString());
      remove = true;
    }
    if (!remove) continue;
    pq->setDropped(true);
    if (removeUnnecessaryQueue(mq, *pq)) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = table_.find(mq);
      if (it != table_.end() && it->second == pq) table_.erase(it);
      changed = true;
    }
  }

  // 2. Start new queues.
  for (const auto& mq : mq_set) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (table_.count(mq)) continue;
    }
    auto pq = std::make_shared<ProcessQueue>();
    if (config_.orderly && config_.model == MessageModel::kClustering) {
      auto locked = lockOne(mq);
      if (!locked.isOk() || !*locked) {
        RRPC_LOG(kInfo, kLog, "group {}: {} is locked by another member (or the lock failed), retry later",
                 config_.group, mq.toString());
        continue;
      }
      pq->setLocked(true);
    }
    env_.removeDirtyOffset(mq);
    auto offset = env_.computePullFromWhere(mq);
    if (!offset.isOk() || *offset < 0) {
      RRPC_LOG(kWarn, kLog, "group {}: cannot place {}: {}", config_.group, mq.toString(),
               offset.isOk() ? std::string("negative offset") : offset.status().toString());
      if (config_.orderly && config_.model == MessageModel::kClustering)
        env_.unlockBatch(mq.broker_name, {mq}, true);
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!table_.emplace(mq, pq).second) continue;
    }
    RRPC_LOG(kInfo, kLog, "group {}: start consuming {} at offset {}", config_.group, mq.toString(), *offset);
    env_.dispatchPull(mq, pq, *offset);
    changed = true;
  }
  return changed;
}

bool RebalanceImpl::removeUnnecessaryQueue(const MessageQueue& mq, ProcessQueue& pq) {
  env_.releaseOffset(mq);
  if (!config_.orderly || config_.model != MessageModel::kClustering) return true;
  // Orderly: give the broker lock back only once no listener call runs on the queue.
  std::unique_lock<TimedMutex> consume(pq.consumeMutex(), std::defer_lock);
  if (!consume.try_lock_for(config_.unlock_wait)) {
    RRPC_LOG(kWarn, kLog, "group {}: {} is being consumed, unlock it later", config_.group, mq.toString());
    return false;
  }
  env_.unlockBatch(mq.broker_name, {mq}, true);
  pq.setLocked(false);
  return true;
}

Result<bool> RebalanceImpl::lockOne(const MessageQueue& mq) {
  auto locked = env_.lockBatch(mq.broker_name, {mq});
  if (!locked.isOk()) return locked.status();
  return locked->count(mq) > 0;
}

bool RebalanceImpl::lock(const MessageQueue& mq) {
  auto locked = lockOne(mq);
  auto pq = processQueue(mq);
  bool ok = locked.isOk() && *locked;
  if (pq && ok) pq->setLocked(true);
  if (!locked.isOk()) {
    RRPC_LOG(kDebug, kLog, "group {}: lock {}: {}", config_.group, mq.toString(), locked.status().toString());
  }
  return ok;
}

void RebalanceImpl::lockAll() {
  std::map<std::string, std::set<MessageQueue>> by_broker;
  auto table = processQueues();
  for (const auto& [mq, pq] : table) {
    if (!pq->dropped()) by_broker[mq.broker_name].insert(mq);
  }
  for (const auto& [broker, mqs] : by_broker) {
    auto locked = env_.lockBatch(broker, mqs);
    if (!locked.isOk()) {
      RRPC_LOG(kWarn, kLog, "group {}: renewing locks on {} failed: {}", config_.group, broker,
               locked.status().toString());
      continue;  // keep the current state; locks expire on their own (kLockMaxLiveTime)
    }
    auto now = ProcessQueue::Clock::now();
    for (const auto& mq : mqs) {
      auto it = table.find(mq);
      if (it == table.end()) continue;
      if (locked->count(mq)) {
        it->second->setLocked(true, now);
      } else {
        if (it->second->locked())
          RRPC_LOG(kWarn, kLog, "group {}: lost the lock of {}", config_.group, mq.toString());
        it->second->setLocked(false);
      }
    }
  }
}

void RebalanceImpl::unlockAll(bool oneway) {
  std::map<std::string, std::set<MessageQueue>> by_broker;
  for (const auto& [mq, pq] : processQueues()) {
    by_broker[mq.broker_name].insert(mq);
    pq->setLocked(false);
  }
  for (const auto& [broker, mqs] : by_broker) env_.unlockBatch(broker, mqs, oneway);
}

std::shared_ptr<ProcessQueue> RebalanceImpl::processQueue(const MessageQueue& mq) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = table_.find(mq);
  return it == table_.end() ? nullptr : it->second;
}

std::map<MessageQueue, std::shared_ptr<ProcessQueue>> RebalanceImpl::processQueues() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_;
}

std::vector<MessageQueue> RebalanceImpl::assignedQueues() const {
  std::vector<MessageQueue> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [mq, pq] : table_) {
    if (!pq->dropped()) out.push_back(mq);
  }
  return out;
}

bool RebalanceImpl::removeProcessQueue(const MessageQueue& mq, const std::shared_ptr<ProcessQueue>& pq) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = table_.find(mq);
  if (it == table_.end() || it->second != pq) return false;
  it->second->setDropped(true);
  table_.erase(it);
  return true;
}

std::map<MessageQueue, std::shared_ptr<ProcessQueue>> RebalanceImpl::destroy() {
  std::map<MessageQueue, std::shared_ptr<ProcessQueue>> table;
  {
    std::lock_guard<std::mutex> lock(mu_);
    table.swap(table_);
  }
  for (auto& [mq, pq] : table) pq->setDropped(true);
  return table;
}

}  // namespace rocketrpc::client
