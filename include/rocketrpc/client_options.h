// Options shared by producers and consumers: where the name servers are and how this process identifies
// itself to brokers. Plain struct, validated by start().
#pragma once

#include <chrono>
#include <string>

namespace rocketrpc {

struct ClientOptions {
  /// Name-server addresses "host:port", ';'-separated. Required.
  std::string namesrv_addr;
  /// Instance name; the client id is "<client_ip>@<instance_name>". Producers and consumers with the same
  /// name server and instance name share one connection set. Default: "<pid>#<random>" (unique per object).
  std::string instance_name;
  /// IP address reported to brokers. Default: 127.0.0.1 when every name server is on loopback, else the
  /// first non-loopback IPv4 address of this host.
  std::string client_ip;
  /// Timeout of name-server and admin calls. Default 3 s; 1 ms..300 s.
  std::chrono::milliseconds api_timeout{3000};
  /// Route refresh period. Default 30 s.
  std::chrono::milliseconds poll_namesrv_interval{30000};
  /// Heartbeat period. Default 30 s.
  std::chrono::milliseconds heartbeat_interval{30000};
  /// I/O threads of the connection set. Default 1; 1..16.
  int io_threads = 1;
  /// Threads running user callbacks (send/request callbacks). Default 2; 1..256.
  int callback_threads = 2;
};

}  // namespace rocketrpc
