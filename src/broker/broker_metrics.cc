#include "broker/broker_metrics.h"

#include <fmt/format.h>

#include <asio.hpp>

#include "common/log.h"

namespace rocketrpc::broker {

void RateSampler::sample(int64_t now_ms, const Values& values) {
  std::lock_guard<std::mutex> lock(mu_);
  samples_.push_back(Sample{now_ms, values});
  while (samples_.size() > 2 && samples_.front().at_ms < now_ms - 600'000 - 1'000) samples_.pop_front();
}

std::string RateSampler::rates(size_t index) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (int64_t window_ms : {10'000, 60'000, 600'000}) {
    double rate = 0.0;
    if (samples_.size() >= 2 && index < kCounters) {
      const Sample& last = samples_.back();
      // The newest sample at least `window_ms` old, else the oldest one.
      const Sample* from = &samples_.front();
      for (auto it = samples_.rbegin(); it != samples_.rend(); ++it) {
        if (last.at_ms - it->at_ms >= window_ms) {
          from = &*it;
          break;
        }
      }
      const int64_t span = last.at_ms - from->at_ms;
      if (span > 0) rate = static_cast<double>(last.values[index] - from->values[index]) * 1000.0 / span;
    }
    if (!out.empty()) out += ' ';
    out += fmt::format("{:.2f}", rate);
  }
  return out;
}

void BrokerMetrics::sampleRates(int64_t now_ms) {
  const int64_t in = messages_in.load(std::memory_order_relaxed);
  const int64_t out = messages_out.load(std::memory_order_relaxed);
  rates.sample(now_ms, {in, out, pull_requests.load(std::memory_order_relaxed)});
  const int64_t day = now_ms / 86'400'000;
  std::lock_guard<std::mutex> lock(day_mu_);
  if (day_ < 0) {
    day_ = day;  // boot: totals start at 0 for today
    return;
  }
  if (day == day_) return;
  day_totals_.put_yesterday_morning = day == day_ + 1 ? day_totals_.put_today_morning : in;
  day_totals_.get_yesterday_morning = day == day_ + 1 ? day_totals_.get_today_morning : out;
  day_totals_.put_today_morning = in;
  day_totals_.get_today_morning = out;
  day_ = day;
}

std::string BrokerMetrics::render(const std::string& extra) const {
  std::string out;
  auto counter = [&out](const char* name, const char* help, const std::atomic<int64_t>& v) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
           std::to_string(v.load(std::memory_order_relaxed)) + "\n";
  };
  counter("rocketrpc_broker_messages_in_total", "Messages stored from producers.", messages_in);
  counter("rocketrpc_broker_messages_out_total", "Messages returned to pulls.", messages_out);
  counter("rocketrpc_broker_send_requests_total", "Send requests received.", send_requests);
  counter("rocketrpc_broker_send_failures_total", "Send requests answered with an error.", send_failures);
  counter("rocketrpc_broker_pull_requests_total", "Pull requests received.", pull_requests);
  counter("rocketrpc_broker_pulls_held_total", "Pulls parked by long polling.", pulls_held);
  counter("rocketrpc_broker_replies_pushed_total", "Replies pushed to requesters.", replies_pushed);
  counter("rocketrpc_broker_reply_push_failures_total", "Reply pushes that failed.", reply_push_failures);
  counter("rocketrpc_broker_connections_closed_total", "Client connections closed.", connections_closed);
  counter("rocketrpc_broker_messages_delayed_total", "Delayed messages delivered to their topic.", messages_delayed);
  counter("rocketrpc_broker_messages_retried_total", "Messages sent back to retry topics.", messages_retried);
  counter("rocketrpc_broker_messages_dlq_total", "Messages moved to dead-letter topics.", messages_dlq);
  counter("rocketrpc_broker_acl_denied_total", "Requests refused NO_PERMISSION by the access check.", acl_denied);
  counter("rocketrpc_broker_requests_refused_names_total",
          "Requests answered SYSTEM_ERROR because a name they carry breaks the naming rules.", requests_refused_names);
  counter("rocketrpc_broker_pulls_refused_busy_total",
          "Long-polling pulls answered SYSTEM_BUSY because their connection had maxPullHoldsPerConnection held.",
          pulls_refused_busy);
  out += "# HELP rocketrpc_broker_requests_total Broker requests received, by request code (other: above " +
         std::to_string(kMaxCountedCode) + ").\n# TYPE rocketrpc_broker_requests_total counter\n";
  for (size_t code = 0; code < requests_by_code.size(); ++code) {
    const int64_t n = requests_by_code[code].load(std::memory_order_relaxed);
    if (n == 0) continue;
    const std::string label = code <= kMaxCountedCode ? std::to_string(code) : "other";
    out += "rocketrpc_broker_requests_total{code=\"" + label + "\"} " + std::to_string(n) + "\n";
  }
  out += "# TYPE rocketrpc_broker_pulls_holding gauge\nrocketrpc_broker_pulls_holding " +
         std::to_string(pulls_holding.load(std::memory_order_relaxed)) + "\n";
  out += extra;
  return out;
}

class MetricsHttpServer::Impl : public std::enable_shared_from_this<MetricsHttpServer::Impl> {
 public:
  explicit Impl(std::function<std::string()> body) : body_(std::move(body)), acceptor_(io_) {}

  void accept() {
    auto self = shared_from_this();
    auto socket = std::make_shared<asio::ip::tcp::socket>(io_);
    acceptor_.async_accept(*socket, [self, socket](std::error_code ec) {
      if (ec) return;  // acceptor closed
      self->serve(socket);
      self->accept();
    });
  }

  void serve(const std::shared_ptr<asio::ip::tcp::socket>& socket) {
    auto buf = std::make_shared<std::string>();
    buf->resize(4096);
    auto self = shared_from_this();
    // Read the request head (one read is enough for a GET), then answer and close.
    socket->async_read_some(asio::buffer(*buf), [self, socket, buf](std::error_code ec, size_t) {
      if (ec) return;
      std::string text = self->body_();
      auto response = std::make_shared<std::string>(
          "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
          std::to_string(text.size()) + "\r\nConnection: close\r\n\r\n" + text);
      asio::async_write(*socket, asio::buffer(*response), [socket, response](std::error_code, size_t) {
        std::error_code ignored;
        socket->shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        socket->close(ignored);
      });
    });
  }

  std::function<std::string()> body_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
};

MetricsHttpServer::MetricsHttpServer(std::function<std::string()> body)
    : impl_(std::make_shared<Impl>(std::move(body))) {}

MetricsHttpServer::~MetricsHttpServer() { shutdown(); }

Status MetricsHttpServer::start(uint16_t port) {
  try {
    asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
    impl_->acceptor_.open(ep.protocol());
    impl_->acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
    impl_->acceptor_.bind(ep);
    impl_->acceptor_.listen();
    port_ = impl_->acceptor_.local_endpoint().port();
  } catch (const std::exception& e) {
    return Status::network(std::string("metrics endpoint: ") + e.what());
  }
  impl_->accept();
  auto impl = impl_;
  impl_->thread_ = std::thread([impl] { impl->io_.run(); });
  return Status::ok();
}

void MetricsHttpServer::shutdown() {
  if (!impl_->thread_.joinable()) return;
  asio::post(impl_->io_, [impl = impl_] {
    std::error_code ignored;
    impl->acceptor_.close(ignored);
  });
  impl_->io_.stop();
  impl_->thread_.join();
}

}  // namespace rocketrpc::broker
