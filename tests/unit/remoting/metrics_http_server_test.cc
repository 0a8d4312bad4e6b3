// MetricsHttpServer's routing (answerMetricsRequest): /metrics, /healthz, 404 for other paths, 405 for other
// methods, 400 for garbage; and one real GET over 127.0.0.1.
#include "remoting/metrics_http_server.h"

#include <gtest/gtest.h>

#include <asio.hpp>
#include <thread>
#include <vector>

namespace rocketrpc::remoting {
namespace {

std::string body() { return "m 1\n"; }

TEST(MetricsHttpServerTest, RoutesByPathAndMethod) {
  auto a = answerMetricsRequest("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", body);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "m 1\n");
  EXPECT_EQ(a.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(answerMetricsRequest("GET /metrics?x=1 HTTP/1.0\r\n\r\n", body).status, 200);
  auto h = answerMetricsRequest("GET /healthz HTTP/1.0\r\n\r\n", body);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, "ok\n");
  for (const char* path : {"/", "/metric", "/metrics/", "/metricsx", "/favicon.ico"})
    EXPECT_EQ(answerMetricsRequest(std::string("GET ") + path + " HTTP/1.0\r\n\r\n", body).status, 404)
        << path;
  EXPECT_EQ(answerMetricsRequest("POST /metrics HTTP/1.0\r\n\r\n", body).status, 405);
  auto head = answerMetricsRequest("HEAD /metrics HTTP/1.0\r\n\r\n", body);
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(answerMetricsRequest("garbage", body).status, 400);
  EXPECT_EQ(answerMetricsRequest("", body).status, 400);
}

TEST(MetricsHttpServerTest, ServesOverLoopbackAndAnswersNotFound) {
  MetricsHttpServer server(body);
  ASSERT_TRUE(server.start("127.0.0.1", 0).isOk());
  ASSERT_NE(server.port(), 0);
  auto get = [&](const std::string& path) {
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
    // The request head split over two writes: the server reads until the blank line.
    asio::write(s, asio::buffer("GET " + path + " HTTP/1.0\r\n"));
    asio::write(s, asio::buffer(std::string("Host: 127.0.0.1\r\n\r\n")));
    std::string raw;
    std::error_code ec;
    char buf[512];
    while (!ec) raw.append(buf, s.read_some(asio::buffer(buf), ec));
    return raw;
  };
  const std::string ok = get("/metrics");
  EXPECT_EQ(ok.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << ok;
  EXPECT_NE(ok.find("\r\n\r\nm 1\n"), std::string::npos) << ok;
  EXPECT_EQ(get("/other").rfind("HTTP/1.0 404 Not Found\r\n", 0), 0u);
  server.shutdown();
  server.shutdown();  // idempotent
}

std::string rawGet(uint16_t port, const std::string& path) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  asio::write(s, asio::buffer("GET " + path + " HTTP/1.0\r\n\r\n"));
  std::string raw;
  std::error_code ec;
  char buf[512];
  while (!ec) raw.append(buf, s.read_some(asio::buffer(buf), ec));
  return raw;
}

TEST(MetricsHttpServerTest, IdleConnectionsBeyondTheCapAreClosedAndTheRestStillServes) {
  MetricsHttpServer server(body);
  ASSERT_TRUE(server.start("127.0.0.1", 0).isOk());
  asio::io_context io;
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> idle;
  for (int i = 0; i < 16; ++i) {
    idle.push_back(std::make_unique<asio::ip::tcp::socket>(io));
    idle.back()->connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
  }
  // The 17th is accepted after the 16 idle ones and closed at once: no answer.
  EXPECT_EQ(rawGet(server.port(), "/metrics"), "");
  idle.front()->close();
  // Once the server has seen that close, a scrape is answered again.
  std::string raw;
  for (int i = 0; i < 500 && raw.empty(); ++i) {
    raw = rawGet(server.port(), "/metrics");
    if (raw.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(raw.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << raw;
}

TEST(MetricsHttpServerTest, BindFailureIsAStatus) {
  MetricsHttpServer first(body);
  ASSERT_TRUE(first.start("127.0.0.1", 0).isOk());
  MetricsHttpServer second(body);
  Status s = second.start("127.0.0.1", first.port());
  EXPECT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("metrics endpoint on 127.0.0.1:"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace rocketrpc::remoting
