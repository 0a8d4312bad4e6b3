// A peer that answers with bytes that are no RocketMQ frame (a web server or SSH daemon on the port given) is
// named as such in the call's Network status, instead of the impossible frame length its first four bytes
// decode to ("HTTP" = 1213486164). A broker that breaks the protocol after a good frame still gets the plain
// "corrupt frame" text.
#include <gtest/gtest.h>

#include <asio.hpp>
#include <future>
#include <string>
#include <thread>

#include "remoting/frame_codec.h"
#include "remoting/transport.h"

namespace rocketrpc::remoting {
namespace {

using asio::ip::tcp;
using namespace std::chrono_literals;

/// Accepts one connection on 127.0.0.1, reads one request frame (two when `good_frame_first`), answers with a
/// good RocketMQ response to the first when `good_frame_first`, then the bytes `reply`, and closes.
class OneShotPeer {
 public:
  OneShotPeer(std::string reply, bool good_frame_first)
      : acceptor_(ctx_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this, reply = std::move(reply), good_frame_first] {
      tcp::socket s(ctx_);
      acceptor_.accept(s);
      // Reads one request, or two when a good frame goes first (the second stays pending at the client).
      std::string in;
      char buf[4096];
      RemotingCommand req;
      for (int frames = 0; frames < (good_frame_first ? 2 : 1);) {
        RemotingCommand cmd;
        FrameDecodeResult r = decodeFrame(in, 1 << 20, &cmd);
        if (r.state == DecodeState::kComplete) {
          if (frames++ == 0) req = cmd;
          in.erase(0, r.consumed);
          continue;
        }
        const size_t n = s.read_some(asio::buffer(buf));
        in.append(buf, n);
      }
      std::string out;
      if (good_frame_first) {
        auto resp = RemotingCommand::responseTo(req, 0);
        (void)encodeFrame(resp, &out);
      }
      out += reply;
      asio::write(s, asio::buffer(out));
      std::error_code ec;
      s.shutdown(tcp::socket::shutdown_send, ec);
      while (!ec) s.read_some(asio::buffer(buf), ec);  // until the client hangs up
    });
  }
  ~OneShotPeer() { thread_.join(); }
  std::string addr() const { return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }

 private:
  asio::io_context ctx_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

TEST(NotRocketMqPeerTest, HttpAnswerIsNamedAsNoRocketMqPeer) {
  OneShotPeer peer("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", false);
  RemotingClient client;
  ASSERT_TRUE(client.start().isOk());
  auto r = client.invokeSync(peer.addr(), RemotingCommand::request(106), 10s);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kNetwork);
  const std::string text = r.status().toString();
  EXPECT_NE(text.find(peer.addr() + " is not a RocketMQ name server or broker"), std::string::npos) << text;
  EXPECT_NE(text.find("HTTP/1.1 400 Bad Request\\x0d\\x0a"), std::string::npos) << text;
  EXPECT_EQ(text.find("1213486164"), std::string::npos) << text;
  client.shutdown();
}

TEST(NotRocketMqPeerTest, GarbageAfterAGoodFrameIsACorruptFrame) {
  OneShotPeer peer(std::string("\xff\xff\xff\xff garbage", 12), true);
  RemotingClient client;
  ASSERT_TRUE(client.start().isOk());
  std::promise<Result<RemotingCommand>> first, second;
  client.invokeAsync(peer.addr(), RemotingCommand::request(106), 10s,
                     [&](Result<RemotingCommand> r) { first.set_value(std::move(r)); });
  client.invokeAsync(peer.addr(), RemotingCommand::request(106), 10s,
                     [&](Result<RemotingCommand> r) { second.set_value(std::move(r)); });
  auto f = first.get_future().get();
  ASSERT_TRUE(f.isOk()) << f.status().toString();
  // The garbage after the answered frame closes the connection under the second call: a broken broker.
  auto g = second.get_future().get();
  ASSERT_FALSE(g.isOk());
  EXPECT_EQ(g.status().code(), StatusCode::kNetwork);
  EXPECT_NE(g.status().toString().find("corrupt frame"), std::string::npos) << g.status().toString();
  EXPECT_EQ(g.status().toString().find("is not a RocketMQ"), std::string::npos) << g.status().toString();
  client.shutdown();
}

}  // namespace
}  // namespace rocketrpc::remoting
