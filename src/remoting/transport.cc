// RemotingClient and RemotingServer: connection tables on top of detail::Connection and detail::IoPool.
#include "remoting/transport.h"

#include <fmt/format.h>

#include <future>
#include <limits>
#include <unordered_map>
#include <vector>

#include "common/log.h"
#include "remoting/connection.h"
#include "remoting/frame_codec.h"
#include "remoting/tls_context.h"

namespace rocketrpc::remoting {
namespace {

using detail::Connection;
using detail::ConnectionOptions;
using detail::IoPool;

constexpr const char* kModule = "remoting";

enum class RunState { kNew, kRunning, kShutdown };

TransportOptions normalized(TransportOptions options) {
  if (options.io_threads < 1 || options.io_threads > 64) {
    RRPC_LOG(kWarn, kModule, "{}: io_threads {} out of range 1..64, clamped", options.name, options.io_threads);
    options.io_threads = std::clamp(options.io_threads, 1, 64);
  }
  if (options.connect_timeout.count() <= 0) options.connect_timeout = std::chrono::milliseconds(3000);
  if (options.max_frame_bytes == 0) options.max_frame_bytes = kDefaultMaxFrameBytes;
  if (options.idle_timeout.count() < 0) options.idle_timeout = std::chrono::milliseconds(0);
  if (options.frame_receive_timeout.count() < 0) options.frame_receive_timeout = std::chrono::milliseconds(0);
  if (options.write_stall_timeout.count() < 0) options.write_stall_timeout = std::chrono::milliseconds(0);
  if (options.read_stall_timeout.count() < 0) options.read_stall_timeout = std::chrono::milliseconds(0);
  return options;
}

/// The connection options every connection of one client or server shares.
ConnectionOptions connectionOptions(const TransportOptions& options, std::shared_ptr<detail::TransportMeters> meters) {
  ConnectionOptions c;
  c.log_name = options.name;
  c.max_frame_bytes = options.max_frame_bytes;
  c.idle_timeout = options.idle_timeout;
  c.handshake_timeout = options.connect_timeout;
  c.meters = std::move(meters);
  c.max_receiving_bytes = options.max_receiving_bytes;
  c.frame_receive_timeout = options.frame_receive_timeout;
  c.max_write_queue_bytes = options.max_write_queue_bytes;
  c.write_stall_timeout = options.write_stall_timeout;
  c.read_stall_timeout = options.read_stall_timeout;
  c.write_on_caller_thread = options.write_on_caller_thread;
  return c;
}

/// Splits "host:port" or "[v6]:port".
Status parseAddress(const std::string& addr, std::string* host, std::string* port) {
  auto bad = [&addr] { return Status::invalidArgument(fmt::format("bad address '{}': want host:port", addr)); };
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == addr.size()) return bad();
  std::string h = addr.substr(0, colon);
  std::string p = addr.substr(colon + 1);
  if (h.front() == '[') {
    if (h.size() < 3 || h.back() != ']') return bad();
    h = h.substr(1, h.size() - 2);
  }
  if (p.size() > 5) return bad();
  unsigned value = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return bad();
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return bad();
  *host = std::move(h);
  *port = std::move(p);
  return Status::ok();
}

std::string endpointString(const asio::ip::tcp::endpoint& ep) {
  asio::ip::address address = ep.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return fmt::format("{}:{}", address.to_string(), ep.port());
}

/// Encodes a request frame, refusing frames over the limit before anything is queued.
/// Encodes `request`, upgraded to the binary header when `preferred` is kRocketMq and the binary header can
/// represent it (code and version within int16).
Status encodeRequest(RemotingCommand& request, size_t max_frame_bytes, std::string* frame,
                     SerializeType preferred = SerializeType::kJson) {
  if (preferred == SerializeType::kRocketMq && request.serialize_type == SerializeType::kJson &&
      request.code >= std::numeric_limits<int16_t>::min() && request.code <= std::numeric_limits<int16_t>::max() &&
      request.version >= std::numeric_limits<int16_t>::min() &&
      request.version <= std::numeric_limits<int16_t>::max()) {
    request.serialize_type = SerializeType::kRocketMq;
  }
  Status s = encodeFrame(request, frame);
  if (!s.isOk()) return s.withContext(fmt::format("cannot encode request code {}", request.code));
  if (frame->size() > max_frame_bytes) {
    return Status::overLimit(fmt::format("request frame of {} bytes (code {}) exceeds max_frame_bytes {}",
                                         frame->size(), request.code, max_frame_bytes));
  }
  return Status::ok();
}

}  // namespace

// ==== RemotingClient ===========================================================================================

/// Thread-safe. State machine: kNew -> kRunning (start() or first call) -> kShutdown (final).
class RemotingClient::Impl : public std::enable_shared_from_this<RemotingClient::Impl> {
 public:
  explicit Impl(TransportOptions options) : options_(normalized(std::move(options))) {
    if (options_.tls.enabled) {
      // Once per client: every connection shares it. A bad file fails start() and every call, naming the file.
      auto made = detail::makeClientTlsContext(options_.tls);
      if (made.isOk()) {
        tls_context_ = std::move(*made);
      } else {
        tls_error_ = made.status().withContext(options_.name);
      }
    }
  }

  Status start() {
    if (!tls_error_.isOk()) return tls_error_;
    std::lock_guard<std::mutex> lock(mu_);
    startLocked();
    return Status::ok();
  }

  void shutdown() {
    std::shared_ptr<IoPool> pool;
    std::vector<std::shared_ptr<Connection>> connections;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (state_ == RunState::kShutdown) return;
      state_ = RunState::kShutdown;
      pool = pool_;
      for (auto& [addr, conn] : connections_) connections.push_back(conn);
      connections_.clear();
    }
    if (pool && IoPool::onIoThread()) {
      RRPC_LOG(kError, kModule, "{}: shutdown() called on an I/O thread; that thread is detached", options_.name);
    }
    for (auto& conn : connections) conn->close(Status::closed(fmt::format("{} shut down", options_.name)));
    if (pool) pool->stopAndJoin();
  }

  void registerHandler(int32_t code, RequestHandler handler) { handlers_->add(code, std::move(handler)); }

  void invokeAsync(const std::string& addr, RemotingCommand request, std::chrono::milliseconds timeout,
                   ResponseCallback callback) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string frame;
    Status s = finishRequest(request, /*oneway=*/false, &frame);
    if (!s.isOk()) {
      detail::invokeCallback(callback, std::move(s));
      return;
    }
    auto conn = connectionFor(addr);
    if (!conn.isOk()) {
      detail::invokeCallback(callback, conn.status());
      return;
    }
    (*conn)->call(request.opaque, request.code, std::move(frame), deadline, timeout, std::move(callback));
  }

  Result<RemotingCommand> invokeSync(const std::string& addr, RemotingCommand request,
                                     std::chrono::milliseconds timeout) {
    if (IoPool::onIoThread()) {
      return Status::invalidArgument("invokeSync must not be called on an I/O thread (it would deadlock)");
    }
    auto promise = std::make_shared<std::promise<Result<RemotingCommand>>>();
    auto future = promise->get_future();
    invokeAsync(addr, std::move(request), timeout,
                [promise](Result<RemotingCommand> result) { promise->set_value(std::move(result)); });
    return future.get();
  }

  Status invokeOneway(const std::string& addr, RemotingCommand request, std::chrono::milliseconds timeout) {
    std::string frame;
    Status s = finishRequest(request, /*oneway=*/true, &frame);
    if (!s.isOk()) return s;
    auto conn = connectionFor(addr);
    if (!conn.isOk()) return conn.status();
    // Wait for the connection (not on an I/O thread: there the frame just waits in the queue).
    if (!(*conn)->isOpen() && !IoPool::onIoThread()) {
      auto promise = std::make_shared<std::promise<Status>>();
      auto future = promise->get_future();
      (*conn)->whenOpen([promise](const Status& status) { promise->set_value(status); });
      if (future.wait_for(timeout) != std::future_status::ready) {
        return Status::timeout(fmt::format("connect to {} not completed within {} ms", addr, timeout.count()));
      }
      Status connected = future.get();
      if (!connected.isOk()) return connected;
    }
    return (*conn)->send(std::move(frame));
  }

  void closeConnection(const std::string& addr) {
    std::shared_ptr<Connection> conn;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = connections_.find(addr);
      if (it == connections_.end()) return;
      conn = it->second;
    }
    conn->close(Status::network(fmt::format("connection to {} closed: closed by the client", addr)));
  }

  size_t pendingCount() const {
    std::vector<std::shared_ptr<Connection>> connections;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [addr, conn] : connections_) connections.push_back(conn);
    }
    size_t total = 0;
    for (const auto& conn : connections) total += conn->pendingCount();
    return total;
  }

  TransportCounters counters() const { return meters_->snapshot(); }

 private:
  /// The one place a request this client sends is finished: opaque and flags set, then signed with the ACL
  /// credentials (after every header field is final, so the signature covers what travels; the binary and JSON
  /// headers carry the same string values, so the choice of header made by encodeRequest does not matter),
  /// then encoded. Responses this client sends to broker-initiated requests go out through Responder and are
  /// not signed, as in Apache's clients.
  Status finishRequest(RemotingCommand& request, bool oneway, std::string* frame) const {
    request.opaque = detail::nextOpaque();
    if (oneway) {
      request.flag = (request.flag | kFlagOneway) & ~kFlagResponse;
    } else {
      request.flag &= ~(kFlagResponse | kFlagOneway);
    }
    aclSignRequest(request, options_.credentials);
    return encodeRequest(request, options_.max_frame_bytes, frame, options_.request_serialize_type);
  }

  void startLocked() {
    if (state_ != RunState::kNew) return;
    pool_ = std::make_shared<IoPool>(options_.io_threads);
    pool_->start();
    state_ = RunState::kRunning;
  }

  /// The open or connecting connection to `addr`, creating it (and starting the client) if needed.
  Result<std::shared_ptr<Connection>> connectionFor(const std::string& addr) {
    std::string host;
    std::string port;
    std::shared_ptr<Connection> conn;
    if (!tls_error_.isOk()) return tls_error_;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (state_ == RunState::kShutdown) return Status::closed(fmt::format("{} is shut down", options_.name));
      auto it = connections_.find(addr);
      if (it != connections_.end() && !it->second->isClosed()) return it->second;
      Status s = parseAddress(addr, &host, &port);
      if (!s.isOk()) return s;
      startLocked();
      auto ctx = pool_->next();
      ConnectionOptions conn_options = connectionOptions(options_, meters_);
      conn_options.peer = addr;
      conn_options.tls_context = tls_context_;
      std::weak_ptr<Impl> weak = weak_from_this();
      conn = std::make_shared<Connection>(
          ctx, asio::ip::tcp::socket(*ctx), handlers_, std::move(conn_options),
          [weak](const std::shared_ptr<Connection>& closed, const Status&) {
            if (auto self = weak.lock()) self->forget(closed);
          },
          /*connected=*/false);
      connections_[addr] = conn;
    }
    conn->startConnect(std::move(host), std::move(port), options_.connect_timeout);
    return conn;
  }

  void forget(const std::shared_ptr<Connection>& conn) {
    std::shared_ptr<const std::function<void(const std::string&)>> listener;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = connections_.find(conn->peer());
      if (it != connections_.end() && it->second == conn) connections_.erase(it);
      listener = close_listener_;
    }
    if (listener && *listener) (*listener)(conn->peer());
  }

 public:
  void setCloseListener(std::function<void(const std::string&)> listener) {
    std::lock_guard<std::mutex> lock(mu_);
    close_listener_ = std::make_shared<const std::function<void(const std::string&)>>(std::move(listener));
  }

 private:

  const TransportOptions options_;
  const std::shared_ptr<detail::HandlerRegistry> handlers_ = std::make_shared<detail::HandlerRegistry>();
  const std::shared_ptr<detail::TransportMeters> meters_ = std::make_shared<detail::TransportMeters>();
  std::shared_ptr<asio::ssl::context> tls_context_;  // set by the constructor when TLS is on, then read-only
  Status tls_error_;                                 // set by the constructor when the TLS context failed
  mutable std::mutex mu_;
  RunState state_ = RunState::kNew;      // guarded by mu_
  std::shared_ptr<IoPool> pool_;         // guarded by mu_; set once by startLocked()
  std::unordered_map<std::string, std::shared_ptr<Connection>> connections_;  // guarded by mu_
  std::shared_ptr<const std::function<void(const std::string&)>> close_listener_;  // guarded by mu_
};

RemotingClient::RemotingClient(TransportOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {}
RemotingClient::~RemotingClient() { impl_->shutdown(); }
Status RemotingClient::start() { return impl_->start(); }
void RemotingClient::shutdown() { impl_->shutdown(); }
void RemotingClient::registerHandler(int32_t code, RequestHandler handler) {
  impl_->registerHandler(code, std::move(handler));
}
void RemotingClient::invokeAsync(const std::string& addr, RemotingCommand request, std::chrono::milliseconds timeout,
                                 ResponseCallback callback) {
  impl_->invokeAsync(addr, std::move(request), timeout, std::move(callback));
}
Result<RemotingCommand> RemotingClient::invokeSync(const std::string& addr, RemotingCommand request,
                                                   std::chrono::milliseconds timeout) {
  return impl_->invokeSync(addr, std::move(request), timeout);
}
Status RemotingClient::invokeOneway(const std::string& addr, RemotingCommand request,
                                    std::chrono::milliseconds timeout) {
  return impl_->invokeOneway(addr, std::move(request), timeout);
}
void RemotingClient::closeConnection(const std::string& addr) { impl_->closeConnection(addr); }
void RemotingClient::setCloseListener(std::function<void(const std::string& addr)> listener) {
  impl_->setCloseListener(std::move(listener));
}
size_t RemotingClient::pendingCount() const { return impl_->pendingCount(); }
TransportCounters RemotingClient::counters() const { return impl_->counters(); }

// ==== RemotingServer ===========================================================================================

/// Thread-safe. State machine: kNew -> kRunning (start() succeeded) -> kShutdown (final). The acceptor and its
/// retry timer are confined to the first I/O loop once running.
class RemotingServer::Impl : public std::enable_shared_from_this<RemotingServer::Impl> {
 public:
  explicit Impl(TransportOptions options) : options_(normalized(std::move(options))) {}

  void registerHandler(int32_t code, RequestHandler handler) { handlers_->add(code, std::move(handler)); }

  void setCloseListener(std::function<void(const std::string&)> listener) {
    std::lock_guard<std::mutex> lock(mu_);
    close_listener_ = std::make_shared<const std::function<void(const std::string&)>>(std::move(listener));
  }

  Status start(const std::string& host, uint16_t port) {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ == RunState::kRunning) return Status::invalidArgument(options_.name + " is already started");
    if (state_ == RunState::kShutdown) return Status::closed(options_.name + " is shut down");
    if (options_.tls_server.mode != TlsServerMode::kDisabled && !tls_context_) {
      // Once per server, before binding: a bad certificate, key or trust file fails start() naming the file.
      auto made = detail::makeServerTlsContext(options_.tls_server);
      if (!made.isOk()) return made.status().withContext(options_.name);
      tls_context_ = std::move(*made);
    }
    auto pool = std::make_shared<IoPool>(options_.io_threads);
    auto ctx = pool->first();
    const std::string bind_host = host.empty() ? "0.0.0.0" : host;
    auto fail = [&](std::string_view what, const std::error_code& ec) {
      return Status::network(fmt::format("{}: {} {}:{} failed: {}", options_.name, what, bind_host, port, ec.message()));
    };
    std::error_code ec;
    asio::ip::tcp::endpoint endpoint;
    asio::ip::address ip = asio::ip::make_address(bind_host, ec);
    if (!ec) {
      endpoint = asio::ip::tcp::endpoint(ip, port);
    } else {
      asio::ip::tcp::resolver resolver(*ctx);
      auto results = resolver.resolve(bind_host, std::to_string(port), ec);
      if (ec) return fail("resolve", ec);
      if (results.empty()) return fail("resolve", asio::error::host_not_found);
      endpoint = results.begin()->endpoint();
    }
    auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(*ctx);
    acceptor->open(endpoint.protocol(), ec);
    if (ec) return fail("open", ec);
    acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (ec) return fail("set_option", ec);
    acceptor->bind(endpoint, ec);
    if (ec) return fail("bind", ec);
    acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail("listen", ec);
    auto local = acceptor->local_endpoint(ec);
    if (ec) return fail("local_endpoint", ec);
    port_.store(local.port());
    acceptor_ = std::move(acceptor);
    accept_retry_timer_ = std::make_unique<asio::steady_timer>(*ctx);
    pool_ = pool;
    state_ = RunState::kRunning;
    pool->start();
    asio::post(*ctx, [self = shared_from_this()] { self->doAccept(); });
    RRPC_LOG(kInfo, kModule, "{}: listening on {}{}", options_.name, endpointString(local),
             options_.tls_server.mode == TlsServerMode::kEnforcing    ? " (TLS only)"
             : options_.tls_server.mode == TlsServerMode::kPermissive ? " (TLS and plain)"
                                                                      : "");
    return Status::ok();
  }

  uint16_t port() const { return port_.load(); }

  void shutdown() {
    std::shared_ptr<IoPool> pool;
    std::vector<std::shared_ptr<Connection>> connections;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (state_ == RunState::kShutdown) return;
      state_ = RunState::kShutdown;
      pool = pool_;
      for (auto& [addr, conn] : connections_) connections.push_back(conn);
      connections_.clear();
    }
    if (pool) {
      // The acceptor lives on the first loop; close it there.
      asio::post(*pool->first(), [self = shared_from_this()] {
        std::error_code ignored;
        self->acceptor_->close(ignored);
        self->accept_retry_timer_->cancel();
      });
    }
    for (auto& conn : connections) conn->close(Status::closed(fmt::format("{} shut down", options_.name)));
    if (pool) pool->stopAndJoin();
  }

  void invokeAsync(const std::string& remote_addr, RemotingCommand request, std::chrono::milliseconds timeout,
                   ResponseCallback callback) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    request.opaque = detail::nextOpaque();
    request.flag &= ~(kFlagResponse | kFlagOneway);
    std::string frame;
    Status s = encodeRequest(request, options_.max_frame_bytes, &frame);
    if (!s.isOk()) {
      detail::invokeCallback(callback, std::move(s));
      return;
    }
    auto conn = connectionFrom(remote_addr);
    if (!conn.isOk()) {
      detail::invokeCallback(callback, conn.status());
      return;
    }
    (*conn)->call(request.opaque, request.code, std::move(frame), deadline, timeout, std::move(callback));
  }

  TransportCounters counters() const { return meters_->snapshot(); }

  Status invokeOneway(const std::string& remote_addr, RemotingCommand request) {
    request.opaque = detail::nextOpaque();
    request.flag = (request.flag | kFlagOneway) & ~kFlagResponse;
    std::string frame;
    Status s = encodeRequest(request, options_.max_frame_bytes, &frame);
    if (!s.isOk()) return s;
    auto conn = connectionFrom(remote_addr);
    if (!conn.isOk()) return conn.status();
    return (*conn)->send(std::move(frame));
  }

 private:
  Result<std::shared_ptr<Connection>> connectionFrom(const std::string& remote_addr) {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != RunState::kRunning) return Status::closed(fmt::format("{} is not running", options_.name));
    auto it = connections_.find(remote_addr);
    if (it == connections_.end() || it->second->isClosed()) {
      return Status::network(fmt::format("no connection from {}", remote_addr));
    }
    return it->second;
  }

  // Loop-confined (first loop).
  void doAccept() {
    auto ctx = pool_->next();
    std::weak_ptr<Impl> weak = weak_from_this();
    // The accepted socket belongs to the loop it will live on.
    auto socket = std::make_shared<asio::ip::tcp::socket>(*ctx);
    acceptor_->async_accept(*socket, [weak, ctx, socket](const std::error_code& ec) {
      if (auto self = weak.lock()) self->onAccept(ec, std::move(*socket), ctx);
    });
  }

  void onAccept(const std::error_code& ec, asio::ip::tcp::socket socket, const std::shared_ptr<asio::io_context>& ctx) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !running()) return;
      RRPC_LOG(kWarn, kModule, "{}: accept failed: {}; retrying in 100 ms", options_.name, ec.message());
      accept_retry_timer_->expires_after(std::chrono::milliseconds(100));
      accept_retry_timer_->async_wait([weak = weak_from_this()](const std::error_code& e) {
        if (e) return;
        if (auto self = weak.lock()) self->doAccept();
      });
      return;
    }
    std::error_code ep_ec;
    auto remote = socket.remote_endpoint(ep_ec);
    if (ep_ec) {  // the peer is already gone
      socket.close(ep_ec);
      doAccept();
      return;
    }
    std::string remote_addr = endpointString(remote);
    ConnectionOptions conn_options = connectionOptions(options_, meters_);
    conn_options.peer = remote_addr;
    conn_options.tls_context = tls_context_;
    conn_options.tls_server_mode = options_.tls_server.mode;
    std::weak_ptr<Impl> weak = weak_from_this();
    auto conn = std::make_shared<Connection>(
        ctx, std::move(socket), handlers_, std::move(conn_options),
        [weak](const std::shared_ptr<Connection>& closed, const Status&) {
          if (auto self = weak.lock()) self->onConnectionClosed(closed);
        },
        /*connected=*/true);
    bool accepted = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      accepted = state_ == RunState::kRunning;
      if (accepted) connections_[remote_addr] = conn;
    }
    if (!accepted) {
      conn->close(Status::closed(fmt::format("{} shut down", options_.name)));
      return;
    }
    RRPC_LOG(kDebug, kModule, "{}: accepted connection from {}", options_.name, remote_addr);
    conn->startAccepted();
    doAccept();
  }

  bool running() const {
    std::lock_guard<std::mutex> lock(mu_);
    return state_ == RunState::kRunning;
  }

  void onConnectionClosed(const std::shared_ptr<Connection>& conn) {
    std::shared_ptr<const std::function<void(const std::string&)>> listener;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = connections_.find(conn->peer());
      if (it != connections_.end() && it->second == conn) connections_.erase(it);
      listener = close_listener_;
    }
    if (!listener || !*listener) return;
    try {
      (*listener)(conn->peer());
    } catch (const std::exception& e) {
      RRPC_LOG(kError, kModule, "{}: close listener threw: {}", options_.name, e.what());
    } catch (...) {
      RRPC_LOG(kError, kModule, "{}: close listener threw a non-standard exception", options_.name);
    }
  }

  const TransportOptions options_;
  const std::shared_ptr<detail::HandlerRegistry> handlers_ = std::make_shared<detail::HandlerRegistry>();
  const std::shared_ptr<detail::TransportMeters> meters_ = std::make_shared<detail::TransportMeters>();
  std::atomic<uint16_t> port_{0};
  mutable std::mutex mu_;
  RunState state_ = RunState::kNew;  // guarded by mu_
  // Set once by start() before the loops run; destroyed after the acceptor and timer (declared before them).
  std::shared_ptr<IoPool> pool_;
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor_;
  std::unique_ptr<asio::steady_timer> accept_retry_timer_;
  std::shared_ptr<asio::ssl::context> tls_context_;  // set by start() (TLS modes) before the loops run
  std::unordered_map<std::string, std::shared_ptr<Connection>> connections_;             // guarded by mu_
  std::shared_ptr<const std::function<void(const std::string&)>> close_listener_;  // guarded by mu_
};

RemotingServer::RemotingServer(TransportOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {}
RemotingServer::~RemotingServer() { impl_->shutdown(); }
void RemotingServer::registerHandler(int32_t code, RequestHandler handler) {
  impl_->registerHandler(code, std::move(handler));
}
void RemotingServer::setCloseListener(std::function<void(const std::string& remote_addr)> listener) {
  impl_->setCloseListener(std::move(listener));
}
Status RemotingServer::start(const std::string& host, uint16_t port) { return impl_->start(host, port); }
uint16_t RemotingServer::port() const { return impl_->port(); }
void RemotingServer::shutdown() { impl_->shutdown(); }
void RemotingServer::invokeAsync(const std::string& remote_addr, RemotingCommand request,
                                 std::chrono::milliseconds timeout, ResponseCallback callback) {
  impl_->invokeAsync(remote_addr, std::move(request), timeout, std::move(callback));
}
Status RemotingServer::invokeOneway(const std::string& remote_addr, RemotingCommand request) {
  return impl_->invokeOneway(remote_addr, std::move(request));
}
TransportCounters RemotingServer::counters() const { return impl_->counters(); }

}  // namespace rocketrpc::remoting
