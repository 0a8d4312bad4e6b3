// DirectoryLock: an exclusive, process-lifetime claim on a store directory, so that two brokers never write
// the same commit log. It is an flock(2) on <dir>/lock, a file that also holds the owner's pid for the error
// message of the next claimant. flock (not fcntl) because its locks belong to the open file description: a
// second claim from the same process conflicts too, and closing an unrelated descriptor of the file does not
// drop the lock. The kernel drops it when the process dies (kill -9 included), so a crash never leaves a stale
// lock behind; the pid in the file is information only. Thread-compatible.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"

namespace rocketrpc::store {

class DirectoryLock {
 public:
  /// Creates `dir` when missing, then takes the lock without waiting. OverLimit naming the directory and the
  /// holder's pid (when readable) if another holder has it; an errno Status for other failures.
  static Result<std::unique_ptr<DirectoryLock>> acquire(const std::string& dir);
  /// Releases the lock (the file stays, so the inode the next claimant locks is the same).
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  DirectoryLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  const std::string path_;
  const int fd_;
};

}  // namespace rocketrpc::store
