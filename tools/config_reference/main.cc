// rocketrpc-config-reference: prints, as JSON, the tables the configuration is read through: every key of the
// RPC YAML file (with the options field it sets) and every rocketrpc-broker property (type, default, meaning).
// scripts/gen-configuration.py joins it with the API reference's field documentation into
// docs/configuration.md, and CI checks that file against it. Not installed.
#include <nlohmann/json.hpp>

#include <iostream>
#include <string>
#include <type_traits>
#include <variant>

#include "broker/broker_config.h"
#include "rpc/config.h"

int main() {
  using nlohmann::json;
  json rpc = json::array();
  for (const auto& k : rocketrpc::rpc::configKeys()) {
    rpc.push_back({{"key", k.key},
                   {"options", k.options},
                   {"field", k.field},
                   {"environment", rocketrpc::rpc::environmentVariable(k.key)}});
  }
  json broker = json::array();
  const rocketrpc::broker::BrokerConfig defaults;
  for (const auto& prop : rocketrpc::broker::configProperties()) {
    const char* type = std::visit(
        [](auto member) -> const char* {
          using T = std::remove_reference_t<decltype(defaults.*member)>;
          if constexpr (std::is_same_v<T, const bool>) return "bool";
          else if constexpr (std::is_same_v<T, const int64_t>) return "integer";
          else return "string";
        },
        prop.field);
    broker.push_back({{"key", std::string(prop.key)},
                      {"type", type},
                      {"default", rocketrpc::broker::getConfigProperty(defaults, prop)},
                      {"meaning", std::string(prop.doc)}});
  }
  std::cout << json{{"rpc", rpc}, {"broker", broker}}.dump(1) << "\n";
  return 0;
}
