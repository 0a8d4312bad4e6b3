// Rendering of RpcClientStats / RpcServerStats as Prometheus text and JSON, and MetricsEndpoint
// (rocketrpc/metrics.h). The figures come from stats() only, so scraping costs the traffic nothing.
#include <fmt/format.h>

#include <chrono>
#include <mutex>

#include "common/prometheus_text.h"
#include "remoting/metrics_http_server.h"
#include "rocketrpc/metrics.h"

namespace rocketrpc {

namespace {

using prom::Figure;
using prom::jsonString;

std::string render(std::string_view prefix, const std::string& topic, const std::string& group,
                   const std::vector<Figure>& figures, const char* latency_name, const char* latency_help,
                   const LatencySummary& latency) {
  const std::string labels =
      "topic=\"" + prom::escapeLabel(topic) + "\",group=\"" + prom::escapeLabel(group) + "\"";
  std::string out;
  prom::figures(out, prefix, labels, figures);
  // A summary without _sum: the log-linear histogram behind stats() keeps percentiles, not a sum.
  const std::string name = std::string(prefix) + latency_name;
  prom::family(out, name, "summary", latency_help);
  const std::pair<const char*, std::chrono::microseconds> quantiles[] = {
      {"0.5", latency.p50}, {"0.9", latency.p90}, {"0.99", latency.p99}};
  for (const auto& [q, v] : quantiles)
    prom::sample(out, name, labels + ",quantile=\"" + q + "\"", static_cast<double>(v.count()) / 1e6);
  prom::sample(out, name + "_count", labels, static_cast<int64_t>(latency.count));
  const std::string max_name = name + "_max";
  prom::family(out, max_name, "gauge", std::string("Largest sample of ") + latency_name + ".");
  prom::sample(out, max_name, labels, static_cast<double>(latency.max.count()) / 1e6);
  return out;
}

std::string json(std::string_view type, const std::string& topic, const std::string& group,
                 const std::vector<Figure>& figures, const char* latency_key, const LatencySummary& l) {
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::string out = fmt::format("{{\"type\":{},\"topic\":{},\"group\":{},\"ts_ms\":{}", jsonString(type),
                                jsonString(topic), jsonString(group), now_ms);
  prom::jsonFigures(out, figures);
  out += fmt::format(",\"{}\":{{\"count\":{},\"p50\":{},\"p90\":{},\"p99\":{},\"max\":{}}}}}", latency_key,
                     l.count, l.p50.count(), l.p90.count(), l.p99.count(), l.max.count());
  return out;
}

std::vector<Figure> clientFigures(const RpcClientStats& s) {
  return {
      {"requests", "requests_total", "counter", "Calls accepted (sendSync, sendAsync, sendStreamingEnd).",
       s.requests},
      {"succeeded", "succeeded_total", "counter", "Replies with success().", s.succeeded},
      {"remote_errors", "remote_errors_total", "counter", "Error replies (handler threw, server limit).",
       s.remote_errors},
      {"timeouts", "timeouts_total", "counter", "Requests sent without a reply in time.", s.timeouts},
      {"send_failures", "send_failures_total", "counter", "Requests that could not be sent.",
       s.send_failures},
      {"no_responder", "no_responder_total", "counter", "Calls failed fast: no server online on the topic.",
       s.no_responder},
      {"closed", "closed_total", "counter", "Calls failed by close().", s.closed},
      {"session_errors", "session_errors_total", "counter", "Session ends answered with a session error.",
       s.session_errors},
      {"rejected_over_limit", "rejected_over_limit_total", "counter",
       "Calls rejected by max-concurrent-requests or -sessions.", s.rejected_over_limit},
      {"unmatched_replies", "unmatched_replies_total", "counter", "Replies that matched no pending request.",
       s.unmatched_replies},
      {"in_flight", "in_flight", "gauge", "Requests awaiting replies now.", s.in_flight},
      {"sessions_started", "sessions_started_total", "counter", "Streaming sessions started.",
       s.sessions_started},
      {"sessions_open", "sessions_open", "gauge", "Streaming sessions open now.", s.sessions_open},
      {"sessions_expired", "sessions_expired_total", "counter",
       "Sessions expired by session-idle-timeout-millis.", s.sessions_expired},
      {"stream_messages", "stream_messages_total", "counter", "Streaming messages sent.", s.stream_messages},
  };
}

std::vector<Figure> serverFigures(const RpcServerStats& s) {
  return {
      {"requests", "requests_total", "counter", "Single requests and session ends received.", s.requests},
      {"replies", "replies_total", "counter", "Successful replies sent.", s.replies},
      {"handler_errors", "handler_errors_total", "counter", "Error replies because the handler threw.",
       s.handler_errors},
      {"limit_errors", "limit_errors_total", "counter", "Error replies because a server bound was reached.",
       s.limit_errors},
      {"session_errors", "session_errors_total", "counter", "Ends answered with a session error.",
       s.session_errors},
      {"expired_dropped", "expired_dropped_total", "counter", "Requests past their deadline when dequeued.",
       s.expired_dropped},
      {"late_replies_dropped", "late_replies_dropped_total", "counter",
       "Replies not sent because the handler finished past the deadline.", s.late_replies_dropped},
      {"dedup_hits", "dedup_hits_total", "counter", "Redelivered requests answered from the reply cache.",
       s.dedup_hits},
      {"reply_failures", "reply_failures_total", "counter", "Replies that could not be sent.",
       s.reply_failures},
      {"ignored", "ignored_total", "counter", "Messages that are neither requests nor streaming messages.",
       s.ignored},
      {"in_flight", "in_flight", "gauge", "Handler calls running now.", s.in_flight},
      {"sessions_open", "sessions_open", "gauge", "Streaming sessions being assembled now.", s.sessions_open},
      {"sessions_completed", "sessions_completed_total", "counter",
       "Complete sessions handed to processStreamingRequest.", s.sessions_completed},
      {"sessions_expired", "sessions_expired_total", "counter",
       "Sessions expired by session-idle-timeout-millis.", s.sessions_expired},
      {"sessions_rejected", "sessions_rejected_total", "counter",
       "Sessions refused by max-concurrent-sessions.", s.sessions_rejected},
      {"session_overflows", "session_overflows_total", "counter",
       "Sessions over max-session-bytes or -messages.", s.session_overflows},
      {"stream_messages", "stream_messages_total", "counter", "Streaming messages received.",
       s.stream_messages},
      {"stream_duplicates", "stream_duplicates_total", "counter",
       "Streaming messages received twice, ignored.", s.stream_duplicates},
      {"stream_dropped", "stream_dropped_total", "counter",
       "Streaming messages of ended, expired, rejected or failed sessions.", s.stream_dropped},
  };
}

}  // namespace

std::string prometheusText(const RpcClient& client) {
  const RpcClientStats s = client.stats();
  const RpcClientOptions& o = client.options();
  return render("rocketrpc_client_", o.request_topic, o.producer_group, clientFigures(s), "latency_seconds",
                "Latency of requests answered by a reply (lifetime quantiles).", s.latency);
}

std::string prometheusText(const RpcServer& server) {
  const RpcServerStats s = server.stats();
  const RpcServerOptions& o = server.options();
  return render("rocketrpc_server_", o.request_topic, o.consumer_group, serverFigures(s),
                "handler_latency_seconds",
                "Duration of processRequest / processStreamingRequest calls (lifetime "
                "quantiles).",
                s.handler_latency);
}

std::string statsJson(const RpcClient& client) {
  const RpcClientStats s = client.stats();
  const RpcClientOptions& o = client.options();
  return json("rpc_client", o.request_topic, o.producer_group, clientFigures(s), "latency_us", s.latency);
}

std::string statsJson(const RpcServer& server) {
  const RpcServerStats s = server.stats();
  const RpcServerOptions& o = server.options();
  return json("rpc_server", o.request_topic, o.consumer_group, serverFigures(s), "handler_latency_us",
              s.handler_latency);
}

class MetricsEndpoint::Impl {
 public:
  explicit Impl(std::function<std::string()> body) : server(std::move(body)) {}
  std::mutex mu;
  bool started = false;  // guarded by mu
  bool closed = false;   // guarded by mu
  remoting::MetricsHttpServer server;
};

MetricsEndpoint::MetricsEndpoint(std::function<std::string()> body)
    : impl_(std::make_unique<Impl>(std::move(body))) {}

MetricsEndpoint::~MetricsEndpoint() { close(); }

void MetricsEndpoint::start(uint16_t port, const std::string& host) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->started || impl_->closed)
    throw RpcException(RpcErrorCode::kInvalidArgument, "MetricsEndpoint already started or closed");
  if (Status s = impl_->server.start(host, port); !s.isOk())
    throw RpcException(RpcErrorCode::kConfig, s.message());
  impl_->started = true;
}

uint16_t MetricsEndpoint::port() const { return impl_->server.port(); }

void MetricsEndpoint::close() noexcept {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->closed = true;
  impl_->server.shutdown();
}

}  // namespace rocketrpc
