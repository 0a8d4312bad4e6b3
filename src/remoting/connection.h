// Private to src/remoting: the I/O loop pool, the request-handler table and Connection, the one TCP connection
// class used by both RemotingClient and RemotingServer (requests and responses flow both ways on it).
#pragma once

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "remoting/remoting_command.h"
#include "remoting/transport.h"

namespace rocketrpc::remoting {
namespace detail {

/// Process-wide request id source shared by every client and server (Java: one AtomicInteger from 0).
int32_t nextOpaque();

/// Invokes `cb` with `result`, logging (never propagating) what it throws. Empty callbacks are skipped.
void invokeCallback(const ResponseCallback& cb, Result<RemotingCommand> result);

/// Request handlers by code. Thread-safe: writers copy the table, readers hold an immutable snapshot.
class HandlerRegistry {
 public:
  using Map = std::unordered_map<int32_t, RequestHandler>;
  void add(int32_t code, RequestHandler handler);
  std::shared_ptr<const Map> snapshot() const;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Map> map_ = std::make_shared<const Map>();  // guarded by mu_
};

/// N event loops, one io_context run by one thread each. Connections are spread round-robin. Thread-safe.
/// Lifecycle: constructed -> start() -> stopAndJoin() (lets every loop drain its outstanding work, then joins).
class IoPool {
 public:
  explicit IoPool(int threads);
  ~IoPool();
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  void start();
  /// Releases the loops' work guards and joins the threads once each loop has run out of work. Idempotent.
  /// Called on an I/O thread, that thread is detached instead of joined.
  void stopAndJoin();
  std::shared_ptr<asio::io_context> next();
  std::shared_ptr<asio::io_context> first() { return contexts_.front(); }
  /// True on a thread that runs an io_context of any IoPool.
  static bool onIoThread();

 private:
  std::vector<std::shared_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  std::atomic<size_t> next_{0};
  std::mutex mu_;
  bool started_ = false;  // guarded by mu_
  bool stopped_ = false;  // guarded by mu_
};

struct ConnectionOptions {
  /// "host:port" of the peer, used in messages and by Responder::remoteAddress().
  std::string peer;
  /// TransportOptions::name, for log lines.
  std::string log_name;
  size_t max_frame_bytes = kDefaultMaxFrameBytes;
  std::chrono::milliseconds idle_timeout{0};
};

/// One TCP connection, pinned to one io_context: its socket, timers and read buffer are touched only on that
/// loop. The public methods are thread-safe: calls register a pending entry and queue their frame under mu_,
/// and the loop gathers all queued frames into one write. Lifecycle: connecting (client) or open (accepted)
/// -> closed; close() is final and fails every pending call with the close status at once.
/// Owned by shared_ptr; async continuations hold shared_ptr/weak_ptr, never `this`.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  /// Called once after the connection closed (on the thread that closed it).
  using CloseHook = std::function<void(const std::shared_ptr<Connection>&, const Status&)>;

  Connection(std::shared_ptr<asio::io_context> ctx, asio::ip::tcp::socket socket,
             std::shared_ptr<const HandlerRegistry> handlers, ConnectionOptions options, CloseHook on_close,
             bool connected);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Client side: resolves and connects; a failure closes the connection with Network
  /// "connect to <peer> failed: ...". Frames queued meanwhile are written once connected.
  void startConnect(std::string host, std::string port, std::chrono::milliseconds timeout);
  /// Server side: starts reading an accepted socket.
  void startAccepted();

  /// Registers a pending call (completed by the response with `opaque`, by Timeout at `deadline`, or by the close
  /// status) and queues its encoded request frame. On a closed connection `cb` runs at once with the close status.
  void call(int32_t opaque, int32_t code, std::string frame, std::chrono::steady_clock::time_point deadline,
            std::chrono::milliseconds timeout, ResponseCallback cb);
  /// Queues one encoded frame. Fails with the close status when closed.
  Status send(std::string frame);
  /// Runs `cb` with OK once connected, or with the close status (at once if already open or closed).
  void whenOpen(std::function<void(const Status&)> cb);
  /// Closes the connection: fails pending calls with `reason` on the calling thread, closes the socket on its
  /// loop, runs the close hook. Idempotent.
  void close(Status reason);

  bool isOpen() const;
  bool isClosed() const { return closed_.load(std::memory_order_acquire); }
  size_t pendingCount() const;
  const std::string& peer() const { return options_.peer; }
  const std::string& logName() const { return options_.log_name; }
  size_t maxFrameBytes() const { return options_.max_frame_bytes; }

 private:
  enum class State { kConnecting, kOpen, kClosed };
  struct Pending {
    ResponseCallback callback;
    std::unique_ptr<asio::steady_timer> timer;
    int32_t code = 0;
    std::chrono::milliseconds timeout{0};
  };

  // Loop-confined.
  void onConnected(const std::error_code& ec);
  void doRead();
  void onRead(const std::error_code& ec, size_t n);
  void handleFrame(RemotingCommand cmd);
  void onResponse(RemotingCommand cmd);
  void onRequest(RemotingCommand cmd);
  void onCallTimeout(int32_t opaque);
  void doWrite();
  void onWrite(const std::error_code& ec);
  void armIdleTimer(std::chrono::steady_clock::time_point at);
  void onIdleTimer();
  void closeSocket();
  /// Under mu_: queues a frame; true if the caller must post doWrite().
  bool queueLocked(std::string frame);
  void postWrite();

  std::shared_ptr<asio::io_context> ctx_;  // declared first: outlives the socket and timers below
  const ConnectionOptions options_;
  const std::shared_ptr<const HandlerRegistry> handlers_;
  const CloseHook on_close_;

  // Loop-confined.
  asio::ip::tcp::socket socket_;
  asio::ip::tcp::resolver resolver_;
  asio::steady_timer connect_timer_;
  asio::steady_timer idle_timer_;
  std::vector<char> read_buf_;
  size_t read_begin_ = 0;
  size_t read_end_ = 0;
  std::vector<std::string> write_batch_;
  std::vector<asio::const_buffer> write_buffers_;
  std::chrono::steady_clock::time_point last_activity_;

  std::atomic<bool> closed_{false};
  mutable std::mutex mu_;
  State state_;                                                  // guarded by mu_
  Status close_status_;                                          // guarded by mu_
  std::unordered_map<int32_t, Pending> pending_;                 // guarded by mu_
  std::vector<std::string> write_queue_;                         // guarded by mu_
  bool write_scheduled_ = false;                                 // guarded by mu_: doWrite posted or running
  std::vector<std::function<void(const Status&)>> open_waiters_;  // guarded by mu_
};

}  // namespace detail

/// Answers one request on the connection it came from. Thread-safe; answers at most once.
class Responder::Impl {
 public:
  Impl(std::weak_ptr<detail::Connection> connection, int32_t opaque, bool oneway, std::string remote_address)
      : connection_(std::move(connection)),
        opaque_(opaque),
        oneway_(oneway),
        remote_address_(std::move(remote_address)) {}

  void respond(RemotingCommand response);
  const std::string& remoteAddress() const { return remote_address_; }

 private:
  const std::weak_ptr<detail::Connection> connection_;
  const int32_t opaque_;
  const bool oneway_;
  const std::string remote_address_;
  std::atomic<bool> answered_{false};
};

}  // namespace rocketrpc::remoting
