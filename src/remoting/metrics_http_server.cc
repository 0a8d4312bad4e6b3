#include "remoting/metrics_http_server.h"

#include <asio.hpp>
#include <set>

#include "common/log.h"
#include "common/thread_guard.h"

namespace rocketrpc::remoting {

namespace {
constexpr size_t kMaxRequestHead = 8192;  // a scraper's GET is a few hundred bytes
constexpr size_t kMaxConnections = 16;      // scrapes at once; more are closed at accept
constexpr std::chrono::seconds kExchangeTimeout{10};
}  // namespace

HttpAnswer answerMetricsRequest(std::string_view request_head, const std::function<std::string()>& body) {
  // Request line: METHOD SP target SP version. The query string does not select anything.
  const size_t line_end = request_head.find("\r\n");
  std::string_view line = request_head.substr(0, line_end);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos) return {400, "Bad Request", "text/plain", "bad request\n"};
  const std::string_view method = line.substr(0, sp1);
  std::string_view path = line.substr(sp1 + 1, sp2 == std::string_view::npos ? line.npos : sp2 - sp1 - 1);
  if (size_t q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  const bool head = method == "HEAD";
  if (method != "GET" && !head) return {405, "Method Not Allowed", "text/plain", "only GET\n"};
  HttpAnswer a;
  if (path == "/metrics") {
    a = {200, "OK", "text/plain; version=0.0.4; charset=utf-8", body()};
  } else if (path == "/healthz") {
    a = {200, "OK", "text/plain", "ok\n"};
  } else {
    a = {404, "Not Found", "text/plain", "not found; metrics are at /metrics\n"};
  }
  if (head) a.body.clear();
  return a;
}

class MetricsHttpServer::Impl : public std::enable_shared_from_this<MetricsHttpServer::Impl> {
 public:
  explicit Impl(std::function<std::string()> body) : body_(std::move(body)), acceptor_(io_) {}

  // One scrape: the socket, its deadline, the request head read so far. Loop-confined.
  struct Exchange {
    explicit Exchange(asio::io_context& io) : socket(io), deadline(io) {}
    asio::ip::tcp::socket socket;
    asio::steady_timer deadline;
    std::string head;
  };

  void accept() {
    auto self = shared_from_this();
    auto ex = std::make_shared<Exchange>(io_);
    acceptor_.async_accept(ex->socket, [self, ex](std::error_code ec) {
      if (ec) return;  // acceptor closed
      self->accept();
      if (self->live_.size() >= kMaxConnections) {  // a stuck scraper (or a flood) cannot pile up sockets
        std::error_code ignored;
        ex->socket.close(ignored);
        return;
      }
      self->live_.insert(ex);
      // The whole exchange, a slow reader of the answer included, gets kExchangeTimeout.
      ex->deadline.expires_after(kExchangeTimeout);
      ex->deadline.async_wait([ex](std::error_code timer_ec) {
        if (timer_ec) return;  // cancelled: the exchange finished
        std::error_code ignored;
        ex->socket.close(ignored);
      });
      self->readHead(ex);
    });
  }

  void finish(const std::shared_ptr<Exchange>& ex) {
    ex->deadline.cancel();
    std::error_code ignored;
    ex->socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    ex->socket.close(ignored);
    live_.erase(ex);
  }

  // Ends every operation so that run() returns with no handler (each holds the Impl) left queued.
  void closeAll() {
    std::error_code ignored;
    acceptor_.close(ignored);
    for (const auto& ex : live_) {
      ex->deadline.cancel();
      ex->socket.close(ignored);
    }
  }

  // Reads until the end of the request head (or kMaxRequestHead bytes), then answers and closes.
  void readHead(const std::shared_ptr<Exchange>& ex) {
    auto chunk = std::make_shared<std::array<char, 1024>>();
    auto self = shared_from_this();
    ex->socket.async_read_some(asio::buffer(*chunk), [self, ex, chunk](std::error_code ec, size_t n) {
      if (ec) return self->finish(ex);
      ex->head.append(chunk->data(), n);
      if (ex->head.find("\r\n\r\n") == std::string::npos && ex->head.find("\n\n") == std::string::npos &&
          ex->head.size() < kMaxRequestHead) {
        self->readHead(ex);
        return;
      }
      HttpAnswer a;
      if (!runGuarded("metrics endpoint", [&] { a = answerMetricsRequest(ex->head, self->body_); }))
        a = {500, "Internal Server Error", "text/plain", "internal error\n"};
      auto response = std::make_shared<std::string>(
          "HTTP/1.0 " + std::to_string(a.status) + " " + a.reason + "\r\nContent-Type: " + a.content_type +
          "\r\nContent-Length: " + std::to_string(a.body.size()) + "\r\nConnection: close\r\n\r\n" + a.body);
      asio::async_write(ex->socket, asio::buffer(*response),
                        [self, ex, response](std::error_code, size_t) { self->finish(ex); });
    });
  }

  std::function<std::string()> body_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::set<std::shared_ptr<Exchange>> live_;  // exchanges in progress, at most kMaxConnections; loop-confined
};

MetricsHttpServer::MetricsHttpServer(std::function<std::string()> body)
    : impl_(std::make_shared<Impl>(std::move(body))) {}

MetricsHttpServer::~MetricsHttpServer() { shutdown(); }

Status MetricsHttpServer::start(const std::string& host, uint16_t port) {
  try {
    asio::ip::tcp::endpoint ep(asio::ip::make_address(host), port);
    impl_->acceptor_.open(ep.protocol());
    impl_->acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
    impl_->acceptor_.bind(ep);
    impl_->acceptor_.listen();
    port_ = impl_->acceptor_.local_endpoint().port();
  } catch (const std::exception& e) {
    return Status::network("metrics endpoint on " + host + ":" + std::to_string(port) + ": " + e.what());
  }
  impl_->accept();
  auto impl = impl_;
  impl_->thread_ = std::thread([impl] { runGuarded("metrics endpoint thread", [&] { impl->io_.run(); }); });
  return Status::ok();
}

void MetricsHttpServer::shutdown() {
  if (!impl_->thread_.joinable()) return;
  // No stop(): the loop runs the aborted handlers and returns once none is left, so none keeps the Impl alive.
  asio::post(impl_->io_, [impl = impl_] { impl->closeAll(); });
  impl_->thread_.join();
}

}  // namespace rocketrpc::remoting
