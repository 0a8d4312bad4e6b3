// rocketrpc-broker as a real process (ROCKETRPC_BROKER_BIN, default <build>/tools/rocketrpc-broker next to
// this test's directory) with SYNC_FLUSH: kill -9 in the middle of a stream of acknowledged sync sends,
// restart on the same store, and check that every acknowledged message is consumed and that the group resumes
// from its committed offsets; then a graceful stop (exit 0) and a torn tail appended to the last commit-log
// segment, which recovery must cut off.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "rocketrpc/producer.h"
#include "rocketrpc/push_consumer.h"
#include "support/subprocess.h"
#include "support/test_broker.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using testing::Subprocess;
using testing::uniqueName;
using testing::waitUntil;

// Starts the broker on a free port with sync flush; returns it and sets its address from the READY line.
std::unique_ptr<Subprocess> startBroker(const std::string& store, std::string& addr) {
  return testing::startBrokerBinary({"--port", "0", "--store", store, "--set", "flushDiskType=SYNC_FLUSH", "--set",
                                     "flushConsumerOffsetInterval=200", "--set", "mapedFileSizeCommitLog=8388608"},
                                    &addr);
}

class Collector {
 public:
  ConsumeStatus add(const std::vector<MessageExt>& msgs) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& m : msgs) bodies_.insert(m.body());
    return ConsumeStatus::kSuccess;
  }
  size_t countPrefix(const std::string& prefix) const {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const auto& b : bodies_) n += b.rfind(prefix, 0) == 0;
    return n;
  }
  bool containsAll(const std::set<std::string>& want) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& w : want)
      if (!bodies_.count(w)) return false;
    return true;
  }

 private:
  mutable std::mutex mu_;
  std::set<std::string> bodies_;
};

std::unique_ptr<PushConsumer> startConsumer(const std::string& ns, const std::string& group, const std::string& topic,
                                            Collector& sink) {
  PushConsumerOptions o;
  o.namesrv_addr = ns;
  o.group = group;
  o.consume_from_where = ConsumeFromWhere::kFirstOffset;
  o.persist_offset_interval = 200ms;
  o.consume_threads = 8;
  auto c = std::make_unique<PushConsumer>(o);
  c->subscribe(topic, "*");
  c->setMessageListener([&sink](const std::vector<MessageExt>& msgs) { return sink.add(msgs); });
  c->start();
  return c;
}

TEST(BrokerDurabilityTest, KillNineKeepsEveryAcknowledgedMessageAndCommittedOffsets) {
  const auto store = (std::filesystem::temp_directory_path() / uniqueName("broker_dur")).string();
  const std::string topic = uniqueName("dur_topic");
  const std::string group = uniqueName("dur_group");
  std::string addr;
  auto broker = startBroker(store, addr);
  ASSERT_TRUE(broker) << "broker did not print READY (binary " << testing::brokerBinaryPath() << ")";

  // Phase 1: 500 messages consumed and committed by the group, then the consumer leaves.
  {
    ProducerOptions po;
    po.namesrv_addr = addr;
    po.group = uniqueName("dur_pg");
    Producer producer(po);
    producer.start();
    for (int i = 0; i < 500; ++i) producer.send(Message(topic, "pre-" + std::to_string(i)));
    Collector first;
    auto consumer = startConsumer(addr, group, topic, first);
    ASSERT_TRUE(waitUntil([&] { return first.countPrefix("pre-") == 500; }, 60s));
    consumer->shutdown();  // commits its offsets to the broker
    producer.shutdown();
    std::this_thread::sleep_for(1s);  // > flushConsumerOffsetInterval: offsets are on disk
  }

  // Phase 2: 100,000 planned sync sends from 4 threads; kill -9 mid-run.
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25000;
  std::mutex acked_mu;
  std::set<std::string> acked;
  std::atomic<bool> stop{false};
  ProducerOptions po;
  po.namesrv_addr = addr;
  po.group = uniqueName("dur_pg2");
  po.retry_times = 0;
  Producer producer(po);
  producer.start();
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < kPerThread && !stop; ++i) {
        std::string body = "dur-" + std::to_string(t) + "-" + std::to_string(i);
        try {
          auto r = producer.send(Message(topic, body));
          if (r.status == SendStatus::kSendOk) {
            std::lock_guard<std::mutex> lock(acked_mu);
            acked.insert(body);
          }
        } catch (const std::exception&) {
          return;  // the broker is gone
        }
      }
    });
  }
  auto acked_count = [&] {
    std::lock_guard<std::mutex> lock(acked_mu);
    return acked.size();
  };
  waitUntil([&] { return acked_count() >= 20000; }, 8s);
  ASSERT_GT(acked_count(), 0u);
  broker->signal(SIGKILL);
  broker->wait(10s);
  stop = true;
  for (auto& s : senders) s.join();
  producer.shutdown();
  const std::set<std::string> acknowledged = [&] {
    std::lock_guard<std::mutex> lock(acked_mu);
    return acked;
  }();

  // Phase 3: restart on the same store; the group resumes after "pre-" and gets every acknowledged message.
  broker = startBroker(store, addr);
  ASSERT_TRUE(broker) << "broker did not restart";
  Collector second;
  auto consumer = startConsumer(addr, group, topic, second);
  EXPECT_TRUE(waitUntil([&] { return second.containsAll(acknowledged); }, 120s))
      << "acknowledged messages missing after kill -9 (" << acknowledged.size() << " acknowledged)";
  EXPECT_EQ(second.countPrefix("pre-"), 0u) << "the group did not resume from its committed offsets";
  consumer->shutdown();

  // Graceful stop exits 0; then a torn record appended to the newest segment is cut off at the next start.
  broker->signal(SIGTERM);
  auto code = broker->wait(30s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  std::filesystem::path newest;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(store) / "commitlog"))
    if (newest.empty() || e.path().filename() > newest.filename()) newest = e.path();
  ASSERT_FALSE(newest.empty());
  {
    // A plausible record header (size 200, V1 magic) followed by garbage, right after the valid data would be
    // ideal; appending at the file end exercises the "segment ends without a blank" path.
    std::ofstream out(newest, std::ios::binary | std::ios::app);
    const char junk[] = {0, 0, 0, static_cast<char>(200), static_cast<char>(0xDA), static_cast<char>(0xA3), 0x20,
                         static_cast<char>(0xA7), 1, 2, 3, 4, 5, 6, 7};
    out.write(junk, sizeof(junk));
  }
  broker = startBroker(store, addr);
  ASSERT_TRUE(broker) << "broker did not recover a torn segment";
  Collector third;
  auto group3 = uniqueName("dur_group3");
  auto reader = startConsumer(addr, group3, topic, third);
  EXPECT_TRUE(waitUntil([&] { return third.containsAll(acknowledged); }, 120s));
  reader->shutdown();
  broker->signal(SIGTERM);
  broker->wait(30s);
  std::error_code ec;
  std::filesystem::remove_all(store, ec);
}

}  // namespace
}  // namespace rocketrpc
