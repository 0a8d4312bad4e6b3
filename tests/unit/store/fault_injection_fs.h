// An in-memory FileSystem that models durability: each file remembers its content at the last sync, and
// crash() reverts every file to it (a file never synced disappears), optionally keeping a random prefix of
// the unsynced tail (a torn write). Directory operations are durable at once. Also counts syncs, fails writes
// on demand, fails chosen calls with a chosen errno (ENOSPC, EIO, EMFILE: addFault), limits the open files like
// RLIMIT_NOFILE (setMaxOpenFiles) and reports a settable disk usage. Thread-safe.
#pragma once

#include <algorithm>
#include <cerrno>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <vector>
#include <string>

#include "store/file_system.h"

namespace rocketrpc::store::testing {

/// The calls addFault() can fail.
enum class FsOp { kOpen, kWrite, kSync, kTruncate, kRename, kRemove, kCreateDirs, kSyncDir };

/// Fails calls of `op` on paths containing `path_contains` with errno `err` (as fsErrorStatus reports it):
/// the first `skip` matching calls pass, then `count` fail (-1: all of them).
struct FsFault {
  FsOp op = FsOp::kWrite;
  int err = 0;
  std::string path_contains;
  int64_t skip = 0;
  int64_t count = -1;
};

class FaultInjectionFs final : public FileSystem {
 public:
  /// `clock` (ms) stamps modification times; default: always 0.
  explicit FaultInjectionFs(std::function<int64_t()> clock = {}) : state_(std::make_shared<State>()) {
    state_->clock = std::move(clock);
  }

  Result<std::unique_ptr<File>> open(const std::string& path) override {
    std::lock_guard lock(state_->mu);
    if (state_->fail) return Status::internal("injected failure: open " + path);
    if (Status s = state_->fault(FsOp::kOpen, path); !s) return s;
    if (state_->max_open >= 0 && state_->open_files >= state_->max_open) {
      return fsErrorStatus(EMFILE, "open " + path);
    }
    auto& node = state_->files[path];
    if (!node) {
      node = std::make_shared<Node>();
      node->mtime = state_->now();
    }
    return std::unique_ptr<File>(std::make_unique<MemFile>(state_, node, path));
  }

  bool exists(const std::string& path) override {
    std::lock_guard lock(state_->mu);
    return state_->files.count(path) > 0 || state_->dirs.count(path) > 0;
  }

  Result<std::vector<std::string>> list(const std::string& dir) override {
    std::lock_guard lock(state_->mu);
    std::set<std::string> names;
    const std::string prefix = dir + "/";
    auto add = [&](const std::string& path) {
      if (path.compare(0, prefix.size(), prefix) != 0) return;
      names.insert(path.substr(prefix.size(), path.find('/', prefix.size()) - prefix.size()));
    };
    for (const auto& [path, node] : state_->files) add(path);
    for (const auto& path : state_->dirs) add(path);
    return std::vector<std::string>(names.begin(), names.end());
  }

  Status createDirs(const std::string& dir) override {
    std::lock_guard lock(state_->mu);
    if (Status s = state_->fault(FsOp::kCreateDirs, dir); !s) return s;
    for (size_t pos = 1; pos <= dir.size(); ++pos) {
      if (pos == dir.size() || dir[pos] == '/') state_->dirs.insert(dir.substr(0, pos));
    }
    return Status::ok();
  }

  Status remove(const std::string& path) override {
    std::lock_guard lock(state_->mu);
    if (state_->fail) return Status::internal("injected failure: remove " + path);
    if (Status s = state_->fault(FsOp::kRemove, path); !s) return s;
    state_->files.erase(path);
    state_->dirs.erase(path);
    return Status::ok();
  }

  Status rename(const std::string& from, const std::string& to) override {
    std::lock_guard lock(state_->mu);
    if (state_->fail) return Status::internal("injected failure: rename " + from);
    if (Status s = state_->fault(FsOp::kRename, to); !s) return s;
    auto it = state_->files.find(from);
    if (it == state_->files.end()) return Status::notFound(from);
    state_->files[to] = it->second;
    state_->files.erase(from);
    return Status::ok();
  }

  Status syncDir(const std::string& dir) override {
    std::lock_guard lock(state_->mu);
    return state_->fault(FsOp::kSyncDir, dir);
  }

  Result<int64_t> modifiedTimeMs(const std::string& path) override {
    std::lock_guard lock(state_->mu);
    auto it = state_->files.find(path);
    if (it == state_->files.end()) return Status::notFound(path);
    return it->second->mtime;
  }

  Result<double> usedRatio(const std::string&) override {
    std::function<double()> fn;
    {
      std::lock_guard lock(state_->mu);
      fn = state_->used_ratio;
    }
    return fn ? fn() : 0.1;
  }

  // ---- fault injection ----

  /// While set, every write, sync, truncate, open, remove and rename fails.
  void setFailWrites(bool fail) {
    std::lock_guard lock(state_->mu);
    state_->fail = fail;
  }

  /// Power loss. With `rng`, each file keeps a random prefix of its unsynced appended bytes.
  void crash(std::mt19937* rng = nullptr) {
    std::lock_guard lock(state_->mu);
    for (auto it = state_->files.begin(); it != state_->files.end();) {
      Node& node = *it->second;
      if (!node.synced) {
        it = state_->files.erase(it);
        continue;
      }
      std::string kept = node.durable;
      if (rng != nullptr && node.data.size() > kept.size()) {
        const size_t extra = (*rng)() % (node.data.size() - kept.size() + 1);
        kept += node.data.substr(kept.size(), extra);
      }
      node.data = std::move(kept);
      ++it;
    }
  }

  void addFault(FsFault fault) {
    std::lock_guard lock(state_->mu);
    state_->faults.push_back(std::move(fault));
  }
  void clearFaults() {
    std::lock_guard lock(state_->mu);
    state_->faults.clear();
  }
  /// Calls failed by addFault() so far.
  int64_t faultsHit() const {
    std::lock_guard lock(state_->mu);
    return state_->faults_hit;
  }

  /// Open files (File objects alive) beyond `n` fail to open with EMFILE; -1: no limit.
  void setMaxOpenFiles(int64_t n) {
    std::lock_guard lock(state_->mu);
    state_->max_open = n;
  }
  int64_t openFiles() const {
    std::lock_guard lock(state_->mu);
    return state_->open_files;
  }
  int64_t peakOpenFiles() const {
    std::lock_guard lock(state_->mu);
    return state_->peak_open_files;
  }

  /// Whole current (not necessarily durable) content of a file; empty when missing.
  std::string contents(const std::string& path) const {
    std::lock_guard lock(state_->mu);
    auto it = state_->files.find(path);
    return it == state_->files.end() ? std::string() : it->second->data;
  }

  int64_t syncCount() const {
    std::lock_guard lock(state_->mu);
    return state_->syncs;
  }

  /// Size of the file's content as of its last sync (-1 when missing).
  int64_t durableSize(const std::string& path) const {
    std::lock_guard lock(state_->mu);
    auto it = state_->files.find(path);
    return it == state_->files.end() ? -1 : static_cast<int64_t>(it->second->durable.size());
  }

  void setUsedRatio(std::function<double()> fn) {
    std::lock_guard lock(state_->mu);
    state_->used_ratio = std::move(fn);
  }

 private:
  struct Node {
    std::string data;
    std::string durable;
    bool synced = false;
    int64_t mtime = 0;
  };
  struct State {
    mutable std::mutex mu;
    std::map<std::string, std::shared_ptr<Node>> files;
    std::set<std::string> dirs;
    std::function<int64_t()> clock;
    std::function<double()> used_ratio;
    bool fail = false;
    int64_t syncs = 0;
    std::vector<FsFault> faults;
    int64_t faults_hit = 0;
    int64_t max_open = -1;
    int64_t open_files = 0;
    int64_t peak_open_files = 0;
    int64_t now() const { return clock ? clock() : 0; }
    // mu held.
    Status fault(FsOp op, const std::string& path) {
      for (FsFault& f : faults) {
        if (f.op != op || path.find(f.path_contains) == std::string::npos) continue;
        if (f.skip > 0) {
          --f.skip;
          continue;
        }
        if (f.count == 0) continue;
        if (f.count > 0) --f.count;
        ++faults_hit;
        return fsErrorStatus(f.err, "injected: " + path);
      }
      return Status::ok();
    }
  };

  class MemFile final : public File {
   public:
    MemFile(std::shared_ptr<State> state, std::shared_ptr<Node> node, std::string path)
        : state_(std::move(state)), node_(std::move(node)), path_(std::move(path)) {
      // Constructed under state_->mu (open()).
      state_->peak_open_files = std::max(state_->peak_open_files, ++state_->open_files);
    }
    ~MemFile() override {
      std::lock_guard lock(state_->mu);
      --state_->open_files;
    }

    Status write(int64_t offset, std::string_view data) override {
      std::lock_guard lock(state_->mu);
      if (state_->fail) return Status::internal("injected failure: write");
      Status s = state_->fault(FsOp::kWrite, path_);
      // A disk that fills up mid-write keeps what fitted (pwrite writes a prefix, the retry fails).
      if (!s && !isDiskFullError(s)) return s;
      if (!s) data = data.substr(0, data.size() / 2);
      auto& d = node_->data;
      if (d.size() < offset + data.size()) d.resize(offset + data.size(), '\0');
      d.replace(static_cast<size_t>(offset), data.size(), data);
      node_->mtime = state_->now();
      return s;
    }
    Status read(int64_t offset, size_t n, std::string* out) const override {
      std::lock_guard lock(state_->mu);
      const auto& d = node_->data;
      *out =
          static_cast<size_t>(offset) >= d.size() ? std::string() : d.substr(static_cast<size_t>(offset), n);
      return Status::ok();
    }
    Status sync() override {
      std::lock_guard lock(state_->mu);
      if (state_->fail) return Status::internal("injected failure: sync");
      if (Status s = state_->fault(FsOp::kSync, path_); !s) return s;
      node_->durable = node_->data;
      node_->synced = true;
      ++state_->syncs;
      return Status::ok();
    }
    Status truncate(int64_t size) override {
      std::lock_guard lock(state_->mu);
      if (state_->fail) return Status::internal("injected failure: truncate");
      if (Status s = state_->fault(FsOp::kTruncate, path_); !s) return s;
      node_->data.resize(static_cast<size_t>(size), '\0');
      node_->mtime = state_->now();
      return Status::ok();
    }
    Result<int64_t> size() const override {
      std::lock_guard lock(state_->mu);
      return static_cast<int64_t>(node_->data.size());
    }

   private:
    std::shared_ptr<State> state_;
    std::shared_ptr<Node> node_;
    const std::string path_;  // as opened (a rename later does not change it)
  };

  std::shared_ptr<State> state_;
};

}  // namespace rocketrpc::store::testing
