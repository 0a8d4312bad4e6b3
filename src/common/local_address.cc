#include "common/local_address.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace rocketrpc {

std::array<uint8_t, 4> localIpv4() {
  std::array<uint8_t, 4> ip = {127, 0, 0, 1};
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return ip;
  for (ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
    if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET) continue;
    sockaddr_in sin;
    std::memcpy(&sin, it->ifa_addr, sizeof sin);
    const uint32_t addr = ntohl(sin.sin_addr.s_addr);
    if ((addr >> 24) == 127 || addr == 0) continue;
    ip = {static_cast<uint8_t>(addr >> 24), static_cast<uint8_t>(addr >> 16), static_cast<uint8_t>(addr >> 8),
          static_cast<uint8_t>(addr)};
    break;
  }
  freeifaddrs(list);
  return ip;
}

std::string localIpv4Text() {
  const auto ip = localIpv4();
  return std::to_string(ip[0]) + "." + std::to_string(ip[1]) + "." + std::to_string(ip[2]) + "." +
         std::to_string(ip[3]);
}

}  // namespace rocketrpc
