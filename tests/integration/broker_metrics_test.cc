// The broker's Prometheus endpoint (metricsPort) after real traffic from our Producer and PushConsumer over
// 127.0.0.1: the scrape passes `promtool check metrics`, request codes are labelled by name, the latency
// histograms are filled, per-topic counters respect metricsMaxTopics, consumer lag is computed from the
// offsets, and paths other than /metrics and /healthz get 404.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>

#include "broker/broker_server.h"
#include "rocketrpc/producer.h"
#include "rocketrpc/push_consumer.h"
#include "support/metrics_scrape.h"
#include "support/test_broker.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using testing::httpGet;
using testing::sampleValue;
using testing::uniqueName;
using testing::waitUntil;

class BrokerMetricsEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / uniqueName("broker_metrics");
    broker::BrokerConfig config;
    testing::relaxDiskLimits(config);
    config.listen_port = 0;
    config.store_path_root_dir = dir_.string();
    config.broker_name = "broker-metrics";
    config.metrics_port = testing::freeLoopbackPort();
    config.metrics_max_topics = 3;
    server_ = std::make_unique<broker::BrokerServer>(config);
    ASSERT_TRUE(server_->start().isOk());
    ASSERT_NE(server_->metricsPort(), 0);
  }
  void TearDown() override {
    server_->shutdown();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string scrape() {
    auto r = httpGet(server_->metricsPort(), "/metrics");
    EXPECT_TRUE(r.has_value());
    if (!r) return {};
    EXPECT_EQ(r->status, 200);
    return r->body;
  }
  double value(const std::string& text, const std::string& series) {
    auto v = sampleValue(text, series);
    EXPECT_TRUE(v.has_value()) << "no sample " << series;
    return v.value_or(-1);
  }

  std::filesystem::path dir_;
  std::unique_ptr<broker::BrokerServer> server_;
};

TEST_F(BrokerMetricsEndpointTest, ScrapeAfterTrafficIsValidNamedAndComplete) {
  const std::string topic = uniqueName("mt_topic");
  const std::string group = uniqueName("mt_cg");
  ProducerOptions po;
  po.namesrv_addr = server_->address();
  po.group = uniqueName("mt_pg");
  Producer producer(po);
  producer.start();
  for (int i = 0; i < 5; ++i) producer.send(Message(topic, "body-" + std::to_string(i)));  // 6 bytes each

  {
    PushConsumerOptions co;
    co.namesrv_addr = server_->address();
    co.group = group;
    co.consume_from_where = ConsumeFromWhere::kFirstOffset;
    co.rebalance_interval = 1000ms;
    co.persist_offset_interval = 200ms;
    PushConsumer consumer(co);
    std::atomic<int> seen{0};
    consumer.subscribe(topic, "*");
    consumer.setMessageListener([&](const std::vector<MessageExt>& msgs) {
      seen += static_cast<int>(msgs.size());
      return ConsumeStatus::kSuccess;
    });
    consumer.start();
    ASSERT_TRUE(waitUntil([&] { return seen.load() >= 5; }, 20s));
    // Committed at the broker before the consumer leaves (persisted every 200 ms and at shutdown).
    ASSERT_TRUE(waitUntil(
        [&] { return scrape().find("rocketrpc_broker_consumer_lag{group=\"" + group) != std::string::npos; },
        10s));
    consumer.shutdown();
  }
  // Three more the group has not consumed: its lag on the topic is 3.
  for (int i = 0; i < 3; ++i) producer.send(Message(topic, "late-" + std::to_string(i)));  // 6 bytes each
  // metricsMaxTopics = 3: two more topics get series of their own, the next two share __other__.
  for (int i = 0; i < 4; ++i) producer.send(Message(uniqueName("mt_extra" + std::to_string(i)), "x"));
  // The commit log is fsynced by the flush thread (every 500 ms).
  ASSERT_TRUE(waitUntil(
      [&] {
        auto v = sampleValue(scrape(), "rocketrpc_broker_store_fsync_seconds_count");
        return v && *v > 0;
      },
      10s));

  const std::string text = scrape();
  auto checked = testing::promtoolCheck(text);
  if (checked) EXPECT_EQ(checked->exit_code, 0) << checked->output << "\n" << text;
  if (!checked && testing::inCi())
    ADD_FAILURE() << "promtool is missing in CI (scripts/setup.sh installs it)";

  // Named request labels and per-code histograms.
  EXPECT_GE(value(text, "rocketrpc_broker_requests_total{request=\"SEND_MESSAGE_V2\"}"), 12);
  EXPECT_GE(value(text, "rocketrpc_broker_requests_total{request=\"HEART_BEAT\"}"), 1);
  EXPECT_EQ(text.find("{code=\""), std::string::npos) << "numeric code labels are gone";
  EXPECT_EQ(
      value(text, "rocketrpc_broker_request_processing_seconds_count{request=\"SEND_MESSAGE_V2\"}"),
      value(text,
            "rocketrpc_broker_request_processing_seconds_bucket{request=\"SEND_MESSAGE_V2\",le=\"+Inf\"}"));
  EXPECT_GE(value(text, "rocketrpc_broker_request_processing_seconds_count{request=\"PULL_MESSAGE\"}"), 1);
  EXPECT_GE(value(text, "rocketrpc_broker_store_append_seconds_count"), 12);
  EXPECT_GT(value(text, "rocketrpc_broker_store_append_seconds_sum"), 0);
  EXPECT_GE(value(text, "rocketrpc_broker_store_fsync_seconds_count"), 1);
  // The consumer's parked pulls ended when it left.
  EXPECT_GE(value(text, "rocketrpc_broker_pull_hold_seconds_count"), 1);
  EXPECT_NE(text.find("# TYPE rocketrpc_broker_reply_push_seconds histogram"), std::string::npos);

  // Per topic, within the cap.
  EXPECT_EQ(value(text, "rocketrpc_broker_topic_messages_in_total{topic=\"" + topic + "\"}"), 8);
  EXPECT_EQ(value(text, "rocketrpc_broker_topic_bytes_in_total{topic=\"" + topic + "\"}"), 8 * 6);
  EXPECT_GE(value(text, "rocketrpc_broker_topic_messages_out_total{topic=\"" + topic + "\"}"), 5);
  EXPECT_GT(value(text, "rocketrpc_broker_topic_bytes_out_total{topic=\"" + topic + "\"}"), 5 * 6);
  EXPECT_EQ(value(text, "rocketrpc_broker_topic_messages_in_total{topic=\"__other__\"}"), 2);
  EXPECT_FALSE(
      sampleValue(text, "rocketrpc_broker_topic_messages_in_total{topic=\"" + uniqueName("nope") + "\"}"));

  // Lag of the group on the topic: the three late messages.
  EXPECT_EQ(value(text, "rocketrpc_broker_consumer_lag{group=\"" + group + "\",topic=\"" + topic + "\"}"), 3);

  // Every gauge and counter has its HELP.
  EXPECT_EQ(value(text, "rocketrpc_broker_pulls_holding"), 0);
  EXPECT_NE(text.find("# HELP rocketrpc_broker_producers "), std::string::npos);
  EXPECT_NE(text.find("# HELP rocketrpc_broker_commitlog_max_offset "), std::string::npos);
  producer.shutdown();
  if (!checked) GTEST_SKIP() << "promtool is not installed: the scrape was checked here but not by promtool";
}

TEST_F(BrokerMetricsEndpointTest, OnlyMetricsAndHealthzAnswer) {
  auto health = httpGet(server_->metricsPort(), "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");
  for (const char* path : {"/", "/metricsx", "/favicon.ico", "/metrics/extra"}) {
    auto r = httpGet(server_->metricsPort(), path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
  }
  auto q = httpGet(server_->metricsPort(), "/metrics?name[]=x");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->status, 200);
  EXPECT_NE(q->body.find("# TYPE rocketrpc_broker_messages_in_total counter"), std::string::npos);
}

}  // namespace
}  // namespace rocketrpc
