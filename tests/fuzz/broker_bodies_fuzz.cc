// libFuzzer target for the bodies rocketrpc-broker decodes from the network: REGISTER_BROKER bodies (JSON and
// the zlib-compressed form, name-server role), topic config tables, and UPDATE_AND_CREATE_SUBSCRIPTIONGROUP's
// SubscriptionGroupConfig. The first input byte selects the parser; the rest is the untrusted body. Parsers must
// return an error, never throw or crash; whatever they accept must survive our own encoding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "broker/subscription_group_manager.h"
#include "namesrv/topic_config.h"

namespace {

using namespace rocketrpc;

void checkRegisterBody(std::string_view data, bool compressed) {
  auto body = namesrv::parseRegisterBrokerBody(data, compressed);
  if (!body) return;
  if (!namesrv::parseRegisterBrokerBody(namesrv::encodeRegisterBrokerBody(*body), false)) __builtin_trap();
  if (!namesrv::parseRegisterBrokerBody(namesrv::encodeRegisterBrokerBodyCompressed(*body), true)) __builtin_trap();
}

void checkTopicTable(std::string_view json) {
  auto table = namesrv::parseTopicConfigWrapper(json);
  if (!table) return;
  if (!namesrv::parseTopicConfigWrapper(namesrv::encodeTopicConfigWrapper(*table))) __builtin_trap();
}

void checkSubscriptionGroup(std::string_view json) {
  auto config = broker::parseSubscriptionGroupConfig(json);
  if (!config) return;
  auto again = broker::parseSubscriptionGroupConfig(broker::encodeSubscriptionGroupConfig(*config));
  if (!again || !(*again == *config)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      checkRegisterBody(input, false);
      break;
    case 1:
      checkRegisterBody(input, true);
      break;
    case 2:
      checkTopicTable(input);
      break;
    case 3:
      checkSubscriptionGroup(input);
      break;
  }
  return 0;
}
