// rocketrpc-broker's connection memory bounds (issue 10 item 2; docs/design/broker.md "Limits"): the binary on
// 127.0.0.1 with a temporary store, raw sockets that announce huge frames and never send them, or send requests
// and never read the answers. The peak RSS of the broker process (VmHWM) over its idle RSS stays within the
// configured caps plus 64 MiB, and another client keeps being served. CTest labels: integration, fault.
#include <gtest/gtest.h>

#include <asio.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "remoting/frame_codec.h"
#include "remoting/protocol/codes.h"
#include "remoting/transport.h"
#include "support/subprocess.h"
#include "support/test_broker.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using asio::ip::tcp;

// Under ASan (its quarantine keeps freed blocks, 256 MiB by default) or TSan (shadow memory) a process's RSS says
// nothing about its own allocations: the sanitizer stages check the behaviour (connections kept or closed, others
// served) and leave the RSS bounds to the plain build. The broker under test is built like this test.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kRssIsMeaningful = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kRssIsMeaningful = false;
#else
constexpr bool kRssIsMeaningful = true;
#endif
#else
constexpr bool kRssIsMeaningful = true;
#endif
using remoting::RemotingCommand;

using remoting::request_code::kGetBrokerRuntimeInfo;
constexpr int64_t kMiB = 1024 * 1024;

class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_(std::filesystem::temp_directory_path() / testing::uniqueName(name)) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

/// A field of /proc/<pid>/status in bytes ("VmRSS", "VmHWM"), -1 if unreadable.
int64_t procStatusBytes(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1)) * 1024;  // kB
  }
  return -1;
}

// The broker answers another client: a GET_MAX_OFFSET (answered on the I/O thread, so neither the runtime-info
// requests queued for the worker pool nor their SYSTEM_BUSY [OVERLOAD] refusals make this wait or fail).
bool serves(remoting::RemotingClient& client, const std::string& addr) {
  RemotingCommand req = RemotingCommand::request(remoting::request_code::kGetMaxOffset);
  req.ext_fields["topic"] = "TBW102";
  req.ext_fields["queueId"] = "0";
  // 30 s: under ASan, with 50 connections' worth of frames being read and another test beside it, the answer
  // once took longer than 10 s (CI of bd63255); the point is that it comes, not how fast.
  auto r = client.invokeSync(addr, req, 30s);
  return r.isOk() && r->code == remoting::response_code::kSuccess;
}

tcp::endpoint endpointOf(const std::string& addr) {
  auto colon = addr.rfind(':');
  return tcp::endpoint(asio::ip::make_address(addr.substr(0, colon)),
                       static_cast<uint16_t>(std::stoi(addr.substr(colon + 1))));
}

class BrokerMemoryTest : public ::testing::Test {
 protected:
  void start(std::vector<std::string> extra) {
    std::vector<std::string> args = {"--port", "0", "--store", dir_.str()};
    args.insert(args.end(), extra.begin(), extra.end());
    broker_ = testing::startBrokerBinary(args, &addr_);
    ASSERT_NE(broker_, nullptr);
    ASSERT_TRUE(serves(client_, addr_));
    idle_rss_ = procStatusBytes(broker_->pid(), "VmRSS");
    ASSERT_GT(idle_rss_, 0);
  }
  /// Peak RSS of the broker so far, over its idle RSS (also recorded in the test's XML output).
  int64_t peakGrowth() {
    const int64_t growth = procStatusBytes(broker_->pid(), "VmHWM") - idle_rss_;
    RecordProperty("peak_rss_growth_kib", std::to_string(growth / 1024));
    return growth;
  }

  TempDir dir_{"broker_memory"};
  std::unique_ptr<testing::Subprocess> broker_;
  std::string addr_;
  int64_t idle_rss_ = 0;
  remoting::RemotingClient client_;
  asio::io_context io_;
};

TEST_F(BrokerMemoryTest, TwoHundredPrefixesOfMaxSizeFramesCostNoMoreThanTheBytesThatArrived) {
  start({});
  // 200 connections each announce a 16 MiB frame (3.2 GiB in all) and send its first 8 bytes.
  std::string prefix(8, '\0');
  const uint32_t length = 16 * 1024 * 1024 - 4;
  for (int i = 0; i < 4; ++i) prefix[i] = static_cast<char>((length >> (24 - 8 * i)) & 0xff);
  prefix[6] = 0x01;  // header length 256
  std::vector<tcp::socket> sockets;
  for (int i = 0; i < 200; ++i) {
    sockets.emplace_back(io_);
    sockets.back().connect(endpointOf(addr_));
    asio::write(sockets.back(), asio::buffer(prefix));
  }
  EXPECT_TRUE(serves(client_, addr_));
  std::this_thread::sleep_for(500ms);  // let every loop take its prefixes in (the bound holds at any time)
  EXPECT_TRUE(serves(client_, addr_));
  if (kRssIsMeaningful) EXPECT_LT(peakGrowth(), 64 * kMiB) << "idle RSS " << idle_rss_;
  // The prefixes are still held (nothing closed them): the bound is not a side effect of closing.
  for (auto& s : sockets) {
    s.non_blocking(true);
    char c;
    std::error_code ec;
    s.read_some(asio::buffer(&c, 1), ec);
    EXPECT_EQ(ec, asio::error::would_block) << ec.message();
  }
}

TEST_F(BrokerMemoryTest, FiftyClientsThatNeverReadStayWithinTheWriteQueueCaps) {
  constexpr int kClients = 50;
  constexpr int64_t kCap = 1 * kMiB;
  start({"--set", "maxWriteQueueBytesPerConnection=" + std::to_string(kCap), "--set",
         "writeStallTimeoutMillis=2000"});
  // Pipelined requests (each answered with a runtime-info table several times its size); never read.
  std::string batch;
  for (int i = 0; i < 256; ++i) {
    RemotingCommand req = RemotingCommand::request(kGetBrokerRuntimeInfo);
    req.opaque = i;
    ASSERT_TRUE(remoting::encodeFrame(req, &batch).isOk());
  }
  std::vector<tcp::socket> sockets;
  for (int i = 0; i < kClients; ++i) {
    sockets.emplace_back(io_);
    sockets.back().connect(endpointOf(addr_));
    sockets.back().non_blocking(true);
  }
  // Each client writes up to 16 MiB of requests (hundreds of MiB of answers), as fast as the broker reads.
  std::vector<int64_t> sent(kClients, 0);
  std::vector<bool> done(kClients, false);
  auto last_progress = std::chrono::steady_clock::now();
  const auto give_up = last_progress + 60s;
  while (std::chrono::steady_clock::now() < give_up &&
         std::chrono::steady_clock::now() - last_progress < 3s) {
    bool all_done = true;
    for (int i = 0; i < kClients; ++i) {
      if (done[i]) continue;
      all_done = false;
      std::error_code ec;
      // Resumes where the last write stopped: a frame cut in two must not be followed by the batch's start.
      const size_t at = static_cast<size_t>(sent[i]) % batch.size();
      size_t n = sockets[i].write_some(asio::buffer(batch.data() + at, batch.size() - at), ec);
      if (ec == asio::error::would_block) continue;
      if (ec) {
        done[i] = true;  // closed by the broker
        continue;
      }
      sent[i] += static_cast<int64_t>(n);
      last_progress = std::chrono::steady_clock::now();
      if (sent[i] >= 16 * kMiB) done[i] = true;
    }
    if (all_done) break;
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(serves(client_, addr_));
  // Twice the cap per connection at most (the broker stops reading at the cap), plus 64 MiB.
  if (kRssIsMeaningful) {
    EXPECT_LT(peakGrowth(), 2 * kCap * kClients + 64 * kMiB) << "idle RSS " << idle_rss_;
  }
  // Stalled over the cap: the broker closes them (writeStallTimeoutMillis), and still serves others.
  for (auto& s : sockets) s.non_blocking(false);
  EXPECT_TRUE(serves(client_, addr_));
}

// Both at once (issue 10 item 5): 200 connections holding frame prefixes and 50 clients that never read. The
// broker's RSS stays under its configured caps (maxReceivingBytes, twice maxWriteQueueBytesPerConnection per
// client) + 64 MiB, and another client is served throughout.
TEST_F(BrokerMemoryTest, PrefixesAndClientsThatNeverReadTogetherStayWithinTheCaps) {
  constexpr int kPrefixes = 200;
  constexpr int kClients = 50;
  constexpr int64_t kReceiving = 32 * kMiB;
  constexpr int64_t kCap = 1 * kMiB;
  start({"--set", "maxReceivingBytes=" + std::to_string(kReceiving), "--set",
         "maxWriteQueueBytesPerConnection=" + std::to_string(kCap), "--set", "writeStallTimeoutMillis=2000"});
  std::string prefix(8, '\0');
  const uint32_t length = 16 * 1024 * 1024 - 4;
  for (int i = 0; i < 4; ++i) prefix[i] = static_cast<char>((length >> (24 - 8 * i)) & 0xff);
  prefix[6] = 0x01;  // header length 256
  std::vector<tcp::socket> held;
  for (int i = 0; i < kPrefixes; ++i) {
    held.emplace_back(io_);
    held.back().connect(endpointOf(addr_));
    asio::write(held.back(), asio::buffer(prefix));
  }
  std::string batch;
  for (int i = 0; i < 256; ++i) {
    RemotingCommand req = RemotingCommand::request(kGetBrokerRuntimeInfo);
    req.opaque = i;
    ASSERT_TRUE(remoting::encodeFrame(req, &batch).isOk());
  }
  std::vector<tcp::socket> readers_never;
  for (int i = 0; i < kClients; ++i) {
    readers_never.emplace_back(io_);
    readers_never.back().connect(endpointOf(addr_));
    readers_never.back().non_blocking(true);
  }
  std::vector<int64_t> sent(kClients, 0);
  std::vector<bool> done(kClients, false);
  int served = 0;
  int checks = 0;
  auto last_progress = std::chrono::steady_clock::now();
  auto next_check = last_progress;
  const auto give_up = last_progress + 60s;
  while (std::chrono::steady_clock::now() < give_up && std::chrono::steady_clock::now() - last_progress < 3s) {
    bool all_done = true;
    for (int i = 0; i < kClients; ++i) {
      if (done[i]) continue;
      all_done = false;
      std::error_code ec;
      const size_t at = static_cast<size_t>(sent[i]) % batch.size();  // resumes mid-frame, as above
      size_t n = readers_never[i].write_some(asio::buffer(batch.data() + at, batch.size() - at), ec);
      if (ec == asio::error::would_block) continue;
      if (ec) {
        done[i] = true;
        continue;
      }
      sent[i] += static_cast<int64_t>(n);
      last_progress = std::chrono::steady_clock::now();
      if (sent[i] >= 16 * kMiB) done[i] = true;
    }
    if (std::chrono::steady_clock::now() >= next_check) {  // another client, served while all this goes on
      ++checks;
      served += serves(client_, addr_) ? 1 : 0;
      next_check = std::chrono::steady_clock::now() + 500ms;
    }
    if (all_done) break;
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(served, checks) << "another client went unserved";
  EXPECT_TRUE(serves(client_, addr_));
  if (kRssIsMeaningful) {
    EXPECT_LT(peakGrowth(), kReceiving + 2 * kCap * kClients + 64 * kMiB) << "idle RSS " << idle_rss_;
  }
  // The prefixes are still held: the bound is not a side effect of closing them.
  int still_open = 0;
  for (auto& s : held) {
    s.non_blocking(true);
    char c;
    std::error_code ec;
    s.read_some(asio::buffer(&c, 1), ec);
    still_open += ec == asio::error::would_block ? 1 : 0;
  }
  EXPECT_EQ(still_open, kPrefixes);
}

}  // namespace
}  // namespace rocketrpc
