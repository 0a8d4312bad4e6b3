#include "store/file_cache.h"

#include <list>
#include <mutex>
#include <utility>

#include "common/log.h"

namespace rocketrpc::store {

// One File handed out by the cache (declared outside an anonymous namespace: Core, which has linkage, uses it).
struct CacheEntry {
  std::string path;
  std::unique_ptr<File> file;  // null while closed
  int users = 0;               // operations running on `file`: it is not closed under them
  bool pinned = false;         // keepOpen(true)
  // Written (or opened: a previous process may have left unsynced data) since the last successful sync; such
  // a file is fsynced before its descriptor closes.
  bool dirty = true;
  std::list<CacheEntry*>::iterator pos;  // in Core::lru while open
};

struct CachingFileSystem::Core {
  std::shared_ptr<FileSystem> base;
  size_t max_open = 1;
  mutable std::mutex mu;
  std::list<CacheEntry*> lru;  // open entries, most recently used first; guarded by mu
  uint64_t evictions = 0;  // guarded by mu
  Status sync_error;       // guarded by mu; sticky

  // Closes the least recently used idle open file; false when every open file is in use or pinned.
  bool evictOneLocked(Status* error) {
    for (auto it = lru.rbegin(); it != lru.rend(); ++it) {
      CacheEntry* e = *it;
      if (e->users > 0 || e->pinned) continue;
      if (e->dirty) {
        // Under the lock: rare (only past max_open) and keeps the entry from being used meanwhile.
        if (Status s = e->file->sync(); !s) {
          if (sync_error.isOk()) {
            RRPC_LOG(kError, "store", "fsync of {} before closing it failed: {}", e->path, s.toString());
            sync_error = s;
          }
          *error = s;
          return false;
        }
        e->dirty = false;
      }
      e->file.reset();
      lru.erase(e->pos);
      ++evictions;
      return true;
    }
    return false;
  }

  // Makes room for one more descriptor: closes idle files while at max_open.
  Status makeRoomLocked() {
    Status error;
    while (lru.size() >= max_open && evictOneLocked(&error)) {
    }
    return error;
  }

  // Opens through `base`, closing idle files and retrying while the process or system is out of descriptors.
  Result<std::unique_ptr<File>> openLocked(const std::string& path, bool create) {
    if (Status s = makeRoomLocked(); !s) return s;
    while (true) {
      auto file = create ? base->open(path) : base->openExisting(path);
      if (file || !isOutOfFilesError(file.status())) return file;
      Status error;
      if (!evictOneLocked(&error)) return error.isOk() ? file.status() : error;
    }
  }

  void addOpenLocked(CacheEntry* e) {
    lru.push_front(e);
    e->pos = lru.begin();
  }

  // Returns e's open file, reopening it if needed, with a use counted (release() ends it).
  Result<File*> acquire(CacheEntry* e) {
    std::lock_guard lock(mu);
    if (e->file) {
      lru.splice(lru.begin(), lru, e->pos);
    } else {
      auto file = openLocked(e->path, false);
      if (!file) return file.status();
      e->file = std::move(*file);
      e->dirty = false;  // everything written before it closed was synced then
      addOpenLocked(e);
    }
    ++e->users;
    return e->file.get();
  }

  void release(CacheEntry* e, bool wrote) {
    std::lock_guard lock(mu);
    --e->users;
    if (wrote) e->dirty = true;  // after the write: a sync that started meanwhile does not cover it
  }
};

namespace {

class CachedFile final : public File {
 public:
  CachedFile(std::shared_ptr<CachingFileSystem::Core> core, std::unique_ptr<CacheEntry> entry)
      : core_(std::move(core)), e_(std::move(entry)) {}
  ~CachedFile() override {
    std::unique_ptr<File> closing;
    std::lock_guard lock(core_->mu);
    if (e_->file) {
      core_->lru.erase(e_->pos);
      closing = std::move(e_->file);
    }
  }

  Status write(int64_t offset, std::string_view data) override {
    return use(true, [&](File& f) { return f.write(offset, data); });
  }
  Status read(int64_t offset, size_t n, std::string* out) const override {
    return use(false, [&](File& f) { return f.read(offset, n, out); });
  }
  Status truncate(int64_t size) override {
    return use(true, [&](File& f) { return f.truncate(size); });
  }
  Result<int64_t> size() const override {
    int64_t n = 0;
    Status s = use(false, [&](File& f) {
      auto r = f.size();
      if (r) n = *r;
      return r.status();
    });
    if (!s) return s;
    return n;
  }

  Status sync() override {
    File* file = nullptr;
    {
      std::lock_guard lock(core_->mu);
      if (!core_->sync_error.isOk()) return core_->sync_error;
      // Not written since its last sync (or synced when its descriptor closed): nothing to make durable.
      if (!e_->dirty || !e_->file) return Status::ok();
      e_->dirty = false;
      ++e_->users;
      file = e_->file.get();
    }
    Status s = file->sync();
    std::lock_guard lock(core_->mu);
    --e_->users;
    if (!s) {
      e_->dirty = true;
      if (core_->sync_error.isOk()) core_->sync_error = s;
    }
    return s;
  }

  void keepOpen(bool keep) override {
    std::lock_guard lock(core_->mu);
    e_->pinned = keep;
  }

 private:
  template <typename F>
  Status use(bool writes, F&& op) const {
    auto file = core_->acquire(e_.get());
    if (!file) return file.status();
    Status s = op(**file);
    core_->release(e_.get(), writes);
    return s;
  }

  std::shared_ptr<CachingFileSystem::Core> core_;
  std::unique_ptr<CacheEntry> e_;
};

}  // namespace

CachingFileSystem::CachingFileSystem(std::shared_ptr<FileSystem> base, size_t max_open)
    : ForwardingFileSystem(std::move(base)), core_(std::make_shared<Core>()) {
  core_->base = this->base();
  core_->max_open = max_open < 1 ? 1 : max_open;
}

CachingFileSystem::~CachingFileSystem() = default;

Result<std::unique_ptr<File>> CachingFileSystem::openImpl(const std::string& path, bool create) {
  auto entry = std::make_unique<CacheEntry>();
  entry->path = path;
  std::lock_guard lock(core_->mu);
  auto file = core_->openLocked(path, create);
  if (!file) return file.status();
  entry->file = std::move(*file);
  core_->addOpenLocked(entry.get());
  return std::unique_ptr<File>(std::make_unique<CachedFile>(core_, std::move(entry)));
}

Result<std::unique_ptr<File>> CachingFileSystem::open(const std::string& path) { return openImpl(path, true); }

Result<std::unique_ptr<File>> CachingFileSystem::openExisting(const std::string& path) {
  return openImpl(path, false);
}

size_t CachingFileSystem::openCount() const {
  std::lock_guard lock(core_->mu);
  return core_->lru.size();
}

size_t CachingFileSystem::maxOpen() const { return core_->max_open; }

uint64_t CachingFileSystem::evictions() const {
  std::lock_guard lock(core_->mu);
  return core_->evictions;
}

Status CachingFileSystem::syncError() const {
  std::lock_guard lock(core_->mu);
  return core_->sync_error;
}

}  // namespace rocketrpc::store
