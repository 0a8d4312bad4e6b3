// libFuzzer target for the name-server and heartbeat JSON parsers (route_data.h, heartbeat_data.h). The first
// input byte selects the parser; the rest is the untrusted JSON text. Parsers must return Corrupt, never
// throw or crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "remoting/protocol/heartbeat_data.h"
#include "remoting/protocol/route_data.h"

namespace {

using namespace rocketrpc::remoting;

void checkRoute(std::string_view json) {
  auto route = parseTopicRouteData(json);
  if (!route) return;
  // Our own encoding of whatever we accepted must parse back to the same value.
  auto again = parseTopicRouteData(encodeTopicRouteData(*route));
  if (!again) __builtin_trap();
}

void checkCluster(std::string_view json) {
  auto info = parseClusterInfo(json);
  if (!info) return;
  if (!parseClusterInfo(encodeClusterInfo(*info, true)) ||
      !parseClusterInfo(encodeClusterInfo(*info, false))) {
    __builtin_trap();
  }
}

void checkHeartbeat(std::string_view json) {
  auto hb = parseHeartbeat(json);
  if (!hb) return;
  if (!parseHeartbeat(encodeHeartbeat(*hb))) __builtin_trap();
  for (const auto& consumer : hb->consumers) {
    for (const auto& sub : consumer.subscriptions) (void)buildSubscription(sub.topic, sub.sub_string, 0);
  }
}

void checkQuote(std::string_view json) {
  const std::string once = quoteBareIntegerKeys(json);
  if (quoteBareIntegerKeys(once) != once) __builtin_trap();  // idempotent: quoted keys are not bare
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      checkRoute(input);
      break;
    case 1:
      checkCluster(input);
      break;
    case 2:
      checkHeartbeat(input);
      break;
    case 3:
      checkQuote(input);
      break;
    case 4:
      (void)parseConsumerIdList(input);
      break;
  }
  return 0;
}
