#include "support/admin.h"

#include <chrono>
#include <thread>

#include "client/admin_client.h"
#include "rocketrpc/errors.h"
#include "rocketrpc/producer.h"
#include "support/test_support.h"

namespace rocketrpc::testing {

using namespace std::chrono_literals;

Result<int> createTopicOnAllBrokers(const std::string& namesrv, const std::string& topic, int queues) {
  ClientOptions options;
  options.namesrv_addr = namesrv;
  options.api_timeout = 10000ms;
  auto admin = client::AdminClient::create(options);
  if (!admin.isOk()) return admin.status();
  auto masters = (*admin)->masterAddrs();
  if (!masters.isOk()) return masters.status();
  client::TopicSpec spec;
  spec.topic = topic;
  spec.read_queues = queues;
  spec.write_queues = queues;
  for (const std::string& addr : *masters) {
    if (Status s = (*admin)->createOrUpdateTopic(addr, spec); !s.isOk()) return s.withContext("create topic on " + addr);
  }
  const int brokers = static_cast<int>(masters->size());
  // Brokers register the new topic with the name server right away; wait until the route shows all of them.
  for (auto deadline = std::chrono::steady_clock::now() + 60s;; std::this_thread::sleep_for(200ms)) {
    auto route = (*admin)->topicRoute(topic);
    if (route.isOk() && static_cast<int>(route->queue_datas.size()) >= brokers) return brokers;
    if (std::chrono::steady_clock::now() > deadline) return Status::timeout("route of " + topic + " incomplete");
  }
}

Status sendOneMessage(const std::string& namesrv, const std::string& topic, const std::string& body) {
  ProducerOptions po;
  po.namesrv_addr = namesrv;
  po.group = uniqueName("send_one_pg");
  try {
    Producer producer(po);
    producer.start();
    const SendStatus sent = producer.send(Message(topic, body)).status;
    producer.shutdown();
    return sent == SendStatus::kSendOk ? Status::ok() : Status::internal("send status " + std::to_string(static_cast<int>(sent)));
  } catch (const MQException& e) {
    return Status::internal(std::string("send to ") + topic + " failed: " + e.what());
  }
}

}  // namespace rocketrpc::testing
