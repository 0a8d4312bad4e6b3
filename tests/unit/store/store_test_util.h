// Helpers for the store tests: messages, a scratch directory, a fake clock, decoding pull bodies.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "remoting/protocol/message_codec.h"
#include "rocketrpc/message.h"
#include "store/message_store.h"

namespace rocketrpc::store::testing {

inline MessageExt makeMessage(const std::string& topic, int32_t queue_id, std::string body,
                              const std::string& tags = "") {
  MessageExt msg;
  msg.setTopic(topic);
  msg.setQueueId(queue_id);
  msg.setBody(std::move(body));
  if (!tags.empty()) msg.setTags(tags);
  msg.putProperty(property::kKeys, "k");
  msg.setBornHost("10.0.0.1:4321");
  msg.setBornTimestamp(1700000000000);
  return msg;
}

/// A fresh directory under the system temp dir, removed at destruction.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = (std::filesystem::temp_directory_path() / ("rocketrpc_store_" + std::to_string(::getpid()) + "_" +
                                                       info->test_suite_name() + "_" + info->name()))
                .string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// Manually advanced clock (ms).
class FakeClock {
 public:
  explicit FakeClock(int64_t start = 1700000000000) : now_(start) {}
  int64_t now() const { return now_.load(); }
  void advance(int64_t ms) { now_ += ms; }
  std::function<int64_t()> fn() {
    return [this] { return now(); };
  }

 private:
  std::atomic<int64_t> now_;
};

/// Options for tests: small files, no background thread.
inline MessageStoreOptions smallOptions(const std::string& root) {
  MessageStoreOptions o;
  o.root_dir = root;
  o.commit_log_segment_size = 64 * 1024;
  o.consume_queue_entries_per_file = 64;
  o.flush_interval = std::chrono::milliseconds(0);
  // Independent of how full the machine's disk is (store_faults_test covers both ratios).
  o.disk_full_ratio = 1.0;
  o.disk_max_used_ratio = 1.0;
  return o;
}

inline std::vector<MessageExt> decodeAll(const std::string& data) {
  auto msgs = remoting::decodeStoredMessages(data, false);
  EXPECT_TRUE(msgs.isOk()) << msgs.status().toString();
  return msgs ? *msgs : std::vector<MessageExt>{};
}

/// Every message of a queue, read through getMessages.
inline std::vector<MessageExt> readQueue(MessageStore& store, const std::string& topic, int32_t queue_id) {
  std::vector<MessageExt> out;
  int64_t offset = store.minOffset(topic, queue_id);
  while (offset < store.maxOffset(topic, queue_id)) {
    auto r = store.getMessages(topic, queue_id, offset, 32, 1 << 20);
    EXPECT_TRUE(r.isOk());
    if (!r || r->next_begin_offset <= offset) break;
    for (auto& m : decodeAll(r->data)) out.push_back(std::move(m));
    offset = r->next_begin_offset;
  }
  return out;
}

}  // namespace rocketrpc::store::testing
