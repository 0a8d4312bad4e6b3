// Memory bounds of RemotingServer / RemotingClient connections (TransportOptions max_receiving_bytes,
// frame_receive_timeout, max_write_queue_bytes, write_stall_timeout) over real sockets on 127.0.0.1, with raw
// peers that misbehave. Small caps and timeouts; every wait is for a condition, with a generous limit.
#include <gtest/gtest.h>

#include <asio.hpp>
#include <atomic>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "remoting/frame_codec.h"
#include "remoting/protocol/codes.h"
#include "remoting/transport.h"
#include "support/test_support.h"

namespace rocketrpc::remoting {
namespace {

using namespace std::chrono_literals;
using asio::ip::tcp;

constexpr int32_t kEchoCode = 100;

std::string framePrefix(uint32_t announced_length) {
  // length, then a header word announcing a JSON header longer than anything sent here
  std::string p(8, '\0');
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((announced_length >> (24 - 8 * i)) & 0xff);
  const uint32_t header_len = 1000;
  for (int i = 0; i < 4; ++i) p[4 + i] = static_cast<char>((header_len >> (24 - 8 * i)) & 0xff);
  return p;
}

/// True once the peer closed `socket` (blocking read; the server under test closes it or the test fails).
bool readUntilEof(tcp::socket& socket) {
  char buf[4096];
  std::error_code ec;
  while (!ec) socket.read_some(asio::buffer(buf), ec);
  return ec == asio::error::eof || ec == asio::error::connection_reset;
}

class TransportBoundsTest : public ::testing::Test {
 protected:
  void startServer(TransportOptions options) {
    options.name = "bounds-server";
    server_ = std::make_unique<RemotingServer>(options);
    server_->registerHandler(kEchoCode, [this](RemotingCommand req, Responder responder) {
      echo_calls_++;
      auto resp = RemotingCommand::responseTo(req, response_code::kSuccess);
      resp.body = req.body;
      responder.respond(std::move(resp));
    });
    ASSERT_TRUE(server_->start("127.0.0.1", 0).isOk());
    addr_ = "127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    if (server_) server_->shutdown();
  }

  tcp::socket connectRaw() {
    tcp::socket s(io_);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    return s;
  }

  void expectServed() {
    RemotingClient client;
    RemotingCommand req = RemotingCommand::request(kEchoCode);
    req.body = "still here";
    auto r = client.invokeSync(addr_, std::move(req), 10s);
    ASSERT_TRUE(r.isOk()) << r.status().toString();
    EXPECT_EQ(r->body, "still here");
  }

  asio::io_context io_;
  std::unique_ptr<RemotingServer> server_;
  std::string addr_;
  std::atomic<int> echo_calls_{0};
};

TEST_F(TransportBoundsTest, PrefixesOfMaxSizeFramesFitAReceiveCapFarBelowTheirAnnouncedLengths) {
  // 100 connections announce 16 MiB each (1.6 GiB) but send 8 bytes: only what arrived counts against 64 KiB.
  TransportOptions options;
  options.max_receiving_bytes = 64 * 1024;
  startServer(options);
  std::vector<tcp::socket> sockets;
  for (int i = 0; i < 100; ++i) {
    sockets.push_back(connectRaw());
    asio::write(sockets.back(), asio::buffer(framePrefix(kDefaultMaxFrameBytes - 4)));
  }
  expectServed();
  EXPECT_EQ(server_->counters().receive_cap_closes, 0u);
  for (auto& s : sockets) {  // all still open: nothing to read, no EOF
    s.non_blocking(true);
    char c;
    std::error_code ec;
    s.read_some(asio::buffer(&c, 1), ec);
    EXPECT_EQ(ec, asio::error::would_block) << ec.message();
  }
}

TEST_F(TransportBoundsTest, ConnectionTakingReceivingBytesOverTheCapIsClosedAndOthersAreServed) {
  TransportOptions options;
  options.max_receiving_bytes = 256 * 1024;
  startServer(options);
  tcp::socket hog = connectRaw();
  std::string bytes = framePrefix(4 * 1024 * 1024);
  bytes.resize(512 * 1024, 'x');  // half a MiB of a 4 MiB frame: over the 256 KiB being received
  std::error_code ec;
  asio::write(hog, asio::buffer(bytes), ec);  // may fail once the server closes
  EXPECT_TRUE(readUntilEof(hog));
  EXPECT_TRUE(testing::waitUntil([&] { return server_->counters().receive_cap_closes == 1; }, 10s));
  expectServed();
}

TEST_F(TransportBoundsTest, TrickledPartialFrameIsClosedByTheFrameReceiveTimeout) {
  TransportOptions options;
  options.frame_receive_timeout = 300ms;
  options.idle_timeout = 600s;  // a byte every 20 ms would keep any idle timeout at bay
  startServer(options);
  tcp::socket slow = connectRaw();
  asio::write(slow, asio::buffer(framePrefix(1024 * 1024)));
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    std::error_code ec;
    while (!stop && !ec) {
      char c = 'x';
      asio::write(slow, asio::buffer(&c, 1), ec);
      std::this_thread::sleep_for(20ms);
    }
  });
  EXPECT_TRUE(testing::waitUntil([&] { return server_->counters().frame_timeout_closes == 1; }, 30s));
  stop = true;
  trickle.join();
  expectServed();
}

TEST_F(TransportBoundsTest, ServerStopsReadingANonReadingClientAndClosesIt) {
  TransportOptions options;
  options.max_write_queue_bytes = 256 * 1024;
  options.write_stall_timeout = 500ms;
  startServer(options);
  tcp::socket deaf = connectRaw();
  RemotingCommand req = RemotingCommand::request(kEchoCode);
  req.body.assign(64 * 1024, 'y');
  std::string frame;
  ASSERT_TRUE(encodeFrame(req, &frame).isOk());
  std::atomic<bool> closed{false};
  std::thread writer([&] {
    std::error_code ec;
    while (!ec) asio::write(deaf, asio::buffer(frame), ec);  // never reads; ends when the server closes
    closed = true;
  });
  EXPECT_TRUE(testing::waitUntil([&] { return server_->counters().write_cap_closes == 1; }, 60s))
      << "pauses " << server_->counters().write_pauses << ", echoes " << echo_calls_.load();
  EXPECT_GE(server_->counters().write_pauses, 1u);
  EXPECT_TRUE(testing::waitUntil([&] { return closed.load(); }, 30s));
  writer.join();
  expectServed();
}

TEST_F(TransportBoundsTest, ClientOverItsWriteCapFailsNewCallsWithOverLimitAtOnce) {
  // A peer that accepts and never reads.
  tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const std::string addr = "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  tcp::socket peer(io_);
  std::thread accepter([&] { acceptor.accept(peer); });
  TransportOptions options;
  options.name = "bounds-client";
  options.max_write_queue_bytes = 256 * 1024;
  RemotingClient client(options);
  ASSERT_TRUE(client.start().isOk());
  std::promise<Status> refused;
  auto refused_future = refused.get_future();
  std::atomic<bool> got{false};
  for (int i = 0; i < 4000 && !got; ++i) {
    RemotingCommand req = RemotingCommand::request(kEchoCode);
    req.body.assign(64 * 1024, 'z');
    client.invokeAsync(addr, std::move(req), 120s, [&](Result<RemotingCommand> r) {
      if (!r.isOk() && r.status().code() == StatusCode::kOverLimit && !got.exchange(true)) {
        refused.set_value(r.status());
      }
    });
    if (i % 16 == 15) std::this_thread::sleep_for(5ms);  // let the loop write what the socket takes
  }
  ASSERT_EQ(refused_future.wait_for(30s), std::future_status::ready);
  Status s = refused_future.get();
  EXPECT_NE(s.message().find(addr), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("max_write_queue_bytes"), std::string::npos) << s.message();
  EXPECT_GE(client.counters().write_cap_refusals, 1u);
  client.shutdown();
  tcp::socket unblock(io_);  // the client may have shut down before it connected
  std::error_code ec;
  unblock.connect(acceptor.local_endpoint(), ec);
  accepter.join();
}

// A call that times out while its frame still waits in the write queue (the peer does not read, so the socket
// takes only the first megabytes) takes the frame back: it is never sent and its memory is freed at once.
TEST_F(TransportBoundsTest, CallTimingOutWithItsFrameStillQueuedDropsTheFrame) {
  tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const std::string addr = "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  tcp::socket peer(io_);
  std::thread accepter([&] { acceptor.accept(peer); });
  TransportOptions options;
  options.name = "drop-client";
  options.max_write_queue_bytes = 0;  // no cap: every call is queued
  RemotingClient client(options);
  ASSERT_TRUE(client.start().isOk());
  // 64 MiB of calls: far more than the socket buffers and one gathered write (4 MiB) hold.
  constexpr int kCalls = 1024;
  std::atomic<int> timeouts{0};
  std::atomic<int> never_sent{0};
  std::atomic<int> done{0};
  for (int i = 0; i < kCalls; ++i) {
    RemotingCommand req = RemotingCommand::request(kEchoCode);
    req.body.assign(64 * 1024, 'q');
    client.invokeAsync(addr, std::move(req), 2s, [&](Result<RemotingCommand> r) {
      if (!r.isOk() && r.status().code() == StatusCode::kTimeout) {
        timeouts++;
        if (r.status().message().find("never sent") != std::string::npos) never_sent++;
      }
      done++;
    });
  }
  ASSERT_TRUE(testing::waitUntil([&] { return done.load() == kCalls; }, 60s)) << done.load();
  EXPECT_EQ(timeouts.load(), kCalls);
  EXPECT_GE(never_sent.load(), 1);
  EXPECT_EQ(static_cast<uint64_t>(never_sent.load()), client.counters().unsent_dropped);
  EXPECT_EQ(client.pendingCount(), 0u);
  client.shutdown();
  accepter.join();
}

// Calls from 4 threads at once to a peer that does not read (the socket soon takes only part of a gathered
// write, and the rest stays queued), half of them timing out meanwhile: once the peer reads, it decodes an
// unbroken stream of whole frames, each thread's in the order sent. A frame taken back at its call's timeout is
// taken back whole (never after part of it went out: the peer would see half a frame).
TEST_F(TransportBoundsTest, FramesFromManyThreadsToASlowReaderArriveWholeAndInOrder) {
  tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const std::string addr = "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  tcp::socket peer(io_);
  std::thread accepter([&] { acceptor.accept(peer); });
  TransportOptions options;
  options.name = "order-client";
  options.max_write_queue_bytes = 0;
  RemotingClient client(options);
  ASSERT_TRUE(client.start().isOk());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 64;
  std::atomic<int> done{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        RemotingCommand req = RemotingCommand::request(kEchoCode);
        req.set("thread", std::to_string(t));
        req.set("seq", std::to_string(i));
        req.body.assign(static_cast<size_t>(48 * 1024 + 977 * i), static_cast<char>('a' + t));  // odd sizes
        client.invokeAsync(addr, std::move(req), i % 2 == 0 ? 300ms : 60s,
                           [&](Result<RemotingCommand>) { done++; });
      }
    });
  }
  for (auto& s : senders) s.join();
  accepter.join();
  // The short calls time out while the peer still reads nothing (the long ones never complete: no answers).
  constexpr int kShort = kThreads * kPerThread / 2;
  ASSERT_TRUE(testing::waitUntil([&] { return done.load() == kShort; }, 30s)) << done.load();
  const int expected = kThreads * kPerThread - static_cast<int>(client.counters().unsent_dropped);
  std::string stream;
  std::vector<int> next_seq(kThreads, 0);
  int frames = 0;
  int corrupt = 0;
  peer.non_blocking(true);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (frames < expected && corrupt == 0 && std::chrono::steady_clock::now() < deadline) {
    char buf[65536];
    std::error_code ec;
    const size_t n = peer.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::would_block) {
      std::this_thread::sleep_for(2ms);
      continue;
    }
    ASSERT_FALSE(ec) << ec.message();
    stream.append(buf, n);
    for (;;) {
      RemotingCommand cmd;
      auto r = decodeFrame(stream, 64 * 1024 * 1024, &cmd);
      if (r.state == DecodeState::kNeedMore) break;
      if (r.state == DecodeState::kCorrupt) {
        corrupt++;
        break;
      }
      stream.erase(0, r.consumed);
      const std::string* thread = cmd.get("thread");
      const std::string* seq_text = cmd.get("seq");
      ASSERT_TRUE(thread != nullptr && seq_text != nullptr);
      const int t = std::stoi(*thread);
      const int seq = std::stoi(*seq_text);
      ASSERT_GE(t, 0);
      ASSERT_LT(t, kThreads);
      EXPECT_GE(seq, next_seq[t]) << "thread " << t << " out of order";
      next_seq[t] = seq + 1;
      EXPECT_EQ(cmd.body, std::string(static_cast<size_t>(48 * 1024 + 977 * seq), static_cast<char>('a' + t)));
      frames++;
    }
  }
  EXPECT_EQ(corrupt, 0);
  // Every frame not taken back arrived, the long calls' all of them (they are never taken back).
  EXPECT_EQ(frames, expected);
  EXPECT_GE(frames, kThreads * kPerThread - kShort);
  EXPECT_TRUE(stream.empty());
  client.shutdown();
}

// A connection with a call pending and nothing read for read_stall_timeout is closed; the call fails with
// Network naming the bound, long before its own (1 h) timeout.
TEST_F(TransportBoundsTest, SilentConnectionWithPendingCallsIsClosedAndItsCallsFailAsNetwork) {
  tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const std::string addr = "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  tcp::socket peer(io_);
  std::thread accepter([&] { acceptor.accept(peer); });
  TransportOptions options;
  options.name = "stall-client";
  options.read_stall_timeout = 200ms;
  RemotingClient client(options);
  ASSERT_TRUE(client.start().isOk());
  std::promise<Status> failed;
  client.invokeAsync(addr, RemotingCommand::request(kEchoCode), std::chrono::hours(1),
                     [&](Result<RemotingCommand> r) { failed.set_value(r.status()); });
  auto f = failed.get_future();
  ASSERT_EQ(f.wait_for(60s), std::future_status::ready);
  Status s = f.get();
  EXPECT_EQ(s.code(), StatusCode::kNetwork) << s.toString();
  EXPECT_NE(s.message().find("read_stall_timeout"), std::string::npos) << s.toString();
  EXPECT_EQ(client.counters().read_stall_closes, 1u);
  accepter.join();  // the call was written, so the peer was accepted; joined before `peer` is read here
  EXPECT_TRUE(readUntilEof(peer));
  client.shutdown();
}

// A quiet connection with nothing pending is not a stall; calls answered in time never trip it.
TEST_F(TransportBoundsTest, ReadStallLeavesAnsweredCallsAlone) {
  startServer({});
  TransportOptions options;
  options.read_stall_timeout = 50ms;
  RemotingClient client(options);
  ASSERT_TRUE(client.start().isOk());
  for (int i = 0; i < 5; ++i) {
    RemotingCommand req = RemotingCommand::request(kEchoCode);
    req.body = "hi";
    auto r = client.invokeSync(addr_, std::move(req), 10s);
    ASSERT_TRUE(r.isOk()) << r.status().toString();
    std::this_thread::sleep_for(60ms);  // longer than the stall bound, with nothing pending
  }
  EXPECT_EQ(client.counters().read_stall_closes, 0u);
}

}  // namespace
}  // namespace rocketrpc::remoting
