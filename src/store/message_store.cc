#include "store/message_store.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <future>
#include <limits>
#include <set>

#include "common/batch_scope.h"
#include "common/log.h"
#include "common/thread_guard.h"
#include "remoting/protocol/message_codec.h"
#include "store/checkpoint.h"

namespace rocketrpc::store {

namespace {

constexpr size_t kMaxGroupBytes = 4 * 1024 * 1024;  // the appender takes requests up to about this much body
constexpr int64_t kMaxScanEntries = 800;            // consume-queue entries one getMessages may skip through
constexpr int64_t kReadChunk = 256;

// Apache RocketMQ's fast-failure text (BrokerFastFailure), so that operators and Java clients see what they know.
Status busyStatus(std::string_view tag, int64_t waited_ms, size_t queue_size) {
  return Status::overLimit("[" + std::string(tag) + "]broker busy, start flow control for a while, period in queue: " +
                           std::to_string(waited_ms) + "ms, size of queue: " + std::to_string(queue_size));
}

// Length of remoting::encodeProperties(props) without building it ("name\x01value" joined by \x02; empty
// names or values are skipped).
size_t encodedPropertiesSize(const std::map<std::string, std::string, std::less<>>& props) {
  size_t n = 0;
  size_t entries = 0;
  for (const auto& [name, value] : props) {
    if (name.empty() || value.empty()) continue;
    n += name.size() + 1 + value.size();
    ++entries;
  }
  return entries == 0 ? 0 : n + entries - 1;
}

int64_t systemClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A callback or listener the store calls: whatever it throws is caught, logged and counted here.
template <typename F>
void callUser(std::string_view what, F&& f) {
  runGuarded(what, std::forward<F>(f));
}

}  // namespace

std::string_view getMessageStatusName(GetMessageStatus status) {
  switch (status) {
    case GetMessageStatus::kFound:
      return "FOUND";
    case GetMessageStatus::kNoMatchedMessage:
      return "NO_MATCHED_MESSAGE";
    case GetMessageStatus::kNoMessageInQueue:
      return "NO_MESSAGE_IN_QUEUE";
    case GetMessageStatus::kOffsetOverflowOne:
      return "OFFSET_OVERFLOW_ONE";
    case GetMessageStatus::kOffsetOverflowBadly:
      return "OFFSET_OVERFLOW_BADLY";
    case GetMessageStatus::kOffsetTooSmall:
      return "OFFSET_TOO_SMALL";
  }
  return "UNKNOWN";
}

bool isStoreBusy(const Status& status) {
  if (status.code() != StatusCode::kOverLimit) return false;
  const std::string& m = status.message();
  return m.starts_with("[TIMEOUT_CLEAN_QUEUE]broker busy") || m.starts_with("[PCBUSY_CLEAN_QUEUE]broker busy");
}

// ---- lifecycle -------------------------------------------------------------------------------------------

MessageStore::MessageStore(MessageStoreOptions options)
    : options_(std::move(options)),
      fs_(options_.fs),
      fd_cache_(std::dynamic_pointer_cast<CachingFileSystem>(options_.fs)) {}

Result<std::unique_ptr<MessageStore>> MessageStore::open(MessageStoreOptions options) {
  if (options.root_dir.empty()) return Status::invalidArgument("store root_dir is empty");
  if (options.commit_log_segment_size < 4096 || options.commit_log_segment_size > (1LL << 30)) {
    return Status::invalidArgument("commit_log_segment_size must be 4 KiB .. 1 GiB");
  }
  if (options.consume_queue_entries_per_file < 1) {
    return Status::invalidArgument("consume_queue_entries_per_file must be >= 1");
  }
  if (options.max_message_size < 128) return Status::invalidArgument("max_message_size must be >= 128");
  if (options.disk_max_used_ratio <= 0 || options.disk_max_used_ratio > 1) {
    return Status::invalidArgument("disk_max_used_ratio must be in (0, 1]");
  }
  if (options.disk_full_ratio <= 0 || options.disk_full_ratio > 1) {
    return Status::invalidArgument("disk_full_ratio must be in (0, 1]");
  }
  if (!remoting::createOffsetMessageId(options.store_host, 0)) {
    return Status::invalidArgument("bad store_host '" + options.store_host + "'");
  }
  if (!options.fs) options.fs = posixFileSystem();
  if (options.max_open_files > 0) {
    options.fs = std::make_shared<CachingFileSystem>(std::move(options.fs), options.max_open_files);
  }
  if (!options.clock) options.clock = systemClockMs;
  std::unique_ptr<MessageStore> store(new MessageStore(std::move(options)));
  if (Status s = store->recover(); !s) {
    std::lock_guard lock(store->close_mu_);
    store->closed_ = true;  // nothing to flush: the destructor must not write a checkpoint
    return s.withContext("store recovery in " + store->options_.root_dir);
  }
  store->appender_ = std::thread([s = store.get()] { s->appenderLoop(); });
  if (store->options_.flush_interval.count() > 0) {
    store->service_ = std::thread([s = store.get()] { s->serviceLoop(); });
  }
  return store;
}

MessageStore::~MessageStore() { close(); }

Status MessageStore::close() {
  std::lock_guard close_lock(close_mu_);
  if (closed_) return close_status_;
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (appender_.joinable()) appender_.join();
  {
    std::lock_guard lock(service_mu_);
    service_stop_ = true;
  }
  service_cv_.notify_all();
  if (service_.joinable()) service_.join();
  Status s = flush();
  if (Status o = offsets_->persist(); s && !o) s = o;
  closed_ = true;
  close_status_ = s;
  return s;
}

// ---- recovery --------------------------------------------------------------------------------------------

Status MessageStore::recover() {
  const std::string& root = options_.root_dir;
  const std::string cq_root = joinPath(root, "consumequeue");
  const bool cq_existed = fs_->exists(cq_root);
  for (const std::string& dir : {joinPath(root, "commitlog"), cq_root, joinPath(root, "config")}) {
    if (Status s = fs_->createDirs(dir); !s) return s;
  }
  std::optional<Checkpoint> checkpoint;
  if (auto c = readCheckpoint(*fs_, joinPath(root, "checkpoint"))) {
    checkpoint = *c;
  } else if (c.status().code() != StatusCode::kNotFound) {
    RRPC_LOG(kWarn, "store", "{}; recovering from the start of the commit log", c.status().message());
  }

  commit_log_ =
      std::make_unique<CommitLog>(fs_, joinPath(root, "commitlog"), options_.commit_log_segment_size);
  if (Status s = commit_log_->open(); !s) return s;

  auto topics = fs_->list(cq_root);
  if (!topics) return topics.status();
  for (const std::string& topic : *topics) {
    auto ids = fs_->list(joinPath(cq_root, topic));
    if (!ids) return ids.status();
    for (const std::string& id : *ids) {
      if (id.empty() || id.size() > 9 || id.find_first_not_of("0123456789") != std::string::npos) continue;
      const QueueKey key{topic, std::stoi(id)};
      auto queue = std::make_shared<ConsumeQueue>(fs_, queueDir(key.first, key.second),
                                                  options_.consume_queue_entries_per_file);
      if (Status s = queue->load(); !s) return s;
      queues_[key] = std::move(queue);
    }
  }

  // Records below the checkpoint's consume-queue offset are indexed durably; re-dispatch the rest. Without a
  // checkpoint or consume-queue directory, rebuild every queue from the commit log.
  const int64_t log_min = commit_log_->minOffset();
  const int64_t redispatch_from =
      checkpoint && cq_existed ? std::max(checkpoint->consume_queue_offset, log_min) : log_min;
  const int64_t scan_from = checkpoint ? std::min(checkpoint->commit_log_offset, redispatch_from) : log_min;
  std::set<QueueKey> gapped;  // queues missing entries before redispatch_from: rebuilt in a second pass
  Status dispatch_error;
  auto end = commit_log_->recover(scan_from, [&](const RecordInfo& r) {
    last_store_timestamp_ = std::max(last_store_timestamp_, r.store_timestamp);
    if (r.offset < redispatch_from || gapped.count({r.topic, r.queue_id}) > 0) return;
    auto queue = findOrCreateQueue(r.topic, r.queue_id);
    if (queue && r.queue_offset > (*queue)->maxOffset()) {
      gapped.insert({r.topic, r.queue_id});  // entries before it are missing (lost or deleted files)
    } else if (Status s = queue ? dispatch(r) : queue.status(); !s && dispatch_error.isOk()) {
      dispatch_error = s;
    }
  });
  if (!end) return end.status();
  if (!dispatch_error.isOk()) return dispatch_error;
  if (!gapped.empty()) {
    for (const QueueKey& key : gapped) {
      RRPC_LOG(kWarn, "store", "consume queue {}@{} has a gap; rebuilding it", key.first, key.second);
      if (Status s = queues_.at(key)->destroy(); !s) return s;
    }
    Status s = commit_log_->scan(log_min, *end, [&](const RecordInfo& r) {
      if (gapped.count({r.topic, r.queue_id}) == 0) return;
      if (Status d = dispatch(r); !d && dispatch_error.isOk()) dispatch_error = d;
    });
    if (!s) return s;
    if (!dispatch_error.isOk()) return dispatch_error;
  }
  for (auto& [key, queue] : queues_) {
    if (Status s = queue->truncateFrom(*end); !s) return s;
    if (Status s = queue->correctMinOffset(log_min); !s) return s;
    next_queue_offset_[key] = queue->maxOffset();
  }
  dispatched_offset_.store(*end);
  latest_timestamp_.store(last_store_timestamp_);
  RRPC_LOG(kInfo, "store", "recovered {}: commit log [{}, {}), {} consume queues", root, log_min, *end,
           queues_.size());

  offsets_ = std::make_unique<ConsumerOffsetTable>(fs_, joinPath(root, "config/consumerOffset.json"));
  if (Status s = offsets_->load(); !s) return s;
  Status flushed = flush();
  if (!flushed && (isDiskFullError(flushed) || isOutOfFilesError(flushed))) {
    // The old checkpoint still bounds what the next recovery trusts: serve reads now, write when space returns.
    RRPC_LOG(kWarn, "store", "recovered {} without writing a checkpoint: {}", root, flushed.toString());
    if (isDiskFullError(flushed)) disk_full_.store(true, std::memory_order_relaxed);
    return Status::ok();
  }
  return flushed;
}

std::string MessageStore::queueDir(const std::string& topic, int32_t queue_id) const {
  return joinPath(joinPath(joinPath(options_.root_dir, "consumequeue"), topic), std::to_string(queue_id));
}

std::shared_ptr<ConsumeQueue> MessageStore::findQueue(const std::string& topic, int32_t queue_id) const {
  std::shared_lock lock(queues_mu_);
  auto it = queues_.find(QueueKey{topic, queue_id});
  return it == queues_.end() ? nullptr : it->second;
}

Result<std::shared_ptr<ConsumeQueue>> MessageStore::findOrCreateQueue(const std::string& topic,
                                                                      int32_t queue_id) {
  if (auto queue = findQueue(topic, queue_id)) return queue;
  std::unique_lock lock(queues_mu_);
  auto& slot = queues_[QueueKey{topic, queue_id}];
  if (!slot) {
    slot = std::make_shared<ConsumeQueue>(fs_, queueDir(topic, queue_id),
                                          options_.consume_queue_entries_per_file);
  }
  return slot;
}

Status MessageStore::dispatch(const RecordInfo& r) {
  auto queue = findOrCreateQueue(r.topic, r.queue_id);
  if (!queue) return queue.status();
  return (*queue)->put(r.queue_offset, CqEntry{r.offset, r.size, r.tags_code});
}

// ---- writes ----------------------------------------------------------------------------------------------

Result<PutResult> MessageStore::putMessage(MessageExt msg) {
  std::vector<MessageExt> msgs;
  msgs.push_back(std::move(msg));
  return putMessages(std::move(msgs));
}

Result<PutResult> MessageStore::putMessages(std::vector<MessageExt> msgs) {
  std::promise<Result<PutResult>> promise;
  auto future = promise.get_future();
  putMessagesAsync(std::move(msgs), [&promise](Result<PutResult> r) { promise.set_value(std::move(r)); });
  return future.get();
}

void MessageStore::putMessagesAsync(std::vector<MessageExt> msgs,
                                    std::function<void(Result<PutResult>)> done) {
  Status bad;
  if (msgs.empty()) bad = Status::invalidArgument("no messages to put");
  for (const MessageExt& msg : msgs) {
    if (!bad.isOk()) break;
    if (!validStoreTopic(msg.topic())) {
      bad = Status::invalidArgument("bad topic '" + msg.topic() + "'");
    } else if (msg.queueId() < 0) {
      bad = Status::invalidArgument("negative queue id");
    } else if (msg.body().size() > static_cast<size_t>(options_.max_message_size)) {
      bad = Status::invalidArgument("message body exceeds " + std::to_string(options_.max_message_size) +
                                    " bytes");
    } else if (encodedPropertiesSize(msg.properties()) > remoting::kMaxPropertiesBytes) {
      bad = Status::invalidArgument("message properties exceed 32767 bytes");
    } else if (!msg.storeHost().empty() && !remoting::createOffsetMessageId(msg.storeHost(), 0)) {
      bad = Status::invalidArgument("bad store host '" + msg.storeHost() + "'");
    }
  }
  if (bad.isOk()) bad = checkDiskSpace();
  int64_t bytes = 0;
  for (const MessageExt& msg : msgs) bytes += static_cast<int64_t>(msg.body().size());
  if (bad.isOk()) {
    std::lock_guard lock(queue_mu_);
    if (stopping_) {
      bad = Status::closed("message store is closed");
    } else if (!error_.isOk()) {
      bad = error_;
    } else if (options_.max_queued_bytes > 0 && !requests_.empty() &&
               queued_bytes_ + bytes > options_.max_queued_bytes) {
      // The writer is behind by more than the budget: refuse now rather than grow the queue (Apache answers a
      // busy page cache with this text; producers retry on another broker).
      const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                                requests_.front().enqueued);
      bad = busyStatus("PCBUSY_CLEAN_QUEUE", waited.count(), requests_.size());
    } else {
      requests_.push_back(PutRequest{std::move(msgs), std::move(done), bytes, std::chrono::steady_clock::now()});
      queued_bytes_ += bytes;
    }
  }
  if (!bad.isOk()) {
    callUser("put callback", [&] { done(bad); });
    return;
  }
  // Inside an I/O loop's batch of frames, the appender is woken once at its end and takes the batch as one group.
  if (!BatchScope::defer(&MessageStore::wakeAppender, this)) queue_cv_.notify_one();
}

void MessageStore::wakeAppender(void* store) { static_cast<MessageStore*>(store)->queue_cv_.notify_one(); }

bool MessageStore::takeGroup(std::vector<PutRequest>* group, std::vector<PutRequest>* expired,
                             Status* expired_status) {
  if (requests_.empty()) return false;
  const auto now = std::chrono::steady_clock::now();
  size_t bytes = 0;
  while (!requests_.empty() && bytes < kMaxGroupBytes) {
    PutRequest& front = requests_.front();
    queued_bytes_ -= front.bytes;
    const auto waited = now - front.enqueued;
    if (options_.max_queue_wait.count() > 0 && waited >= options_.max_queue_wait) {
      // Apache's fast failure: its producer has likely given up or is about to; writing it would only add to
      // the backlog. Answered busy, nothing written.
      if (expired->empty()) {
        *expired_status = busyStatus("TIMEOUT_CLEAN_QUEUE",
                                     std::chrono::duration_cast<std::chrono::milliseconds>(waited).count(),
                                     requests_.size() - 1);
      }
      expired->push_back(std::move(front));
      requests_.pop_front();
      continue;
    }
    bytes += static_cast<size_t>(front.bytes);
    group->push_back(std::move(front));
    requests_.pop_front();
  }
  return true;
}

void MessageStore::setError(const Status& s) {
  std::lock_guard lock(queue_mu_);
  if (error_.isOk()) {
    RRPC_LOG(kError, "store", "store write failed; refusing every put until restart: {}", s.toString());
    // Internal whatever the errno: an fsync that failed with ENOSPC must not read as a passing full disk.
    error_ = Status::internal("the store stopped writing until restart after: " + s.toString());
  }
}

Status MessageStore::writeError() const {
  std::lock_guard lock(queue_mu_);
  return error_;
}

size_t MessageStore::openFiles() const { return fd_cache_ ? fd_cache_->openCount() : 0; }
size_t MessageStore::maxOpenFiles() const { return fd_cache_ ? fd_cache_->maxOpen() : 0; }

Status MessageStore::diskFullStatus(double used) const {
  char text[160];
  std::snprintf(text, sizeof text, "disk full: %.1f%% used, over the %.1f%% limit; puts resume when space returns",
                used * 100, options_.disk_full_ratio * 100);
  return Status(StatusCode::kOverLimit, text, ENOSPC);
}

Status MessageStore::checkDiskSpace() {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
  int64_t due = next_disk_check_ms_.load(std::memory_order_relaxed);
  const bool check = now_ms >= due && next_disk_check_ms_.compare_exchange_strong(
                                          due, now_ms + options_.disk_check_interval.count());
  if (check) {
    auto used = fs_->usedRatio(options_.root_dir);
    const bool full = used && *used > options_.disk_full_ratio;
    disk_full_.store(full, std::memory_order_relaxed);
    if (over_ratio_.exchange(full) != full) {
      if (full) {
        RRPC_LOG(kError, "store", "disk {:.1f}% used, over the {:.1f}% limit: refusing puts until space returns",
                 *used * 100, options_.disk_full_ratio * 100);
      } else {
        RRPC_LOG(kInfo, "store", "disk usage below the {:.1f}% limit again: accepting puts",
                 options_.disk_full_ratio * 100);
      }
    }
  }
  if (!over_ratio_.load(std::memory_order_relaxed)) return Status::ok();
  refused_disk_full_.fetch_add(1, std::memory_order_relaxed);
  auto used = fs_->usedRatio(options_.root_dir);
  return diskFullStatus(used ? *used : 1.0);
}

bool MessageStore::isTransientWriteError(const Status& s) const {
  if (!isDiskFullError(s) && !isOutOfFilesError(s)) return false;
  // A descriptor the cache closed failed its fsync: nothing is known durable any more.
  return !fd_cache_ || fd_cache_->syncError().isOk();
}

void MessageStore::appenderLoop() {
  std::vector<PutRequest> group;
  std::vector<PutRequest> expired;
  Status expired_status;
  while (true) {
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return stopping_ || !requests_.empty(); });
      // Stopping and everything queued was processed.
      if (!takeGroup(&group, &expired, &expired_status)) return;
    }
    for (PutRequest& req : expired) callUser("put callback", [&] { req.done(expired_status); });
    expired.clear();
    if (!group.empty()) processGroupGuarded(group);
    group.clear();
  }
}

void MessageStore::processGroupGuarded(std::vector<PutRequest>& group) {
  if (runGuarded("store append", [&] { processGroup(group); })) return;
  // processGroup completes its callers last, after every step that can throw: none was completed. What it
  // wrote is unknown, so nothing more may be declared written (as after a write error).
  const Status s = Status::internal("store append failed unexpectedly; the store refuses writes until restart");
  setError(s);
  for (PutRequest& req : group) callUser("put callback", [&] { req.done(s); });
}

void MessageStore::processGroup(std::vector<PutRequest>& group) {
  // The answers to the group (callbacks, woken pulls) are written by this thread when the group is done, one
  // gathered write per connection (remoting's write_on_caller_thread), and puts they start wake the appender once.
  BatchScope batch;
  Status status;
  {
    std::lock_guard lock(queue_mu_);
    status = error_;
  }
  const bool was_writable = status.isOk();
  std::vector<Result<PutResult>> results;
  std::vector<RecordInfo> records;
  std::vector<std::string> record_bytes;  // records[i] as written, for the arrival listener
  int64_t timestamp = 0;
  const int64_t group_start = commit_log_->writtenOffset();
  std::map<QueueKey, int64_t> saved_next;  // next_queue_offset_ before the group, restored when it is undone
  for (PutRequest& req : group) {
    if (!status.isOk()) break;
    timestamp = last_store_timestamp_ = std::max(now(), last_store_timestamp_);
    // Encode the whole request first so that a bad message fails its request without consuming offsets.
    std::map<QueueKey, int64_t> offsets;
    std::vector<std::string> encoded;
    Status bad;
    for (MessageExt& msg : req.msgs) {
      QueueKey key{msg.topic(), msg.queueId()};
      auto it = offsets.find(key);
      if (it == offsets.end()) it = offsets.emplace(key, next_queue_offset_[key]).first;
      msg.setQueueOffset(it->second++);
      msg.setStoreTimestamp(timestamp);
      if (msg.storeHost().empty()) msg.setStoreHost(options_.store_host);
      encoded.push_back(remoting::encodeStoredMessage(msg));
      if (encoded.back().size() > static_cast<size_t>(options_.max_message_size)) {
        bad = Status::invalidArgument("message of " + std::to_string(encoded.back().size()) +
                                      " bytes exceeds " + std::to_string(options_.max_message_size));
        break;
      }
    }
    if (!bad.isOk()) {
      results.emplace_back(bad);
      continue;
    }
    PutResult result;
    for (size_t i = 0; i < encoded.size() && status.isOk(); ++i) {
      const MessageExt& msg = req.msgs[i];
      auto offset = commit_log_->append(encoded[i]);
      if (!offset) {
        status = offset.status();
        break;
      }
      const auto size = static_cast<int32_t>(encoded[i].size());
      records.push_back(RecordInfo{*offset, size, msg.topic(), msg.queueId(), msg.queueOffset(),
                                   tagsCodeOf(msg), timestamp});
      record_bytes.push_back(std::move(encoded[i]));
      if (i == 0) {
        result.physical_offset = *offset;
        result.queue_offset = msg.queueOffset();
        result.store_timestamp = timestamp;
      }
      result.total_bytes += size;
      result.message_count += 1;
      result.offset_msg_ids.push_back(remoting::createOffsetMessageId(msg.storeHost(), *offset).value());
    }
    for (const auto& [key, next] : offsets) {
      saved_next.emplace(key, next_queue_offset_[key]);
      next_queue_offset_[key] = next;
    }
    results.emplace_back(std::move(result));
  }
  // Files the entries go to are created before the records are written: a full disk or a lack of descriptors
  // then refuses the group instead of leaving stored messages without entries.
  for (size_t i = 0; i < records.size() && status.isOk(); ++i) {
    auto queue = findOrCreateQueue(records[i].topic, records[i].queue_id);
    status = queue ? (*queue)->prepare(records[i].queue_offset) : queue.status();
  }
  bool undoable = was_writable;  // nothing was declared durable or indexed yet
  if (status.isOk()) status = commit_log_->commitPending();
  if (status.isOk() && options_.flush_mode == FlushMode::kSync) {
    status = syncCommitLog().status();
    undoable = false;  // a failed fsync: fsyncgate, never retried
  }
  if (status.isOk()) undoable = false;
  for (size_t i = 0; i < records.size() && status.isOk(); ++i) status = dispatch(records[i]);
  if (!status.isOk() && undoable && isTransientWriteError(status)) {
    // Undo the group (its records and queue offsets) and refuse it; the next put tries again.
    if (Status s = commit_log_->rollback(group_start); !s) {
      setError(s);
    } else {
      for (const auto& [key, next] : saved_next) next_queue_offset_[key] = next;
      if (isDiskFullError(status)) {
        disk_full_.store(true, std::memory_order_relaxed);
        refused_disk_full_.fetch_add(group.size(), std::memory_order_relaxed);
      } else {
        refused_out_of_files_.fetch_add(group.size(), std::memory_order_relaxed);
      }
      static log::RateLimiter limiter(std::chrono::seconds(10));
      RRPC_LOG_LIMITED(limiter, kWarn, "store", "put refused, will work again later: {}", status.toString());
    }
  } else if (!status.isOk()) {
    setError(status);
    std::lock_guard lock(queue_mu_);
    status = error_;  // the callers learn that the store stopped, not only what failed
  } else {
    dispatched_offset_.store(commit_log_->writtenOffset(), std::memory_order_release);
    if (disk_full_.load(std::memory_order_relaxed) && !over_ratio_.load(std::memory_order_relaxed)) {
      disk_full_.store(false, std::memory_order_relaxed);  // space came back after an ENOSPC
    }
    latest_timestamp_.store(timestamp, std::memory_order_relaxed);
    std::shared_ptr<MessageArrivedListener> listener;
    {
      std::lock_guard lock(listener_mu_);
      listener = listener_;
    }
    if (listener) {
      for (size_t i = 0; i < records.size(); ++i) {
        const RecordInfo& r = records[i];
        callUser("onMessageArrived", [&] {
          listener->onMessageArrived(ArrivedMessage{r.topic, r.queue_id, r.queue_offset, r.tags_code, r.offset,
                                                    record_bytes[i]});
        });
      }
    }
  }
  for (size_t i = 0; i < group.size(); ++i) {
    Result<PutResult> r = !status.isOk() ? Result<PutResult>(status) : std::move(results[i]);
    callUser("put callback", [&] { group[i].done(std::move(r)); });
  }
}

void MessageStore::setMessageArrivedListener(std::shared_ptr<MessageArrivedListener> listener) {
  std::lock_guard lock(listener_mu_);
  listener_ = std::move(listener);
}

// ---- background service ----------------------------------------------------------------------------------

void MessageStore::serviceLoop() {
  auto next_clean = std::chrono::steady_clock::now() + options_.clean_interval;
  log::RateLimiter limiter(std::chrono::seconds(10));
  std::unique_lock lock(service_mu_);
  while (!service_stop_) {
    service_cv_.wait_for(lock, options_.flush_interval, [&] { return service_stop_; });
    if (service_stop_) break;
    lock.unlock();
    // Each step guarded on its own: one that throws must neither end this thread (std::terminate) nor stop
    // the others.
    runGuarded("store flush", [&] {
      if (Status s = flush(); !s && limiter.allow()) RRPC_LOG(kError, "store", "flush failed: {}", s.toString());
    });
    if (std::chrono::steady_clock::now() >= next_clean) {
      runGuarded("store retention", [&] {
        if (auto r = deleteExpiredFiles(); !r) RRPC_LOG(kError, "store", "retention: {}", r.status().toString());
      });
      runGuarded("consumer offset persist", [&] {
        if (Status s = offsets_->persist(); !s) RRPC_LOG(kError, "store", "consumer offsets: {}", s.toString());
      });
      next_clean = std::chrono::steady_clock::now() + options_.clean_interval;
    }
    lock.lock();
  }
}

Result<int64_t> MessageStore::syncCommitLog() {
  const int64_t before = commit_log_->flushedOffset();
  const auto start = std::chrono::steady_clock::now();
  auto synced = commit_log_->sync();
  if (options_.on_commit_log_sync && synced && *synced > before)
    options_.on_commit_log_sync(std::chrono::steady_clock::now() - start);
  return synced;
}

Status MessageStore::flush() {
  std::lock_guard flush_lock(flush_mu_);
  {
    // After a failed write or fsync nothing may be declared durable (a retried fsync can falsely succeed).
    std::lock_guard lock(queue_mu_);
    if (!error_.isOk()) return error_;
  }
  const int64_t dispatched = dispatched_offset_.load(std::memory_order_acquire);
  const int64_t timestamp = latest_timestamp_.load(std::memory_order_relaxed);
  auto flushed = syncCommitLog();
  if (!flushed) {
    setError(flushed.status());
    return flushed.status();
  }
  std::vector<std::shared_ptr<ConsumeQueue>> queues;
  {
    std::shared_lock lock(queues_mu_);
    for (const auto& [key, queue] : queues_) queues.push_back(queue);
  }
  for (const auto& queue : queues) {
    bool fsync_failed = false;
    if (Status s = queue->sync(&fsync_failed); !s) {
      // A failed fsync is never retried (the pages it lost would not be written again): stop writing, and
      // never let the checkpoint cover these entries.
      if (fsync_failed || !isTransientWriteError(s)) setError(s);
      return s;
    }
  }
  return writeCheckpoint(*fs_, joinPath(options_.root_dir, "checkpoint"),
                         Checkpoint{*flushed, std::min(dispatched, *flushed), timestamp});
}

Result<int> MessageStore::deleteTopic(const std::string& topic) {
  if (!validStoreTopic(topic)) return Status::invalidArgument("bad topic '" + topic + "'");
  // Everything stored so far is indexed and below the checkpoint: a restart re-dispatches nothing of it.
  if (Status s = flush(); !s) return s;
  std::vector<std::shared_ptr<ConsumeQueue>> doomed;
  {
    std::unique_lock lock(queues_mu_);
    for (auto it = queues_.lower_bound(QueueKey{topic, std::numeric_limits<int32_t>::min()});
         it != queues_.end() && it->first.first == topic;) {
      doomed.push_back(it->second);
      it = queues_.erase(it);
    }
  }
  const std::string topic_dir = joinPath(joinPath(options_.root_dir, "consumequeue"), topic);
  Status first_error;
  for (const auto& queue : doomed) {
    // Readers still holding the queue see it empty from here on.
    if (Status s = queue->destroy(); !s && first_error.isOk()) first_error = s;
  }
  if (first_error.isOk()) {
    auto ids = fs_->list(topic_dir);
    if (ids) {
      for (const std::string& id : *ids) {
        if (Status s = fs_->remove(joinPath(topic_dir, id)); !s && first_error.isOk()) first_error = s;
      }
    }
    if (Status s = fs_->remove(topic_dir); !s && first_error.isOk()) first_error = s;
  }
  offsets_->removeTopic(topic);
  if (Status s = offsets_->persist(); !s && first_error.isOk()) first_error = s;
  if (!first_error.isOk()) return first_error;
  RRPC_LOG(kInfo, "store", "topic {} deleted: {} consume queues", topic, doomed.size());
  return static_cast<int>(doomed.size());
}

Result<int> MessageStore::deleteExpiredFiles() {
  const int64_t now_ms = now();
  const int64_t retention_ms = options_.file_retention.count();
  auto removed = commit_log_->removeSegmentsWhile([&](const CommitLog::SegmentInfo& seg) {
    auto mtime = fs_->modifiedTimeMs(seg.path);
    if (mtime && now_ms - *mtime >= retention_ms) return true;
    auto used = fs_->usedRatio(options_.root_dir);
    return used && *used > options_.disk_max_used_ratio;
  });
  if (!removed || *removed == 0) return removed;
  const int64_t log_min = commit_log_->minOffset();
  std::vector<std::shared_ptr<ConsumeQueue>> queues;
  {
    std::shared_lock lock(queues_mu_);
    for (const auto& [key, queue] : queues_) queues.push_back(queue);
  }
  for (const auto& queue : queues) {
    if (Status s = queue->correctMinOffset(log_min); !s) return s;
  }
  return removed;
}

// ---- reads -----------------------------------------------------------------------------------------------

Result<GetMessageResult> MessageStore::getMessages(const std::string& topic, int32_t queue_id, int64_t offset,
                                                   int32_t max_msgs, int32_t max_bytes,
                                                   const TagsFilter& filter) {
  if (max_msgs <= 0 || max_bytes <= 0)
    return Status::invalidArgument("max_msgs and max_bytes must be positive");
  GetMessageResult r;
  auto queue = findQueue(topic, queue_id);
  if (queue) {
    r.min_offset = queue->minOffset();
    r.max_offset = queue->maxOffset();
  }
  if (r.max_offset == 0) {
    r.status = GetMessageStatus::kNoMessageInQueue;
    r.next_begin_offset = 0;
  } else if (offset < r.min_offset) {
    r.status = GetMessageStatus::kOffsetTooSmall;
    r.next_begin_offset = r.min_offset;
  } else if (offset == r.max_offset) {
    r.status = GetMessageStatus::kOffsetOverflowOne;
    r.next_begin_offset = offset;
  } else if (offset > r.max_offset) {
    r.status = GetMessageStatus::kOffsetOverflowBadly;
    r.next_begin_offset = r.min_offset == 0 ? r.min_offset : r.max_offset;
  } else {
    r.status = GetMessageStatus::kNoMatchedMessage;
    const int64_t log_min = commit_log_->minOffset();
    const int64_t scan_end = std::min(r.max_offset, offset + std::max<int64_t>(max_msgs, kMaxScanEntries));
    int64_t next = offset;
    bool full = false;
    while (!full && next < scan_end) {
      std::vector<CqEntry> entries;
      if (Status s = queue->read(next, std::min(kReadChunk, scan_end - next), &entries); !s) return s;
      if (entries.empty()) break;
      for (const CqEntry& e : entries) {
        if (r.message_count > 0 &&
            (r.message_count >= max_msgs || static_cast<int64_t>(r.data.size()) + e.size > max_bytes)) {
          full = true;
          break;
        }
        ++next;
        if (e.size <= 0 || e.commit_log_offset < log_min || (filter && !filter(e.tags_code))) continue;
        if (Status s = commit_log_->readEntry(e.commit_log_offset, e.size, &r.data); !s) {
          if (s.code() == StatusCode::kNotFound) continue;  // deleted by retention meanwhile
          if (s.code() != StatusCode::kCorrupt) return s;   // an I/O error: the pull fails, and is retried
          // Damaged on disk (the entry or its record): serving it would hand consumers garbage, and failing
          // every pull of the queue would stall them for good. Skip it, loudly.
          corrupt_entries_skipped_.fetch_add(1, std::memory_order_relaxed);
          RRPC_LOG(kError, "store", "{}@{} offset {}: skipped: {}", topic, queue_id, next - 1, s.message());
          continue;
        }
        ++r.message_count;
        r.status = GetMessageStatus::kFound;
      }
    }
    r.next_begin_offset = next;
  }
  return r;
}

Result<std::string> MessageStore::getMessageByPhysicalOffset(int64_t physical_offset) const {
  return commit_log_->readRecord(physical_offset);
}

int64_t MessageStore::minOffset(const std::string& topic, int32_t queue_id) const {
  auto queue = findQueue(topic, queue_id);
  return queue ? queue->minOffset() : 0;
}

int64_t MessageStore::maxOffset(const std::string& topic, int32_t queue_id) const {
  auto queue = findQueue(topic, queue_id);
  return queue ? queue->maxOffset() : 0;
}

Result<int64_t> MessageStore::searchOffsetByTimestamp(const std::string& topic, int32_t queue_id,
                                                      int64_t timestamp_ms, BoundaryType boundary) const {
  auto queue = findQueue(topic, queue_id);
  if (!queue) return int64_t{0};
  const int64_t min = queue->minOffset();
  const int64_t max = queue->maxOffset();
  // Store timestamps never decrease along a queue (the appender makes them monotonic), so binary search for
  // the first entry stored after the bound: ">= t" for kLower, "> t" for kUpper.
  int64_t lo = min;
  int64_t hi = max;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    int64_t stored = INT64_MIN;  // an entry whose record is gone counts as older than everything
    if (auto e = queue->get(mid)) {
      if (auto ts = commit_log_->storeTimestampAt(e->commit_log_offset)) stored = *ts;
    }
    const bool after = boundary == BoundaryType::kLower ? stored >= timestamp_ms : stored > timestamp_ms;
    if (after) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  if (boundary == BoundaryType::kLower) return lo;
  return std::max(min, lo - 1);
}

Result<int64_t> MessageStore::earliestStoreTime(const std::string& topic, int32_t queue_id) const {
  auto queue = findQueue(topic, queue_id);
  if (!queue || queue->minOffset() >= queue->maxOffset()) {
    return Status::notFound("queue " + topic + "@" + std::to_string(queue_id) + " is empty");
  }
  auto entry = queue->get(queue->minOffset());
  if (!entry) return entry.status();
  return commit_log_->storeTimestampAt(entry->commit_log_offset);
}

Result<int64_t> MessageStore::earliestStoreTime() const {
  const int64_t min = commit_log_->minOffset();
  if (min >= commit_log_->writtenOffset()) return Status::notFound("the commit log is empty");
  return commit_log_->storeTimestampAt(min);
}

}  // namespace rocketrpc::store
