// The filesystem seam of the store: the few file operations the commit log, consume queues and metadata files
// use. Production uses the POSIX implementation (pread/pwrite/fdatasync); tests substitute a filesystem that
// loses unsynced data on a simulated crash (tests/unit/store/fault_injection_fs.h).
#pragma once

#include <cerrno>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rocketrpc::store {

/// An open file addressed by offset (no file position). Thread-safe: concurrent writes of disjoint ranges,
/// reads, and sync() may overlap. A POSIX file stays usable after its path is removed; one from the
/// descriptor cache (file_cache.h) answers NotFound once its descriptor was closed and the path is gone.
class File {
 public:
  virtual ~File() = default;
  /// Writes all of `data` at `offset`, growing the file as needed.
  virtual Status write(int64_t offset, std::string_view data) = 0;
  /// Replaces *out with up to `n` bytes read at `offset`; fewer only at end of file.
  virtual Status read(int64_t offset, size_t n, std::string* out) const = 0;
  /// Makes everything written so far durable.
  virtual Status sync() = 0;
  virtual Status truncate(int64_t size) = 0;
  virtual Result<int64_t> size() const = 0;
  /// Hint to a descriptor cache: keep this file's descriptor open (the active commit-log segment).
  virtual void keepOpen(bool keep) { (void)keep; }
};

/// Thread-safe.
class FileSystem {
 public:
  virtual ~FileSystem() = default;
  /// Opens `path` for reading and writing, creating an empty file when absent. The parent must exist.
  virtual Result<std::unique_ptr<File>> open(const std::string& path) = 0;
  /// Opens an existing `path` for reading and writing; NotFound when absent (the descriptor cache reopens
  /// closed files with it, never recreating a deleted one).
  virtual Result<std::unique_ptr<File>> openExisting(const std::string& path) {
    if (!exists(path)) return Status::notFound(path + " does not exist");
    return open(path);
  }
  virtual bool exists(const std::string& path) = 0;
  /// Entry names (not paths) in `dir`; a missing directory lists as empty.
  virtual Result<std::vector<std::string>> list(const std::string& dir) = 0;
  /// Creates `dir` and its missing parents.
  virtual Status createDirs(const std::string& dir) = 0;
  /// Removes a file or an empty directory; a missing path is not an error.
  virtual Status remove(const std::string& path) = 0;
  /// Atomically replaces `to` with `from`.
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  /// Makes creations, renames and removals of entries in `dir` durable.
  virtual Status syncDir(const std::string& dir) = 0;
  /// Last modification time of a file, ms since the Unix epoch.
  virtual Result<int64_t> modifiedTimeMs(const std::string& path) = 0;
  /// Used fraction (0..1) of the filesystem holding `path`, as df reports it (Use%: reserved blocks excluded).
  virtual Result<double> usedRatio(const std::string& path) = 0;
};

/// A FileSystem that passes every call to `base`: derive from it to change only some (a descriptor cache, a
/// test's fault or gate). Thread-safe as its base.
class ForwardingFileSystem : public FileSystem {
 public:
  explicit ForwardingFileSystem(std::shared_ptr<FileSystem> base) : base_(std::move(base)) {}

  Result<std::unique_ptr<File>> open(const std::string& path) override { return base_->open(path); }
  Result<std::unique_ptr<File>> openExisting(const std::string& path) override { return base_->openExisting(path); }
  bool exists(const std::string& path) override { return base_->exists(path); }
  Result<std::vector<std::string>> list(const std::string& dir) override { return base_->list(dir); }
  Status createDirs(const std::string& dir) override { return base_->createDirs(dir); }
  Status remove(const std::string& path) override { return base_->remove(path); }
  Status rename(const std::string& from, const std::string& to) override { return base_->rename(from, to); }
  Status syncDir(const std::string& dir) override { return base_->syncDir(dir); }
  Result<int64_t> modifiedTimeMs(const std::string& path) override { return base_->modifiedTimeMs(path); }
  Result<double> usedRatio(const std::string& path) override { return base_->usedRatio(path); }

 protected:
  const std::shared_ptr<FileSystem>& base() const { return base_; }

 private:
  std::shared_ptr<FileSystem> base_;
};

/// The Status of a failed file operation: statusFromErrno's, except that running out of descriptors (EMFILE,
/// ENFILE) or space (ENOSPC, EDQUOT) gives kOverLimit with the errno in remoteCode(), so that the store can
/// refuse one put and carry on (the helpers below tell them apart). Every FileSystem reports errno this way.
Status fsErrorStatus(int err, std::string_view context);
/// The process or the system ran out of file descriptors: the operation may work later.
inline bool isOutOfFilesError(const Status& s) {
  return s.code() == StatusCode::kOverLimit && (s.remoteCode() == EMFILE || s.remoteCode() == ENFILE);
}
/// The disk (or the user's quota) is full: writes may work once space returns.
inline bool isDiskFullError(const Status& s) {
  return s.code() == StatusCode::kOverLimit && (s.remoteCode() == ENOSPC || s.remoteCode() == EDQUOT);
}

/// The real filesystem (POSIX calls; fdatasync for File::sync, fsync of the directory for syncDir).
std::shared_ptr<FileSystem> posixFileSystem();

/// Writes `data` to `path` so that a crash leaves either the old or the new content: writes `path`.tmp, syncs
/// it, renames it over `path` and syncs the directory.
Status writeFileAtomically(FileSystem& fs, const std::string& path, std::string_view data);
/// Whole content of `path`; NotFound when missing.
Result<std::string> readWholeFile(FileSystem& fs, const std::string& path);

/// RocketMQ file naming: the start offset as 20 zero-padded decimal digits.
std::string offsetFileName(int64_t offset);
/// Inverse of offsetFileName; nullopt for any other name.
std::optional<int64_t> parseOffsetFileName(std::string_view name);
std::string joinPath(std::string_view dir, std::string_view name);

}  // namespace rocketrpc::store
