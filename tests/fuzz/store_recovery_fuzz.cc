// libFuzzer target for rocketrpc-broker's store recovery (src/store): the bytes it reads back from disk at
// start-up (commit-log segments, consume-queue files, the checkpoint, the consumer-offset table) are untrusted
// once a disk, a crash or an operator has damaged them.
//
// A valid store (three queues, messages across several commit-log segments, offsets committed, checkpoint
// written) is built once in memory; each input is a list of damages to its files (overwrite bytes, truncate,
// extend with bytes, delete), applied to a fresh in-memory copy, which is then opened. Checked on every input:
// nothing crashes, over-reads or allocates beyond the files' size; open() either fails with a status or gives
// a store that serves every queue without error and whose served records all decode; that store accepts a new
// message, serves it back unchanged at the end of its queue, and closes cleanly.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../unit/store/fault_injection_fs.h"
#include "fuzz_support.h"
#include "remoting/protocol/message_codec.h"
#include "store/message_store.h"

namespace {

using namespace rocketrpc;
using rocketrpc::store::testing::FaultInjectionFs;

constexpr const char* kRoot = "/store";
constexpr int kQueues = 3;
constexpr int64_t kNow = 1'700'000'000'000;

store::MessageStoreOptions options(std::shared_ptr<FaultInjectionFs> fs) {
  store::MessageStoreOptions o;
  o.root_dir = kRoot;
  o.fs = std::move(fs);
  o.commit_log_segment_size = 4096;
  o.consume_queue_entries_per_file = 8;
  o.max_message_size = 2048;
  o.flush_interval = std::chrono::milliseconds(0);
  o.clock = [] { return kNow; };
  return o;
}

MessageExt message(int32_t queue_id, std::string body) {
  MessageExt m;
  m.setTopic("T");
  m.setQueueId(queue_id);
  m.setBody(std::move(body));
  m.setTags("tag");
  m.putProperty(property::kKeys, "k");
  m.setBornHost("10.0.0.1:4321");
  m.setBornTimestamp(kNow);
  return m;
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "store_recovery_fuzz: %s\n", what.c_str());
  __builtin_trap();
}

/// Every file under `dir` (recursively) with its content.
void collect(FaultInjectionFs& fs, const std::string& dir, std::vector<std::pair<std::string, std::string>>* out) {
  auto names = fs.list(dir);
  if (!names) return;
  for (const auto& name : *names) {
    const std::string path = dir + "/" + name;
    auto children = fs.list(path);
    if (children && !children->empty()) {
      collect(fs, path, out);
      continue;
    }
    auto file = fs.open(path);
    if (!file) continue;
    auto size = (*file)->size();
    std::string content;
    if (size && (*file)->read(0, static_cast<size_t>(*size), &content)) out->emplace_back(path, content);
  }
}

/// The files of the valid store every input starts from.
const std::vector<std::pair<std::string, std::string>>& goldenFiles() {
  static const auto files = [] {
    auto fs = std::make_shared<FaultInjectionFs>();
    auto s = store::MessageStore::open(options(fs));
    if (!s) __builtin_trap();
    for (int i = 0; i < 60; ++i) {
      if (!(*s)->putMessage(message(i % kQueues, std::string(40 + (i * 37) % 300, static_cast<char>('a' + i % 26)))))
        __builtin_trap();
    }
    (*s)->consumerOffsets().set("G", "T", 0, 5);
    (*s)->consumerOffsets().set("G", "T", 1, 3);
    if (!(*s)->close()) __builtin_trap();
    std::vector<std::pair<std::string, std::string>> out;
    collect(*fs, kRoot, &out);
    if (out.size() < 5) __builtin_trap();
    return out;
  }();
  return files;
}

/// Applies the input's damages; with STORE_RECOVERY_FUZZ_VERBOSE set, lists them on stderr (to read a crash).
void damage(FuzzedDataProvider& in, std::vector<std::pair<std::string, std::string>>* files) {
  static const bool verbose = std::getenv("STORE_RECOVERY_FUZZ_VERBOSE") != nullptr;
  const int ops = in.ConsumeIntegralInRange(1, 6);
  for (int i = 0; i < ops && !files->empty(); ++i) {
    auto& [path, content] = (*files)[in.ConsumeIntegralInRange<size_t>(0, files->size() - 1)];
    const int op = in.ConsumeIntegralInRange(0, 3);
    const size_t before = content.size();
    const std::string name = path;
    switch (op) {
      case 0: {  // overwrite bytes in place
        const size_t at = in.ConsumeIntegralInRange<size_t>(0, content.size());
        std::string bytes = in.ConsumeRandomLengthString(16);
        content.replace(at, std::min(bytes.size(), content.size() - at), bytes);
        break;
      }
      case 1:  // truncate (a torn write, a lost page)
        content.resize(in.ConsumeIntegralInRange<size_t>(0, content.size()));
        break;
      case 2:  // extend with garbage
        content += in.ConsumeRandomLengthString(64);
        break;
      case 3:  // lose the file
        content.clear();
        path += ".gone";
        break;
    }
    if (verbose) std::fprintf(stderr, "damage %d to %s: %zu -> %zu bytes\n", op, name.c_str(), before, content.size());
  }
}

void serveAll(store::MessageStore& s) {
  for (int q = 0; q < kQueues; ++q) {
    int64_t offset = s.minOffset("T", q);
    const int64_t max = s.maxOffset("T", q);
    while (offset < max) {
      auto got = s.getMessages("T", q, offset, 32, 1 << 20);
      // A recovered store serves what it kept, or nothing, but no error.
      if (!got) fail("queue " + std::to_string(q) + " offset " + std::to_string(offset) + ": " + got.status().toString());
      if (got->status == store::GetMessageStatus::kFound) {
        auto msgs = remoting::decodeStoredMessages(got->data, false);
        if (!msgs) fail("queue " + std::to_string(q) + " offset " + std::to_string(offset) + ": " + msgs.status().toString());
        if (static_cast<int32_t>(msgs->size()) != got->message_count) fail("message count");
      }
      if (got->next_begin_offset <= offset) break;
      offset = got->next_begin_offset;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quietLogs();
  FuzzedDataProvider in(data, size);
  auto files = goldenFiles();
  damage(in, &files);

  auto fs = std::make_shared<FaultInjectionFs>();
  for (const auto& [path, content] : files) {
    if (path.size() > 5 && path.compare(path.size() - 5, 5, ".gone") == 0) continue;
    if (!fs->createDirs(path.substr(0, path.rfind('/')))) __builtin_trap();
    auto file = fs->open(path);
    if (!file || !(*file)->write(0, content) || !(*file)->sync()) __builtin_trap();
  }

  auto opened = store::MessageStore::open(options(fs));
  if (!opened) return 0;  // refusing a damaged store with a clear status is allowed
  store::MessageStore& s = **opened;
  serveAll(s);

  const int32_t q = in.ConsumeIntegralInRange(0, kQueues - 1);
  const std::string body = "after recovery";
  auto put = s.putMessage(message(q, body));
  if (!put) __builtin_trap();
  auto got = s.getMessages("T", q, put->queue_offset, 1, 1 << 20);
  if (!got || got->status != store::GetMessageStatus::kFound) __builtin_trap();
  auto msgs = remoting::decodeStoredMessages(got->data, false);
  if (!msgs || msgs->size() != 1 || (*msgs)[0].body() != body) __builtin_trap();
  if (!s.close()) __builtin_trap();
  return 0;
}
