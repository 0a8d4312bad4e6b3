// Client-side metrics against a real broker over 127.0.0.1: prometheusText of RpcClient and RpcServer passes
// `promtool check metrics` and shows the traffic, MetricsEndpoint serves it (404 elsewhere), the periodic
// stats callbacks deliver valid JSON with the same figures, a traceparent set by the requester reaches the
// handler's RpcContext (single requests and streaming ends), and `rocketrpc serve|respond --metrics-port`
// serve their counters.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "rocketrpc/producer.h"
#include "rocketrpc/rpc.h"
#include "support/admin.h"
#include "support/metrics_scrape.h"
#include "support/subprocess.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using testing::sampleValue;
using testing::testNamesrv;
using testing::uniqueName;
using testing::waitUntil;

constexpr const char* kTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Answers every request and session end with the traceparent its RpcContext carries ("-" when none).
class TraceReceiver : public RpcReceiver {
 public:
  std::string processRequest(std::string_view) override { return seen(); }
  std::string processStreamingRequest(const std::string&, const std::vector<std::string>&) override {
    return seen();
  }

 private:
  static std::string seen() {
    const RpcContext* ctx = RpcContext::current();
    return ctx == nullptr || ctx->traceparent().empty() ? "-" : ctx->traceparent();
  }
};

/// Collects the JSON documents of a stats callback. Thread-safe.
struct JsonSink {
  std::mutex mu;
  std::vector<std::string> docs;
  void operator()(const std::string& json) {
    std::lock_guard<std::mutex> lock(mu);
    docs.push_back(json);
  }
  std::string last() {
    std::lock_guard<std::mutex> lock(mu);
    return docs.empty() ? std::string() : docs.back();
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    return docs.size();
  }
};

void expectPromtoolClean(const std::string& text) {
  auto checked = testing::promtoolCheck(text);
  if (!checked) {
    if (testing::inCi()) ADD_FAILURE() << "promtool is missing in CI (scripts/setup.sh installs prometheus)";
    return;
  }
  EXPECT_EQ(checked->exit_code, 0) << checked->output << "\n" << text;
}

class RpcMetricsIT : public ::testing::Test {
 protected:
  void SetUp() override {
    ROCKETRPC_REQUIRE_CLUSTER();
    topic_ = uniqueName("rpc_metrics");
    group_ = uniqueName("rpc_metrics_srv");
    auto created = testing::createTopicOnAllBrokers(testNamesrv(), topic_, 4);
    ASSERT_TRUE(created.isOk()) << created.status().toString();
  }
  void TearDown() override {
    if (client_) client_->close();
    if (server_) server_->close();
  }
  RpcServerOptions serverOptions() {
    RpcServerOptions o;
    o.broker_url = testNamesrv();
    o.request_topic = topic_;
    o.consumer_group = group_;
    return o;
  }
  RpcClientOptions clientOptions() {
    RpcClientOptions o;
    o.broker_url = testNamesrv();
    o.request_topic = topic_;
    o.default_timeout = 10000ms;
    return o;
  }
  void startBoth(RpcServerOptions so, RpcClientOptions co) {
    server_ = std::make_unique<RpcServer>(so, std::make_shared<TraceReceiver>());
    server_->start();
    ASSERT_TRUE(waitUntil([&] { return !server_->assignedQueues().empty(); }, 30s))
        << "server never rebalanced";
    client_ = std::make_unique<RpcClient>(co);
    client_->start();
  }

  std::string topic_, group_;
  std::unique_ptr<RpcServer> server_;
  std::unique_ptr<RpcClient> client_;
};

TEST_F(RpcMetricsIT, PrometheusTextOfClientAndServerIsValidAndCountsTheCalls) {
  startBoth(serverOptions(), clientOptions());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(client_->sendSync("x").success());
  const std::string text = prometheusText(*client_) + prometheusText(*server_);
  expectPromtoolClean(text);
  const std::string client_labels =
      "{topic=\"" + topic_ + "\",group=\"" + client_->options().producer_group + "\"}";
  const std::string server_labels = "{topic=\"" + topic_ + "\",group=\"" + group_ + "\"}";
  EXPECT_EQ(sampleValue(text, "rocketrpc_client_requests_total" + client_labels), 3) << text;
  EXPECT_EQ(sampleValue(text, "rocketrpc_client_succeeded_total" + client_labels), 3);
  EXPECT_EQ(sampleValue(text, "rocketrpc_client_in_flight" + client_labels), 0);
  EXPECT_EQ(sampleValue(text, "rocketrpc_client_latency_seconds_count" + client_labels), 3);
  auto p99 = sampleValue(text, "rocketrpc_client_latency_seconds{topic=\"" + topic_ + "\",group=\"" +
                                   client_->options().producer_group + "\",quantile=\"0.99\"}");
  ASSERT_TRUE(p99);
  EXPECT_GT(*p99, 0);
  EXPECT_EQ(sampleValue(text, "rocketrpc_server_requests_total" + server_labels), 3);
  EXPECT_EQ(sampleValue(text, "rocketrpc_server_replies_total" + server_labels), 3);
  EXPECT_EQ(sampleValue(text, "rocketrpc_server_handler_latency_seconds_count" + server_labels), 3);
}

TEST_F(RpcMetricsIT, EndpointServesMetricsAndNotFoundElsewhere) {
  startBoth(serverOptions(), clientOptions());
  EXPECT_TRUE(client_->sendSync("x").success());
  MetricsEndpoint endpoint([&] { return prometheusText(*client_) + prometheusText(*server_); });
  EXPECT_EQ(endpoint.port(), 0);
  endpoint.start(0);
  ASSERT_NE(endpoint.port(), 0);
  auto metrics = testing::httpGet(endpoint.port(), "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  expectPromtoolClean(metrics->body);
  EXPECT_NE(metrics->body.find("rocketrpc_server_replies_total{"), std::string::npos);
  EXPECT_EQ(testing::httpGet(endpoint.port(), "/healthz")->status, 200);
  EXPECT_EQ(testing::httpGet(endpoint.port(), "/")->status, 404);
  EXPECT_EQ(testing::httpGet(endpoint.port(), "/stats")->status, 404);
  // A second start is refused; a port in use is a kConfig error naming it.
  EXPECT_THROW(endpoint.start(0), RpcException);
  MetricsEndpoint clash([] { return std::string(); });
  try {
    clash.start(endpoint.port());
    FAIL() << "bound a port in use";
  } catch (const RpcException& e) {
    EXPECT_EQ(e.code(), RpcErrorCode::kConfig);
    EXPECT_NE(std::string(e.what()).find(std::to_string(endpoint.port())), std::string::npos) << e.what();
  }
  endpoint.close();
  EXPECT_FALSE(testing::httpGet(endpoint.port(), "/metrics"));
}

TEST_F(RpcMetricsIT, StatsCallbacksFireWithValidJsonOfTheSameFigures) {
  auto client_sink = std::make_shared<JsonSink>();
  auto server_sink = std::make_shared<JsonSink>();
  auto co = clientOptions();
  co.stats_interval = 100ms;
  co.stats_callback = [client_sink](const std::string& j) { (*client_sink)(j); };
  auto so = serverOptions();
  so.stats_interval = 100ms;
  so.stats_callback = [server_sink](const std::string& j) { (*server_sink)(j); };
  startBoth(so, co);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(client_->sendSync("x").success());
  auto figure = [](const std::string& doc, const char* key) -> int64_t {
    if (doc.empty()) return -1;
    auto j = nlohmann::json::parse(doc);  // throws (fails the test) on invalid JSON
    return j.at(key).get<int64_t>();
  };
  ASSERT_TRUE(waitUntil([&] { return figure(client_sink->last(), "succeeded") == 4; }, 5s))
      << client_sink->last();
  ASSERT_TRUE(waitUntil([&] { return figure(server_sink->last(), "replies") == 4; }, 5s))
      << server_sink->last();
  auto c = nlohmann::json::parse(client_sink->last());
  EXPECT_EQ(c.at("type"), "rpc_client");
  EXPECT_EQ(c.at("topic"), topic_);
  EXPECT_EQ(c.at("requests"), 4);
  EXPECT_EQ(c.at("latency_us").at("count"), 4);
  EXPECT_GT(c.at("latency_us").at("p50").get<int64_t>(), 0);
  EXPECT_GT(c.at("ts_ms").get<int64_t>(), 0);
  auto s = nlohmann::json::parse(server_sink->last());
  EXPECT_EQ(s.at("type"), "rpc_server");
  EXPECT_EQ(s.at("group"), group_);
  EXPECT_EQ(s.at("handler_latency_us").at("count"), 4);
  // The JSON and the Prometheus text carry the same figures.
  const auto stats = client_->stats();
  EXPECT_EQ(c.at("timeouts").get<uint64_t>(), stats.timeouts);
  EXPECT_EQ(c.at("sessions_started").get<uint64_t>(), stats.sessions_started);
  // It keeps firing, and stops at close().
  const size_t before = client_sink->size();
  ASSERT_TRUE(waitUntil([&] { return client_sink->size() >= before + 2; }, 5s));
  client_->close();  // joins the reporter: a callback that was running has returned
  const size_t at_close = client_sink->size();
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(client_sink->size(), at_close);
}

TEST_F(RpcMetricsIT, StatsIntervalIsValidated) {
  auto co = clientOptions();
  co.stats_interval = 50ms;
  try {
    RpcClient bad(co);
    FAIL() << "accepted stats-interval-millis 50";
  } catch (const RpcException& e) {
    EXPECT_EQ(e.code(), RpcErrorCode::kConfig);
    EXPECT_NE(std::string(e.what()).find("stats-interval-millis"), std::string::npos) << e.what();
  }
}

TEST_F(RpcMetricsIT, TraceparentReachesTheHandler) {
  startBoth(serverOptions(), clientOptions());
  EXPECT_EQ(client_->sendSync("x").payload(), "-");
  {
    ScopedTraceparent tp(kTraceparent);
    EXPECT_EQ(client_->sendSync("x").payload(), kTraceparent);
    EXPECT_EQ(client_->sendAsync("x", 10s).get().payload(), kTraceparent);
    const std::string session = client_->sendStreamingStart();
    client_->sendStreamingMessage(session, "part");
    EXPECT_EQ(client_->sendStreamingEnd(session).payload(), kTraceparent);
  }
  EXPECT_EQ(client_->sendSync("x").payload(), "-");
  // A requester speaking plain RocketMQ (Producer::request) sets the user property itself.
  ProducerOptions po;
  po.namesrv_addr = testNamesrv();
  po.group = uniqueName("rpc_metrics_pg");
  Producer producer(po);
  producer.start();
  Message request(topic_, "x");
  request.putProperty(std::string(kTraceparentProperty), kTraceparent);
  MessageExt reply = producer.request(request, 10s);
  EXPECT_EQ(reply.body(), kTraceparent);
  producer.shutdown();
}

class RpcMetricsCliIT : public RpcMetricsIT {
 protected:
  void SetUp() override {
    RpcMetricsIT::SetUp();
    cli_ = testing::envOr("ROCKETRPC_CLI", "");
    ASSERT_FALSE(cli_.empty()) << "ROCKETRPC_CLI not set";
  }
  void TearDown() override {
    RpcMetricsIT::TearDown();
    for (const auto& f : files_) std::remove(f.c_str());
  }
  /// Reads "METRICS 127.0.0.1:<port>" then "READY"; 0 when they did not come.
  static uint16_t readMetricsPort(testing::Subprocess& p) {
    auto line = p.readLine(60s);
    if (!line || line->rfind("METRICS 127.0.0.1:", 0) != 0) return 0;
    const auto port = static_cast<uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
    return p.waitForLine("READY", 60s) ? port : 0;
  }
  std::string cli_;
  std::vector<std::string> files_;
};

TEST_F(RpcMetricsCliIT, ServeWithMetricsPort) {
  const std::string config = ::testing::TempDir() + "/" + uniqueName("rpc_metrics") + ".yaml";
  files_.push_back(config);
  {
    std::ofstream out(config);
    out << "rocketmq:\n  rpc:\n    client:\n      broker-url: " << testNamesrv()
        << "\n      request-topic: " << topic_ << "\n    server:\n      consumer-group: " << group_ << "\n";
  }
  testing::Subprocess serve({cli_, "serve", "--config", config, "--metrics-port", "0"});
  const uint16_t port = readMetricsPort(serve);
  ASSERT_NE(port, 0) << serve.output();
  client_ = std::make_unique<RpcClient>(clientOptions());
  client_->start();
  for (int i = 0; i < 2; ++i) EXPECT_EQ(client_->sendSync("echo me").payload(), "echo me");
  auto r = testing::httpGet(port, "/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  expectPromtoolClean(r->body);
  EXPECT_EQ(sampleValue(r->body,
                        "rocketrpc_server_replies_total{topic=\"" + topic_ + "\",group=\"" + group_ + "\"}"),
            2)
      << r->body;
  EXPECT_EQ(testing::httpGet(port, "/nope")->status, 404);
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(60s), 0);
}

TEST_F(RpcMetricsCliIT, RespondWithMetricsPort) {
  const std::string group = uniqueName("rpc_metrics_resp");
  testing::Subprocess respond(
      {cli_, "respond", "-n", testNamesrv(), "-t", topic_, "-g", group, "--metrics-port", "0"});
  const uint16_t port = readMetricsPort(respond);
  ASSERT_NE(port, 0) << respond.output();
  ProducerOptions po;
  po.namesrv_addr = testNamesrv();
  po.group = uniqueName("rpc_metrics_pg");
  Producer producer(po);
  producer.start();
  ASSERT_TRUE(waitUntil(
      [&] {
        auto r = testing::httpGet(port, "/metrics");
        auto q = r ? sampleValue(r->body, "rocketrpc_respond_assigned_queues{topic=\"" + topic_ +
                                              "\",group=\"" + group + "\"}")
                   : std::nullopt;
        return q && *q > 0;
      },
      30s));
  EXPECT_EQ(producer.request(Message(topic_, "hi"), 10s).body(), "hi");
  // The responder counts its reply once sendReply returned, which may be after the requester has it.
  const std::string labels = "{topic=\"" + topic_ + "\",group=\"" + group + "\"}";
  std::optional<testing::HttpResponse> r;
  ASSERT_TRUE(waitUntil(
      [&] {
        r = testing::httpGet(port, "/metrics");
        return r && sampleValue(r->body, "rocketrpc_respond_replies_total" + labels) == 1;
      },
      10s))
      << (r ? r->body : "no answer");
  expectPromtoolClean(r->body);
  EXPECT_EQ(sampleValue(r->body, "rocketrpc_respond_requests_total" + labels), 1) << r->body;
  // Its consumer's own families follow, labelled with the group only.
  const std::string group_label = "{group=\"" + group + "\"}";
  EXPECT_EQ(sampleValue(r->body, "rocketrpc_consumer_messages_pulled_total" + group_label), 1) << r->body;
  ASSERT_TRUE(waitUntil(
      [&] {
        r = testing::httpGet(port, "/metrics");
        return r && sampleValue(r->body, "rocketrpc_consumer_consumed_ok_total" + group_label) == 1;
      },
      10s))
      << (r ? r->body : "no answer");
  EXPECT_EQ(testing::httpGet(port, "/")->status, 404);
  producer.shutdown();
  respond.signal(SIGTERM);
  EXPECT_EQ(respond.wait(60s), 0);
}

}  // namespace
}  // namespace rocketrpc
