// Name-server request handlers, one file per request code (see name_server.cc for the code table).
// Each handler answers on the calling I/O thread (all work is in-memory and short).
#pragma once

#include <memory>
#include <string>

#include "namesrv/name_server.h"
#include "remoting/transport.h"

namespace rocketrpc::namesrv {

remoting::RequestHandler makeRegisterBrokerHandler(std::shared_ptr<NamesrvContext> ctx);
remoting::RequestHandler makeUnregisterBrokerHandler(std::shared_ptr<NamesrvContext> ctx);
remoting::RequestHandler makeGetRouteInfoHandler(std::shared_ptr<NamesrvContext> ctx);
remoting::RequestHandler makeGetBrokerClusterInfoHandler(std::shared_ptr<NamesrvContext> ctx);
remoting::RequestHandler makeGetAllTopicListHandler(std::shared_ptr<NamesrvContext> ctx);

/// Rewrites the quoted integer keys of every "brokerAddrs" object to fastjson's legacy unquoted form
/// ({"0":"a"} -> {0:"a"}). Everything else is copied unchanged.
std::string legacyBrokerAddrsJson(const std::string& standard_json);

}  // namespace rocketrpc::namesrv
