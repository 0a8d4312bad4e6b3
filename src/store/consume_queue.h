// A consume queue: the index of one (topic, queueId) into the commit log. Entry i (the queue offset) is a
// fixed 20-byte record; files hold a fixed number of entries and are named by their start byte offset
// (entry index * 20), as in RocketMQ. Format: docs/design/commitlog-format.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/file_system.h"

namespace rocketrpc::store {

inline constexpr int64_t kCqEntrySize = 20;
inline constexpr int64_t kDefaultCqEntriesPerFile = 300000;

struct CqEntry {
  int64_t commit_log_offset = 0;
  int32_t size = 0;
  int64_t tags_code = 0;
};

/// Owned by MessageStore. Thread-safe: one internal mutex, held for the short entry reads too (a pull reads
/// at most a few KiB of entries). Writes (put, truncate, correctMinOffset) come from the store's writer, the
/// cleaner or recovery; reads from any thread. Appended entries are buffered in memory (readable at once) and
/// written to the file by sync(), when 64 KiB are buffered, or before any other operation on the files: a
/// process crash can lose buffered entries, which recovery re-dispatches from the commit log (the store's
/// checkpoint only covers entries a sync() wrote).
class ConsumeQueue {
 public:
  ConsumeQueue(std::shared_ptr<FileSystem> fs, std::string dir, int64_t entries_per_file);

  /// Opens existing files: drops a torn trailing entry and files after a gap.
  Status load();
  /// Removes entries that point at or past `commit_log_end` (or are blank) from the tail.
  Status truncateFrom(int64_t commit_log_end);
  /// Advances minOffset past entries below `commit_log_min`; deletes files wholly below it (never the last).
  Status correctMinOffset(int64_t commit_log_min);

  /// Stores entry `queue_offset`. Below maxOffset: an identical entry is kept, a different one (a blank or
  /// stale entry seen by re-dispatch) is overwritten. Above maxOffset of an empty queue: the queue (re)starts
  /// there. Above maxOffset otherwise: Corrupt (a gap).
  Status put(int64_t queue_offset, const CqEntry& entry);
  /// Creates (or opens) the file that entry `queue_offset` goes to, and writes buffered entries of an earlier
  /// file, so that a following put() of that entry only buffers it. The store calls it before writing a
  /// message to the commit log: running out of disk or descriptors then refuses the message instead of
  /// leaving a stored message without its entry.
  Status prepare(int64_t queue_offset);
  /// Appends up to `max_count` entries starting at `from` to *out; stops at maxOffset and at a file end.
  /// Nothing when `from` is below minOffset.
  Status read(int64_t from, int64_t max_count, std::vector<CqEntry>* out) const;
  Result<CqEntry> get(int64_t queue_offset) const;
  /// Writes the buffered entries and fsyncs the written files. *fsync_failed tells a failed fsync (never to be
  /// retried: the store stops writing) from a failed write (which may be retried).
  Status sync(bool* fsync_failed = nullptr);
  /// Deletes every file; the queue becomes empty at offset 0.
  Status destroy();

  /// First valid entry; equals maxOffset when empty.
  int64_t minOffset() const { return min_offset_.load(std::memory_order_acquire); }
  /// Offset the next entry gets.
  int64_t maxOffset() const { return max_offset_.load(std::memory_order_acquire); }

 private:
  struct Segment {
    std::shared_ptr<File> file;
    bool dirty = false;
  };
  Status readLocked(int64_t from, int64_t count, std::vector<CqEntry>* out) const;
  // Writes the buffered entries to their file (marked dirty for sync()).
  Status writePendingLocked();
  Result<CqEntry> entryLocked(int64_t index) const;
  std::string pathOf(int64_t first_index) const;
  Status removeAllLocked();
  // Creates the (empty) file starting at entry `first`; writes the buffered entries first.
  Result<std::map<int64_t, Segment>::iterator> createFileLocked(int64_t first);

  const std::shared_ptr<FileSystem> fs_;
  const std::string dir_;
  const int64_t per_file_;

  mutable std::mutex mu_;
  std::map<int64_t, Segment> segments_;  // guarded by mu_; key: first entry index of the file
  std::atomic<int64_t> min_offset_{0};   // written under mu_
  std::atomic<int64_t> max_offset_{0};   // written under mu_
  // Encoded entries [pending_from_, max_offset_) not yet written, all in pending_from_'s file; guarded by mu_.
  std::string pending_;
  int64_t pending_from_ = 0;  // guarded by mu_
};

}  // namespace rocketrpc::store
