// RemotingClient / RemotingServer over a real TCP pair on 127.0.0.1, plus a scripted raw peer for misbehaviour.
#include "remoting/transport.h"

#include <gtest/gtest.h>

#include <asio.hpp>
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "common/batch_scope.h"
#include "common/log.h"
#include "remoting/frame_codec.h"
#include "remoting/protocol/codes.h"
#include "support/test_support.h"

namespace rocketrpc::remoting {
namespace {

using namespace std::chrono_literals;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr int32_t kEchoCode = 100;
constexpr int32_t kSilentCode = 101;  // the server never answers
constexpr int32_t kThrowCode = 102;

/// Collects call results; waits on a condition variable, not on sleeps. Thread-safe.
class Results {
 public:
  ResponseCallback callback() {
    return [this](Result<RemotingCommand> r) { add(std::move(r)); };
  }
  void add(Result<RemotingCommand> r) {
    std::lock_guard<std::mutex> lock(mu_);
    results_.push_back(std::move(r));
    cv_.notify_all();
  }
  bool waitFor(size_t n, std::chrono::milliseconds timeout = 20s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return results_.size() >= n; });
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return results_.size();
  }
  std::vector<Result<RemotingCommand>> take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(results_);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Result<RemotingCommand>> results_;
};

/// Captures library log lines while alive.
class LogCapture {
 public:
  LogCapture() {
    setLogSink([this](LogLevel level, std::string_view, std::string_view message) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.emplace_back(level, std::string(message));
    });
  }
  ~LogCapture() { setLogSink({}); }
  bool contains(LogLevel level, std::string_view text) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [l, line] : lines_) {
      if (l == level && line.find(text) != std::string::npos) return true;
    }
    return false;
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<LogLevel, std::string>> lines_;
};

// ---- raw socket helpers -------------------------------------------------------------------------------------

RemotingCommand readFrame(tcp::socket& socket) {
  std::string buf(4, '\0');
  asio::read(socket, asio::buffer(buf));
  uint32_t length = (uint32_t(uint8_t(buf[0])) << 24) | (uint32_t(uint8_t(buf[1])) << 16) |
                    (uint32_t(uint8_t(buf[2])) << 8) | uint32_t(uint8_t(buf[3]));
  buf.resize(4 + length);
  asio::read(socket, asio::buffer(buf.data() + 4, length));
  RemotingCommand cmd;
  auto r = decodeFrame(buf, kDefaultMaxFrameBytes, &cmd);
  if (r.state != DecodeState::kComplete) throw std::runtime_error("bad frame from peer under test: " + r.error);
  return cmd;
}

void writeCommand(tcp::socket& socket, const RemotingCommand& cmd) {
  std::string frame;
  if (!encodeFrame(cmd, &frame).isOk()) throw std::runtime_error("encode failed");
  asio::write(socket, asio::buffer(frame));
}

/// Reads until the peer closes; true if it did within the socket's lifetime (blocking).
bool readUntilEof(tcp::socket& socket) {
  char buf[256];
  std::error_code ec;
  while (!ec) socket.read_some(asio::buffer(buf), ec);
  return ec == asio::error::eof || ec == asio::error::connection_reset;
}

/// A scripted peer: accepts connections on 127.0.0.1 one after another and runs one script per connection on
/// its own thread (blocking asio).
class RawServer {
 public:
  using Script = std::function<void(tcp::socket&)>;
  explicit RawServer(std::vector<Script> scripts)
      : acceptor_(ctx_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        port_(acceptor_.local_endpoint().port()) {
    thread_ = std::thread([this, scripts = std::move(scripts)] {
      for (const auto& script : scripts) {
        try {
          tcp::socket socket(ctx_);
          acceptor_.accept(socket);
          script(socket);
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> lock(mu_);
          errors_.push_back(e.what());
        }
      }
      done_ = true;
    });
  }
  ~RawServer() {
    // Unblock a script still waiting in accept() (a failed test) by connecting dummies.
    while (!done_) {
      asio::io_context ctx;
      tcp::socket dummy(ctx);
      std::error_code ec;
      dummy.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
      dummy.close(ec);
      std::this_thread::sleep_for(10ms);
    }
    thread_.join();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> errors() {
    std::lock_guard<std::mutex> lock(mu_);
    return errors_;
  }

 private:
  asio::io_context ctx_;
  tcp::acceptor acceptor_;
  uint16_t port_;
  std::atomic<bool> done_{false};
  std::mutex mu_;
  std::vector<std::string> errors_;
  std::thread thread_;
};

// ---- fixture ------------------------------------------------------------------------------------------------

class TransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TransportOptions options;
    options.name = "test-server";
    options.io_threads = 2;
    options.max_frame_bytes = server_max_frame_;
    server_ = std::make_unique<RemotingServer>(options);
    server_->registerHandler(kEchoCode, [this](RemotingCommand req, Responder responder) {
      echo_calls_++;
      {
        std::lock_guard<std::mutex> lock(mu_);
        client_addresses_.insert(responder.remoteAddress());
      }
      auto resp = RemotingCommand::responseTo(req, response_code::kSuccess);
      resp.body = req.body;
      resp.ext_fields = req.ext_fields;
      responder.respond(std::move(resp));
    });
    server_->registerHandler(kSilentCode, [this](RemotingCommand, Responder responder) {
      std::lock_guard<std::mutex> lock(mu_);
      silent_.push_back(std::move(responder));
    });
    server_->registerHandler(kThrowCode, [](RemotingCommand, Responder) -> void {
      throw std::runtime_error("handler exploded");
    });
    ASSERT_TRUE(server_->start("127.0.0.1", 0).isOk());
    ASSERT_NE(server_->port(), 0);
    addr_ = "127.0.0.1:" + std::to_string(server_->port());
  }

  void TearDown() override { server_->shutdown(); }

  static TransportOptions clientOptions(int io_threads = 1) {
    TransportOptions options;
    options.name = "test-client";
    options.io_threads = io_threads;
    return options;
  }

  static RemotingCommand echoRequest(std::string body = "hello") {
    RemotingCommand req = RemotingCommand::request(kEchoCode);
    req.body = std::move(body);
    return req;
  }

  size_t silentCount() {
    std::lock_guard<std::mutex> lock(mu_);
    return silent_.size();
  }

  size_t server_max_frame_ = kDefaultMaxFrameBytes;
  std::unique_ptr<RemotingServer> server_;
  std::string addr_;
  std::atomic<int> echo_calls_{0};
  std::mutex mu_;
  std::set<std::string> client_addresses_;
  std::vector<Responder> silent_;
  std::vector<std::string> closed_;  // guarded by mu_
  std::atomic<int> closes_{0};
};

// ---- happy paths --------------------------------------------------------------------------------------------

TEST_F(TransportTest, RequestResponseRoundTrip) {
  RemotingClient client(clientOptions());
  client.start();
  RemotingCommand req = echoRequest("ping");
  req.set("topic", "T");
  auto resp = client.invokeSync(addr_, req, 3s);
  ASSERT_TRUE(resp.isOk()) << resp.status().toString();
  EXPECT_EQ(resp->code, response_code::kSuccess);
  EXPECT_TRUE(resp->isResponse());
  EXPECT_EQ(resp->body, "ping");
  EXPECT_EQ(*resp->get("topic"), "T");
  EXPECT_EQ(client.pendingCount(), 0u);
}

TEST_F(TransportTest, BinaryHeaderRequestIsServed) {
  RemotingClient client(clientOptions());
  RemotingCommand req = echoRequest("bin");
  req.serialize_type = SerializeType::kRocketMq;
  auto resp = client.invokeSync(addr_, req, 3s);  // no explicit start(): the first call starts the client
  ASSERT_TRUE(resp.isOk()) << resp.status().toString();
  EXPECT_EQ(resp->body, "bin");
}

TEST_F(TransportTest, BinaryPreferenceSendsBinaryHeadersAndTheAnswerMirrorsThem) {
  TransportOptions options = clientOptions();
  options.request_serialize_type = SerializeType::kRocketMq;
  RemotingClient binary_client(options);
  auto resp = binary_client.invokeSync(addr_, echoRequest("bin"), 3s);  // built as JSON, sent binary
  ASSERT_TRUE(resp.isOk()) << resp.status().toString();
  EXPECT_EQ(resp->serialize_type, SerializeType::kRocketMq);  // responseTo() answers in the request's type
  EXPECT_EQ(resp->body, "bin");
  RemotingClient json_client(clientOptions());
  auto json = json_client.invokeSync(addr_, echoRequest("json"), 3s);
  ASSERT_TRUE(json.isOk()) << json.status().toString();
  EXPECT_EQ(json->serialize_type, SerializeType::kJson);
  EXPECT_EQ(json->body, "json");
}

TEST_F(TransportTest, BinaryPreferenceFallsBackToJsonForCodesBeyondInt16) {
  TransportOptions options = clientOptions();
  options.request_serialize_type = SerializeType::kRocketMq;
  RemotingClient client(options);
  auto resp = client.invokeSync(addr_, RemotingCommand::request(200050), 3s);  // POP code: no handler
  ASSERT_TRUE(resp.isOk()) << resp.status().toString();
  EXPECT_EQ(resp->code, response_code::kRequestCodeNotSupported);
  EXPECT_EQ(resp->serialize_type, SerializeType::kJson);
}

TEST_F(TransportTest, ThousandAsyncCallsInFlightCompleteExactlyOnce) {
  constexpr int kCalls = 1000;
  // The server answers from another thread, exercising Responder's cross-thread path.
  std::mutex queue_mu;
  std::condition_variable queue_cv;
  std::vector<std::pair<RemotingCommand, Responder>> queue;
  bool stop = false;
  std::thread answerer([&] {
    std::unique_lock<std::mutex> lock(queue_mu);
    for (;;) {
      queue_cv.wait(lock, [&] { return stop || !queue.empty(); });
      if (queue.empty() && stop) return;
      auto batch = std::move(queue);
      queue.clear();
      lock.unlock();
      for (auto& [req, responder] : batch) {
        auto resp = RemotingCommand::responseTo(req, response_code::kSuccess);
        resp.body = req.body;
        responder.respond(std::move(resp));
      }
      lock.lock();
    }
  });
  server_->registerHandler(200, [&](RemotingCommand req, Responder responder) {
    std::lock_guard<std::mutex> lock(queue_mu);
    queue.emplace_back(std::move(req), std::move(responder));
    queue_cv.notify_one();
  });

  std::vector<std::atomic<int>> completions(kCalls);
  std::atomic<int> ok{0};
  std::atomic<int> done{0};
  std::mutex done_mu;
  std::condition_variable done_cv;
  {
    RemotingClient client(clientOptions(2));
    client.start();
    for (int i = 0; i < kCalls; ++i) {
      RemotingCommand req = RemotingCommand::request(200);
      req.body = std::to_string(i);
      client.invokeAsync(addr_, std::move(req), 20s, [&, i](Result<RemotingCommand> r) {
        completions[i]++;
        if (r.isOk() && r->body == std::to_string(i)) ok++;
        if (++done == kCalls) {
          std::lock_guard<std::mutex> lock(done_mu);
          done_cv.notify_all();
        }
      });
    }
    std::unique_lock<std::mutex> lock(done_mu);
    ASSERT_TRUE(done_cv.wait_for(lock, 30s, [&] { return done.load() == kCalls; }));
    lock.unlock();
    EXPECT_EQ(client.pendingCount(), 0u);
    client.shutdown();  // no callback may run after this returns
  }
  {
    std::lock_guard<std::mutex> lock(queue_mu);
    stop = true;
    queue_cv.notify_one();
  }
  answerer.join();
  EXPECT_EQ(ok.load(), kCalls);
  for (int i = 0; i < kCalls; ++i) ASSERT_EQ(completions[i].load(), 1) << "call " << i;
}

TEST_F(TransportTest, ConcurrentCallersWhileConnectingShareOneConnection) {
  RemotingClient client(clientOptions(2));
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto resp = client.invokeSync(addr_, echoRequest(std::to_string(t)), 10s);
      if (resp.isOk() && resp->body == std::to_string(t)) ok++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads);
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(client_addresses_.size(), 1u);
}

// ---- failures -----------------------------------------------------------------------------------------------

TEST_F(TransportTest, TimeoutFiresCloseToItsDeadline) {
  RemotingClient client(clientOptions());
  ASSERT_TRUE(client.invokeSync(addr_, echoRequest(), 3s).isOk());  // connected already
  constexpr auto kTimeout = 300ms;
  Results results;
  Clock::time_point fired;
  std::promise<void> done;
  auto start = Clock::now();
  client.invokeAsync(addr_, RemotingCommand::request(kSilentCode), kTimeout, [&](Result<RemotingCommand> r) {
    fired = Clock::now();
    results.add(std::move(r));
    done.set_value();
  });
  ASSERT_EQ(done.get_future().wait_for(10s), std::future_status::ready);
  auto elapsed = fired - start;
  EXPECT_GE(elapsed, kTimeout);
  EXPECT_LT(elapsed, kTimeout + 2s);
  auto r = results.take();
  ASSERT_EQ(r.size(), 1u);
  ASSERT_FALSE(r[0].isOk());
  EXPECT_EQ(r[0].status().code(), StatusCode::kTimeout);
  EXPECT_NE(r[0].status().message().find("wait response from " + addr_ + " timeout after 300 ms, code 101"),
            std::string::npos)
      << r[0].status().message();
  EXPECT_EQ(client.pendingCount(), 0u);
}

// One timer per connection serves every call's deadline: a call made after a longer one must still time out at
// its own deadline, and an answered call's deadline left armed must neither fail nor delay the calls after it.
TEST_F(TransportTest, EachCallTimesOutAtItsOwnDeadlineWhateverTheOrderTheyWereMadeIn) {
  Results long_call;  // declared before the client: its shutdown fails the long call into it
  RemotingClient client(clientOptions());
  client.invokeAsync(addr_, RemotingCommand::request(kSilentCode), 120s, long_call.callback());  // connects
  ASSERT_TRUE(client.invokeSync(addr_, echoRequest(), 60s).isOk());  // answered; its deadline stays armed
  Results short_call;
  auto start = Clock::now();
  client.invokeAsync(addr_, RemotingCommand::request(kSilentCode), 800ms, short_call.callback());
  ASSERT_TRUE(short_call.waitFor(1)) << "an 800 ms call made after 60 s and 120 s ones did not time out";
  EXPECT_GE(Clock::now() - start, 800ms);
  EXPECT_EQ(short_call.take()[0].status().code(), StatusCode::kTimeout);

  // The timer armed at an answered call's deadline fires with nothing due, and must re-arm for the next call.
  ASSERT_TRUE(client.invokeSync(addr_, echoRequest(), 1s).isOk());
  Results later_call;
  start = Clock::now();
  client.invokeAsync(addr_, RemotingCommand::request(kSilentCode), 1500ms, later_call.callback());
  ASSERT_TRUE(later_call.waitFor(1)) << "a call due after an answered call's deadline did not time out";
  EXPECT_GE(Clock::now() - start, 1500ms);
  EXPECT_EQ(later_call.take()[0].status().code(), StatusCode::kTimeout);

  EXPECT_EQ(long_call.size(), 0u);
  EXPECT_EQ(client.pendingCount(), 1u);
  ASSERT_TRUE(client.invokeSync(addr_, echoRequest(), 3s).isOk());
}

TEST_F(TransportTest, LateResponseAfterTimeoutIsDropped) {
  RemotingClient client(clientOptions());
  Results results;
  client.invokeAsync(addr_, RemotingCommand::request(kSilentCode), 50ms, results.callback());
  ASSERT_TRUE(results.waitFor(1));
  ASSERT_TRUE(testing::waitUntil([&] { return silentCount() == 1; }, 10s));
  {
    std::lock_guard<std::mutex> lock(mu_);
    silent_[0].respond(RemotingCommand{});
  }
  // The late response is written before the next response on the same connection.
  ASSERT_TRUE(client.invokeSync(addr_, echoRequest(), 3s).isOk());
  EXPECT_EQ(results.size(), 1u);
  EXPECT_EQ(results.take()[0].status().code(), StatusCode::kTimeout);
}

TEST_F(TransportTest, ConnectRefusedIsNetworkNotTimeout) {
  uint16_t port;
  {
    asio::io_context ctx;
    tcp::acceptor probe(ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = probe.local_endpoint().port();
  }  // closed again: nothing listens there now
  const std::string addr = "127.0.0.1:" + std::to_string(port);
  RemotingClient client(clientOptions());
  auto r = client.invokeSync(addr, echoRequest(), 5s);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kNetwork) << r.status().toString();
  EXPECT_NE(r.status().message().find("connect to " + addr + " failed"), std::string::npos)
      << r.status().message();
  Status oneway = client.invokeOneway(addr, echoRequest(), 5s);
  EXPECT_EQ(oneway.code(), StatusCode::kNetwork) << oneway.toString();
}

TEST_F(TransportTest, BadAddressIsInvalidArgument) {
  RemotingClient client(clientOptions());
  for (const char* addr : {"nohost", "host:", ":80", "host:0", "host:65536", "host:8x"}) {
    auto r = client.invokeSync(addr, echoRequest(), 1s);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << addr;
  }
}

TEST_F(TransportTest, PeerClosingFailsPendingCallsWithNetworkPromptly) {
  RawServer peer({[](tcp::socket& s) {
    readFrame(s);
    readFrame(s);
    s.close();
  }});
  RemotingClient client(clientOptions());
  Results results;
  auto start = Clock::now();
  client.invokeAsync(peer.address(), echoRequest("a"), 30s, results.callback());
  client.invokeAsync(peer.address(), echoRequest("b"), 30s, results.callback());
  ASSERT_TRUE(results.waitFor(2, 20s));
  EXPECT_LT(Clock::now() - start, 20s);
  for (auto& r : results.take()) {
    ASSERT_FALSE(r.isOk());
    EXPECT_EQ(r.status().code(), StatusCode::kNetwork);
    EXPECT_NE(r.status().message().find("connection to " + peer.address() + " closed"), std::string::npos)
        << r.status().message();
  }
  EXPECT_TRUE(peer.errors().empty());
}

TEST_F(TransportTest, ServerShutdownFailsClientPendingWithNetwork) {
  RemotingClient client(clientOptions());
  Results results;
  client.invokeAsync(addr_, RemotingCommand::request(kSilentCode), 30s, results.callback());
  ASSERT_TRUE(testing::waitUntil([&] { return silentCount() == 1; }, 10s));
  server_->shutdown();
  ASSERT_TRUE(results.waitFor(1));
  EXPECT_EQ(results.take()[0].status().code(), StatusCode::kNetwork);
}

void garbageThenRecoveryTest(const std::string& garbage, size_t client_max_frame) {
  LogCapture logs;
  RawServer peer({
      [&](tcp::socket& s) {
        readFrame(s);
        asio::write(s, asio::buffer(garbage));
        EXPECT_TRUE(readUntilEof(s));  // the client hangs up on us
      },
      [](tcp::socket& s) {
        RemotingCommand req = readFrame(s);
        auto resp = RemotingCommand::responseTo(req, response_code::kSuccess);
        resp.body = "recovered";
        writeCommand(s, resp);
        readUntilEof(s);
      },
  });
  TransportOptions options;
  options.max_frame_bytes = client_max_frame;
  RemotingClient client(options);
  auto first = client.invokeSync(peer.address(), RemotingCommand::request(kEchoCode), 10s);
  ASSERT_FALSE(first.isOk());
  EXPECT_EQ(first.status().code(), StatusCode::kNetwork) << first.status().toString();
  EXPECT_TRUE(logs.contains(LogLevel::kError, "corrupt frame from " + peer.address()));
  auto second = client.invokeSync(peer.address(), RemotingCommand::request(kEchoCode), 10s);
  ASSERT_TRUE(second.isOk()) << second.status().toString();
  EXPECT_EQ(second->body, "recovered");
  client.shutdown();
  EXPECT_TRUE(peer.errors().empty());
}

TEST_F(TransportTest, GarbageFromServerClosesConnectionAndNextCallReconnects) {
  garbageThenRecoveryTest(std::string("\xff\xff\xff\xff garbage garbage", 20), kDefaultMaxFrameBytes);
  garbageThenRecoveryTest(std::string("\x00\x00\x00\x10\x09\x00\x00\x02xxxxxxxx", 16), kDefaultMaxFrameBytes);
}

TEST_F(TransportTest, OversizeLengthFromServerClosesConnectionAndNextCallReconnects) {
  garbageThenRecoveryTest(std::string("\x00\x10\x00\x00", 4), 1024);
}

TEST_F(TransportTest, ServerKeepsServingOtherClientsAfterGarbage) {
  LogCapture logs;
  asio::io_context ctx;
  tcp::socket raw(ctx);
  raw.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  const std::string raw_addr = "127.0.0.1:" + std::to_string(raw.local_endpoint().port());
  asio::write(raw, asio::buffer(std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n")));
  EXPECT_TRUE(readUntilEof(raw));  // the server closed just that connection
  EXPECT_TRUE(logs.contains(LogLevel::kError, "corrupt frame from " + raw_addr));
  RemotingClient client(clientOptions());
  auto resp = client.invokeSync(addr_, echoRequest("still here"), 3s);
  ASSERT_TRUE(resp.isOk()) << resp.status().toString();
  EXPECT_EQ(resp->body, "still here");
}

TEST_F(TransportTest, UnknownRequestCodeIsNotSupported) {
  RemotingClient client(clientOptions());
  auto resp = client.invokeSync(addr_, RemotingCommand::request(999), 3s);
  ASSERT_TRUE(resp.isOk()) << resp.status().toString();
  EXPECT_EQ(resp->code, response_code::kRequestCodeNotSupported);
  EXPECT_EQ(resp->remarkOrEmpty(), " request type 999 not supported");
}

TEST_F(TransportTest, HandlerExceptionBecomesSystemError) {
  LogCapture logs;
  RemotingClient client(clientOptions());
  auto resp = client.invokeSync(addr_, RemotingCommand::request(kThrowCode), 3s);
  ASSERT_TRUE(resp.isOk()) << resp.status().toString();
  EXPECT_EQ(resp->code, response_code::kSystemError);
  EXPECT_NE(resp->remarkOrEmpty().find("handler exploded"), std::string::npos);
  // The I/O thread survived.
  EXPECT_TRUE(client.invokeSync(addr_, echoRequest(), 3s).isOk());
  EXPECT_TRUE(logs.contains(LogLevel::kError, "handler exploded"));
}

TEST_F(TransportTest, OversizeRequestIsRefusedAtOnce) {
  TransportOptions options = clientOptions();
  options.max_frame_bytes = 1024;
  RemotingClient client(options);
  bool called = false;
  Status status;
  client.invokeAsync(addr_, echoRequest(std::string(2048, 'x')), 3s, [&](Result<RemotingCommand> r) {
    called = true;
    status = r.status();
  });
  EXPECT_TRUE(called);  // before invokeAsync returned
  EXPECT_EQ(status.code(), StatusCode::kOverLimit);
  EXPECT_EQ(client.invokeOneway(addr_, echoRequest(std::string(2048, 'x')), 3s).code(), StatusCode::kOverLimit);
  EXPECT_TRUE(client.invokeSync(addr_, echoRequest("small"), 3s).isOk());
}

TEST_F(TransportTest, UnencodableRequestIsInvalidArgument) {
  RemotingClient client(clientOptions());
  RemotingCommand req = RemotingCommand::request(200050);  // POP code: not representable in the binary header
  req.serialize_type = SerializeType::kRocketMq;
  EXPECT_EQ(client.invokeSync(addr_, req, 3s).status().code(), StatusCode::kInvalidArgument);
}

class SmallFrameServerTest : public TransportTest {
 protected:
  SmallFrameServerTest() { server_max_frame_ = 1024; }
};

TEST_F(SmallFrameServerTest, OversizeFrameToServerClosesThatConnection) {
  LogCapture logs;
  RemotingClient client(clientOptions());
  auto big = client.invokeSync(addr_, echoRequest(std::string(4096, 'x')), 10s);
  ASSERT_FALSE(big.isOk());
  EXPECT_EQ(big.status().code(), StatusCode::kNetwork) << big.status().toString();
  EXPECT_TRUE(testing::waitUntil([&] { return logs.contains(LogLevel::kError, "corrupt frame from"); }, 5s));
  auto small = client.invokeSync(addr_, echoRequest("ok"), 3s);
  ASSERT_TRUE(small.isOk()) << small.status().toString();
}

// ---- server push, oneway, close -----------------------------------------------------------------------------

TEST_F(TransportTest, ServerPushesRequestToClientHandler) {
  RemotingClient client(clientOptions());
  std::atomic<int> notified{0};
  client.registerHandler(request_code::kPushReplyMessageToClient, [](RemotingCommand req, Responder responder) {
    auto resp = RemotingCommand::responseTo(req, response_code::kSuccess);
    resp.body = "pong:" + req.body;
    responder.respond(std::move(resp));
  });
  client.registerHandler(request_code::kNotifyConsumerIdsChanged,
                         [&](RemotingCommand, Responder) { notified++; });
  ASSERT_TRUE(client.invokeSync(addr_, echoRequest(), 3s).isOk());
  std::string client_addr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ASSERT_EQ(client_addresses_.size(), 1u);
    client_addr = *client_addresses_.begin();
  }
  Results results;
  RemotingCommand push = RemotingCommand::request(request_code::kPushReplyMessageToClient);
  push.body = "ping";
  server_->invokeAsync(client_addr, push, 3s, results.callback());
  ASSERT_TRUE(results.waitFor(1));
  auto r = results.take();
  ASSERT_TRUE(r[0].isOk()) << r[0].status().toString();
  EXPECT_EQ(r[0]->body, "pong:ping");

  EXPECT_TRUE(server_->invokeOneway(client_addr, RemotingCommand::request(request_code::kNotifyConsumerIdsChanged))
                  .isOk());
  EXPECT_TRUE(testing::waitUntil([&] { return notified.load() == 1; }, 5s));

  // Unknown address: no such connection.
  Results missing;
  server_->invokeAsync("127.0.0.1:1", push, 3s, missing.callback());
  ASSERT_TRUE(missing.waitFor(1));
  EXPECT_EQ(missing.take()[0].status().code(), StatusCode::kNetwork);
}

TEST_F(TransportTest, OnewayRequestsAreNeverAnswered) {
  asio::io_context ctx;
  tcp::socket raw(ctx);
  raw.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  RemotingCommand oneway_known = echoRequest();
  oneway_known.opaque = 1;
  oneway_known.markOneway();
  RemotingCommand oneway_unknown = RemotingCommand::request(999);
  oneway_unknown.opaque = 2;
  oneway_unknown.markOneway();
  RemotingCommand oneway_throwing = RemotingCommand::request(kThrowCode);
  oneway_throwing.opaque = 3;
  oneway_throwing.markOneway();
  RemotingCommand normal = echoRequest();
  normal.opaque = 4;
  writeCommand(raw, oneway_known);
  writeCommand(raw, oneway_unknown);
  writeCommand(raw, oneway_throwing);
  writeCommand(raw, normal);
  // Responses keep request order on a connection: had a oneway request been answered, it would come first.
  RemotingCommand first = readFrame(raw);
  EXPECT_EQ(first.opaque, 4);
  EXPECT_TRUE(first.isResponse());
  EXPECT_EQ(echo_calls_.load(), 2);

  RemotingClient client(clientOptions());
  EXPECT_TRUE(client.invokeOneway(addr_, echoRequest(), 3s).isOk());
  EXPECT_TRUE(testing::waitUntil([&] { return echo_calls_.load() == 3; }, 5s));
  EXPECT_EQ(client.pendingCount(), 0u);
}

TEST_F(TransportTest, CloseListenerAndClientCloseConnection) {
  // The listener may still run until TearDown() shuts the server down: it only touches fixture members.
  server_->setCloseListener([this](const std::string& remote) {
    std::lock_guard<std::mutex> lock(mu_);
    closed_.push_back(remote);
  });
  RemotingClient client(clientOptions());
  Results results;
  client.invokeAsync(addr_, RemotingCommand::request(kSilentCode), 30s, results.callback());
  ASSERT_TRUE(testing::waitUntil([&] { return silentCount() == 1; }, 10s));
  std::string remote;
  {
    std::lock_guard<std::mutex> lock(mu_);
    remote = silent_[0].remoteAddress();
  }
  client.closeConnection(addr_);
  ASSERT_TRUE(results.waitFor(1));
  EXPECT_EQ(results.take()[0].status().code(), StatusCode::kNetwork);
  ASSERT_TRUE(testing::waitUntil(
      [&] {
        std::lock_guard<std::mutex> lock(mu_);
        return closed_.size() == 1;
      },
      5s));
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(closed_[0], remote);
    silent_[0].respond(RemotingCommand{});  // connection gone: dropped quietly
  }
  EXPECT_TRUE(client.invokeSync(addr_, echoRequest(), 3s).isOk());  // re-created
}

TEST_F(TransportTest, IdleConnectionIsClosedAndReopened) {
  server_->setCloseListener([this](const std::string&) { closes_++; });
  TransportOptions options = clientOptions();
  options.idle_timeout = 100ms;
  RemotingClient client(options);
  ASSERT_TRUE(client.invokeSync(addr_, echoRequest(), 3s).isOk());
  ASSERT_TRUE(testing::waitUntil([&] { return closes_.load() == 1; }, 10s));
  ASSERT_TRUE(client.invokeSync(addr_, echoRequest(), 3s).isOk());
}

TEST_F(TransportTest, InvokeSyncOnIoThreadIsRefused) {
  RemotingClient client(clientOptions());
  std::promise<Status> inner;
  client.registerHandler(request_code::kPushReplyMessageToClient, [&](RemotingCommand, Responder) {
    inner.set_value(client.invokeSync(addr_, echoRequest(), 1s).status());
  });
  ASSERT_TRUE(client.invokeSync(addr_, echoRequest(), 3s).isOk());
  std::string client_addr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    client_addr = *client_addresses_.begin();
  }
  ASSERT_TRUE(
      server_->invokeOneway(client_addr, RemotingCommand::request(request_code::kPushReplyMessageToClient)).isOk());
  auto future = inner.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(future.get().code(), StatusCode::kInvalidArgument);
}

// ---- shutdown -----------------------------------------------------------------------------------------------

TEST_F(TransportTest, ShutdownCompletesPendingCallsWithClosedAndIsIdempotent) {
  constexpr size_t kCalls = 10;
  Results results;
  RemotingClient client(clientOptions(2));
  for (size_t i = 0; i < kCalls; ++i) {
    client.invokeAsync(addr_, RemotingCommand::request(kSilentCode), 30s, results.callback());
  }
  ASSERT_TRUE(testing::waitUntil([&] { return silentCount() == kCalls; }, 10s));
  EXPECT_EQ(client.pendingCount(), kCalls);
  client.shutdown();
  ASSERT_EQ(results.size(), kCalls);  // completed by the time shutdown() returns
  for (auto& r : results.take()) EXPECT_EQ(r.status().code(), StatusCode::kClosed);
  client.shutdown();
  auto after = client.invokeSync(addr_, echoRequest(), 1s);
  EXPECT_EQ(after.status().code(), StatusCode::kClosed);
  EXPECT_EQ(client.invokeOneway(addr_, echoRequest(), 1s).code(), StatusCode::kClosed);
  EXPECT_EQ(results.size(), 0u);
}

TEST_F(TransportTest, ShutdownFromCallbackThreadDoesNotDeadlock) {
  auto client = std::make_shared<RemotingClient>(clientOptions());
  ASSERT_TRUE(client->invokeSync(addr_, echoRequest(), 3s).isOk());
  Results results;
  // Callbacks of pending calls run while another thread shuts the client down; one of them calls shutdown too.
  for (int i = 0; i < 5; ++i) {
    client->invokeAsync(addr_, RemotingCommand::request(kSilentCode), 30s, [&, client](Result<RemotingCommand> r) {
      client->shutdown();
      results.add(std::move(r));
    });
  }
  ASSERT_TRUE(testing::waitUntil([&] { return silentCount() == 5; }, 10s));
  std::thread closer([client] { client->shutdown(); });
  closer.join();
  ASSERT_TRUE(results.waitFor(5));
  for (auto& r : results.take()) EXPECT_EQ(r.status().code(), StatusCode::kClosed);
}

TEST_F(TransportTest, ServerShutdownFailsServerPushPendingWithClosed) {
  RemotingClient client(clientOptions());
  client.registerHandler(request_code::kPushReplyMessageToClient, [](RemotingCommand, Responder) {});  // silent
  ASSERT_TRUE(client.invokeSync(addr_, echoRequest(), 3s).isOk());
  std::string client_addr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    client_addr = *client_addresses_.begin();
  }
  Results results;
  server_->invokeAsync(client_addr, RemotingCommand::request(request_code::kPushReplyMessageToClient), 30s,
                       results.callback());
  server_->shutdown();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results.take()[0].status().code(), StatusCode::kClosed);
  server_->shutdown();
  EXPECT_EQ(server_->start("127.0.0.1", 0).code(), StatusCode::kClosed);
}

TEST(RemotingServerTest, StartFailsOnPortInUse) {
  RemotingServer first;
  ASSERT_TRUE(first.start("127.0.0.1", 0).isOk());
  RemotingServer second;
  Status s = second.start("127.0.0.1", first.port());
  EXPECT_EQ(s.code(), StatusCode::kNetwork) << s.toString();
  second.shutdown();
  first.shutdown();
}

// Responses answered off the I/O threads inside a BatchScope (as the broker's store answers a group of puts) are
// written by the answering thread at the scope's end (TransportOptions::write_on_caller_thread), while other
// requests on the same connection are answered inline by the I/O thread: 4 answering threads and the loop write
// to one connection at once, with bodies large enough that the socket sometimes takes a batch only in part.
// Every reply arrives whole, to its own call, with or without the option.
class CallerThreadWriteTest : public ::testing::TestWithParam<bool> {};

TEST_P(CallerThreadWriteTest, RepliesWrittenByAnsweringThreadsInBatchesAllArriveWhole) {
  TransportOptions server_options;
  server_options.name = "batch-server";
  server_options.write_on_caller_thread = GetParam();
  RemotingServer server(server_options);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<RemotingCommand, Responder>> queued;
  bool stop = false;
  server.registerHandler(kEchoCode, [&](RemotingCommand req, Responder responder) {
    const std::string* inline_flag = req.get("inline");
    if (inline_flag != nullptr && *inline_flag == "1") {
      auto resp = RemotingCommand::responseTo(req, response_code::kSuccess);
      resp.body = req.body;
      responder.respond(std::move(resp));
      return;
    }
    std::lock_guard<std::mutex> lock(mu);
    queued.emplace_back(std::move(req), std::move(responder));
    cv.notify_one();
  });
  std::vector<std::thread> answerers;
  for (int t = 0; t < 4; ++t) {
    answerers.emplace_back([&] {
      for (;;) {
        std::vector<std::pair<RemotingCommand, Responder>> batch;
        {
          std::unique_lock<std::mutex> lock(mu);
          cv.wait(lock, [&] { return stop || !queued.empty(); });
          if (queued.empty()) return;
          const size_t n = std::min<size_t>(queued.size(), 16);
          batch.assign(std::make_move_iterator(queued.begin()), std::make_move_iterator(queued.begin() + n));
          queued.erase(queued.begin(), queued.begin() + n);
        }
        BatchScope scope;
        for (auto& [req, responder] : batch) {
          auto resp = RemotingCommand::responseTo(req, response_code::kSuccess);
          resp.body = req.body;
          responder.respond(std::move(resp));
        }
      }
    });
  }
  ASSERT_TRUE(server.start("127.0.0.1", 0).isOk());
  const std::string addr = "127.0.0.1:" + std::to_string(server.port());
  TransportOptions client_options;
  client_options.max_write_queue_bytes = 0;  // ~100 MB of requests are queued at once
  RemotingClient client(client_options);
  ASSERT_TRUE(client.start().isOk());
  constexpr int kCalls = 2000;
  std::atomic<int> ok{0};
  std::atomic<int> bad{0};
  std::atomic<int> done{0};
  for (int i = 0; i < kCalls; ++i) {
    RemotingCommand req = RemotingCommand::request(kEchoCode);
    if (i % 3 == 0) req.set("inline", "1");
    std::string body = "call-" + std::to_string(i) + ":";
    body.resize(body.size() + static_cast<size_t>((i * 7919) % 100000), static_cast<char>('a' + i % 26));
    req.body = body;
    client.invokeAsync(addr, std::move(req), 60s, [&, body](Result<RemotingCommand> r) {
      const bool good = r.isOk() && r->code == response_code::kSuccess && r->body == body;
      if (!good && bad.fetch_add(1) == 0) {
        ADD_FAILURE() << "first bad reply: "
                      << (r.isOk() ? "code " + std::to_string(r->code) + ", body of " + std::to_string(r->body.size()) +
                                         " bytes (sent " + std::to_string(body.size()) + ")"
                                   : r.status().toString());
      }
      if (good) ok++;
      done++;
    });
  }
  EXPECT_TRUE(testing::waitUntil([&] { return done.load() == kCalls; }, 60s)) << done.load();
  EXPECT_EQ(ok.load(), kCalls);
  EXPECT_EQ(bad.load(), 0);
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
  }
  cv.notify_all();
  for (auto& t : answerers) t.join();
  client.shutdown();
  server.shutdown();
}

INSTANTIATE_TEST_SUITE_P(WriteOnCallerThread, CallerThreadWriteTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) { return info.param ? "On" : "Off"; });

}  // namespace
}  // namespace rocketrpc::remoting
