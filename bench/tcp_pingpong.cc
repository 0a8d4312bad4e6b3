// Raw TCP request/reply over loopback: the physical floor for an RPC.
//
//   bench_tcp_pingpong server [--port P]     epoll echo server on 127.0.0.1 (P=0: any port); prints "port N"
//   bench_tcp_pingpong client --port P       serves cells (bench/common/bench_common.h) over one connection
//
// A request is a frame `length:uint32 payload`; the server echoes bytes back unchanged, so replies arrive in
// request order and the client matches them with a FIFO of send times. With K in flight the client keeps K
// frames outstanding (pipelined on the one connection), all from one thread with non-blocking I/O.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/bench_common.h"

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "bench_tcp_pingpong: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

void setNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL, 0);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) die("fcntl");
}

void setNoDelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// ---------------------------------------------------------------------------------------------- server

struct Conn {
  std::string pending;  // bytes read but not yet written back
  size_t pending_off = 0;
};

int runServer(int port) {
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (lfd < 0) die("socket");
  int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) die("bind");
  if (::listen(lfd, 64) < 0) die("listen");
  socklen_t len = sizeof addr;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
  setNonBlocking(lfd);
  int ep = ::epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  std::printf("port %d\n", ntohs(addr.sin_port));
  std::fflush(stdout);

  std::unordered_map<int, Conn> conns;
  std::string buf(256 * 1024, '\0');
  epoll_event events[64];
  auto closeConn = [&](int fd) {
    ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    conns.erase(fd);
  };
  // Writes what is pending; true when everything went out.
  auto flush = [&](int fd, Conn& c) -> bool {
    while (c.pending_off < c.pending.size()) {
      ssize_t n = ::write(fd, c.pending.data() + c.pending_off, c.pending.size() - c.pending_off);
      if (n > 0) {
        c.pending_off += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        return false;
      }
    }
    c.pending.clear();
    c.pending_off = 0;
    return true;
  };
  for (;;) {
    int n = ::epoll_wait(ep, events, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == lfd) {
        for (;;) {
          int cfd = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK);
          if (cfd < 0) break;
          setNoDelay(cfd);
          conns[cfd];
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.fd = cfd;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &cev);
        }
        continue;
      }
      auto it = conns.find(fd);
      if (it == conns.end()) continue;
      Conn& c = it->second;
      if (events[i].events & (EPOLLERR | EPOLLHUP)) {
        closeConn(fd);
        continue;
      }
      if (!c.pending.empty()) {  // was blocked on output
        if (!flush(fd, c)) {
          if (errno != EAGAIN && errno != EWOULDBLOCK) closeConn(fd);
          continue;
        }
        epoll_event cev{};
        cev.events = EPOLLIN;
        cev.data.fd = fd;
        ::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &cev);
      }
      if (!(events[i].events & EPOLLIN)) continue;
      ssize_t r = ::read(fd, buf.data(), buf.size());
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK)) {
        closeConn(fd);
        continue;
      }
      if (r < 0) continue;
      c.pending.assign(buf.data(), static_cast<size_t>(r));
      c.pending_off = 0;
      if (!flush(fd, c)) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          closeConn(fd);
          continue;
        }
        // Stop reading until the peer drains what we owe it.
        epoll_event cev{};
        cev.events = EPOLLOUT;
        cev.data.fd = fd;
        ::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &cev);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------- client

class Client {
 public:
  explicit Client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) die("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) die("connect");
    setNoDelay(fd_);
    setNonBlocking(fd_);
    in_.resize(1 << 20);
  }

  bench::CellResult run(const bench::CellSpec& spec) {
    const std::string body = bench::makePayload(spec.payload);
    std::string frame(4 + body.size(), '\0');
    uint32_t len = htonl(static_cast<uint32_t>(body.size()));
    std::memcpy(frame.data(), &len, 4);
    std::memcpy(frame.data() + 4, body.data(), body.size());

    bench::CellResult r;
    r.latencies_ns.reserve(static_cast<size_t>(std::min<int64_t>(spec.max_count, 4000000)));
    const auto t0 = bench::Clock::now();
    const auto deadline = t0 + std::chrono::milliseconds(spec.duration_ms);
    const auto give_up = deadline + std::chrono::seconds(15);
    int64_t issued = 0;
    bench::Clock::time_point last = t0;
    std::deque<bench::Clock::time_point> starts;
    // Every request is the same frame: unsent requests are a count plus the offset reached in the first one,
    // written with writev straight from `frame` (no copies in user space).
    int64_t unsent = 0;
    size_t head_off = 0;
    in_len_ = 0;
    auto issue = [&] {
      ++unsent;
      starts.push_back(bench::Clock::now());
      ++issued;
    };
    std::vector<iovec> iov(64);
    for (int i = 0; i < spec.inflight && issued < spec.max_count; ++i) issue();
    while (!starts.empty()) {
      if (unsent > 0) {
        size_t n_iov = static_cast<size_t>(std::min<int64_t>(unsent, static_cast<int64_t>(iov.size())));
        for (size_t i = 0; i < n_iov; ++i) {
          const size_t off = i == 0 ? head_off : 0;
          iov[i].iov_base = frame.data() + off;
          iov[i].iov_len = frame.size() - off;
        }
        ssize_t n = ::writev(fd_, iov.data(), static_cast<int>(n_iov));
        if (n < 0 && errno != EAGAIN && errno != EINTR) die("writev");
        if (n > 0) {
          size_t left = static_cast<size_t>(n);
          while (left > 0) {
            const size_t rest = frame.size() - head_off;
            if (left >= rest) {
              left -= rest;
              head_off = 0;
              --unsent;
            } else {
              head_off += left;
              left = 0;
            }
          }
        }
      }
      if (in_len_ == in_.size()) in_.resize(in_.size() * 2);
      ssize_t n = ::read(fd_, in_.data() + in_len_, in_.size() - in_len_);
      if (n == 0) {
        r.first_error = "server closed the connection";
        break;
      }
      if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) die("read");
        if (bench::Clock::now() > give_up) {
          r.first_error = "no reply within the drain time";
          break;
        }
        pollfd p{fd_, static_cast<short>(POLLIN | (unsent > 0 ? POLLOUT : 0)), 0};
        ::poll(&p, 1, 1000);
        continue;
      }
      in_len_ += static_cast<size_t>(n);
      size_t off = 0;
      for (;;) {
        if (in_len_ - off < 4) break;
        uint32_t flen;
        std::memcpy(&flen, in_.data() + off, 4);
        flen = ntohl(flen);
        if (in_len_ - off < 4 + static_cast<size_t>(flen)) break;
        off += 4 + flen;
        const auto now = bench::Clock::now();
        r.latencies_ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(now - starts.front()).count());
        starts.pop_front();
        ++r.ok;
        last = now;
        if (now < deadline && issued < spec.max_count) issue();
      }
      if (off > 0) {
        std::memmove(in_.data(), in_.data() + off, in_len_ - off);
        in_len_ -= off;
      }
    }
    r.errors = static_cast<int64_t>(starts.size());
    r.elapsed_s = std::chrono::duration<double>(last - t0).count();
    if (!starts.empty()) {  // a broken run: reconnecting is not worth it, stop here
      std::printf("result %s\n", bench::resultJson(r).c_str());
      std::exit(1);
    }
    return r;
  }

 private:
  int fd_ = -1;
  std::string in_;
  size_t in_len_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  int port = 0;
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--port") port = std::atoi(argv[i + 1]);
  }
  if (mode == "server") return runServer(port);
  if (mode == "client" && port > 0) {
    Client client(port);
    return bench::serveCells([&](const bench::CellSpec& spec, bool) { return client.run(spec); });
  }
  std::fprintf(stderr, "usage: bench_tcp_pingpong server [--port P] | client --port P\n");
  return 2;
}
