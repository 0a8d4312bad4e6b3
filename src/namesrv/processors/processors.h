// Name-server request handlers, one file per request code (see name_server.cc for the code table).
// Each handler answers on the calling I/O thread (all work is in-memory and short).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "namesrv/name_server.h"
#include "remoting/transport.h"

namespace rocketrpc::namesrv {

remoting::RequestHandler makeRegisterBrokerHandler(std::shared_ptr<NamesrvContext> ctx);
remoting::RequestHandler makeUnregisterBrokerHandler(std::shared_ptr<NamesrvContext> ctx);
remoting::RequestHandler makeGetRouteInfoHandler(std::shared_ptr<NamesrvContext> ctx);
remoting::RequestHandler makeGetBrokerClusterInfoHandler(std::shared_ptr<NamesrvContext> ctx);
remoting::RequestHandler makeGetAllTopicListHandler(std::shared_ptr<NamesrvContext> ctx);
remoting::RequestHandler makeDeleteTopicHandler(std::shared_ptr<NamesrvContext> ctx);

/// The four header fields that name a broker in REGISTER_BROKER and UNREGISTER_BROKER.
struct BrokerIdentityHeader {
  std::string cluster_name;
  std::string broker_addr;
  std::string broker_name;
  int64_t broker_id = 0;
};

/// Reads clusterName, brokerAddr, brokerName and brokerId; nullopt when one is missing or brokerId is not a number.
std::optional<BrokerIdentityHeader> parseBrokerIdentity(const remoting::RemotingCommand& request);

/// The fields the broker's door (broker/request_names.h) does not know: clusterName and brokerAddr must be
/// printable ASCII of 1..255 characters (brokerName was checked at the door). InvalidArgument naming the field.
Status checkBrokerIdentity(const BrokerIdentityHeader& id);

/// Rewrites the quoted integer keys of every "brokerAddrs" object to fastjson's legacy unquoted form
/// ({"0":"a"} -> {0:"a"}). Everything else is copied unchanged.
std::string legacyBrokerAddrsJson(const std::string& standard_json);

}  // namespace rocketrpc::namesrv
