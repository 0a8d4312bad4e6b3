#include "support/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rocketrpc::testing {

namespace {

constexpr int kPollMs = 20;  // how soon a fault set by the test reaches a connection's thread

bool writeAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

void resetSocket(int fd) {
  linger lg{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

}  // namespace

struct FaultProxy::Conn {
  int client_fd = -1;
  int upstream_fd = -1;
  std::atomic<bool> reset{false};
  std::atomic<bool> half_close{false};
  std::atomic<bool> done{false};
  int64_t forwarded[2] = {0, 0};  // by Direction; the connection's thread only
};

FaultProxy::FaultProxy(uint16_t upstream_port) : upstream_port_(upstream_port) {}

FaultProxy::~FaultProxy() { stop(); }

std::string FaultProxy::address() const { return "127.0.0.1:" + std::to_string(port_); }

Status FaultProxy::start() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return Status::internal(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listen_fd_, 512) != 0)
    return Status::internal(std::string("bind/listen: ") + std::strerror(errno));
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { acceptLoop(); });
  return Status::ok();
}

void FaultProxy::stop() {
  if (stopping_.exchange(true)) return;
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();  // each sees stopping_ within kPollMs and closes its sockets
}

void FaultProxy::setDelay(Direction dir, std::chrono::milliseconds delay) {
  settings(dir).delay_ms = delay.count();
}
void FaultProxy::setDrop(Direction dir, bool drop) { settings(dir).drop = drop; }
void FaultProxy::setStallAfter(Direction dir, int64_t bytes) { settings(dir).stall_after = bytes; }

void FaultProxy::resetAll() {
  std::lock_guard lock(mu_);
  for (auto& c : conns_) c->reset = true;
}

void FaultProxy::halfCloseToUpstream() {
  std::lock_guard lock(mu_);
  for (auto& c : conns_) c->half_close = true;
}

int FaultProxy::openCount() const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& c : conns_) n += c->done ? 0 : 1;
  return n;
}

void FaultProxy::acceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, kPollMs) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int up = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(upstream_port_);
    if (up < 0 || ::connect(up, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      if (up >= 0) ::close(up);
      resetSocket(fd);
      ::close(fd);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ::setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto conn = std::make_shared<Conn>();
    conn->client_fd = fd;
    conn->upstream_fd = up;
    accepted_.fetch_add(1);
    std::lock_guard lock(mu_);
    conns_.push_back(conn);
    threads_.emplace_back([this, conn] { serve(conn); });
  }
}

void FaultProxy::serve(const std::shared_ptr<Conn>& conn) {
  const int fds[2] = {conn->client_fd,
                      conn->upstream_fd};  // source of Direction 0 (to upstream), 1 (to client)
  bool open_in[2] = {true, true};          // still reading from that source
  bool upstream_write_shut = false;
  char buf[64 * 1024];
  auto finish = [&](bool rst) {
    if (rst) {
      resetSocket(conn->client_fd);
      resetSocket(conn->upstream_fd);
    }
    ::close(conn->client_fd);
    ::close(conn->upstream_fd);
    conn->done = true;
  };
  while (true) {
    if (stopping_ || conn->reset) return finish(conn->reset.load());
    if (conn->half_close && !upstream_write_shut) {
      ::shutdown(conn->upstream_fd, SHUT_WR);
      upstream_write_shut = true;
      open_in[0] = false;  // what the client sends from now on goes nowhere
    }
    pollfd p[2];
    int dir_of[2];
    int n = 0;
    for (int d = 0; d < 2; ++d) {
      Settings& s = settings(static_cast<Direction>(d));
      const int64_t stall = s.stall_after.load();
      if (!open_in[d] || (stall >= 0 && conn->forwarded[d] >= stall)) continue;  // held: not read at all
      p[n] = pollfd{fds[d], POLLIN, 0};
      dir_of[n++] = d;
    }
    // With nothing to read, still watch the upstream for its close (it closes a stalled connection).
    if (n == 0) {
      p[0] = pollfd{conn->upstream_fd, POLLRDHUP, 0};
      dir_of[0] = -1;
      n = 1;
    }
    if (::poll(p, static_cast<nfds_t>(n), kPollMs) <= 0) continue;
    for (int i = 0; i < n; ++i) {
      if (p[i].revents == 0) continue;
      const int d = dir_of[i];
      if (d < 0) {
        if (p[i].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
          upstream_closed_.fetch_add(1);
          return finish(false);
        }
        continue;
      }
      Settings& s = settings(static_cast<Direction>(d));
      size_t want = sizeof(buf);
      const int64_t stall = s.stall_after.load();
      if (stall >= 0) want = std::min<size_t>(want, static_cast<size_t>(stall - conn->forwarded[d]));
      ssize_t r = ::recv(fds[d], buf, want, 0);
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (r <= 0) {
        if (d == 1) {  // the upstream closed: so does the client's side
          upstream_closed_.fetch_add(1);
          return finish(r < 0);
        }
        // The client half-closed (or reset): pass the FIN on and keep forwarding answers.
        open_in[0] = false;
        if (r < 0) return finish(true);
        if (!upstream_write_shut) ::shutdown(conn->upstream_fd, SHUT_WR);
        upstream_write_shut = true;
        continue;
      }
      conn->forwarded[d] += r;
      if (s.drop) continue;
      if (const int64_t delay = s.delay_ms.load(); delay > 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
      if (!writeAll(fds[1 - d], buf, static_cast<size_t>(r))) {
        if (d == 0) upstream_closed_.fetch_add(1);
        return finish(true);
      }
    }
  }
}

}  // namespace rocketrpc::testing
