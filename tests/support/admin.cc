#include "support/admin.h"

#include <chrono>
#include <thread>

#include "remoting/protocol/codes.h"
#include "remoting/protocol/route_data.h"
#include "remoting/transport.h"

namespace rocketrpc::testing {

using remoting::RemotingCommand;
using namespace std::chrono_literals;

Result<int> createTopicOnAllBrokers(const std::string& namesrv, const std::string& topic, int queues) {
  remoting::RemotingClient client;
  client.start();
  auto info_resp =
      client.invokeSync(namesrv, RemotingCommand::request(remoting::request_code::kGetBrokerClusterInfo), 5000ms);
  if (!info_resp.isOk()) return info_resp.status();
  auto info = remoting::parseClusterInfo(info_resp->body);
  if (!info.isOk()) return info.status();
  int brokers = 0;
  for (const auto& [name, bd] : info->broker_addr_table) {
    std::string addr = bd.masterAddr();
    if (addr.empty()) continue;
    auto cmd = RemotingCommand::request(remoting::request_code::kUpdateAndCreateTopic);
    cmd.set("topic", topic);
    cmd.set("defaultTopic", "TBW102");
    cmd.set("readQueueNums", int64_t{queues});
    cmd.set("writeQueueNums", int64_t{queues});
    cmd.set("perm", int64_t{6});
    cmd.set("topicFilterType", "SINGLE_TAG");
    cmd.set("topicSysFlag", int64_t{0});
    cmd.setBool("order", false);
    auto r = client.invokeSync(addr, std::move(cmd), 10000ms);
    if (!r.isOk()) return r.status().withContext("create topic on " + addr);
    if (r->code != 0) return Status::remote(r->code, "create topic on " + addr + ": " + r->remarkOrEmpty());
    ++brokers;
  }
  // Brokers register the new topic with the name server right away; wait until the route shows all of them.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    auto cmd = RemotingCommand::request(remoting::request_code::kGetRouteInfoByTopic);
    cmd.set("topic", topic);
    auto r = client.invokeSync(namesrv, std::move(cmd), 5000ms);
    if (r.isOk() && r->code == 0) {
      auto route = remoting::parseTopicRouteData(r->body);
      if (route.isOk() && static_cast<int>(route->queue_datas.size()) >= brokers) break;
    }
    if (std::chrono::steady_clock::now() > deadline) return Status::timeout("route of " + topic + " incomplete");
    std::this_thread::sleep_for(200ms);
  }
  client.shutdown();
  return brokers;
}

}  // namespace rocketrpc::testing
