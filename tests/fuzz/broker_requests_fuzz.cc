// libFuzzer target for rocketrpc-broker's request handling: untrusted requests over a real TCP connection to an
// in-process broker (name server + broker, store in a temporary directory), as any client on the network could
// send them. Each input is a few requests (a code the broker handles or any code, header fields from the names
// its handlers read with small, boundary or arbitrary values, any body, JSON or binary headers, sometimes
// oneway) or raw bytes, written on one connection, followed by a sentinel request (GET_BROKER_RUNTIME_INFO) and,
// after raw bytes, the end of the stream. Checked on every input: the broker answers the sentinel on that
// connection, or closes it (a malformed frame, or a frame cut short by the end of the stream) and answers on a
// fresh one; i.e. no request crashes it, hangs its I/O, or stops it serving everyone else. Broker state (topics,
// messages, groups) carries over between inputs, as on a real broker; long-polling pulls may stay held until their
// connection closes. Once the state outgrows kMaxTopics topics or kMaxGroups groups the broker is shut down and a
// fresh one started (in a fresh directory): every input pays for encoding the whole state, so an ever-growing
// state would slow a long run down to a fraction of its speed, and the shutdown is exercised too.
// Names get special care (issue 10: a group "g\xff" once aborted the broker at the next offset persist): values
// are often a name with arbitrary bytes spliced in, binary headers carry them as they are, and before the
// sentinel check every persist path (consumer offsets, topics, subscription groups) runs and must succeed.
#include <arpa/inet.h>
#include <fuzzer/FuzzedDataProvider.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "broker/broker_config.h"
#include "broker/broker_context.h"
#include "broker/broker_server.h"
#include "rocketrpc/logging.h"
#include "namesrv/topic_config.h"
#include "remoting/frame_codec.h"
#include "remoting/remoting_command.h"

namespace {

using namespace rocketrpc;
using remoting::RemotingCommand;

constexpr int32_t kSentinelCode = 28;  // GET_BROKER_RUNTIME_INFO
constexpr int32_t kSentinelOpaque = 0x7ffffff0;
constexpr int kReplyTimeoutMs = 8000;  // below the smoke run's per-input -timeout=10
constexpr size_t kMaxTopics = 64;       // past these, the next input runs against a fresh broker
constexpr size_t kMaxGroups = 64;

// How many descriptors this process holds (the broker runs in it): names exhaustion when a connect fails.
std::string openDescriptors() {
  std::error_code ec;
  size_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::end(it);
       it.increment(ec))
    ++n;
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  return std::to_string(n) + " open descriptors, soft limit " + std::to_string(lim.rlim_cur);
}

// The broker's last log lines (warnings and above), printed with a failure: an input that breaks the broker for
// later inputs is rarely reproducible on its own, so the failure must say what the broker saw.
class RecentLogs {
 public:
  void add(LogLevel level, std::string_view module, std::string_view message) {
    if (level < LogLevel::kInfo) return;
    std::lock_guard<std::mutex> lock(mu_);
    lines_.push_back(std::string(module) + ": " + std::string(message.substr(0, 400)));
    if (lines_.size() > 40) lines_.pop_front();
  }
  std::string dump() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out;
    for (const auto& l : lines_) out += "  " + l + "\n";
    return out;
  }

 private:
  std::mutex mu_;
  std::deque<std::string> lines_;
};

RecentLogs& recentLogs() {
  static RecentLogs logs;
  return logs;
}

// Set by the broker once it runs: its non-zero counters and gauges (no histogram buckets).
std::function<std::string()> g_broker_state;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "broker_requests_fuzz: %s\n", what.c_str());
  if (g_broker_state) std::fprintf(stderr, "broker metrics (non-zero):\n%s", g_broker_state().c_str());
  std::fprintf(stderr, "broker's last log lines:\n%s", recentLogs().dump().c_str());
  __builtin_trap();
}

/// The broker under test; its store is removed when it is destroyed.
class Broker {
 public:
  explicit Broker(int generation) {
    dir_ = std::filesystem::temp_directory_path() /
           ("broker_requests_fuzz_" + std::to_string(::getpid()) + "_" + std::to_string(generation));
    std::filesystem::create_directories(dir_);
    broker::BrokerConfig config;
    config.listen_host = "127.0.0.1";
    config.broker_ip1 = "127.0.0.1";
    config.listen_port = 0;
    config.store_path_root_dir = dir_.string();
    config.disk_space_warning_level_ratio = 99;  // independent of how full the machine's disk is
    config.disk_max_used_space_ratio = 95;
    server_ = std::make_unique<broker::BrokerServer>(config);
    if (Status s = server_->start(); !s.isOk()) fail("broker did not start: " + s.toString());
    const std::string addr = server_->address();
    port_ = static_cast<uint16_t>(std::stoi(addr.substr(addr.rfind(':') + 1)));
    g_broker_state = [this] {
      std::string out;
      std::istringstream text(server_->metricsText());
      for (std::string line; std::getline(text, line);) {
        if (line.empty() || line[0] == '#' || line.find("_bucket") != std::string::npos) continue;
        const std::string value = line.substr(line.rfind(' ') + 1);
        if (value != "0" && value != "0.0") out += "  " + line + "\n";
      }
      return out;
    };
  }
  ~Broker() {
    g_broker_state = nullptr;
    server_->shutdown();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  uint16_t port() const { return port_; }
  /// True once the broker holds more topics or groups than a run should carry (known at the last persistAll).
  bool outgrown() const { return outgrown_; }
  /// Runs what the broker's timers and admin paths write: none may throw, and on a healthy disk none fails.
  /// The consumer offsets are written every call; the topic and subscription group documents are encoded and
  /// written (with their fsyncs) when their data version moved, and every 64th call regardless (encoding the
  /// whole table on every input would cost more than the input).
  void persistAll() {
    broker::BrokerContext& ctx = server_->context();
    if (Status s = ctx.store->persistConsumerOffsets(); !s.isOk()) fail("consumer offset persist: " + s.toString());
    const bool write_all = ++calls_ % 64 == 0;
    if (const namesrv::DataVersion v = ctx.topics->dataVersion(); write_all || !(v == topics_version_)) {
      const namesrv::TopicConfigWrapper topics = ctx.topics->snapshot();
      (void)namesrv::encodeTopicConfigWrapper(topics);  // the step that once threw on invalid UTF-8
      if (Status s = ctx.topics->persist(); !s.isOk()) fail("topic persist: " + s.toString());
      topics_version_ = v;
      outgrown_ = outgrown_ || topics.topic_config_table.size() > kMaxTopics;
    }
    if (const namesrv::DataVersion v = ctx.groups->dataVersion(); write_all || !(v == groups_version_)) {
      (void)ctx.groups->encodeAll();
      if (Status s = ctx.groups->persist(); !s.isOk()) fail("subscription group persist: " + s.toString());
      groups_version_ = v;
      outgrown_ = outgrown_ || ctx.groups->size() > kMaxGroups;
    }
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<broker::BrokerServer> server_;
  uint16_t port_ = 0;
  uint64_t calls_ = 0;
  namesrv::DataVersion topics_version_{-1, -1, -1};
  namesrv::DataVersion groups_version_{-1, -1, -1};
  bool outgrown_ = false;
};

std::unique_ptr<Broker>& brokerSlot() {
  static std::unique_ptr<Broker> b;  // the last one is shut down at exit
  return b;
}

Broker& theBroker() {
  static int generation = 0;
  std::unique_ptr<Broker>& b = brokerSlot();
  if (b != nullptr && b->outgrown()) b.reset();  // shut down (must not hang or crash), store removed
  if (b == nullptr) {
    b = std::make_unique<Broker>(generation++);
    if (std::getenv("BROKER_REQUESTS_FUZZ_VERBOSE") != nullptr) std::fprintf(stderr, "broker %d started\n", generation);
  }
  return *b;
}


class Socket {
 public:
  explicit Socket(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) fail("socket()");
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // libFuzzer's SIGALRM (its -timeout watchdog, every second) interrupts blocking calls: an interrupted
    // connect goes on in the background, so wait for it instead of failing.
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 && !(errno == EINTR && awaitConnected()))
      fail(std::string("connect to the broker failed: ") + std::strerror(errno) + "; " + openDescriptors());
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Socket() { ::close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  /// False when the peer closed the connection.
  bool writeAll(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  /// Half-closes: no more bytes from us (the broker sees end of stream).
  void finishWriting() { ::shutdown(fd_, SHUT_WR); }
  /// Reads frames until the sentinel's response: kAnswered, kClosed (the broker closed the connection), or a
  /// failure on timeout.
  enum class Outcome { kAnswered, kClosed };
  Outcome awaitSentinel() {
    std::string buf;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kReplyTimeoutMs);
    for (;;) {
      for (;;) {
        RemotingCommand cmd;
        auto r = remoting::decodeFrame(buf, 64 * 1024 * 1024, &cmd);
        if (r.state == remoting::DecodeState::kNeedMore) break;
        if (r.state == remoting::DecodeState::kCorrupt) fail("the broker sent a corrupt frame: " + r.error);
        if (cmd.isResponse() && cmd.opaque == kSentinelOpaque) return Outcome::kAnswered;
        buf.erase(0, r.consumed);
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) fail("no answer to the sentinel request within the timeout");
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[65536];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Outcome::kClosed;
      buf.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  /// After an interrupted connect: true once it completed (errno set to its error otherwise).
  bool awaitConnected() {
    pollfd p{fd_, POLLOUT, 0};
    int ready;
    do {
      ready = ::poll(&p, 1, kReplyTimeoutMs);
    } while (ready < 0 && errno == EINTR);
    if (ready <= 0) {
      errno = ready == 0 ? ETIMEDOUT : errno;
      return false;
    }
    int error = 0;
    socklen_t len = sizeof error;
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len) != 0) return false;
    errno = error;
    return error == 0;
  }

  int fd_;
};

std::string sentinelFrame() {
  RemotingCommand cmd = RemotingCommand::request(kSentinelCode);
  cmd.opaque = kSentinelOpaque;
  std::string out;
  if (!remoting::encodeFrame(cmd, &out)) fail("cannot encode the sentinel");
  return out;
}

constexpr int32_t kCodes[] = {10,  310, 320, 324, 325, 11,  361, 14,  15,  30,  31,  29,  32,  33,  34,  35,
                              38,  36,  41,  42,  17,  21,  215, 28,  300, 203, 200, 201, 207, 103, 104, 105,
                              106, 216, 9,   37,  40,  46,  47,  50,  52,  400, 500};
constexpr const char* kKeys[] = {
    "topic", "queueId", "consumerGroup", "queueOffset", "maxMsgNums", "sysFlag", "commitOffset",
    "suspendTimeoutMillis", "subscription", "subVersion", "expressionType", "producerGroup", "defaultTopic",
    "defaultTopicQueueNums", "bornTimestamp", "flag", "properties", "reconsumeTimes", "unitMode", "batch",
    "maxReconsumeTimes", "offset", "timestamp", "brokerName", "brokerAddr", "clusterName", "brokerId",
    "haServerAddr", "group", "clientID", "producerGroup", "originMsgId", "originTopic", "delayLevel",
    "readQueueNums", "writeQueueNums", "perm", "topicFilterType", "topicSysFlag", "order", "boundaryType",
    "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "compressed", "bodyCrc32"};

// A name that is almost right: a recurring name with arbitrary bytes (often not UTF-8) spliced in.
std::string hostileName(FuzzedDataProvider& in) {
  static constexpr const char* kBases[] = {"fuzz_topic_0", "fuzz_group_0", "%RETRY%fuzz_group_0", "TBW102",
                                           "SINGLE_TAG", "127.0.0.1@fuzz"};
  std::string name = kBases[in.ConsumeIntegralInRange<size_t>(0, std::size(kBases) - 1)];
  const std::string bytes = in.ConsumeRandomLengthString(8);
  name.insert(in.ConsumeIntegralInRange<size_t>(0, name.size()), bytes);
  return name;
}

std::string fieldValue(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 7)) {
    case 0:
      return std::to_string(in.ConsumeIntegralInRange(-2, 40));
    case 1:
      return std::to_string(in.ConsumeIntegral<int64_t>());
    case 2:
      return "fuzz_topic_" + std::to_string(in.ConsumeIntegralInRange(0, 3));  // a few names recur
    case 3:
      return "fuzz_group_" + std::to_string(in.ConsumeIntegralInRange(0, 3));
    case 4:
      return in.ConsumeBool() ? "TBW102" : "%RETRY%fuzz_group_0";
    case 5:
    case 6:
      return hostileName(in);
    default:
      return in.ConsumeRandomLengthString(48);
  }
}

std::string requestFrame(FuzzedDataProvider& in, int32_t opaque) {
  RemotingCommand cmd = RemotingCommand::request(
      in.ConsumeBool() ? kCodes[in.ConsumeIntegralInRange<size_t>(0, std::size(kCodes) - 1)]
                       : in.ConsumeIntegralInRange(-5, 1000));
  cmd.opaque = opaque;
  cmd.version = in.ConsumeBool() ? 399 : in.ConsumeIntegral<int16_t>();
  if (in.ConsumeIntegralInRange(0, 7) == 0) cmd.markOneway();
  if (in.ConsumeIntegralInRange(0, 7) == 0) cmd.flag |= remoting::kFlagResponse;  // a "response" to nothing
  cmd.serialize_type = in.ConsumeBool() ? remoting::SerializeType::kJson : remoting::SerializeType::kRocketMq;
  const int fields = in.ConsumeIntegralInRange(0, 10);
  for (int i = 0; i < fields; ++i) {
    const std::string key = in.ConsumeIntegralInRange(0, 15) == 0
                                ? in.ConsumeRandomLengthString(12)
                                : kKeys[in.ConsumeIntegralInRange<size_t>(0, std::size(kKeys) - 1)];
    cmd.set(key, fieldValue(in));
  }
  if (in.ConsumeBool()) cmd.remark = in.ConsumeRandomLengthString(16);
  cmd.body = in.ConsumeRandomLengthString(512);
  std::string out;
  if (!remoting::encodeFrame(cmd, &out)) {  // binary headers cannot carry everything: send it as JSON
    cmd.serialize_type = remoting::SerializeType::kJson;
    out.clear();
    if (!remoting::encodeFrame(cmd, &out)) fail("cannot encode a request");
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool logs_routed = [] {
    if (std::getenv("ROCKETRPC_LOG_LEVEL") == nullptr) {  // else: logs go to stderr, as asked
      setLogSink([](LogLevel level, std::string_view module, std::string_view message) {
        recentLogs().add(level, module, message);
      });
    }
    return true;
  }();
  (void)logs_routed;
  Broker& broker = theBroker();
  const uint16_t port = broker.port();
  FuzzedDataProvider in(data, size);
  std::string wire;
  bool raw = false;
  const int requests = in.ConsumeIntegralInRange(1, 6);
  for (int i = 0; i < requests; ++i) {
    if (in.ConsumeIntegralInRange(0, 9) == 0) {
      wire += in.ConsumeRandomLengthString(64);  // raw bytes: a frame the broker must refuse cleanly
      raw = true;
    } else {
      wire += requestFrame(in, i + 1);
    }
  }
  if (std::getenv("BROKER_REQUESTS_FUZZ_VERBOSE") != nullptr) {  // to read a failure: what was sent
    std::string hex;
    for (unsigned char c : wire) hex += "0123456789abcdef"[c >> 4], hex += "0123456789abcdef"[c & 15];
    std::fprintf(stderr, "wire (%zu bytes): %s\n", wire.size(), hex.c_str());
  }
  {
    Socket s(port);
    const bool written = s.writeAll(wire + sentinelFrame());
    // Raw bytes can start a frame whose length swallows the sentinel, and a broker rightly waits for the rest:
    // the end of the stream must then make it close the connection (or answer, if the framing held).
    if (raw) s.finishWriting();
    if (written && s.awaitSentinel() == Socket::Outcome::kAnswered) {
      broker.persistAll();  // the requests before the sentinel have all been processed
      return 0;
    }
  }
  // The input made the broker drop this connection; it must still serve a new one.
  Socket fresh(port);
  if (!fresh.writeAll(sentinelFrame()) || fresh.awaitSentinel() != Socket::Outcome::kAnswered)
    fail("the broker stopped serving after an input closed its connection");
  broker.persistAll();
  return 0;
}
