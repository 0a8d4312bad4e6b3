// The commit log: every stored message of the broker, append-only, in fixed-size segment files named by their
// start offset. Format: docs/design/commitlog-format.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "rocketrpc/message.h"
#include "store/file_system.h"

namespace rocketrpc::store {

inline constexpr int64_t kDefaultSegmentSize = 64LL * 1024 * 1024;
/// A segment always keeps room for a blank marker (TOTALSIZE + kBlankMagic) after its last record.
inline constexpr int64_t kBlankMarkerSize = 8;
/// Byte offsets of fields inside a stored-message record (IPv4 born host; see the protocol reference 4.3).
inline constexpr size_t kPhysicalOffsetPos = 28;
inline constexpr size_t kSysFlagPos = 36;

/// The consume-queue tags code of a message: Java String.hashCode of its TAGS property, 0 without tags.
int64_t tagsCodeOf(const Message& msg);
/// A topic the store accepts (and names directories after): 1..255 characters of [a-zA-Z0-9%|_-].
bool validStoreTopic(std::string_view topic);
/// Queue offsets above this cannot be placed in a consume queue (their byte position overflows).
inline constexpr int64_t kMaxQueueOffset = INT64_MAX / 20;

/// What a scan learns about one valid record.
struct RecordInfo {
  int64_t offset = 0;  // physical offset
  int32_t size = 0;
  std::string topic;
  int32_t queue_id = 0;
  int64_t queue_offset = 0;
  int64_t tags_code = 0;
  int64_t store_timestamp = 0;
};

/// Segmented append-only log accessed with pread/pwrite (no mmap). Owned by MessageStore.
/// Thread-safety: append(), commitPending(), open() and recover() belong to the single appender (or to
/// recovery before it starts): thread-compatible. read(), sync(), offsets and removeSegmentsWhile() are
/// thread-safe and may run concurrently with the appender.
class CommitLog {
 public:
  CommitLog(std::shared_ptr<FileSystem> fs, std::string dir, int64_t segment_size);

  /// Finds the segment files (no validation). Corrupt when names are not contiguous multiples of the segment
  /// size.
  Status open();
  /// Validates records from the start of the segment holding `from` (clamped to minOffset()) to the end:
  /// magic, TOTALSIZE bounds, field consistency, BODYCRC, PHYSICALOFFSET. Calls `visit` for each valid
  /// record, then truncates the log after the last valid one (later segments are deleted) and syncs what it
  /// kept. Returns the recovered end offset.
  Result<int64_t> recover(int64_t from, const std::function<void(const RecordInfo&)>& visit);
  /// Calls `visit` for each record in [from, to); `from` must be a record boundary.
  Status scan(int64_t from, int64_t to, const std::function<void(const RecordInfo&)>& visit);

  /// Buffers `record` (an encoded stored message) at the next offset, rolling to a new segment (after a
  /// blank marker) when it does not fit, and patches its PHYSICALOFFSET. Returns that offset. Nothing is
  /// readable until commitPending(). InvalidArgument when the record can never fit a segment.
  Result<int64_t> append(std::string& record);
  /// Writes the buffered records; afterwards they are readable. After an error, rollback() (or nothing more).
  Status commitPending();
  /// Undoes appends back to `end` (a record boundary at or after the last sync; the writtenOffset() before the
  /// appends): drops buffered records, truncates the segment holding `end` there and deletes segments created
  /// after it. For a write that failed for a reason that may pass (full disk, no file descriptors): the log
  /// is usable again. An error here leaves it unusable.
  Status rollback(int64_t end);
  /// Makes everything committed so far durable; returns the durable end offset. An error must not be retried
  /// (fsyncgate): the store stops writing.
  Result<int64_t> sync();

  /// Copies `size` bytes at `offset` to the end of *out; NotFound outside [minOffset, writtenOffset).
  Status read(int64_t offset, int32_t size, std::string* out) const;
  /// Appends the `size`-byte record at `offset` that a consume-queue entry points at. NotFound outside
  /// [minOffset, writtenOffset); Corrupt (nothing appended) when the bytes there are not one record of that size
  /// (magic, TOTALSIZE and PHYSICALOFFSET checked): a damaged consume queue or commit log.
  Status readEntry(int64_t offset, int32_t size, std::string* out) const;
  /// Reads the record starting at `offset` (its TOTALSIZE decides the length); NotFound unless a record
  /// starts there (magic and PHYSICALOFFSET checked).
  Result<std::string> readRecord(int64_t offset) const;
  /// STORETIMESTAMP of the record at `offset`.
  Result<int64_t> storeTimestampAt(int64_t offset) const;

  struct SegmentInfo {
    int64_t base = 0;
    std::string path;
  };
  /// Deletes segments oldest first while `pred` holds, never the newest one. Returns how many went.
  Result<int> removeSegmentsWhile(const std::function<bool(const SegmentInfo&)>& pred);

  int64_t minOffset() const { return min_offset_.load(std::memory_order_acquire); }
  /// End of the readable (committed) bytes.
  int64_t writtenOffset() const { return written_.load(std::memory_order_acquire); }
  int64_t flushedOffset() const { return flushed_.load(std::memory_order_acquire); }
  int64_t segmentSize() const { return segment_size_; }
  size_t segmentCount() const;

 private:
  struct Segment {
    int64_t base;
    std::string path;
    std::shared_ptr<File> file;
  };

  std::shared_ptr<Segment> findSegment(int64_t offset) const;
  // Makes `seg` the segment appends go to; its descriptor stays open (file_cache.h), the previous one's may close.
  void setActive(std::shared_ptr<Segment> seg);
  Result<std::shared_ptr<Segment>> createSegment(int64_t base);
  // Scans one segment from its start; returns the end of its valid data (absolute offset) and whether it
  // ended with a valid blank marker.
  Result<std::pair<int64_t, bool>> scanSegment(const Segment& seg, int64_t from, int64_t to,
                                               const std::function<void(const RecordInfo&)>& visit);

  const std::shared_ptr<FileSystem> fs_;
  const std::string dir_;
  const int64_t segment_size_;

  mutable std::mutex segments_mu_;
  std::vector<std::shared_ptr<Segment>> segments_;  // guarded by segments_mu_; sorted by base, contiguous

  // Appender-only state.
  std::shared_ptr<Segment> active_;
  int64_t write_offset_ = 0;  // where the next record goes
  std::string pending_;       // bytes [written_, write_offset_) of active_
  int64_t pending_start_ = 0;

  std::mutex sync_mu_;  // serializes sync()
  std::atomic<int64_t> min_offset_{0};
  std::atomic<int64_t> written_{0};
  std::atomic<int64_t> flushed_{0};
};

}  // namespace rocketrpc::store
