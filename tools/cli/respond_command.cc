// `rocketrpc respond`: answers requests on a topic (echo or uppercase) until SIGINT/SIGTERM or
// --max-requests. With --metrics-port, its counters and its consumer's (prometheusText) are served as
// Prometheus text (MetricsEndpoint).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>

#include "cli_util.h"
#include "commands.h"
#include "rocketrpc/metrics.h"
#include "rocketrpc/producer.h"
#include "rocketrpc/push_consumer.h"

namespace rocketrpc::cli {
namespace {

struct RespondOptions {
  std::string namesrv;
  std::string topic;
  std::string group;
  std::string mode = "echo";
  int64_t max_requests = 0;  // 0: unlimited
  int64_t metrics_port = -1;  // -1: no endpoint
  std::string metrics_host = "127.0.0.1";
  SecurityFlags security;
};

// Prometheus text of the responder's counters.
std::string respondMetrics(const RespondOptions& o, int64_t requests, int64_t replies, int64_t failures,
                           size_t queues) {
  const std::string labels = "{topic=\"" + o.topic + "\",group=\"" + o.group + "\"} ";
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help, int64_t value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name +
           labels + std::to_string(value) + "\n";
  };
  family("rocketrpc_respond_requests_total", "counter", "Request messages received.", requests);
  family("rocketrpc_respond_replies_total", "counter", "Replies sent.", replies);
  family("rocketrpc_respond_reply_failures_total", "counter", "Replies that could not be sent.", failures);
  family("rocketrpc_respond_assigned_queues", "gauge", "Queues of the topic this responder consumes now.",
         static_cast<int64_t>(queues));
  return out;
}

// SIGUSR1 is what the listener raises (process-directed) once --max-requests replies are made.
constexpr int kDoneSignal = SIGUSR1;

int runRespond(const RespondOptions& o) {
  // Block the signals before any library thread exists, so every thread inherits the mask and only sigwait
  // below receives them: no handler runs, nothing async-signal-unsafe happens in signal context.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, kDoneSignal);
  if (int rc = pthread_sigmask(SIG_BLOCK, &signals, nullptr); rc != 0) {
    printError(ErrorCode::kInternal, "pthread_sigmask failed");
    return kExitRuntimeError;
  }

  PushConsumerOptions options;
  options.group = o.group;
  options.namesrv_addr = o.namesrv;
  options.instance_name = uniqueInstanceName("respond");
  applySecurityFlags(o.security, options);
  PushConsumer consumer(options);
  consumer.subscribe(o.topic, "*");
  auto replied = std::make_shared<std::atomic<int64_t>>(0);
  auto received = std::make_shared<std::atomic<int64_t>>(0);
  auto failed = std::make_shared<std::atomic<int64_t>>(0);
  const bool upper = o.mode == "upper";
  const int64_t max_requests = o.max_requests;
  // Manual replies (createReplyMessage + sendReply) so that user properties named X-* travel back with the body:
  // interop tests check that non-ASCII properties survive both directions.
  PushConsumer* self = &consumer;
  consumer.setMessageListener([self, replied, received, failed, upper,
                               max_requests](const std::vector<MessageExt>& msgs) {
    for (const MessageExt& request : msgs) {
      if (request.getProperty(property::kReplyToClient).empty()) continue;  // not a request
      received->fetch_add(1);
      try {
        Message reply = createReplyMessage(request, upper ? asciiUpper(request.body()) : request.body());
        for (const auto& [name, value] : request.properties()) {
          if (name.rfind("X-", 0) == 0) reply.putProperty(name, value);
        }
        self->sendReply(reply);
      } catch (const MQException& e) {
        failed->fetch_add(1);
        printError(e.code(), std::string("reply failed: ") + e.what());  // access denied too: keep serving
        continue;
      }
      if (replied->fetch_add(1) + 1 == max_requests) ::kill(::getpid(), kDoneSignal);
    }
    return ConsumeStatus::kSuccess;
  });
  try {
    consumer.start();
  } catch (const MQException& e) {
    printError(e.code(), std::string("cannot start consumer: ") + e.what());
    return exitCodeFor(e.code());
  }
  MetricsEndpoint metrics([&o, &consumer, received, replied, failed] {
    // The responder's own counters (labelled with the topic), then the consumer's (rocketrpc_consumer_*).
    return respondMetrics(o, received->load(), replied->load(), failed->load(),
                          consumer.assignedQueues().size()) +
           prometheusText(consumer);
  });
  if (o.metrics_port >= 0) {
    try {
      metrics.start(static_cast<uint16_t>(o.metrics_port), o.metrics_host);
    } catch (const RpcException& e) {
      printError(ErrorCode::kInvalidArgument, e.what());
      consumer.shutdown();
      return kExitUsageError;
    }
    std::cout << "METRICS " << o.metrics_host << ":" << metrics.port() << std::endl;
  }
  std::cout << "READY" << std::endl;

  int signal_number = 0;
  if (int rc = sigwait(&signals, &signal_number); rc != 0) {
    printError(ErrorCode::kInternal, "sigwait failed");
  }
  metrics.close();
  consumer.shutdown();  // waits for running listener calls and their replies
  return kExitOk;
}

}  // namespace

Command addRespondCommand(CLI::App& parent) {
  auto o = std::make_shared<RespondOptions>();
  CLI::App* app = parent.add_subcommand("respond", "Answer requests on a topic until SIGINT/SIGTERM");
  app->footer(
      "Prints READY once started; replies with the request body (echo) or its ASCII uppercase (upper).");
  addNamesrvOption(*app, o->namesrv);
  addTopicOption(*app, o->topic);
  app->add_option("-g,--group", o->group, "Consumer group")
      ->required()
      ->check(checkWith([](const std::string& s) { return checkResourceName(s, 255); }, "GROUP"));
  app->add_option("--mode", o->mode, "Reply body: echo (default) or upper")
      ->check(CLI::IsMember({"echo", "upper"}));
  app->add_option("--max-requests", o->max_requests, "Exit after N replies")->check(integerIn(1, INT64_MAX));
  app->add_option("--metrics-port", o->metrics_port,
                  "Serve Prometheus text at http://<metrics-host>:N/metrics (0 = any free port; printed)")
      ->check(integerIn(0, 65535));
  app->add_option("--metrics-host", o->metrics_host, "Address of --metrics-port (default 127.0.0.1)");
  addSecurityOptions(*app, o->security);
  return {app, [o] { return runRespond(*o); }};
}

}  // namespace rocketrpc::cli
