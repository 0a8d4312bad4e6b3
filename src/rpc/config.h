// Validation helpers shared by the options' validate() and the YAML loader (rpc_options.h).
#pragma once

#include <string>
#include <vector>

#include "rocketrpc/client_options.h"
#include "rocketrpc/rpc_options.h"

namespace rocketrpc::rpc {

/// "" when `addr` is "host:port[;host:port...]" with ports 1..65535, else the reason.
std::string checkBrokerUrl(const std::string& addr);
/// "" when `name` matches [%|a-zA-Z0-9_-]{1,max_len}, else the reason.
std::string checkResourceName(const std::string& name, size_t max_len);

/// Copies the credentials and TLS settings of RPC options into the options of a producer or consumer.
template <typename RpcOptions>
void applySecurity(const RpcOptions& from, ClientOptions& to) {
  to.access_key = from.access_key;
  to.secret_key = from.secret_key;
  to.security_token = from.security_token;
  to.tls = from.tls;
}
/// "" when the credentials are consistent (secret-key with access-key), else the reason; names fields only.
std::string checkCredentials(const std::string& access_key, const std::string& secret_key,
                             const std::string& security_token);

/// Default producer group of a client of `topic`, and default consumer group of servers of `topic`.
std::string defaultProducerGroup(const std::string& topic);
std::string defaultConsumerGroup(const std::string& topic);

/// One key of the RPC YAML file: its full name ("rocketmq.rpc.client.broker-url"), the options struct and field
/// it sets ("RpcClientOptions", "broker_url"). The configuration reference (docs/configuration.md) is generated
/// from this list and the fields' API documentation.
struct ConfigKey {
  std::string key;
  std::string options;
  std::string field;
};
/// Every key the YAML loader accepts, from the loader's own tables.
std::vector<ConfigKey> configKeys();
/// The environment variable overriding `key` (Spring's relaxed name: ROCKETMQ_RPC_CLIENT_BROKER_URL).
std::string environmentVariable(const std::string& key);

}  // namespace rocketrpc::rpc
