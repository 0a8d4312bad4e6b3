// rocketrpc-broker with tlsServerMode=enforcing (in-process, 127.0.0.1:0, temp store, certificates made by the
// test with openssl): a Producer and a PushConsumer with ClientOptions::tls round-trip messages; a plain
// producer is refused with an error that says why (not a timeout); request-reply works over TLS; and a second
// broker registers with the first one's name server over TLS (tlsEnable).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "broker/broker_config.h"
#include "broker/broker_server.h"
#include "remoting/protocol/codes.h"
#include "remoting/transport.h"
#include "rocketrpc/errors.h"
#include "rocketrpc/producer.h"
#include "rocketrpc/push_consumer.h"
#include "support/test_broker.h"
#include "support/test_pki.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using testing::TestPki;
using testing::uniqueName;
using testing::waitUntil;

class BrokerTlsTest : public testing::OwnBrokerTest {
 protected:
  BrokerTlsTest() : OwnBrokerTest("broker_tls") {}

  static void SetUpTestSuite() {
    pki_ = TestPki::create(&setup_error_);
  }
  static void TearDownTestSuite() { pki_.reset(); }
  void SetUp() override {
    if (pki_ == nullptr) GTEST_FAIL() << "cannot make test certificates: " << setup_error_;
    OwnBrokerTest::SetUp();
  }
  void configure(broker::BrokerConfig& config) override {
    config.tls_server_mode = "enforcing";
    config.tls_server_cert_path = pki_->server_cert;
    config.tls_server_key_path = pki_->server_key;
  }

  template <typename Options>
  Options withTls(Options options) const {
    options.namesrv_addr = addr_;
    options.tls.enabled = true;
    options.tls.ca_file = pki_->ca_cert;
    return options;
  }

  static inline std::unique_ptr<TestPki> pki_;
  static inline std::string setup_error_;
};

TEST_F(BrokerTlsTest, ProducerAndPushConsumerRoundTripOverTls) {
  const std::string topic = uniqueName("tls_topic");
  ProducerOptions po = withTls(ProducerOptions{});
  po.group = uniqueName("tls_pg");
  Producer producer(po);
  producer.start();

  PushConsumerOptions co = withTls(PushConsumerOptions{});
  co.group = uniqueName("tls_cg");
  co.consume_from_where = ConsumeFromWhere::kFirstOffset;
  co.rebalance_interval = 1000ms;
  PushConsumer consumer(co);
  std::mutex mu;
  std::set<std::string> received;
  consumer.subscribe(topic, "*");
  consumer.setMessageListener([&](const std::vector<MessageExt>& msgs) {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& m : msgs) received.insert(m.body());
    return ConsumeStatus::kSuccess;
  });

  constexpr int kMessages = 20;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_EQ(producer.send(Message(topic, "tls message " + std::to_string(i))).status, SendStatus::kSendOk);
  }
  consumer.start();
  EXPECT_TRUE(waitUntil(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return received.size() >= kMessages;
      },
      60s));
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(received.size(), static_cast<size_t>(kMessages));
    EXPECT_EQ(received.count("tls message 7"), 1u);
  }
  consumer.shutdown();
  producer.shutdown();
}

TEST_F(BrokerTlsTest, RequestReplyOverTls) {
  const std::string topic = uniqueName("tls_rr");
  ProducerOptions po = withTls(ProducerOptions{});
  po.group = uniqueName("tls_rr_pg");
  Producer requester(po);
  requester.start();
  // Creates the topic (auto-create), so that the consumer finds its route.
  ASSERT_EQ(requester.send(Message(topic, "not a request")).status, SendStatus::kSendOk);

  PushConsumerOptions co = withTls(PushConsumerOptions{});
  co.group = uniqueName("tls_rr_cg");
  co.rebalance_interval = 1000ms;
  PushConsumer consumer(co);
  consumer.subscribe(topic, "*");
  consumer.setMessageListener([&](const std::vector<MessageExt>& msgs) {
    for (const auto& m : msgs) {
      if (m.body() == "not a request") continue;
      consumer.sendReply(createReplyMessage(m, "re: " + m.body()));
    }
    return ConsumeStatus::kSuccess;
  });
  consumer.start();
  // The consumer needs a rebalance before it pulls; retry the first request until it is answered.
  std::string answer;
  ASSERT_TRUE(waitUntil(
      [&] {
        try {
          answer = requester.request(Message(topic, "hello"), 3000ms).body();
          return true;
        } catch (const std::exception&) {
          return false;
        }
      },
      60s));
  EXPECT_EQ(answer, "re: hello");
  requester.shutdown();
  consumer.shutdown();
}

TEST_F(BrokerTlsTest, PlainProducerIsRefusedWithAClearError) {
  ProducerOptions po;
  po.namesrv_addr = addr_;
  po.group = uniqueName("plain_pg");
  Producer producer(po);
  producer.start();
  const auto t0 = std::chrono::steady_clock::now();
  try {
    producer.send(Message(uniqueName("plain_topic"), "x"), 20000ms);
    ADD_FAILURE() << "a plain producer could send to a TLS-only broker";
  } catch (const MQException& e) {
    EXPECT_NE(e.code(), ErrorCode::kOperationTimeout) << e.what();
    EXPECT_NE(std::string(e.what()).find("TLS"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 15s);
}

TEST_F(BrokerTlsTest, UnreadableCaFileFailsStartNamingTheFile) {
  ProducerOptions po = withTls(ProducerOptions{});
  po.group = uniqueName("bad_ca_pg");
  po.tls.ca_file = (pki_->dir / "no-such-ca.pem").string();
  Producer producer(po);
  try {
    producer.start();
    ADD_FAILURE() << "start() succeeded with an unreadable CA file";
  } catch (const MQException& e) {
    EXPECT_NE(std::string(e.what()).find(po.tls.ca_file), std::string::npos) << e.what();
  }
}

TEST_F(BrokerTlsTest, SecondBrokerRegistersWithTheFirstOverTls) {
  const auto dir = dir_.parent_path() / uniqueName("broker_tls_second");
  broker::BrokerConfig config;
  testing::relaxDiskLimits(config);
  config.listen_port = 0;
  config.store_path_root_dir = dir.string();
  config.broker_name = "broker-tls-second";
  config.namesrv_enable = false;
  config.namesrv_addr = addr_;
  config.tls_enable = true;
  config.tls_client_trust_cert_path = pki_->ca_cert;
  // It serves TLS too, with the same certificate (127.0.0.1).
  configure(config);
  broker::BrokerServer second(config);
  Status s = second.start();
  ASSERT_TRUE(s.isOk()) << s.toString();

  remoting::TransportOptions options;
  options.tls.enabled = true;
  options.tls.ca_file = pki_->ca_cert;
  remoting::RemotingClient client(options);
  ASSERT_TRUE(client.start().isOk());
  std::string last;
  EXPECT_TRUE(waitUntil(
      [&] {
        auto r = client.invokeSync(
            addr_, remoting::RemotingCommand::request(remoting::request_code::kGetBrokerClusterInfo), 5s);
        last = r.isOk() ? r->body : r.status().toString();
        return r.isOk() && r->body.find("broker-tls-second") != std::string::npos;
      },
      30s))
      << last;
  second.shutdown();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace rocketrpc
