#include "broker/broker_config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "broker/client_manager.h"
#include "broker/processor/send_support.h"
#include "broker/topic_config_manager.h"
#include "remoting/protocol/codes.h"

namespace rocketrpc::broker {
namespace {

TEST(BrokerConfigTest, AppliesApacheStyleFileAndValidates) {
  BrokerConfig c;
  ASSERT_TRUE(applyConfigText(c, "# comment\nbrokerClusterName = C1\nlistenPort=10911\nflushDiskType=SYNC_FLUSH\n"
                                 "autoCreateTopicEnable=false\nsomeApacheOnlyKey=1\n")
                  .isOk());
  EXPECT_EQ(c.broker_cluster_name, "C1");
  EXPECT_EQ(c.listen_port, 10911);
  EXPECT_EQ(c.flush_disk_type, "SYNC_FLUSH");
  EXPECT_FALSE(c.auto_create_topic_enable);
  EXPECT_TRUE(c.validate().isOk());
  EXPECT_FALSE(applyConfigText(c, "listenPort=abc\n").isOk());
  EXPECT_FALSE(applyConfigText(c, "no equals sign\n").isOk());
  c.flush_disk_type = "SOMETIMES";
  EXPECT_FALSE(c.validate().isOk());
  EXPECT_NE(describeConfig().find("storeReplyMessageEnable = true"), std::string::npos);
}

TEST(BrokerConfigTest, SelectorThreadsDefaultToOnePerFourHardwareThreads) {
  BrokerConfig c;
  EXPECT_EQ(c.server_selector_threads, 0);
  const int hw = static_cast<int>(std::thread::hardware_concurrency());
  EXPECT_EQ(c.ioThreads(), std::clamp(hw / 4, 1, 8));
  ASSERT_TRUE(applyConfigText(c, "serverSelectorThreads=3\n").isOk());
  EXPECT_EQ(c.ioThreads(), 3);
  EXPECT_TRUE(c.validate().isOk());
  c.server_selector_threads = -1;
  Status s = c.validate();
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("serverSelectorThreads"), std::string::npos) << s.toString();
}

TEST(BrokerConfigTest, TlsKeysAreReadAndValidated) {
  BrokerConfig c;
  EXPECT_EQ(c.tls_server_mode, "disabled");
  EXPECT_FALSE(c.tls_server_need_client_auth);
  ASSERT_TRUE(applyConfigText(c, "tlsServerMode=enforcing\n").isOk());
  Status s = c.validate();
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("tlsServerCertPath"), std::string::npos) << s.toString();
  ASSERT_TRUE(applyConfigText(c, "tlsServerCertPath=/etc/b.crt\ntlsServerKeyPath=/etc/b.key\n"
                                 "tlsServerTrustCertPath=/etc/ca.crt\ntlsServerNeedClientAuth=true\n")
                  .isOk());
  EXPECT_TRUE(c.validate().isOk()) << c.validate().toString();
  EXPECT_EQ(c.tls_server_key_path, "/etc/b.key");
  EXPECT_TRUE(c.tls_server_need_client_auth);
  c.tls_server_mode = "sometimes";
  s = c.validate();
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("tlsServerMode"), std::string::npos) << s.toString();
  c.tls_server_mode = "permissive";
  ASSERT_TRUE(applyConfigText(c, "tlsEnable=true\ntlsClientCertPath=/etc/c.crt\n").isOk());
  EXPECT_FALSE(c.validate().isOk());  // a client certificate without its key
  const std::string help = describeConfig();
  for (const char* key : {"tlsServerMode = disabled", "tlsServerCertPath", "tlsServerKeyPath", "tlsServerTrustCertPath",
                          "tlsServerNeedClientAuth = false", "tlsEnable = false"}) {
    EXPECT_NE(help.find(key), std::string::npos) << key;
  }
}

TEST(BrokerConfigTest, ConnectionMemoryBoundKeysHaveDefaultsAndRanges) {
  BrokerConfig c;
  const std::string help = describeConfig();
  for (const char* key : {"maxReceivingBytes = 268435456", "frameReceiveTimeoutMillis = 60000",
                          "maxWriteQueueBytesPerConnection = 67108864", "writeStallTimeoutMillis = 30000"}) {
    EXPECT_NE(help.find(key), std::string::npos) << key;
  }
  ASSERT_TRUE(applyConfigText(c, "maxReceivingBytes=1048576\nmaxWriteQueueBytesPerConnection=65536\n"
                                 "frameReceiveTimeoutMillis=100\nwriteStallTimeoutMillis=100\n")
                  .isOk());
  EXPECT_TRUE(c.validate().isOk());
  EXPECT_EQ(c.max_write_queue_bytes_per_connection, 65536);
  ASSERT_TRUE(setConfigProperty(c, "maxWriteQueueBytesPerConnection", "1024").isOk());
  Status s = c.validate();
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("maxWriteQueueBytesPerConnection"), std::string::npos) << s.toString();
}

TEST(BrokerConfigTest, SendBackpressureKeysHaveDefaultsAndRanges) {
  BrokerConfig c;
  const std::string help = describeConfig();
  for (const char* key : {"waitTimeMillsInSendQueue = 200", "maxSendQueueBytes = 134217728"}) {
    EXPECT_NE(help.find(key), std::string::npos) << key;
  }
  ASSERT_TRUE(applyConfigText(c, "waitTimeMillsInSendQueue=0\nmaxSendQueueBytes=1048576\n").isOk());
  EXPECT_TRUE(c.validate().isOk());
  EXPECT_EQ(c.wait_time_mills_in_send_queue, 0);
  EXPECT_EQ(c.max_send_queue_bytes, 1048576);
  ASSERT_TRUE(setConfigProperty(c, "maxSendQueueBytes", "1024").isOk());
  Status s = c.validate();
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("maxSendQueueBytes"), std::string::npos) << s.toString();
  ASSERT_TRUE(setConfigProperty(c, "maxSendQueueBytes", "1048576").isOk());
  ASSERT_TRUE(setConfigProperty(c, "waitTimeMillsInSendQueue", "-1").isOk());
  EXPECT_FALSE(c.validate().isOk());
}

TEST(BrokerConfigTest, StoreFileAndDiskKeysHaveDefaultsAndRanges) {
  BrokerConfig c;
  const std::string help = describeConfig();
  for (const char* key : {"maxOpenFiles = 1024", "diskMaxUsedSpaceRatio = 75", "diskSpaceWarningLevelRatio = 90"}) {
    EXPECT_NE(help.find(key), std::string::npos) << key;
  }
  ASSERT_TRUE(applyConfigText(c, "maxOpenFiles=16\ndiskMaxUsedSpaceRatio=95\ndiskSpaceWarningLevelRatio=99\n").isOk());
  EXPECT_TRUE(c.validate().isOk());
  for (const char* bad : {"maxOpenFiles=15", "diskMaxUsedSpaceRatio=96", "diskSpaceWarningLevelRatio=100",
                          "diskSpaceWarningLevelRatio=9"}) {
    BrokerConfig b;
    ASSERT_TRUE(applyConfigText(b, bad).isOk());
    Status s = b.validate();
    EXPECT_FALSE(s.isOk()) << bad;
    EXPECT_NE(s.message().find(std::string(bad).substr(0, std::string(bad).find('='))), std::string::npos) << s.toString();
  }
}

TEST(BrokerConfigTest, DelayLevelsParse) {
  auto levels = parseDelayLevels("1s 5s 1m 2h 1d");
  ASSERT_TRUE(levels.isOk());
  EXPECT_EQ(*levels, (std::vector<int64_t>{1000, 5000, 60000, 7200000, 86400000}));
  EXPECT_FALSE(parseDelayLevels("5x").isOk());
  EXPECT_FALSE(parseDelayLevels("").isOk());
}

TEST(TopicRulesTest, NamesAndForbiddenTopics) {
  EXPECT_TRUE(isValidTopicName("Topic_A-1%|x"));
  EXPECT_FALSE(isValidTopicName("bad topic"));
  EXPECT_FALSE(isValidTopicName(std::string(128, 'a')));
  EXPECT_TRUE(isValidTopicName("%RETRY%" + std::string(200, 'a')));
  EXPECT_TRUE(isNotAllowedSendTopic("SCHEDULE_TOPIC_XXXX"));
  EXPECT_FALSE(isNotAllowedSendTopic("TBW102"));
}

TEST(SendHeaderTest, V2LettersAndV1NamesDecodeAlike) {
  auto v2 = remoting::RemotingCommand::request(remoting::request_code::kSendMessageV2);
  v2.set("a", "PG");
  v2.set("b", "T");
  v2.set("c", "TBW102");
  v2.set("d", "4");
  v2.set("e", "2");
  v2.set("i", "TAGS\x01x");
  auto h = parseSendHeader(v2);
  ASSERT_TRUE(h.isOk());
  EXPECT_EQ(h->topic, "T");
  EXPECT_EQ(h->queue_id, 2);
  auto v1 = remoting::RemotingCommand::request(remoting::request_code::kSendMessage);
  v1.set("producerGroup", "PG");
  v1.set("topic", "T");
  v1.set("queueId", "1");
  auto h1 = parseSendHeader(v1);
  ASSERT_TRUE(h1.isOk());
  EXPECT_EQ(h1->queue_id, 1);
  EXPECT_EQ(h1->default_topic, "TBW102");
  v1.ext_fields.erase("queueId");
  EXPECT_FALSE(parseSendHeader(v1).isOk());
}

TEST(RebalanceLockManagerTest, LockIsExclusiveUntilExpiry) {
  RebalanceLockManager locks(60000);
  RebalanceLockManager::Queue q{"T", "b", 0};
  EXPECT_EQ(locks.tryLockBatch("g", {q}, "c1", 0).size(), 1u);
  EXPECT_TRUE(locks.tryLockBatch("g", {q}, "c2", 1000).empty());
  EXPECT_EQ(locks.tryLockBatch("g", {q}, "c1", 2000).size(), 1u);  // renewal
  EXPECT_EQ(locks.tryLockBatch("g", {q}, "c2", 62001).size(), 1u);  // expired
  locks.unlockBatch("g", {q}, "c2");
  EXPECT_EQ(locks.tryLockBatch("g", {q}, "c1", 62002).size(), 1u);
}

TEST(ClientManagerTest, MembershipChangesAndChannelClose) {
  ClientManager m;
  remoting::ConsumerData d;
  d.group_name = "g";
  remoting::SubscriptionData s;
  s.topic = "T";
  d.subscriptions.push_back(s);
  EXPECT_TRUE(m.registerConsumer(d, "h:1", "c1", 0));
  EXPECT_FALSE(m.registerConsumer(d, "h:1", "c1", 10));
  EXPECT_TRUE(m.registerConsumer(d, "h:2", "c2", 10));
  EXPECT_EQ(m.consumerIds("g").size(), 2u);
  EXPECT_TRUE(m.findSubscription("g", "T"));
  EXPECT_EQ(m.onChannelClosed("h:1"), std::vector<std::string>{"g"});
  EXPECT_EQ(m.scanExpired(200000, 120000), std::vector<std::string>{"g"});
  EXPECT_FALSE(m.hasConsumerGroup("g"));
  m.registerProducer("pg", "h:3", "c3", 0);
  EXPECT_EQ(m.findProducerChannel("c3"), std::optional<std::string>("h:3"));
}

}  // namespace
}  // namespace rocketrpc::broker
