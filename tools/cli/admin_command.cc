// `rocketrpc admin`: cluster administration over the remoting protocol, as mqadmin does it, through
// client::AdminClient (which knows the request codes): topics (create, update, delete, list, route), the
// cluster's brokers, subscription groups, a group's consumer progress (lag per queue) and broker runtime
// figures. Works against Apache RocketMQ and rocketrpc-broker. Tables by default, --json for machines.
#include <ctime>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_util.h"
#include "client/admin_client.h"
#include "client/error_mapping.h"
#include "commands.h"

namespace rocketrpc::cli {
namespace {

using client::AdminClient;
using Json = nlohmann::json;

struct AdminOptions {
  std::string namesrv;
  bool json = false;
  int64_t timeout_ms = 5000;
  SecurityFlags security;
  // per subcommand
  std::string topic, cluster, broker, group;
  int64_t read_queues = 8, write_queues = 8, perm = 6;
  bool order = false;
};

/// Prints a failed Status as the CLI's error line (the public error kind, as every other command does) and
/// returns the matching exit code.
int fail(const Status& s) {
  try {
    std::rethrow_exception(client::toException(s));
  } catch (const MQException& e) {
    printError(e.code(), e.what());
    return exitCodeFor(e.code());
  }
}

/// Columns padded to their widest cell, two spaces apart; the first row is the header.
void printTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << '\n';
  }
  std::cout.flush();
}

void printJson(const Json& j) {
  std::cout << j.dump(2, ' ', false, Json::error_handler_t::replace) << std::endl;
}

std::string formatMillis(int64_t ms) {
  if (ms <= 0) return "-";
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string permText(int32_t perm) {
  std::string s;
  s += (perm & 4) ? 'R' : '-';
  s += (perm & 2) ? 'W' : '-';
  return s + " (" + std::to_string(perm) + ")";
}

/// The brokers a command acts on: --broker when given, else the masters of --cluster (of every cluster).
Result<std::vector<std::string>> targetBrokers(AdminClient& admin, const AdminOptions& o) {
  if (!o.broker.empty()) return std::vector<std::string>{o.broker};
  return admin.masterAddrs(o.cluster);
}

int topicCreate(AdminClient& admin, const AdminOptions& o) {
  auto brokers = targetBrokers(admin, o);
  if (!brokers.isOk()) return fail(brokers.status());
  client::TopicSpec spec;
  spec.topic = o.topic;
  spec.read_queues = static_cast<int32_t>(o.read_queues);
  spec.write_queues = static_cast<int32_t>(o.write_queues);
  spec.perm = static_cast<int32_t>(o.perm);
  spec.order = o.order;
  for (const std::string& addr : *brokers) {
    if (Status s = admin.createOrUpdateTopic(addr, spec); !s.isOk()) return fail(s);
  }
  if (o.json) {
    printJson({{"topic", o.topic}, {"brokers", *brokers}, {"readQueueNums", spec.read_queues},
               {"writeQueueNums", spec.write_queues}, {"perm", spec.perm}, {"order", spec.order}});
  } else {
    std::string list;
    for (const auto& b : *brokers) list += (list.empty() ? "" : ", ") + b;
    std::cout << "topic " << o.topic << " (read " << spec.read_queues << ", write " << spec.write_queues
              << ", perm " << spec.perm << ") set on " << brokers->size() << " broker(s): " << list << std::endl;
  }
  return kExitOk;
}

int topicDelete(AdminClient& admin, const AdminOptions& o) {
  auto brokers = targetBrokers(admin, o);
  if (!brokers.isOk()) return fail(brokers.status());
  for (const std::string& addr : *brokers) {
    if (Status s = admin.deleteTopicInBroker(addr, o.topic); !s.isOk()) return fail(s);
  }
  // The route goes last, so that no broker re-registers a topic it still has.
  if (Status s = admin.deleteTopicInNamesrvs(o.topic); !s.isOk()) return fail(s);
  if (o.json) {
    printJson({{"topic", o.topic}, {"brokers", *brokers}, {"deleted", true}});
  } else {
    std::cout << "topic " << o.topic << " deleted from " << brokers->size() << " broker(s) and the name servers"
              << std::endl;
  }
  return kExitOk;
}

int topicList(AdminClient& admin, const AdminOptions& o) {
  auto topics = admin.topicList();
  if (!topics.isOk()) return fail(topics.status());
  if (o.json) {
    printJson({{"topics", *topics}});
  } else {
    for (const auto& t : *topics) std::cout << t << '\n';
    std::cout.flush();
  }
  return kExitOk;
}

int topicRoute(AdminClient& admin, const AdminOptions& o) {
  auto route = admin.topicRoute(o.topic);
  if (!route.isOk()) return fail(route.status());
  if (o.json) {
    Json queues = Json::array(), brokers = Json::array();
    for (const auto& q : route->queue_datas) {
      queues.push_back({{"brokerName", q.broker_name}, {"readQueueNums", q.read_queue_nums},
                        {"writeQueueNums", q.write_queue_nums}, {"perm", q.perm}});
    }
    for (const auto& b : route->broker_datas) {
      Json addrs = Json::object();
      for (const auto& [id, addr] : b.broker_addrs) addrs[std::to_string(id)] = addr;
      brokers.push_back({{"cluster", b.cluster}, {"brokerName", b.broker_name}, {"brokerAddrs", addrs}});
    }
    printJson({{"topic", o.topic}, {"queueDatas", queues}, {"brokerDatas", brokers}});
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {{"BROKER", "MASTER", "READ", "WRITE", "PERM"}};
  for (const auto& q : route->queue_datas) {
    std::string master = "-";
    for (const auto& b : route->broker_datas) {
      if (b.broker_name == q.broker_name && !b.masterAddr().empty()) master = b.masterAddr();
    }
    rows.push_back({q.broker_name, master, std::to_string(q.read_queue_nums), std::to_string(q.write_queue_nums),
                    permText(q.perm)});
  }
  printTable(rows);
  return kExitOk;
}

int cluster(AdminClient& admin, const AdminOptions& o) {
  auto info = admin.clusterInfo();
  if (!info.isOk()) return fail(info.status());
  if (o.json) {
    Json clusters = Json::object();
    for (const auto& [name, brokers] : info->cluster_addr_table) {
      Json list = Json::array();
      for (const auto& b : brokers) {
        Json addrs = Json::object();
        if (auto it = info->broker_addr_table.find(b); it != info->broker_addr_table.end()) {
          for (const auto& [id, addr] : it->second.broker_addrs) addrs[std::to_string(id)] = addr;
        }
        list.push_back({{"brokerName", b}, {"brokerAddrs", addrs}});
      }
      clusters[name] = list;
    }
    printJson({{"clusters", clusters}});
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {{"CLUSTER", "BROKER", "ID", "ADDR"}};
  for (const auto& [name, brokers] : info->cluster_addr_table) {
    for (const auto& b : brokers) {
      auto it = info->broker_addr_table.find(b);
      if (it == info->broker_addr_table.end()) continue;
      for (const auto& [id, addr] : it->second.broker_addrs) rows.push_back({name, b, std::to_string(id), addr});
    }
  }
  printTable(rows);
  return kExitOk;
}

int groupList(AdminClient& admin, const AdminOptions& o) {
  auto brokers = targetBrokers(admin, o);
  if (!brokers.isOk()) return fail(brokers.status());
  std::vector<std::vector<std::string>> rows = {
      {"GROUP", "BROKER", "CONSUME", "BROADCAST", "RETRY_QUEUES", "RETRY_MAX"}};
  Json out = Json::array();
  for (const std::string& addr : *brokers) {
    auto groups = admin.subscriptionGroups(addr);
    if (!groups.isOk()) return fail(groups.status());
    for (const auto& g : *groups) {
      rows.push_back({g.group, addr, g.consume_enable ? "yes" : "no", g.broadcast ? "yes" : "no",
                      std::to_string(g.retry_queue_nums), std::to_string(g.retry_max_times)});
      out.push_back({{"groupName", g.group}, {"broker", addr}, {"consumeEnable", g.consume_enable},
                     {"consumeBroadcastEnable", g.broadcast}, {"retryQueueNums", g.retry_queue_nums},
                     {"retryMaxTimes", g.retry_max_times}});
    }
  }
  if (o.json) {
    printJson({{"groups", out}});
  } else {
    printTable(rows);
  }
  return kExitOk;
}

int consumerProgress(AdminClient& admin, const AdminOptions& o) {
  auto brokers = targetBrokers(admin, o);
  if (!brokers.isOk()) return fail(brokers.status());
  std::vector<std::vector<std::string>> rows = {
      {"TOPIC", "BROKER", "QUEUE", "BROKER_OFFSET", "CONSUMER_OFFSET", "LAG", "LAST_CONSUMED"}};
  Json queues = Json::array();
  int64_t total_lag = 0;
  double tps = 0;
  for (const std::string& addr : *brokers) {
    auto stats = admin.consumeStats(addr, o.group, o.topic);
    if (!stats.isOk()) return fail(stats.status());
    tps += stats->consume_tps;
    for (const auto& q : stats->queues) {
      total_lag += q.lag();
      rows.push_back({q.queue.topic, q.queue.broker_name, std::to_string(q.queue.queue_id),
                      std::to_string(q.broker_offset), std::to_string(q.consumer_offset), std::to_string(q.lag()),
                      formatMillis(q.last_timestamp)});
      queues.push_back({{"topic", q.queue.topic}, {"brokerName", q.queue.broker_name},
                        {"queueId", q.queue.queue_id}, {"brokerOffset", q.broker_offset},
                        {"consumerOffset", q.consumer_offset}, {"lag", q.lag()},
                        {"lastTimestamp", q.last_timestamp}});
    }
  }
  if (queues.empty()) {
    // As mqadmin: an empty table means the group has consumed nothing (here) yet, or does not exist.
    return fail(Status::notFound("consumer group " + o.group + " has no consume progress" +
                                 (o.topic.empty() ? std::string() : " on topic " + o.topic) +
                                 " (no offset committed on any broker)"));
  }
  if (o.json) {
    printJson({{"group", o.group}, {"queues", queues}, {"totalLag", total_lag}, {"consumeTps", tps}});
  } else {
    printTable(rows);
    std::cout << "total lag: " << total_lag << ", consume tps: " << tps << std::endl;
  }
  return kExitOk;
}

int brokerStats(AdminClient& admin, const AdminOptions& o) {
  auto brokers = targetBrokers(admin, o);
  if (!brokers.isOk()) return fail(brokers.status());
  Json out = Json::object();
  std::vector<std::vector<std::string>> rows = {{"BROKER", "KEY", "VALUE"}};
  for (const std::string& addr : *brokers) {
    auto table = admin.brokerRuntimeInfo(addr);
    if (!table.isOk()) return fail(table.status());
    out[addr] = *table;
    for (const auto& [k, v] : *table) rows.push_back({addr, k, v});
  }
  if (o.json) {
    printJson(out);
  } else {
    printTable(rows);
  }
  return kExitOk;
}

using Action = int (*)(AdminClient&, const AdminOptions&);

int runAdmin(AdminOptions o, Action action) {
  ClientOptions options;
  options.namesrv_addr = o.namesrv;
  options.api_timeout = std::chrono::milliseconds(o.timeout_ms);
  applySecurityFlags(o.security, options);
  auto admin = AdminClient::create(options);
  if (!admin.isOk()) {
    printError(ErrorCode::kInvalidArgument, admin.status().message());
    return kExitUsageError;
  }
  return action(**admin, o);
}

void addClusterBrokerOptions(CLI::App& app, AdminOptions& o) {
  CLI::Option* c = app.add_option("-c,--cluster", o.cluster, "Only the brokers of this cluster (default: all)");
  app.add_option("-b,--broker", o.broker, "Only the broker at host:port")
      ->check(checkWith(checkNamesrvAddr, "HOST:PORT"))
      ->excludes(c);
}

}  // namespace

Command addAdminCommand(CLI::App& parent) {
  auto o = std::make_shared<AdminOptions>();
  auto action = std::make_shared<Action>(nullptr);
  CLI::App* app = parent.add_subcommand("admin", "Administer the cluster: topics, brokers, groups, consumer lag");
  app->fallthrough();  // -n, --json etc. are accepted after the nested subcommand too
  app->require_subcommand(1);
  app->footer(
      "Tables by default, --json for machine-readable output. Exit codes: 0 ok, 1 failed (e.g. NoRoute for an\n"
      "unknown topic or group), 2 usage error, 3 access denied.");
  addNamesrvOption(*app, o->namesrv);
  app->add_flag("--json", o->json, "Print JSON instead of a table");
  app->add_option("--timeout-ms", o->timeout_ms, "Timeout of each request (default 5000)")
      ->check(integerIn(1, 300000));
  addSecurityOptions(*app, o->security);

  auto set = [action](CLI::App* sub, Action a) { sub->callback([action, a] { *action = a; }); };
  const auto topicCheck = checkWith([](const std::string& s) { return checkResourceName(s, 127); }, "TOPIC");

  CLI::App* topic = app->add_subcommand("topic", "Topics: create, update, delete, list, route");
  topic->require_subcommand(1);
  for (const char* verb : {"create", "update"}) {
    CLI::App* sub = topic->add_subcommand(
        verb, std::string(verb == std::string("create") ? "Create" : "Update") +
                  " a topic on every master (of --cluster), or on --broker (UPDATE_AND_CREATE_TOPIC)");
    sub->add_option("-t,--topic", o->topic, "Topic")->required()->check(topicCheck);
    sub->add_option("-r,--read-queues", o->read_queues, "Read queues per broker (default 8)")
        ->check(integerIn(1, 1024));
    sub->add_option("-w,--write-queues", o->write_queues, "Write queues per broker (default 8)")
        ->check(integerIn(1, 1024));
    sub->add_option("-p,--perm", o->perm, "Permission: 2 write, 4 read, 6 read+write (default 6)")
        ->check(CLI::IsMember({2, 4, 6}));
    sub->add_flag("--order", o->order, "Mark the topic ordered");
    addClusterBrokerOptions(*sub, *o);
    set(sub, topicCreate);
  }
  CLI::App* del = topic->add_subcommand("delete", "Delete a topic from the brokers and the name servers");
  del->add_option("-t,--topic", o->topic, "Topic")->required()->check(topicCheck);
  addClusterBrokerOptions(*del, *o);
  set(del, topicDelete);
  set(topic->add_subcommand("list", "List the topics the name server knows"), topicList);
  CLI::App* route = topic->add_subcommand("route", "Show the route of a topic (brokers, queues, permissions)");
  route->add_option("-t,--topic", o->topic, "Topic")->required()->check(topicCheck);
  set(route, topicRoute);

  set(app->add_subcommand("cluster", "List the clusters and their brokers"), cluster);

  CLI::App* group = app->add_subcommand("group", "Subscription groups");
  group->require_subcommand(1);
  CLI::App* glist = group->add_subcommand("list", "List the subscription groups of every master (or --broker)");
  addClusterBrokerOptions(*glist, *o);
  set(glist, groupList);

  CLI::App* progress =
      app->add_subcommand("consumer-progress", "Offsets and lag per queue of a consumer group (GET_CONSUME_STATS)");
  progress->add_option("-g,--group", o->group, "Consumer group")
      ->required()
      ->check(checkWith([](const std::string& s) { return checkResourceName(s, 255); }, "GROUP"));
  progress->add_option("-t,--topic", o->topic, "Only this topic")->check(topicCheck);
  addClusterBrokerOptions(*progress, *o);
  set(progress, consumerProgress);

  CLI::App* stats = app->add_subcommand("broker-stats", "Runtime figures of every master (or --broker)");
  addClusterBrokerOptions(*stats, *o);
  set(stats, brokerStats);

  return {app, [o, action] { return runAdmin(*o, *action); }};
}

}  // namespace rocketrpc::cli
