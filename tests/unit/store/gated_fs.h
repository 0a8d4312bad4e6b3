// GatedFs: the POSIX file system with a gate in front of commit-log writes (or reads). While the gate is closed a
// thread writing (reading) a commit-log file waits inside the call, so a test knows what is held and what queues
// behind it without depending on how fast anything runs. Used by the store's put-queue tests (the appender held
// inside a write) and the broker's overload test (the only worker held inside a read).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "store/file_system.h"

namespace rocketrpc::store::testing {

class GatedFs final : public ForwardingFileSystem {
 public:
  enum class Gate { kWrites, kReads };

  explicit GatedFs(Gate gate) : ForwardingFileSystem(posixFileSystem()), gate_(gate) {}

  void closeGate() {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  void openGate() {
    {
      std::lock_guard lock(mu_);
      closed_ = false;
    }
    cv_.notify_all();
  }
  /// Waits until a thread is held at the closed gate. False, with the gate opened again, if none comes within a
  /// minute (the call was refused before reaching the file): the test fails instead of hanging.
  bool awaitHeld() {
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, std::chrono::minutes(1), [&] { return held_ > 0; })) return true;
    closed_ = false;
    return false;
  }
  /// The threads that passed the gate (open or closed), in order.
  std::vector<std::thread::id> passed() {
    std::lock_guard lock(mu_);
    return passed_;
  }

  Result<std::unique_ptr<File>> open(const std::string& path) override {
    auto file = base()->open(path);
    if (!file || path.find("/commitlog/") == std::string::npos) return file;
    return std::unique_ptr<File>(std::make_unique<GatedFile>(this, std::move(*file)));
  }

 private:
  class GatedFile final : public File {
   public:
    GatedFile(GatedFs* fs, std::unique_ptr<File> base) : fs_(fs), base_(std::move(base)) {}
    Status write(int64_t offset, std::string_view data) override {
      if (fs_->gate_ == Gate::kWrites) fs_->pass();
      return base_->write(offset, data);
    }
    Status read(int64_t offset, size_t n, std::string* out) const override {
      if (fs_->gate_ == Gate::kReads) fs_->pass();
      return base_->read(offset, n, out);
    }
    Status sync() override { return base_->sync(); }
    Status truncate(int64_t size) override { return base_->truncate(size); }
    Result<int64_t> size() const override { return base_->size(); }

   private:
    GatedFs* fs_;
    std::unique_ptr<File> base_;
  };

  void pass() {
    std::unique_lock lock(mu_);
    passed_.push_back(std::this_thread::get_id());
    ++held_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !closed_; });
    --held_;
  }

  const Gate gate_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  int held_ = 0;
  std::vector<std::thread::id> passed_;
};

}  // namespace rocketrpc::store::testing
