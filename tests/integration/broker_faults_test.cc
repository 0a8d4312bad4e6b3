// Files and disks of rocketrpc-broker under attack (issue 10, label "fault"):
//  - the real binary under a 256-descriptor RLIMIT_NOFILE (prlimit): one message to each queue of a
//    1,024-queue topic, then a restart under the same limit (which used to reopen every file and fail);
//  - an in-process broker whose store lives on the fault-injection filesystem: the disk fills during a send
//    run and is freed again. Refused sends get Apache's disk-full answer, no acknowledged message is lost and
//    sends work again without a restart.
#include <gtest/gtest.h>

#include <algorithm>
#include <any>
#include <functional>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../unit/store/fault_injection_fs.h"
#include "../unit/store/gated_fs.h"
#include "broker/broker_server.h"
#include "common/status.h"
#include "remoting/protocol/codes.h"
#include "remoting/transport.h"
#include "store/file_system.h"
#include "rocketrpc/errors.h"
#include "rocketrpc/producer.h"
#include "rocketrpc/push_consumer.h"
#include "support/admin.h"
#include "support/subprocess.h"
#include "support/test_broker.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using remoting::RemotingCommand;
using testing::Subprocess;
using testing::uniqueName;
using testing::waitUntil;

constexpr int kNoFile = 256;

// rocketrpc-broker under prlimit --nofile=256:256 (soft and hard: it cannot raise it); sets *addr from READY.
std::unique_ptr<Subprocess> startLimitedBroker(const std::string& store, std::string* addr) {
  std::vector<std::string> argv{"prlimit", "--nofile=" + std::to_string(kNoFile) + ":" + std::to_string(kNoFile), "--",
                                testing::brokerBinaryPath(), "--port", "0", "--store", store};
  for (const std::string& arg : testing::relaxedDiskArgs()) argv.push_back(arg);
  auto process = std::make_unique<Subprocess>(argv);
  while (auto line = process->readLine(60s)) {
    if (line->rfind("READY ", 0) == 0) {
      *addr = line->substr(6);
      return process;
    }
  }
  return nullptr;
}

MessageQueue queueOf(const std::vector<MessageQueue>& queues, int32_t id) {
  for (const auto& q : queues)
    if (q.queue_id == id) return q;
  return queues.front();
}

// Sends one message to each queue and returns how many were stored at `want_offset`.
int sendToEveryQueue(const std::string& addr, const std::string& topic, int queues, int64_t want_offset) {
  ProducerOptions po;
  po.namesrv_addr = addr;
  po.group = uniqueName("faults_pg");
  po.retry_times = 0;
  Producer producer(po);
  producer.start();
  FunctionSelector by_id([](const std::vector<MessageQueue>& qs, const Message&, const std::any& arg) {
    return queueOf(qs, std::any_cast<int32_t>(arg));
  });
  int stored = 0;
  for (int32_t q = 0; q < queues; ++q) {
    try {
      auto r = producer.send(Message(topic, "q" + std::to_string(q)), by_id, std::any(q));
      EXPECT_EQ(r.message_queue.queue_id, q);
      EXPECT_EQ(r.queue_offset, want_offset) << "queue " << q;
      stored += r.status == SendStatus::kSendOk && r.queue_offset == want_offset;
    } catch (const MQException& e) {
      ADD_FAILURE() << "queue " << q << ": " << e.what();
      if (stored == 0 && q > 8) break;  // hopeless: do not wait 1,024 timeouts
    }
  }
  producer.shutdown();
  return stored;
}

TEST(BrokerFaultsTest, AThousandQueueTopicUnderALowDescriptorLimitAndARestart) {
  constexpr int kQueues = 1024;
  const auto store = (std::filesystem::temp_directory_path() / uniqueName("broker_fds")).string();
  const std::string topic = uniqueName("wide");
  std::string addr;
  auto broker = startLimitedBroker(store, &addr);
  ASSERT_TRUE(broker) << "broker did not print READY under prlimit (binary " << testing::brokerBinaryPath() << ")";
  auto created = testing::createTopicOnAllBrokers(addr, topic, kQueues);
  ASSERT_TRUE(created.isOk()) << created.status().toString();
  EXPECT_EQ(sendToEveryQueue(addr, topic, kQueues, 0), kQueues);

  broker->signal(SIGTERM);
  ASSERT_EQ(broker->wait(30s), 0);
  broker = startLimitedBroker(store, &addr);
  ASSERT_TRUE(broker) << "the restart under the same descriptor limit failed";
  // Every queue kept its first message: the next one lands at offset 1.
  EXPECT_EQ(sendToEveryQueue(addr, topic, kQueues, 1), kQueues);
  broker->signal(SIGTERM);
  EXPECT_EQ(broker->wait(30s), 0);
  std::error_code ec;
  std::filesystem::remove_all(store, ec);
}

class Collector {
 public:
  ConsumeStatus add(const std::vector<MessageExt>& msgs) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& m : msgs) bodies_.insert(m.body());
    return ConsumeStatus::kSuccess;
  }
  std::set<std::string> bodies() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }

 private:
  mutable std::mutex mu_;
  std::set<std::string> bodies_;
};

TEST(BrokerFaultsTest, ADiskFullDuringASendRunIsRefusedClearlyAndWritesResumeWithoutRestart) {
  const auto dir = std::filesystem::temp_directory_path() / uniqueName("broker_diskfull");
  auto fs = std::make_shared<store::testing::FaultInjectionFs>();
  broker::BrokerConfig config;
  testing::relaxDiskLimits(config);
  config.listen_port = 0;
  config.store_path_root_dir = dir.string();
  config.flush_disk_type = "SYNC_FLUSH";
  auto server = std::make_unique<broker::BrokerServer>(config);
  server->setStoreFileSystem(fs);
  ASSERT_TRUE(server->start().isOk());
  const std::string addr = server->address();
  const std::string topic = uniqueName("diskfull");
  ASSERT_TRUE(testing::createTopicOnAllBrokers(addr, topic, 4).isOk());

  ProducerOptions po;
  po.namesrv_addr = addr;
  po.group = uniqueName("diskfull_pg");
  po.retry_times = 0;
  Producer producer(po);
  producer.start();
  std::set<std::string> acked;
  std::set<std::string> refused;
  for (int i = 0; i < 300; ++i) {
    if (i == 100) fs->addFault({store::testing::FsOp::kWrite, ENOSPC, "commitlog"});
    if (i == 200) fs->clearFaults();  // space returns
    const std::string body = "send-" + std::to_string(i);
    try {
      auto r = producer.send(Message(topic, body));
      EXPECT_EQ(r.status, SendStatus::kSendOk);
      acked.insert(body);
    } catch (const MQException& e) {
      EXPECT_EQ(e.responseCode(), 14) << e.what();  // SERVICE_NOT_AVAILABLE, as Apache answers a full disk
      EXPECT_NE(std::string(e.what()).find("disk is full"), std::string::npos) << e.what();
      refused.insert(body);
    }
    if (i == 150) {
      const std::string metrics = server->metricsText();
      EXPECT_NE(metrics.find("rocketrpc_broker_store_writable 1"), std::string::npos);
      EXPECT_NE(metrics.find("rocketrpc_broker_store_puts_refused_total{reason=\"disk_full\"}"), std::string::npos);
    }
  }
  producer.shutdown();
  EXPECT_EQ(refused.size(), 100u);
  EXPECT_EQ(acked.size(), 200u);

  // Power loss, then a restart on the same (simulated) disk, now full: the broker starts (recovery writes
  // nothing it needs), serves every acknowledged message and no refused one, and refuses sends until space
  // returns.
  server->shutdown();
  fs->crash();
  fs->addFault({store::testing::FsOp::kWrite, ENOSPC, ""});
  fs->addFault({store::testing::FsOp::kOpen, ENOSPC, ".tmp"});
  fs->setUsedRatio([] { return 1.0; });
  server = std::make_unique<broker::BrokerServer>(config);
  server->setStoreFileSystem(fs);
  const Status started = server->start();
  ASSERT_TRUE(started.isOk()) << started.toString();
  Collector sink;
  PushConsumerOptions co;
  co.namesrv_addr = server->address();
  co.group = uniqueName("diskfull_cg");
  co.consume_from_where = ConsumeFromWhere::kFirstOffset;
  PushConsumer consumer(co);
  consumer.subscribe(topic, "*");
  consumer.setMessageListener([&sink](const std::vector<MessageExt>& msgs) { return sink.add(msgs); });
  consumer.start();
  EXPECT_TRUE(waitUntil([&] { return sink.bodies().size() >= acked.size(); }, 60s));
  std::this_thread::sleep_for(500ms);  // anything more would arrive now
  consumer.shutdown();
  EXPECT_EQ(sink.bodies(), acked);

  po.namesrv_addr = server->address();  // the restarted broker listens on another port
  Producer again(po);
  again.start();
  try {
    again.send(Message(topic, "while full"));
    ADD_FAILURE() << "a send on a full disk was accepted";
  } catch (const MQException& e) {
    EXPECT_EQ(e.responseCode(), 14) << e.what();
  }
  fs->clearFaults();
  fs->setUsedRatio([] { return 0.5; });
  // The store looks at the disk usage at most once a second: sends work again within about that.
  EXPECT_TRUE(waitUntil(
      [&] {
        try {
          return again.send(Message(topic, "after space returned")).status == SendStatus::kSendOk;
        } catch (const MQException&) {
          return false;
        }
      },
      10s));
  again.shutdown();
  server->shutdown();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// Issue 10 item 3 (the worker pool): with its one worker held, requests of pooled codes queue up to
// workerQueueCapacity; the next ones are answered SYSTEM_BUSY [OVERLOAD] at once (never silence, never an unbounded
// queue), codes the I/O thread answers are still served, and everything queued is answered once the worker is free.
TEST(BrokerFaultsTest, AFullWorkerQueueAnswersOverloadAtOnceAndOthersAreStillServed) {
  constexpr int kCapacity = 16;
  constexpr int kOver = 10;
  const auto dir = std::filesystem::temp_directory_path() / uniqueName("broker_overload");
  // A commit-log read (VIEW_MESSAGE_BY_ID) holds the broker's only worker while the gate is closed.
  auto fs = std::make_shared<store::testing::GatedFs>(store::testing::GatedFs::Gate::kReads);
  broker::BrokerConfig config;
  testing::relaxDiskLimits(config);
  config.listen_port = 0;
  config.store_path_root_dir = dir.string();
  config.server_worker_threads = 1;
  config.worker_queue_capacity = kCapacity;
  auto server = std::make_unique<broker::BrokerServer>(config);
  server->setStoreFileSystem(fs);
  ASSERT_TRUE(server->start().isOk());
  const std::string addr = server->address();
  const std::string topic = uniqueName("overload");
  ASSERT_TRUE(testing::createTopicOnAllBrokers(addr, topic, 1).isOk());
  // The first record of an empty commit log: physical offset 0, which the view request below reads.
  Status stored = testing::sendOneMessage(addr, topic, "stored");
  ASSERT_TRUE(stored.isOk()) << stored.toString();

  remoting::RemotingClient client;
  ASSERT_TRUE(client.start().isOk());
  std::mutex mu;
  std::vector<RemotingCommand> answers;
  auto collect = [&](Result<RemotingCommand> r) {
    std::lock_guard lock(mu);
    answers.push_back(r.isOk() ? std::move(*r) : RemotingCommand::request(-1));
  };
  auto count = [&](const std::function<bool(const RemotingCommand&)>& pred) {
    std::lock_guard lock(mu);
    return static_cast<int>(std::count_if(answers.begin(), answers.end(), pred));
  };
  auto overload = [](const RemotingCommand& c) {
    return c.code == remoting::response_code::kSystemBusy &&
           c.remark.value_or("") == "[OVERLOAD]system busy, start flow control for a while";
  };
  auto success = [](const RemotingCommand& c) { return c.code == remoting::response_code::kSuccess; };

  fs->closeGate();
  RemotingCommand view = RemotingCommand::request(remoting::request_code::kViewMessageById);
  view.ext_fields["offset"] = "0";
  client.invokeAsync(addr, view, 60s, collect);
  ASSERT_TRUE(fs->awaitHeld()) << "the view request never reached the commit log";
  // Runtime info runs on the worker pool: kCapacity wait, the next kOver are refused at once.
  for (int i = 0; i < kCapacity + kOver; ++i)
    client.invokeAsync(addr, RemotingCommand::request(remoting::request_code::kGetBrokerRuntimeInfo), 60s, collect);
  EXPECT_TRUE(waitUntil([&] { return count(overload) == kOver; }, 30s)) << count(overload);
  // A pooled code (heartbeat) is refused too; one the I/O thread answers (GET_MAX_OFFSET) is served.
  auto hb = client.invokeSync(addr, RemotingCommand::request(remoting::request_code::kHeartBeat), 10s);
  ASSERT_TRUE(hb.isOk()) << hb.status().toString();
  EXPECT_TRUE(overload(*hb)) << hb->code << " " << hb->remark.value_or("");
  RemotingCommand max = RemotingCommand::request(remoting::request_code::kGetMaxOffset);
  max.ext_fields["topic"] = topic;
  max.ext_fields["queueId"] = "0";
  auto got = client.invokeSync(addr, max, 10s);
  ASSERT_TRUE(got.isOk()) << got.status().toString();
  EXPECT_EQ(got->code, remoting::response_code::kSuccess) << got->remark.value_or("");
  EXPECT_EQ(count(success), 0) << "answered while the worker was held";

  fs->openGate();
  EXPECT_TRUE(waitUntil([&] { return count(success) == 1 + kCapacity; }, 30s)) << count(success);
  EXPECT_EQ(count(overload), kOver);
  EXPECT_EQ(count([](const RemotingCommand&) { return true; }), 1 + kCapacity + kOver);
  EXPECT_NE(server->metricsText().find("rocketrpc_broker_requests_refused_overload_total " +
                                       std::to_string(kOver + 1)),
            std::string::npos)
      << "the refusals (runtime info and heartbeat) are counted";
  client.shutdown();
  server->shutdown();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace rocketrpc
