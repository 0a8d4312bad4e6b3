#include "store/consume_queue.h"

#include <algorithm>

#include "common/log.h"
#include "store/endian.h"

namespace rocketrpc::store {

namespace {

bool validEntry(const CqEntry& e) { return e.size > 0 && e.commit_log_offset >= 0; }

// Appended entries are buffered up to this many bytes (3,276 entries) before a write; sync() writes them too.
constexpr size_t kMaxPendingBytes = 64 * 1024;

CqEntry decodeEntry(const char* p) { return CqEntry{getBig64(p), getBig32(p + 8), getBig64(p + 12)}; }

}  // namespace

ConsumeQueue::ConsumeQueue(std::shared_ptr<FileSystem> fs, std::string dir, int64_t entries_per_file)
    : fs_(std::move(fs)), dir_(std::move(dir)), per_file_(entries_per_file) {}

std::string ConsumeQueue::pathOf(int64_t first_index) const {
  return joinPath(dir_, offsetFileName(first_index * kCqEntrySize));
}

Status ConsumeQueue::load() {
  auto names = fs_->list(dir_);
  if (!names) return names.status();
  std::vector<int64_t> firsts;
  for (const std::string& name : *names) {
    auto bytes = parseOffsetFileName(name);
    if (bytes && *bytes % (per_file_ * kCqEntrySize) == 0) {
      firsts.push_back(*bytes / kCqEntrySize);
    } else if (bytes) {
      RRPC_LOG(kWarn, "store", "consume queue: ignoring misaligned file {}/{}", dir_, name);
    }
  }
  std::sort(firsts.begin(), firsts.end());
  std::lock_guard lock(mu_);
  segments_.clear();
  pending_.clear();
  int64_t max = firsts.empty() ? 0 : firsts.front();
  bool ended = false;  // a short file or a gap ends the queue; later files are deleted
  for (const int64_t first : firsts) {
    if (ended || first != max) {
      ended = true;
      RRPC_LOG(kWarn, "store", "consume queue: deleting {} after a gap", pathOf(first));
      if (Status s = fs_->remove(pathOf(first)); !s) return s;
      continue;
    }
    auto file = fs_->open(pathOf(first));
    if (!file) return file.status();
    auto size = (*file)->size();
    if (!size) return size.status();
    const int64_t count = std::min(*size / kCqEntrySize, per_file_);
    if (*size != count * kCqEntrySize) {
      if (Status s = (*file)->truncate(count * kCqEntrySize); !s) return s;
    }
    segments_.emplace(first, Segment{std::move(*file), false});
    max = first + count;
    ended = count < per_file_;
  }
  min_offset_.store(firsts.empty() ? 0 : firsts.front(), std::memory_order_release);
  max_offset_.store(max, std::memory_order_release);
  return Status::ok();
}

Status ConsumeQueue::readLocked(int64_t from, int64_t count, std::vector<CqEntry>* out) const {
  std::string buf;
  const auto pending_count = static_cast<int64_t>(pending_.size()) / kCqEntrySize;
  while (count > 0) {
    if (pending_count > 0 && from >= pending_from_) {
      // Buffered, not yet written: straight from memory.
      const int64_t index = from - pending_from_;
      const int64_t n = std::min(count, pending_count - index);
      if (n <= 0) return Status::notFound("consume queue entry " + std::to_string(from) + " not stored");
      for (int64_t i = 0; i < n; ++i) out->push_back(decodeEntry(pending_.data() + (index + i) * kCqEntrySize));
      from += n;
      count -= n;
      continue;
    }
    const int64_t first = from / per_file_ * per_file_;
    auto it = segments_.find(first);
    if (it == segments_.end()) return Status::notFound("consume queue file " + pathOf(first) + " missing");
    int64_t n = std::min(count, first + per_file_ - from);
    if (pending_count > 0) n = std::min(n, pending_from_ - from);
    if (Status s = it->second.file->read((from - first) * kCqEntrySize, n * kCqEntrySize, &buf); !s) return s;
    if (static_cast<int64_t>(buf.size()) != n * kCqEntrySize)
      return Status::corrupt("short consume queue read");
    for (int64_t i = 0; i < n; ++i) out->push_back(decodeEntry(buf.data() + i * kCqEntrySize));
    from += n;
    count -= n;
  }
  return Status::ok();
}

Result<CqEntry> ConsumeQueue::entryLocked(int64_t index) const {
  std::vector<CqEntry> one;
  if (Status s = readLocked(index, 1, &one); !s) return s;
  return one.front();
}

Status ConsumeQueue::writePendingLocked() {
  if (pending_.empty()) return Status::ok();
  const int64_t first = pending_from_ / per_file_ * per_file_;
  auto it = segments_.find(first);
  if (it == segments_.end()) return Status::internal("consume queue file " + pathOf(first) + " vanished");
  if (Status s = it->second.file->write((pending_from_ - first) * kCqEntrySize, pending_); !s) return s;
  it->second.dirty = true;
  pending_.clear();
  return Status::ok();
}

Status ConsumeQueue::truncateFrom(int64_t commit_log_end) {
  std::lock_guard lock(mu_);
  if (Status s = writePendingLocked(); !s) return s;
  int64_t min = min_offset_.load();
  int64_t max = max_offset_.load();
  constexpr int64_t kChunk = 1024;
  bool done = false;
  while (max > min && !done) {
    std::vector<CqEntry> entries;
    const int64_t from = std::max(min, max - kChunk);
    if (Status s = readLocked(from, max - from, &entries); !s) return s;
    for (auto it = entries.rbegin(); it != entries.rend(); ++it, --max) {
      if (validEntry(*it) && it->commit_log_offset + it->size <= commit_log_end) {
        done = true;
        break;
      }
    }
  }
  if (max == max_offset_.load()) return Status::ok();
  RRPC_LOG(kWarn, "store", "consume queue {}: truncated from {} to {}", dir_, max_offset_.load(), max);
  for (auto it = segments_.begin(); it != segments_.end();) {
    if (it->first > max || (it->first == max && it->first > min)) {
      if (Status s = fs_->remove(pathOf(it->first)); !s) return s;
      it = segments_.erase(it);
    } else {
      if (it->first + per_file_ > max) {
        if (Status s = it->second.file->truncate((max - it->first) * kCqEntrySize); !s) return s;
        if (Status s = it->second.file->sync(); !s) return s;
      }
      ++it;
    }
  }
  max_offset_.store(max, std::memory_order_release);
  if (min > max) min_offset_.store(max, std::memory_order_release);
  return Status::ok();
}

Status ConsumeQueue::correctMinOffset(int64_t commit_log_min) {
  std::lock_guard lock(mu_);
  if (Status s = writePendingLocked(); !s) return s;
  int64_t lo = min_offset_.load();
  int64_t hi = max_offset_.load();
  // Entries are [blank...][valid, increasing commit-log offsets]: find the first valid one >= commit_log_min.
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    auto e = entryLocked(mid);
    if (!e) return e.status();
    if (validEntry(*e) && e->commit_log_offset >= commit_log_min) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  min_offset_.store(lo, std::memory_order_release);
  while (segments_.size() > 1 && segments_.begin()->first + per_file_ <= lo) {
    if (Status s = fs_->remove(pathOf(segments_.begin()->first)); !s) return s;
    segments_.erase(segments_.begin());
  }
  return Status::ok();
}

Status ConsumeQueue::put(int64_t queue_offset, const CqEntry& entry) {
  std::lock_guard lock(mu_);
  const int64_t max = max_offset_.load();
  // Only plain appends are buffered; re-dispatch and restarts work on the files.
  if (queue_offset != max) {
    if (Status s = writePendingLocked(); !s) return s;
  }
  if (queue_offset < max) {
    // Re-dispatch during recovery: keep a matching entry, repair a blank or stale one.
    if (queue_offset < min_offset_.load()) return Status::ok();
    auto old = entryLocked(queue_offset);
    if (old && old->commit_log_offset == entry.commit_log_offset && old->size == entry.size &&
        old->tags_code == entry.tags_code) {
      return Status::ok();
    }
    RRPC_LOG(kWarn, "store", "consume queue {}: repairing entry {}", dir_, queue_offset);
  } else if (queue_offset > max) {
    if (max > min_offset_.load()) {
      return Status::corrupt("consume queue " + dir_ + ": entry " + std::to_string(queue_offset) +
                             " after max offset " + std::to_string(max));
    }
    // The queue (re)starts here. The file for this entry stays: prepare() may have just created it.
    pending_.clear();
    const int64_t keep = queue_offset / per_file_ * per_file_;
    for (auto it = segments_.begin(); it != segments_.end();) {
      if (it->first == keep) {
        ++it;
        continue;
      }
      if (Status s = fs_->remove(pathOf(it->first)); !s) return s;
      it = segments_.erase(it);
    }
    min_offset_.store(queue_offset, std::memory_order_release);
  }
  const int64_t first = queue_offset / per_file_ * per_file_;
  auto it = segments_.find(first);
  if (it == segments_.end()) {
    auto created = createFileLocked(first);
    if (!created) return created.status();
    it = *created;
  }
  if (queue_offset >= max) {
    // Append: buffer the entry (readers see it at once through readLocked); written by sync(), when the
    // buffer is full, or before anything else touches the files.
    if (!pending_.empty() && pending_from_ / per_file_ != first / per_file_) {
      if (Status s = writePendingLocked(); !s) return s;
    }
    if (pending_.empty()) pending_from_ = queue_offset;
    appendBig64(pending_, entry.commit_log_offset);
    appendBig32(pending_, entry.size);
    appendBig64(pending_, entry.tags_code);
    it->second.dirty = true;
    max_offset_.store(queue_offset + 1, std::memory_order_release);
    if (pending_.size() >= kMaxPendingBytes) {
      // On a full disk or without descriptors the entries stay buffered (and readable); sync() retries.
      Status s = writePendingLocked();
      if (!s && !isDiskFullError(s) && !isOutOfFilesError(s)) return s;
    }
    return Status::ok();
  }
  std::string bytes;
  appendBig64(bytes, entry.commit_log_offset);
  appendBig32(bytes, entry.size);
  appendBig64(bytes, entry.tags_code);
  if (Status s = it->second.file->write((queue_offset - first) * kCqEntrySize, bytes); !s) return s;
  it->second.dirty = true;
  return Status::ok();
}

Result<std::map<int64_t, ConsumeQueue::Segment>::iterator> ConsumeQueue::createFileLocked(int64_t first) {
  if (Status s = writePendingLocked(); !s) return s;  // the buffer belongs to the previous file
  if (Status s = fs_->createDirs(dir_); !s) return s;
  auto file = fs_->open(pathOf(first));
  if (!file) return file.status();
  if (Status s = (*file)->truncate(0); !s) return s;
  if (Status s = fs_->syncDir(dir_); !s) return s;
  return segments_.emplace(first, Segment{std::move(*file), false}).first;
}

Status ConsumeQueue::prepare(int64_t queue_offset) {
  std::lock_guard lock(mu_);
  const int64_t first = queue_offset / per_file_ * per_file_;
  if (segments_.count(first) == 0) return createFileLocked(first).status();
  if (!pending_.empty() && pending_from_ / per_file_ != queue_offset / per_file_) return writePendingLocked();
  return Status::ok();
}

Status ConsumeQueue::read(int64_t from, int64_t max_count, std::vector<CqEntry>* out) const {
  std::lock_guard lock(mu_);
  if (from < min_offset_.load()) return Status::ok();
  const int64_t first = from / per_file_ * per_file_;
  const int64_t count = std::min({max_count, max_offset_.load() - from, first + per_file_ - from});
  if (count <= 0) return Status::ok();
  return readLocked(from, count, out);
}

Result<CqEntry> ConsumeQueue::get(int64_t queue_offset) const {
  std::lock_guard lock(mu_);
  if (queue_offset < min_offset_.load() || queue_offset >= max_offset_.load()) {
    return Status::notFound("queue offset " + std::to_string(queue_offset) + " out of range");
  }
  return entryLocked(queue_offset);
}

Status ConsumeQueue::sync(bool* fsync_failed) {
  if (fsync_failed != nullptr) *fsync_failed = false;
  std::vector<std::shared_ptr<File>> dirty;
  {
    std::lock_guard lock(mu_);
    if (Status s = writePendingLocked(); !s) return s;
    for (auto& [first, seg] : segments_) {
      if (seg.dirty) dirty.push_back(seg.file);
      seg.dirty = false;
    }
  }
  for (const auto& file : dirty) {
    if (Status s = file->sync(); !s) {
      if (fsync_failed != nullptr) *fsync_failed = true;
      std::lock_guard lock(mu_);
      for (auto& [first, seg] : segments_) seg.dirty = true;
      return s;
    }
  }
  return Status::ok();
}

Status ConsumeQueue::removeAllLocked() {
  pending_.clear();
  for (const auto& [first, seg] : segments_) {
    if (Status s = fs_->remove(pathOf(first)); !s) return s;
  }
  segments_.clear();
  return Status::ok();
}

Status ConsumeQueue::destroy() {
  std::lock_guard lock(mu_);
  if (Status s = removeAllLocked(); !s) return s;
  min_offset_.store(0, std::memory_order_release);
  max_offset_.store(0, std::memory_order_release);
  return Status::ok();
}

}  // namespace rocketrpc::store
