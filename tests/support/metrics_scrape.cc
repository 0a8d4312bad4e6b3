#include "support/metrics_scrape.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <asio.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/test_support.h"

namespace rocketrpc::testing {

std::optional<HttpResponse> httpGet(uint16_t port, const std::string& path) {
  try {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    // A closed port in the ephemeral range can be "connected" to itself (TCP simultaneous open: the local port
    // chosen equals the port dialled); that is no server. And no scrape may hang a test: reads time out.
    if (socket.local_endpoint() == socket.remote_endpoint()) return std::nullopt;
    struct timeval tv {};
    tv.tv_sec = 15;
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    asio::write(socket, asio::buffer(request));
    std::string raw;
    char buf[4096];
    for (;;) {  // ::recv, not asio's read_some, which would poll past SO_RCVTIMEO
      const ssize_t n = ::recv(socket.native_handle(), buf, sizeof buf, 0);
      if (n == 0) break;            // the server closed: the whole answer is in
      if (n < 0) return std::nullopt;  // error or timeout
      raw.append(buf, static_cast<size_t>(n));
    }
    const size_t head_end = raw.find("\r\n\r\n");
    if (raw.rfind("HTTP/", 0) != 0 || head_end == std::string::npos) return std::nullopt;
    HttpResponse r;
    r.status = std::atoi(raw.c_str() + raw.find(' ') + 1);
    r.body = raw.substr(head_end + 4);
    return r;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

uint16_t freeLoopbackPort() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

std::optional<PromtoolResult> promtoolCheck(const std::string& text) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) return std::nullopt;
  const auto dir = std::filesystem::temp_directory_path();
  const auto in = dir / (uniqueName("metrics") + ".prom");
  const auto out = dir / (uniqueName("promtool") + ".out");
  {
    std::ofstream f(in, std::ios::binary);
    f << text;
  }
  const std::string cmd = "promtool check metrics < '" + in.string() + "' > '" + out.string() + "' 2>&1";
  const int rc = std::system(cmd.c_str());
  PromtoolResult r;
  r.exit_code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  std::ifstream f(out, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  r.output = ss.str();
  std::error_code ec;
  std::filesystem::remove(in, ec);
  std::filesystem::remove(out, ec);
  return r;
}

bool inCi() {
  if (const char* req = std::getenv("ROCKETRPC_REQUIRE_PROMTOOL"); req != nullptr && std::string(req) == "1")
    return true;
  const char* ci = std::getenv("CI");
  return ci != nullptr && *ci != '\0' && std::string(ci) != "false" && std::string(ci) != "0";
}

std::optional<double> sampleValue(const std::string& text, const std::string& series) {
  const std::string needle = "\n" + series + " ";
  size_t pos = text.find(needle);
  if (pos == std::string::npos) {
    if (text.rfind(series + " ", 0) != 0) return std::nullopt;
    pos = 0;
  } else {
    pos += 1;
  }
  return std::strtod(text.c_str() + pos + series.size() + 1, nullptr);
}

}  // namespace rocketrpc::testing
