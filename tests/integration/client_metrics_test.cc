// Producer and PushConsumer metrics against a real name server + broker over 127.0.0.1: stats() counts the
// traffic exactly, prometheusText of both passes `promtool check metrics` and shows the same figures, and the
// periodic stats callbacks deliver JSON of those figures from start() until shutdown() (also when shutdown()
// is called from inside the callback).
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <stdexcept>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "rocketrpc/metrics.h"
#include "rocketrpc/producer.h"
#include "rocketrpc/push_consumer.h"
#include "support/admin.h"
#include "support/metrics_scrape.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using testing::sampleValue;
using testing::testNamesrv;
using testing::uniqueName;
using testing::waitUntil;

/// Collects the JSON documents of a stats callback. Thread-safe.
struct JsonSink {
  std::mutex mu;
  std::vector<std::string> docs;
  void add(const std::string& json) {
    std::lock_guard<std::mutex> lock(mu);
    docs.push_back(json);
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    return docs.size();
  }
  nlohmann::json last() {
    std::lock_guard<std::mutex> lock(mu);
    return docs.empty() ? nlohmann::json() : nlohmann::json::parse(docs.back());  // throws on invalid JSON
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

class ClientMetricsIT : public ::testing::Test {
 protected:
  void SetUp() override {
    ROCKETRPC_REQUIRE_CLUSTER();
    topic_ = uniqueName("client_metrics");
    silent_topic_ = uniqueName("client_metrics_silent");
    for (const auto& t : {topic_, silent_topic_}) {
      auto created = testing::createTopicOnAllBrokers(testNamesrv(), t, 4);
      ASSERT_TRUE(created.isOk()) << created.status().toString();
    }
  }
  void TearDown() override {
    if (producer_) producer_->shutdown();
    if (consumer_) consumer_->shutdown();
  }
  ProducerOptions producerOptions() {
    ProducerOptions o;
    o.namesrv_addr = testNamesrv();
    o.group = uniqueName("client_metrics_p");
    return o;
  }
  PushConsumerOptions consumerOptions() {
    PushConsumerOptions o;
    o.namesrv_addr = testNamesrv();
    o.group = uniqueName("client_metrics_c");
    o.consume_from_where = ConsumeFromWhere::kFirstOffset;
    return o;
  }
  /// A consumer of topic_ answering each request with "re:" + its body; waits for its queues.
  void startResponder(PushConsumerOptions o) {
    consumer_ = std::make_unique<PushConsumer>(o);
    consumer_->subscribe(topic_, "*");
    consumer_->setReplyListener([](const MessageExt& m) { return "re:" + m.body(); });
    consumer_->start();
    ASSERT_TRUE(waitUntil([&] { return !consumer_->assignedQueues().empty(); }, 30s)) << "never rebalanced";
  }
  void startProducer(ProducerOptions o) {
    producer_ = std::make_unique<Producer>(o);
    producer_->start();
  }
  /// 5 sync sends, 1 async send, 1 oneway send of "abc" and 3 requests "q" answered: 10 messages, 24 bytes.
  void traffic() {
    for (int i = 0; i < 5; ++i) producer_->send(Message(topic_, "abc"));
    std::promise<bool> sent;
    producer_->send(Message(topic_, "abc"), [&](Outcome<SendResult> r) { sent.set_value(r.ok()); });
    EXPECT_TRUE(sent.get_future().get());
    producer_->sendOneway(Message(topic_, "abc"));
    for (int i = 0; i < 3; ++i) EXPECT_EQ(producer_->request(Message(topic_, "q"), 10s).body(), "re:q");
  }

  std::string topic_, silent_topic_;
  std::unique_ptr<Producer> producer_;
  std::unique_ptr<PushConsumer> consumer_;
};

TEST_F(ClientMetricsIT, StatsCountTheTrafficExactlyAndPrometheusTextIsValid) {
  startResponder(consumerOptions());
  startProducer(producerOptions());
  traffic();
  // One failed send (empty topic) and one request nobody answers.
  EXPECT_THROW(producer_->send(Message("", "abc")), MQException);
  EXPECT_THROW(producer_->request(Message(silent_topic_, "lost"), 500ms), RequestTimeoutException);

  // The request's bytes are counted when the broker's send answer arrives, which may trail the reply.
  ASSERT_TRUE(waitUntil([&] { return producer_->stats().bytes_sent == 5 * 3 + 3 + 3 + 3 * 1 + 4; }, 5s))
      << producer_->stats().bytes_sent;
  const ProducerStats p = producer_->stats();
  EXPECT_EQ(p.sends_ok, 7u);
  EXPECT_EQ(p.sends_failed, 1u);
  EXPECT_EQ(p.requests_ok, 3u);
  EXPECT_EQ(p.requests_timed_out, 1u);
  EXPECT_EQ(p.requests_failed, 0u);
  EXPECT_EQ(p.requests_pending, 0u);
  EXPECT_EQ(p.async_in_flight, 0u);

  ASSERT_TRUE(waitUntil(
      [&] { return consumer_->stats().replies_ok == 3 && consumer_->stats().consumed_ok == 10; }, 10s))
      << consumer_->stats().consumed_ok << " " << consumer_->stats().replies_ok;
  const PushConsumerStats c = consumer_->stats();
  EXPECT_EQ(c.messages_pulled, 10u);
  EXPECT_EQ(c.consumed_failed, 0u);
  EXPECT_EQ(c.replies_failed, 0u);
  EXPECT_EQ(c.messages_cached, 0u);
  EXPECT_EQ(c.queues_assigned, consumer_->assignedQueues().size());
  EXPECT_GT(c.queues_assigned, 0u);

  const std::string text = prometheusText(*producer_) + prometheusText(*consumer_);
  expectPromtoolClean(text);
  const std::string pl = "{group=\"" + producer_->options().group + "\"}";
  const std::string cl = "{group=\"" + consumer_->options().group + "\"}";
  EXPECT_EQ(sampleValue(text, "rocketrpc_producer_sends_ok_total" + pl), 7) << text;
  EXPECT_EQ(sampleValue(text, "rocketrpc_producer_sends_failed_total" + pl), 1);
  EXPECT_EQ(sampleValue(text, "rocketrpc_producer_requests_ok_total" + pl), 3);
  EXPECT_EQ(sampleValue(text, "rocketrpc_producer_requests_timed_out_total" + pl), 1);
  EXPECT_EQ(sampleValue(text, "rocketrpc_producer_requests_pending" + pl), 0);
  EXPECT_EQ(sampleValue(text, "rocketrpc_producer_sent_bytes_total" + pl), 28);
  EXPECT_EQ(sampleValue(text, "rocketrpc_consumer_messages_pulled_total" + cl), 10);
  EXPECT_EQ(sampleValue(text, "rocketrpc_consumer_consumed_ok_total" + cl), 10);
  EXPECT_EQ(sampleValue(text, "rocketrpc_consumer_replies_ok_total" + cl), 3);
  EXPECT_EQ(sampleValue(text, "rocketrpc_consumer_queues_assigned" + cl),
            static_cast<double>(c.queues_assigned));
  EXPECT_EQ(text.find(topic_), std::string::npos) << "the consumer's topics are not labels";
}

TEST_F(ClientMetricsIT, ConsumerCountsFailedConsumptionAndCachedMessages) {
  // Broadcasting: a failed message is dropped, not retried, so the failure count is exact at once.
  auto o = consumerOptions();
  o.message_model = MessageModel::kBroadcasting;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  // Whichever way the test ends, the held listener calls return and the consumer stops before mu/cv go.
  struct Finally {
    std::function<void()> fn;
    ~Finally() { fn(); }
  } finally{[&] {
    {
      std::lock_guard<std::mutex> lock(mu);
      release = true;
    }
    cv.notify_all();
    if (consumer_) consumer_->shutdown();
  }};
  consumer_ = std::make_unique<PushConsumer>(o);
  consumer_->subscribe(topic_, "*");
  consumer_->setMessageListener([&](const std::vector<MessageExt>& msgs) {
    if (msgs.front().body() == "fail") return ConsumeStatus::kReconsumeLater;
    if (msgs.front().body() == "throw") throw std::runtime_error("listener failure");
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
    return ConsumeStatus::kSuccess;
  });
  consumer_->start();
  ASSERT_TRUE(waitUntil([&] { return consumer_->stats().queues_assigned > 0; }, 30s)) << "never rebalanced";
  startProducer(producerOptions());
  producer_->send(Message(topic_, "fail"));
  producer_->send(Message(topic_, "throw"));
  for (int i = 0; i < 3; ++i) producer_->send(Message(topic_, "hold"));
  // The three held messages stay cached until their listener calls return.
  ASSERT_TRUE(waitUntil([&] { return consumer_->stats().consumed_failed == 2; }, 10s))
      << consumer_->stats().consumed_failed;
  ASSERT_TRUE(waitUntil([&] { return consumer_->stats().messages_cached == 3; }, 10s))
      << consumer_->stats().messages_cached;
  EXPECT_EQ(consumer_->stats().consumed_ok, 0u);
  EXPECT_EQ(consumer_->stats().messages_pulled, 5u);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(waitUntil([&] { return consumer_->stats().consumed_ok == 3; }, 10s));
  ASSERT_TRUE(waitUntil([&] { return consumer_->stats().messages_cached == 0; }, 10s));
  EXPECT_EQ(consumer_->stats().consumed_failed, 2u);
  EXPECT_EQ(consumer_->stats().replies_ok, 0u);
}

TEST_F(ClientMetricsIT, StatsCallbacksDeliverTheSameFiguresUntilShutdown) {
  auto psink = std::make_shared<JsonSink>();
  auto csink = std::make_shared<JsonSink>();
  auto co = consumerOptions();
  co.stats_interval = 100ms;
  co.stats_callback = [csink](const std::string& j) { csink->add(j); };
  auto po = producerOptions();
  po.stats_interval = 100ms;
  po.stats_callback = [psink](const std::string& j) { psink->add(j); };
  startResponder(co);
  startProducer(po);
  traffic();
  auto figure = [](const nlohmann::json& j, const char* key) -> int64_t {
    return j.is_object() ? j.at(key).get<int64_t>() : -1;
  };
  ASSERT_TRUE(waitUntil([&] { return figure(psink->last(), "bytes_sent") == 24; }, 5s)) << psink->last();
  ASSERT_TRUE(waitUntil([&] { return figure(csink->last(), "replies_ok") == 3; }, 10s)) << csink->last();
  ASSERT_TRUE(waitUntil([&] { return figure(csink->last(), "consumed_ok") == 10; }, 10s)) << csink->last();
  // The traffic is over, so the figures settle (a reply may be counted a moment after the bytes were sent):
  // a later document carries exactly the producer's stats().
  const auto same_as_stats = [&](const nlohmann::json& p) {
    const ProducerStats ps = producer_->stats();
    return p.is_object() && p.at("sends_ok").get<uint64_t>() == ps.sends_ok &&
           p.at("requests_ok").get<uint64_t>() == ps.requests_ok &&
           p.at("sends_failed").get<uint64_t>() == ps.sends_failed && ps.requests_ok > 0;
  };
  ASSERT_TRUE(waitUntil([&] { return same_as_stats(psink->last()); }, 10s))
      << psink->last() << " vs requests_ok=" << producer_->stats().requests_ok;
  const nlohmann::json p = psink->last();
  EXPECT_EQ(p.at("type"), "producer");
  EXPECT_EQ(p.at("group"), po.group);
  EXPECT_GT(p.at("ts_ms").get<int64_t>(), 0);
  const nlohmann::json c = csink->last();
  EXPECT_EQ(c.at("type"), "push_consumer");
  EXPECT_EQ(c.at("group"), co.group);
  EXPECT_EQ(c.at("messages_pulled").get<uint64_t>(), consumer_->stats().messages_pulled);

  // Stopped by shutdown(): no document after it returns.
  producer_->shutdown();
  consumer_->shutdown();
  const size_t pn = psink->size();
  const size_t cn = csink->size();
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(psink->size(), pn);
  EXPECT_EQ(csink->size(), cn);
}

TEST_F(ClientMetricsIT, ShutdownFromInsideTheStatsCallbackDoesNotDeadlock) {
  auto sink = std::make_shared<JsonSink>();
  auto po = producerOptions();
  po.stats_interval = 100ms;
  std::atomic<Producer*> self{nullptr};
  po.stats_callback = [sink, &self](const std::string& j) {
    sink->add(j);
    self.load()->shutdown();
  };
  startProducer(po);
  self = producer_.get();
  // `self` is set right after start(); the first tick is 100 ms later.
  ASSERT_TRUE(waitUntil([&] { return sink->size() >= 1; }, 5s));
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(sink->size(), 1u);
  EXPECT_THROW(producer_->send(Message(topic_, "x")), MQException);  // shut down
}

TEST(ClientMetricsOptions, StatsIntervalIsZeroOrWithinBounds) {
  ProducerOptions po;
  po.namesrv_addr = "127.0.0.1:1";
  po.group = "g";
  po.stats_interval = 99ms;
  EXPECT_THROW(Producer{po}, MQException);
  po.stats_interval = 3600001ms;
  EXPECT_THROW(Producer{po}, MQException);
  po.stats_interval = 100ms;
  EXPECT_NO_THROW(Producer{po});
  PushConsumerOptions co;
  co.namesrv_addr = "127.0.0.1:1";
  co.group = "g";
  co.stats_interval = 99ms;
  EXPECT_THROW(PushConsumer{co}, MQException);
  co.stats_interval = 0ms;
  EXPECT_NO_THROW(PushConsumer{co});
  // Counters exist before start(): all zero.
  po.stats_interval = 0ms;
  Producer p(po);
  EXPECT_EQ(p.stats().sends_ok, 0u);
  EXPECT_NE(statsJson(p).find("\"type\":\"producer\""), std::string::npos);
}

}  // namespace
}  // namespace rocketrpc
