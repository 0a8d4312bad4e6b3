// A TCP proxy on 127.0.0.1 for fault tests (issue 10 item 5): clients connect to it instead of the broker,
// and the test makes the connections misbehave the way networks and careless peers do: delay, drop, stall
// after a number of bytes (mid-frame), reset (RST), or half-close the client's side. One thread per proxied
// connection; faults apply to the connections open when they are set and to later ones. Test support only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace rocketrpc::testing {

class FaultProxy {
 public:
  /// Bytes from the client to the upstream (the broker), or from the upstream back to the client.
  enum class Direction { kToUpstream, kToClient };

  /// Proxies to `upstream_port` on 127.0.0.1.
  explicit FaultProxy(uint16_t upstream_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  /// Listens on 127.0.0.1 (an ephemeral port) and starts accepting.
  Status start();
  /// Closes every connection and stops. Idempotent.
  void stop();
  uint16_t port() const { return port_; }
  /// "127.0.0.1:<port>".
  std::string address() const;

  /// Every chunk in `dir` waits this long before it is forwarded (zero: none).
  void setDelay(Direction dir, std::chrono::milliseconds delay);
  /// Bytes in `dir` are read and thrown away (the peer sees silence, its sender sees success).
  void setDrop(Direction dir, bool drop);
  /// Each connection forwards at most `bytes` in `dir` (counted from its start), then holds the rest: its
  /// receiver waits forever, mid-frame when `bytes` ends inside one. Negative: no limit.
  void setStallAfter(Direction dir, int64_t bytes);
  /// Resets every open connection on both sides (SO_LINGER 0: an RST, not a FIN).
  void resetAll();
  /// Half-closes every open connection toward the upstream (shutdown(SHUT_WR)): the upstream reads EOF as
  /// if the client had half-closed, while its answers still flow back to the client.
  void halfCloseToUpstream();

  /// Connections accepted so far.
  int acceptedCount() const { return accepted_.load(); }
  /// Connections whose upstream side closed (EOF or error from the upstream).
  int upstreamClosedCount() const { return upstream_closed_.load(); }
  /// Connections open now.
  int openCount() const;

 private:
  struct Settings {
    std::atomic<int64_t> delay_ms{0};
    std::atomic<bool> drop{false};
    std::atomic<int64_t> stall_after{-1};
  };
  struct Conn;

  void acceptLoop();
  void serve(const std::shared_ptr<Conn>& conn);
  Settings& settings(Direction dir) { return dir == Direction::kToUpstream ? to_upstream_ : to_client_; }

  const uint16_t upstream_port_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> upstream_closed_{0};
  Settings to_upstream_;
  Settings to_client_;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Conn>> conns_;  // guarded by mu_
  std::vector<std::thread> threads_;          // guarded by mu_
  std::thread acceptor_;
};

}  // namespace rocketrpc::testing
