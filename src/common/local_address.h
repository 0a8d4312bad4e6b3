// This host's address as RocketMQ clients report it (client ids, the IP inside every UNIQ_KEY message id).
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace rocketrpc {

/// The first non-loopback, non-zero IPv4 address of this host's interfaces (getifaddrs order), else 127.0.0.1.
std::array<uint8_t, 4> localIpv4();
/// localIpv4() as dotted text.
std::string localIpv4Text();

}  // namespace rocketrpc
