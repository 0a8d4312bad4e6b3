#include "common/instance_name.h"

#include <unistd.h>

#include <atomic>

#include "common/random_id.h"

namespace rocketrpc {

std::string uniqueInstanceName(std::string_view role) {
  static std::atomic<uint64_t> counter{0};
  return std::string(role) + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter.fetch_add(1)) + "_" +
         newRandomId().substr(0, 8);
}

}  // namespace rocketrpc
