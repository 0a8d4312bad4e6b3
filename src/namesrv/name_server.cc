#include "namesrv/name_server.h"

#include <chrono>
#include <utility>

#include "common/executor.h"
#include "common/log.h"
#include "namesrv/processors/processors.h"
#include "remoting/protocol/codes.h"

namespace rocketrpc::namesrv {

namespace rc = remoting::request_code;

NameServer::NameServer(NameServerOptions options)
    : options_(std::move(options)), context_(std::make_shared<NamesrvContext>()) {
  if (!options_.clock) {
    options_.clock = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  context_->clock = options_.clock;
}

NameServer::~NameServer() { shutdown(); }

void NameServer::registerProcessors(remoting::RemotingServer& server, const HandlerDecorator& decorate) {
  auto add = [&](int32_t code, remoting::RequestHandler handler) {
    server.registerHandler(code, decorate ? decorate(std::move(handler)) : std::move(handler));
  };
  // The request-code table: one handler (and one file) per code.
  add(rc::kRegisterBroker, makeRegisterBrokerHandler(context_));
  add(rc::kUnregisterBroker, makeUnregisterBrokerHandler(context_));
  add(rc::kGetRouteInfoByTopic, makeGetRouteInfoHandler(context_));
  add(rc::kGetBrokerClusterInfo, makeGetBrokerClusterInfoHandler(context_));
  add(rc::kGetAllTopicListFromNameServer, makeGetAllTopicListHandler(context_));
  add(rc::kDeleteTopicInNamesrv, makeDeleteTopicHandler(context_));
}

void NameServer::start() {
  if (scheduler_) return;
  scheduler_ = std::make_unique<Scheduler>("namesrv-scan");
  auto ctx = context_;
  auto clock = options_.clock;
  int64_t expiry = options_.broker_expiry.count();
  scheduler_->scheduleRepeating(options_.scan_interval, options_.scan_interval,
                                [ctx, clock, expiry] { ctx->routes.scanNotActiveBroker(clock(), expiry); });
}

void NameServer::shutdown() {
  if (scheduler_) {
    scheduler_->shutdown();
    scheduler_.reset();
  }
}

void NameServer::onConnectionClosed(const std::string& remote_addr) { context_->routes.onChannelClosed(remote_addr); }

RegisterBrokerResult NameServer::registerBrokerDirect(RegisterBrokerRequest req) {
  req.channel.clear();
  return context_->routes.registerBroker(req, options_.clock());
}

void NameServer::unregisterBrokerDirect(const std::string& cluster, const std::string& addr, const std::string& name,
                                        int64_t broker_id) {
  context_->routes.unregisterBroker(cluster, addr, name, broker_id);
}

}  // namespace rocketrpc::namesrv
