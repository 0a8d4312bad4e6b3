// A bounded cache of open file descriptors in front of a FileSystem. The store keeps a File for every
// commit-log segment and consume-queue file it knows; with thousands of queues, one descriptor each would
// exhaust RLIMIT_NOFILE (and a restart, which opens them all again, would fail at once). Files handed out by
// CachingFileSystem hold a descriptor only while in use or recently used: past `max_open`, the least recently
// used idle file is closed (fsynced first when written since its last sync, so no writeback error is lost with
// its descriptor) and reopened on demand. A file marked keepOpen (the active commit-log segment) is never closed.
// When the underlying open fails with EMFILE/ENFILE, an idle file is closed and the open retried.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/file_system.h"

namespace rocketrpc::store {

/// Thread-safe. Files it returns may outlive it.
class CachingFileSystem final : public ForwardingFileSystem {
 public:
  /// `max_open` >= 1: descriptors kept open at most (more only while that many are in use at once or kept open).
  CachingFileSystem(std::shared_ptr<FileSystem> base, size_t max_open);
  ~CachingFileSystem() override;

  Result<std::unique_ptr<File>> open(const std::string& path) override;
  Result<std::unique_ptr<File>> openExisting(const std::string& path) override;

  /// Descriptors open now.
  size_t openCount() const;
  size_t maxOpen() const;
  /// Descriptors closed to stay under max_open (or after EMFILE/ENFILE), since construction.
  uint64_t evictions() const;
  /// The first failed fsync of any file (a closing idle file's included); OK while none failed. Every later
  /// File::sync() returns it: after a failed fsync nothing may be declared durable (the kernel may have
  /// dropped the dirty pages and a retried fsync can succeed without writing them).
  Status syncError() const;

  struct Core;

 private:
  Result<std::unique_ptr<File>> openImpl(const std::string& path, bool create);

  std::shared_ptr<Core> core_;
};

}  // namespace rocketrpc::store
