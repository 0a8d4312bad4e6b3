#include "store/commit_log.h"

#include <algorithm>

#include "common/log.h"
#include "remoting/protocol/message_codec.h"
#include "remoting/protocol/names.h"
#include "store/endian.h"

namespace rocketrpc::store {

namespace {

constexpr int32_t kMinRecordSize = 91;  // fixed part with IPv4 hosts + 1-byte topic length + 2-byte PROPLEN
constexpr size_t kStoreTimestampPos = 56;  // after an IPv4 born host; +12 when the born host is IPv6

}  // namespace

int64_t tagsCodeOf(const Message& msg) {
  auto it = msg.properties().find(property::kTags);
  return it == msg.properties().end() || it->second.empty() ? 0 : remoting::javaStringHash(it->second);
}

CommitLog::CommitLog(std::shared_ptr<FileSystem> fs, std::string dir, int64_t segment_size)
    : fs_(std::move(fs)), dir_(std::move(dir)), segment_size_(segment_size) {}

Status CommitLog::open() {
  auto names = fs_->list(dir_);
  if (!names) return names.status();
  std::vector<int64_t> bases;
  for (const std::string& name : *names) {
    if (auto base = parseOffsetFileName(name)) bases.push_back(*base);
  }
  std::sort(bases.begin(), bases.end());
  std::vector<std::shared_ptr<Segment>> segments;
  for (size_t i = 0; i < bases.size(); ++i) {
    if (bases[i] % segment_size_ != 0) {
      return Status::corrupt("commit log segment " + offsetFileName(bases[i]) + " is not a multiple of the " +
                             std::to_string(segment_size_) + "-byte segment size");
    }
    if (i > 0 && bases[i] != bases[i - 1] + segment_size_) {
      return Status::corrupt("commit log segments are not contiguous after " + offsetFileName(bases[i - 1]));
    }
    const std::string path = joinPath(dir_, offsetFileName(bases[i]));
    auto file = fs_->open(path);
    if (!file) return file.status();
    segments.push_back(std::make_shared<Segment>(Segment{bases[i], path, std::move(*file)}));
  }
  const int64_t min = bases.empty() ? 0 : bases.front();
  std::lock_guard lock(segments_mu_);
  segments_ = std::move(segments);
  min_offset_.store(min, std::memory_order_release);
  return Status::ok();
}

bool validStoreTopic(std::string_view topic) {
  // Any topic the broker may derive (%RETRY%/%DLQ% up to 255), so the character rule is the shared one.
  return !topic.empty() && topic.size() <= remoting::kMaxDerivedTopicLength && remoting::hasOnlyNameCharacters(topic);
}

Result<std::pair<int64_t, bool>> CommitLog::scanSegment(const Segment& seg, int64_t from, int64_t to,
                                                        const std::function<void(const RecordInfo&)>& visit) {
  auto file_size = seg.file->size();
  if (!file_size) return file_size.status();
  std::string data;
  const auto limit = static_cast<size_t>(std::min(*file_size, segment_size_));
  if (Status s = seg.file->read(0, limit, &data); !s) return s;
  int64_t pos = from - seg.base;
  while (pos < static_cast<int64_t>(data.size()) && seg.base + pos < to) {
    const auto left = static_cast<int64_t>(data.size()) - pos;
    if (left < kBlankMarkerSize) break;
    const int32_t total = getBig32(data.data() + pos);
    const int32_t magic = getBig32(data.data() + pos + 4);
    if (magic == remoting::kBlankMagic) {
      if (total == segment_size_ - pos) return std::make_pair(seg.base + pos, true);
      break;
    }
    if (magic != remoting::kMessageMagicV1 && magic != remoting::kMessageMagicV2) break;
    if (total < kMinRecordSize || total > left || pos + total + kBlankMarkerSize > segment_size_) break;
    auto msgs = remoting::decodeStoredMessages(std::string_view(data).substr(pos, total), false);
    if (!msgs || msgs->size() != 1) break;
    const MessageExt& m = msgs->front();
    if (m.bodyCrc() != remoting::bodyCrc(m.body()) || m.commitLogOffset() != seg.base + pos) break;
    // Fields the body CRC does not cover but dispatch trusts (a damaged topic would name a directory).
    if (!validStoreTopic(m.topic()) || m.queueId() < 0 || m.queueOffset() < 0 || m.queueOffset() > kMaxQueueOffset)
      break;
    visit(RecordInfo{seg.base + pos, total, m.topic(), m.queueId(), m.queueOffset(), tagsCodeOf(m),
                     m.storeTimestamp()});
    pos += total;
  }
  return std::make_pair(seg.base + pos, false);
}

Result<int64_t> CommitLog::recover(int64_t from, const std::function<void(const RecordInfo&)>& visit) {
  std::vector<std::shared_ptr<Segment>> segments;
  {
    std::lock_guard lock(segments_mu_);
    segments = segments_;
  }
  int64_t end = 0;
  size_t kept = 0;  // segments kept
  if (!segments.empty()) {
    from = std::clamp(from, segments.front()->base, segments.back()->base);
    size_t i = static_cast<size_t>((from - segments.front()->base) / segment_size_);
    for (; i < segments.size(); ++i) {
      Segment& seg = *segments[i];
      auto scanned = scanSegment(seg, seg.base, INT64_MAX, visit);
      if (!scanned) return scanned.status();
      const auto [valid_end, sealed] = *scanned;
      end = sealed ? seg.base + segment_size_ : valid_end;
      if (Status s = seg.file->sync(); !s) return s;
      if (!sealed) {
        const auto file_size = seg.file->size();
        if (file_size && *file_size != valid_end - seg.base) {
          RRPC_LOG(kWarn, "store", "commit log: truncating {} at {} (file had {} bytes)", seg.path,
                   valid_end - seg.base, *file_size);
          if (Status s = seg.file->truncate(valid_end - seg.base); !s) return s;
          if (Status s = seg.file->sync(); !s) return s;
        }
        break;
      }
    }
    kept = std::min(i + 1, segments.size());
  }
  for (size_t j = kept; j < segments.size(); ++j) {
    RRPC_LOG(kWarn, "store", "commit log: deleting {} after the recovered end {}", segments[j]->path, end);
    if (Status s = fs_->remove(segments[j]->path); !s) return s;
  }
  if (kept < segments.size()) {
    segments.resize(kept);
    if (Status s = fs_->syncDir(dir_); !s) return s;
  }
  {
    std::lock_guard lock(segments_mu_);
    segments_ = segments;
  }
  setActive(segments.empty() ? nullptr : segments.back());
  write_offset_ = pending_start_ = end;
  pending_.clear();
  written_.store(end, std::memory_order_release);
  flushed_.store(end, std::memory_order_release);
  return end;
}

Status CommitLog::scan(int64_t from, int64_t to, const std::function<void(const RecordInfo&)>& visit) {
  while (from < to) {
    auto seg = findSegment(from);
    if (!seg) return Status::notFound("commit log offset " + std::to_string(from) + " is not stored");
    auto scanned = scanSegment(*seg, from, to, visit);
    if (!scanned) return scanned.status();
    if (!scanned->second) {
      if (scanned->first < to)
        return Status::corrupt("commit log: invalid record at " + std::to_string(scanned->first));
      break;
    }
    from = seg->base + segment_size_;
  }
  return Status::ok();
}

Result<std::shared_ptr<CommitLog::Segment>> CommitLog::createSegment(int64_t base) {
  const std::string path = joinPath(dir_, offsetFileName(base));
  auto file = fs_->open(path);
  if (!file) return file.status();
  if (Status s = (*file)->truncate(0); !s) return s;
  if (Status s = fs_->syncDir(dir_); !s) return s;
  auto seg = std::make_shared<Segment>(Segment{base, path, std::move(*file)});
  std::lock_guard lock(segments_mu_);
  segments_.push_back(seg);
  return seg;
}

Result<int64_t> CommitLog::append(std::string& record) {
  const auto size = static_cast<int64_t>(record.size());
  if (size + kBlankMarkerSize > segment_size_) {
    return Status::invalidArgument("record of " + std::to_string(size) +
                                   " bytes exceeds the commit log segment");
  }
  if (active_ != nullptr && write_offset_ < active_->base + segment_size_ &&
      write_offset_ - active_->base + size + kBlankMarkerSize > segment_size_) {
    // Does not fit: seal the segment with a blank marker covering the rest of it.
    const int64_t rest = active_->base + segment_size_ - write_offset_;
    appendBig32(pending_, static_cast<int32_t>(rest));
    appendBig32(pending_, remoting::kBlankMagic);
    write_offset_ += rest;
    if (Status s = commitPending(); !s) return s;
  }
  if (active_ == nullptr || write_offset_ >= active_->base + segment_size_) {
    auto seg = createSegment(write_offset_);
    if (!seg) return seg.status();
    setActive(std::move(*seg));
    pending_start_ = write_offset_;
  }
  const int64_t offset = write_offset_;
  putBig64(record.data() + kPhysicalOffsetPos, offset);
  pending_ += record;
  write_offset_ += size;
  return offset;
}

void CommitLog::setActive(std::shared_ptr<Segment> seg) {
  if (active_ != nullptr) active_->file->keepOpen(false);
  active_ = std::move(seg);
  if (active_ != nullptr) active_->file->keepOpen(true);
}

Status CommitLog::rollback(int64_t end) {
  pending_.clear();
  write_offset_ = pending_start_ = end;
  std::vector<std::shared_ptr<Segment>> doomed;
  std::shared_ptr<Segment> last;
  {
    std::lock_guard lock(segments_mu_);
    while (segments_.size() > 1 && segments_.back()->base > end) {
      doomed.push_back(segments_.back());
      segments_.pop_back();
    }
    if (!segments_.empty()) last = segments_.back();
  }
  if (written_.load(std::memory_order_acquire) > end) written_.store(end, std::memory_order_release);
  {
    std::lock_guard sync_lock(sync_mu_);
    if (flushed_.load(std::memory_order_acquire) > end) flushed_.store(end, std::memory_order_release);
  }
  setActive(last);
  for (const auto& seg : doomed) {
    if (Status s = fs_->remove(seg->path); !s) return s;
  }
  if (last != nullptr && end - last->base < segment_size_) {
    // Whatever part of the failed write reached the file must not look like records to a recovery.
    if (Status s = last->file->truncate(end - last->base); !s) return s;
  }
  return Status::ok();
}

Status CommitLog::commitPending() {
  if (!pending_.empty()) {
    if (Status s = active_->file->write(pending_start_ - active_->base, pending_); !s) return s;
    pending_.clear();
  }
  pending_start_ = write_offset_;
  written_.store(write_offset_, std::memory_order_release);
  return Status::ok();
}

Result<int64_t> CommitLog::sync() {
  std::lock_guard sync_lock(sync_mu_);
  const int64_t target = written_.load(std::memory_order_acquire);
  const int64_t flushed = flushed_.load(std::memory_order_acquire);
  std::vector<std::shared_ptr<Segment>> dirty;
  {
    std::lock_guard lock(segments_mu_);
    for (const auto& seg : segments_) {
      if (seg->base + segment_size_ > flushed && seg->base < target) dirty.push_back(seg);
    }
  }
  for (const auto& seg : dirty) {
    if (Status s = seg->file->sync(); !s) return s;
  }
  flushed_.store(std::max(flushed, target), std::memory_order_release);
  return target;
}

std::shared_ptr<CommitLog::Segment> CommitLog::findSegment(int64_t offset) const {
  std::lock_guard lock(segments_mu_);
  if (segments_.empty() || offset < segments_.front()->base) return nullptr;
  const auto index = static_cast<size_t>((offset - segments_.front()->base) / segment_size_);
  return index < segments_.size() ? segments_[index] : nullptr;
}

Status CommitLog::read(int64_t offset, int32_t size, std::string* out) const {
  // `size > written - offset`, not `offset + size > written`: an offset near INT64_MAX (a client's message id
  // or pull offset) would overflow the sum.
  const int64_t written = writtenOffset();
  if (size <= 0 || offset < minOffset() || offset > written || size > written - offset) {
    return Status::notFound("commit log range " + std::to_string(offset) + "+" + std::to_string(size) +
                            " is not stored");
  }
  auto seg = findSegment(offset);
  if (!seg) return Status::notFound("commit log offset " + std::to_string(offset) + " was deleted");
  if (offset - seg->base + size > segment_size_)
    return Status::invalidArgument("range crosses a segment end");
  std::string buf;
  if (Status s = seg->file->read(offset - seg->base, static_cast<size_t>(size), &buf); !s) return s;
  if (buf.size() != static_cast<size_t>(size)) {
    return Status::corrupt("short read at commit log offset " + std::to_string(offset));
  }
  if (out->empty()) {
    *out = std::move(buf);
  } else {
    out->append(buf);
  }
  return Status::ok();
}

Status CommitLog::readEntry(int64_t offset, int32_t size, std::string* out) const {
  const auto where = [&] { return " at commit log offset " + std::to_string(offset); };
  if (size < kMinRecordSize || size > segment_size_ - kBlankMarkerSize) {
    return Status::corrupt("consume-queue entry of " + std::to_string(size) + " bytes" + where());
  }
  const size_t start = out->size();
  if (Status s = read(offset, size, out); !s) {
    // A range crossing a segment end cannot be a record.
    return s.code() == StatusCode::kInvalidArgument ? Status::corrupt(s.message() + where()) : s;
  }
  if (Status s = remoting::checkStoredRecord(std::string_view(*out).substr(start), offset); !s) {
    out->resize(start);
    return Status::corrupt("no " + std::to_string(size) + "-byte record" + where() + ": " + s.message());
  }
  return Status::ok();
}

Result<std::string> CommitLog::readRecord(int64_t offset) const {
  std::string head;
  if (Status s = read(offset, 8, &head); !s) return s;
  const int32_t total = getBig32(head.data());
  const int32_t magic = getBig32(head.data() + 4);
  if ((magic != remoting::kMessageMagicV1 && magic != remoting::kMessageMagicV2) || total < kMinRecordSize) {
    return Status::notFound("no message starts at commit log offset " + std::to_string(offset));
  }
  std::string record;
  if (Status s = read(offset, total, &record); !s) return s;
  if (getBig64(record.data() + kPhysicalOffsetPos) != offset) {
    return Status::notFound("no message starts at commit log offset " + std::to_string(offset));
  }
  return record;
}

Result<int64_t> CommitLog::storeTimestampAt(int64_t offset) const {
  std::string head;
  if (Status s = read(offset, kMinRecordSize, &head); !s) return s;
  const bool born_v6 = (getBig32(head.data() + kSysFlagPos) & remoting::sys_flag::kBornHostV6) != 0;
  return getBig64(head.data() + kStoreTimestampPos + (born_v6 ? 12 : 0));
}

Result<int> CommitLog::removeSegmentsWhile(const std::function<bool(const SegmentInfo&)>& pred) {
  std::lock_guard lock(segments_mu_);
  int removed = 0;
  while (segments_.size() > 1 && pred(SegmentInfo{segments_.front()->base, segments_.front()->path})) {
    if (Status s = fs_->remove(segments_.front()->path); !s) return s;
    RRPC_LOG(kInfo, "store", "commit log: deleted segment {}", segments_.front()->path);
    segments_.erase(segments_.begin());
    ++removed;
  }
  if (!segments_.empty()) min_offset_.store(segments_.front()->base, std::memory_order_release);
  return removed;
}

size_t CommitLog::segmentCount() const {
  std::lock_guard lock(segments_mu_);
  return segments_.size();
}

}  // namespace rocketrpc::store
