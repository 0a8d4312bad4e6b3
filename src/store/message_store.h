// MessageStore: the broker's storage engine. One commit log holds every message; a consume queue per
// (topic, queueId) indexes it; a checkpoint bounds recovery; consumer offsets live beside them.
// Layout under root_dir (docs/design/commitlog-format.md):
//   commitlog/<20-digit offset>   consumequeue/<topic>/<queueId>/<20-digit offset>
//   checkpoint                    config/consumerOffset.json
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"
#include "rocketrpc/message.h"
#include "store/commit_log.h"
#include "store/consume_queue.h"
#include "store/consumer_offset_table.h"
#include "store/file_cache.h"
#include "store/file_system.h"

namespace rocketrpc::store {

enum class FlushMode {
  kAsync,  // ack after the write; a background thread fsyncs every flush_interval
  kSync,   // ack after the group's fsync
};

struct MessageStoreOptions {
  /// Directory holding everything; created when missing. Required.
  std::string root_dir;
  /// Filesystem seam; default: the POSIX filesystem.
  std::shared_ptr<FileSystem> fs;
  /// Commit log segment size in bytes. Default 64 MiB; range 4 KiB .. 1 GiB. Must not change between runs.
  int64_t commit_log_segment_size = kDefaultSegmentSize;
  /// Entries per consume-queue file. Default 300,000 (6,000,000-byte files); >= 1. Must not change between
  /// runs.
  int64_t consume_queue_entries_per_file = kDefaultCqEntriesPerFile;
  /// Largest stored record in bytes. Default 4 MiB; must also fit a segment (segment size - 8).
  int32_t max_message_size = 4 * 1024 * 1024;
  FlushMode flush_mode = FlushMode::kAsync;
  /// Period of the background flush (commit log in async mode, consume queues and checkpoint in both),
  /// retention and offset persistence. Default 500 ms. Zero: no background thread (tests drive flush(),
  /// deleteExpiredFiles() and persistConsumerOffsets() themselves).
  std::chrono::milliseconds flush_interval{500};
  /// Commit log segments whose file was last modified longer ago are deleted. Default 72 h.
  std::chrono::milliseconds file_retention = std::chrono::hours(72);
  /// When the filesystem is fuller than this fraction (0..1], the oldest segments go regardless of age.
  /// Default 0.75.
  double disk_max_used_ratio = 0.75;
  /// Puts are refused (as from a full disk, see isDiskFullError) while the filesystem is fuller than this
  /// fraction (0..1]; they resume by themselves once it is not. Default 0.90 (Apache's
  /// diskSpaceWarningLevelRatio).
  double disk_full_ratio = 0.90;
  /// How often a put looks at the disk usage (statvfs). Default 1 s; zero: at every put.
  std::chrono::milliseconds disk_check_interval{1000};
  /// Bound of the file-descriptor cache (file_cache.h): commit-log segments and consume-queue files kept
  /// open at most; idle ones are closed least recently used first and reopened on demand. Default 1024;
  /// zero: no cache (every file stays open, as fs gives it).
  size_t max_open_files = 1024;
  /// Period of retention checks and of consumer-offset persistence. Default 10 s.
  std::chrono::milliseconds clean_interval{10000};
  /// Store timestamps and retention ages use this clock (ms since the Unix epoch). Default: system clock.
  std::function<int64_t()> clock;
  /// STOREHOST written for messages that do not carry one. Default "127.0.0.1:10911".
  std::string store_host = "127.0.0.1:10911";
  /// Fast failure (Apache's waitTimeMillsInSendQueue): a put that has waited in the put queue this long when
  /// the writer reaches it is failed with a busy status (isStoreBusy) instead of being written. Zero (the
  /// default): puts wait as long as it takes.
  std::chrono::milliseconds max_queue_wait{0};
  /// Bodies queued for the writer, in bytes: a put that would pass it while others are queued is failed at
  /// once with a busy status (a put finding the queue empty is always taken). Zero (the default): no bound.
  int64_t max_queued_bytes = 0;
  /// Called after each commit-log fsync that made new bytes durable, with its duration (the broker's
  /// rocketrpc_broker_store_fsync_seconds). Runs on the syncing thread; must be cheap. Default: none.
  std::function<void(std::chrono::steady_clock::duration)> on_commit_log_sync;
};

/// True for the status of a put the store refused because it is busy (see max_queue_wait, max_queued_bytes):
/// code OverLimit, message in Apache's words ("[TIMEOUT_CLEAN_QUEUE]broker busy, ..." or
/// "[PCBUSY_CLEAN_QUEUE]broker busy, ..."), which a broker answers as SYSTEM_BUSY so that producers back off
/// or try another broker. Nothing of such a put was written.
bool isStoreBusy(const Status& status);

struct PutResult {
  int64_t physical_offset = 0;  // of the first message
  int32_t total_bytes = 0;      // of all its records
  int64_t queue_offset = 0;     // of the first message
  int32_t message_count = 0;
  int64_t store_timestamp = 0;
  std::vector<std::string> offset_msg_ids;  // one per message (store host + physical offset)
};

/// GetMessageStatus of RocketMQ (protocol reference 7.1 maps them to pull response codes).
enum class GetMessageStatus {
  kFound,
  kNoMatchedMessage,     // entries scanned, none passed the filter (or all were already deleted)
  kNoMessageInQueue,     // the queue is empty or unknown
  kOffsetOverflowOne,    // offset == max offset (caught up)
  kOffsetOverflowBadly,  // offset > max offset
  kOffsetTooSmall,       // offset < min offset
};
/// "FOUND", "NO_MATCHED_MESSAGE", ... (the names RocketMQ puts in the pull response remark).
std::string_view getMessageStatusName(GetMessageStatus status);

struct GetMessageResult {
  GetMessageStatus status = GetMessageStatus::kNoMessageInQueue;
  std::string data;  // stored-message records back to back (a PULL_MESSAGE body)
  int32_t message_count = 0;
  int64_t next_begin_offset = 0;
  int64_t min_offset = 0;
  int64_t max_offset = 0;
};

/// Consume-queue filter on the tags hash code; an empty function accepts everything.
using TagsFilter = std::function<bool(int64_t tags_code)>;

enum class BoundaryType { kLower, kUpper };

/// A message the store has just made visible. References are valid during the listener call only.
struct ArrivedMessage {
  const std::string& topic;
  int32_t queue_id;
  int64_t queue_offset;
  int64_t tags_code;
  int64_t physical_offset;
  /// The stored-message record as written (what getMessages returns for it): lets long polling answer a
  /// held pull from memory.
  std::string_view record;
};

/// Told about every stored message once it is visible to getMessages (long polling wakes held pulls).
/// Called on the thread that wrote the group (see MessageStore): must be quick and must not wait for a put.
class MessageArrivedListener {
 public:
  virtual ~MessageArrivedListener() = default;
  virtual void onMessageArrived(const ArrivedMessage& msg) = 0;
};

/// Thread-safe. Lifecycle: open() recovers and starts the appender (and, with a flush interval, the
/// background service); close() (or the destructor) drains and stops them; reads keep working until
/// destruction.
///
/// Writes are group commits by a single writer, the appender thread: callers enqueue and return; the writer
/// takes every queued request, assigns queue offsets, store timestamps and physical offsets, writes the group
/// with one pwrite per segment, then (sync mode) fsyncs, then indexes the group in the consume queues,
/// notifies the listener and completes the callers. No caller thread ever writes, rolls a segment or fsyncs:
/// the broker calls putMessagesAsync on its I/O threads, and one slow disk operation there would stall every
/// connection of that loop. The queue is bounded in time and bytes (max_queue_wait, max_queued_bytes).
///
/// Durability contract:
///  - kSync: a put completes OK only after its records and everything before them are fsynced; such a
///    message survives a crash (power loss included). A message becomes visible to readers at the same time.
///  - kAsync: a put completes OK after the write; the message survives a process crash but a power loss can
///    lose up to flush_interval of acknowledged messages (or everything since the last flush() with no
///    background thread). Recovery always yields a prefix of the appended messages.
///  - In both modes, consume queues and the checkpoint are flushed in the background and rebuilt from the
///    commit log on recovery; consumer offsets are persisted every clean_interval and at close.
/// Errors: a put that fails because the disk is full (ENOSPC, EDQUOT, or usage over disk_full_ratio) or the
/// process is out of file descriptors (EMFILE, ENFILE) is refused with that error (isDiskFullError /
/// isOutOfFilesError on its Status) and undone (its records are truncated away, its queue offsets reused):
/// later puts work again once space or descriptors are back, without a restart. Any other write error, and
/// any failed fsync (commit log or consume queue; never retried, see fsyncgate), makes the store refuse every
/// further put until it is reopened (writeError()); reads continue, and the checkpoint never moves again, so it
/// never covers data that did not reach the disk. Recovery needs no free space: on a full disk the store opens
/// (without writing a checkpoint) and serves reads.
class MessageStore {
 public:
  /// Recovers the directory (see docs/design/commitlog-format.md, "Recovery") and starts the threads.
  static Result<std::unique_ptr<MessageStore>> open(MessageStoreOptions options);
  ~MessageStore();
  MessageStore(const MessageStore&) = delete;
  MessageStore& operator=(const MessageStore&) = delete;

  /// Stores one message (topic, queueId, body, properties, flag, sysFlag, born host/timestamp, reconsume
  /// times taken from `msg`). InvalidArgument for a bad topic or a record over max_message_size; Closed
  /// after close(); the sticky write error after one.
  Result<PutResult> putMessage(MessageExt msg);
  /// Stores the messages contiguously (a batch); each gets the next offset of its own queue.
  Result<PutResult> putMessages(std::vector<MessageExt> msgs);
  /// Non-blocking form: `done` runs once, on the appender thread, or inline for an early error (a refused
  /// put included: see isStoreBusy). It must not wait for another put; it may start one (that put is queued
  /// and written after the current group). Called inside a BatchScope (an I/O loop dispatching the frames of
  /// one read), the appender is woken when the scope closes, so it takes the batch's puts as one group; the
  /// store must outlive that scope.
  void putMessagesAsync(std::vector<MessageExt> msgs, std::function<void(Result<PutResult>)> done);

  /// Reads up to `max_msgs` messages (and about `max_bytes`, at least one message) from queue offset
  /// `offset`, skipping entries the filter rejects. Statuses and next offsets as RocketMQ's getMessage.
  Result<GetMessageResult> getMessages(const std::string& topic, int32_t queue_id, int64_t offset,
                                       int32_t max_msgs, int32_t max_bytes, const TagsFilter& filter = {});
  /// The record at `physical_offset` (VIEW_MESSAGE_BY_ID, CONSUMER_SEND_MSG_BACK). NotFound when absent.
  Result<std::string> getMessageByPhysicalOffset(int64_t physical_offset) const;

  /// Queue bounds: [minOffset, maxOffset); 0 for an unknown queue.
  int64_t minOffset(const std::string& topic, int32_t queue_id) const;
  int64_t maxOffset(const std::string& topic, int32_t queue_id) const;
  /// SEARCH_OFFSET_BY_TIMESTAMP: kLower = first offset stored at or after `timestamp_ms` (maxOffset when
  /// none); kUpper = last offset stored at or before it (minOffset when none).
  Result<int64_t> searchOffsetByTimestamp(const std::string& topic, int32_t queue_id, int64_t timestamp_ms,
                                          BoundaryType boundary = BoundaryType::kLower) const;
  /// Store timestamp of the queue's first message; NotFound for an empty queue.
  Result<int64_t> earliestStoreTime(const std::string& topic, int32_t queue_id) const;
  /// Store timestamp of the oldest message in the commit log; NotFound when it is empty.
  Result<int64_t> earliestStoreTime() const;
  /// Used fraction (0..1) of the file system holding the store.
  Result<double> diskUsedRatio() const { return fs_->usedRatio(options_.root_dir); }

  int64_t commitLogMinOffset() const { return commit_log_->minOffset(); }
  int64_t commitLogMaxOffset() const { return commit_log_->writtenOffset(); }
  int64_t commitLogFlushedOffset() const { return commit_log_->flushedOffset(); }
  size_t commitLogSegmentCount() const { return commit_log_->segmentCount(); }

  ConsumerOffsetTable& consumerOffsets() { return *offsets_; }
  /// Consume-queue entries getMessages() skipped because the entry or its record was damaged on disk.
  uint64_t corruptEntriesSkipped() const { return corrupt_entries_skipped_.load(std::memory_order_relaxed); }
  Status persistConsumerOffsets() { return offsets_->persist(); }

  /// The sticky error that stopped writes (a failed fsync or an unexpected write error); OK while writable.
  Status writeError() const;
  /// The last disk check found the disk over disk_full_ratio, or the last write hit ENOSPC. Only the first
  /// refuses puts without trying them: after an ENOSPC the next put tries again.
  bool diskFull() const { return disk_full_.load(std::memory_order_relaxed); }
  /// Puts refused because the disk was full / descriptors ran out (each one retried later by its sender).
  uint64_t putsRefusedDiskFull() const { return refused_disk_full_.load(std::memory_order_relaxed); }
  uint64_t putsRefusedOutOfFiles() const { return refused_out_of_files_.load(std::memory_order_relaxed); }
  /// File descriptors the store's cache holds open now, and its bound (0, 0 without a cache).
  size_t openFiles() const;
  size_t maxOpenFiles() const;

  /// Registers (or clears, with nullptr) the arrival listener.
  void setMessageArrivedListener(std::shared_ptr<MessageArrivedListener> listener);

  /// Fsyncs the commit log and consume queues, then writes the checkpoint.
  Status flush();
  /// Retention: deletes commit log segments older than file_retention, or while the disk is fuller than
  /// disk_max_used_ratio, never the active one; consume queues follow. Returns the segments deleted.
  Result<int> deleteExpiredFiles();
  /// Deletes the consume queues of `topic` (files and directories) and every consumer offset on it, after a
  /// flush so that recovery does not index its stored messages again. The messages stay in the commit log
  /// until retention removes them; a later message to the same topic starts a new queue whose offsets continue
  /// where the old ones stopped (until a restart). Returns the number of queues deleted.
  Result<int> deleteTopic(const std::string& topic);
  /// Drains queued puts, stops the threads, flushes, writes the checkpoint and the consumer offsets.
  /// Idempotent; later calls return the first call's result.
  Status close();

 private:
  /// commit_log_->sync(), timed for options_.on_commit_log_sync.
  Result<int64_t> syncCommitLog();
  struct PutRequest {
    std::vector<MessageExt> msgs;
    std::function<void(Result<PutResult>)> done;
    int64_t bytes = 0;                               // bodies, counted in queued_bytes_
    std::chrono::steady_clock::time_point enqueued;  // for max_queue_wait
  };
  using QueueKey = std::pair<std::string, int32_t>;

  explicit MessageStore(MessageStoreOptions options);
  Status recover();
  void appenderLoop();
  static void wakeAppender(void* store);  // BatchScope's deferred queue_cv_.notify_one()
  // Moves queued requests (up to about kMaxGroupBytes of bodies) to *group, and those that waited longer than
  // max_queue_wait to *expired (their busy status in *expired_status); false when none. queue_mu_ held.
  bool takeGroup(std::vector<PutRequest>* group, std::vector<PutRequest>* expired, Status* expired_status);
  void processGroup(std::vector<PutRequest>& group);
  // processGroup; if it throws, the store takes a sticky error and the group's callers are failed.
  void processGroupGuarded(std::vector<PutRequest>& group);
  void serviceLoop();
  void setError(const Status& s);
  // Refuses puts while the disk is over disk_full_ratio (checked at most every disk_check_interval).
  Status checkDiskSpace();
  Status diskFullStatus(double used) const;
  // A failed put that undoing makes harmless: a full disk or exhausted descriptors, with no failed fsync.
  bool isTransientWriteError(const Status& s) const;
  int64_t now() const { return options_.clock(); }
  std::shared_ptr<ConsumeQueue> findQueue(const std::string& topic, int32_t queue_id) const;
  Result<std::shared_ptr<ConsumeQueue>> findOrCreateQueue(const std::string& topic, int32_t queue_id);
  std::string queueDir(const std::string& topic, int32_t queue_id) const;
  Status dispatch(const RecordInfo& record);

  const MessageStoreOptions options_;
  const std::shared_ptr<FileSystem> fs_;
  const std::shared_ptr<CachingFileSystem> fd_cache_;  // fs_ itself when max_open_files > 0, else null
  std::unique_ptr<CommitLog> commit_log_;
  std::unique_ptr<ConsumerOffsetTable> offsets_;

  mutable std::shared_mutex queues_mu_;
  std::map<QueueKey, std::shared_ptr<ConsumeQueue>> queues_;  // guarded by queues_mu_

  // Appender-owned (recovery fills them before the thread starts).
  std::map<QueueKey, int64_t> next_queue_offset_;
  int64_t last_store_timestamp_ = 0;

  std::atomic<int64_t> dispatched_offset_{0};  // every record below has its consume-queue entry
  std::atomic<int64_t> latest_timestamp_{0};   // store timestamp of the newest appended message
  std::atomic<uint64_t> corrupt_entries_skipped_{0};
  std::atomic<bool> disk_full_{false};   // over the ratio, or the last write hit ENOSPC (stats)
  std::atomic<bool> over_ratio_{false};  // the last disk check found usage over disk_full_ratio: puts refused
  std::atomic<int64_t> next_disk_check_ms_{0};  // steady clock
  std::atomic<uint64_t> refused_disk_full_{0};
  std::atomic<uint64_t> refused_out_of_files_{0};

  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<PutRequest> requests_;  // guarded by queue_mu_
  bool stopping_ = false;            // guarded by queue_mu_
  int64_t queued_bytes_ = 0;         // guarded by queue_mu_: bodies in requests_
  Status error_;                     // guarded by queue_mu_: sticky write error

  std::mutex listener_mu_;
  std::shared_ptr<MessageArrivedListener> listener_;  // guarded by listener_mu_

  std::mutex service_mu_;
  std::condition_variable service_cv_;
  bool service_stop_ = false;  // guarded by service_mu_

  std::mutex close_mu_;
  bool closed_ = false;  // guarded by close_mu_
  Status close_status_;  // guarded by close_mu_
  std::mutex flush_mu_;  // serializes flush()

  std::thread appender_;
  std::thread service_;
};

}  // namespace rocketrpc::store
