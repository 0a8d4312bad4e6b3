// Private to src/remoting: the I/O loop pool, the request-handler table and Connection, the one TCP connection
// class used by both RemotingClient and RemotingServer (requests and responses flow both ways on it), plain or
// TLS (ByteStream).
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
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

/// The byte stream under a Connection: the TCP socket, or a TLS stream over it once startTls() moved the socket
/// in. The frame codec, pending calls, write batching and idle timer above it do not know which; the plain path
/// costs one predictable branch per read and per write. Loop-confined like its connection.
class ByteStream {
 public:
  using TlsStream = asio::ssl::stream<asio::ip::tcp::socket>;

  explicit ByteStream(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}

  /// The TCP socket (under the TLS stream if any): options, shutdown, close.
  asio::ip::tcp::socket& socket() { return tls_ ? tls_->next_layer() : socket_; }
  bool isTls() const { return tls_.has_value(); }
  /// Wraps the socket in a TLS stream using `context` (which must outlive this stream). Once only.
  TlsStream& startTls(asio::ssl::context& context) {
    tls_.emplace(std::move(socket_), context);
    return *tls_;
  }
  /// Precondition: isTls().
  TlsStream& tls() { return *tls_; }

  template <typename MutableBuffers, typename Handler>
  void asyncReadSome(const MutableBuffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_read_some(buffers, std::forward<Handler>(handler));
    } else {
      socket_.async_read_some(buffers, std::forward<Handler>(handler));
    }
  }
  template <typename ConstBuffers, typename Handler>
  void asyncWrite(const ConstBuffers& buffers, Handler&& handler) {
    if (tls_) {
      asio::async_write(*tls_, buffers, std::forward<Handler>(handler));
    } else {
      asio::async_write(socket_, buffers, std::forward<Handler>(handler));
    }
  }

 private:
  asio::ip::tcp::socket socket_;  // moved into tls_ by startTls()
  std::optional<TlsStream> tls_;
};

/// The memory-bound accounting shared by the connections of one RemotingClient or RemotingServer. Relaxed
/// atomics: the counts are statistics and the receiving total a budget, neither orders other memory.
struct TransportMeters {
  /// Bytes of incomplete frames held in receive buffers (TransportOptions::max_receiving_bytes).
  std::atomic<size_t> receiving_bytes{0};
  std::atomic<uint64_t> receive_cap_closes{0};
  std::atomic<uint64_t> frame_timeout_closes{0};
  std::atomic<uint64_t> write_pauses{0};
  std::atomic<uint64_t> write_cap_closes{0};
  std::atomic<uint64_t> write_cap_refusals{0};
  std::atomic<uint64_t> dropped_responses{0};
  std::atomic<uint64_t> unsent_dropped{0};
  std::atomic<uint64_t> read_stall_closes{0};
  TransportCounters snapshot() const;
};

struct ConnectionOptions {
  /// "host:port" of the peer, used in messages and by Responder::remoteAddress().
  std::string peer;
  /// TransportOptions::name, for log lines.
  std::string log_name;
  size_t max_frame_bytes = kDefaultMaxFrameBytes;
  std::chrono::milliseconds idle_timeout{0};
  /// TLS context shared by the connections of one client or server; null: plain TCP. Client side: every
  /// connection does a TLS handshake after connecting, before any frame is written.
  std::shared_ptr<asio::ssl::context> tls_context;
  /// Server side: kDisabled serves plain TCP; kPermissive and kEnforcing peek at the first byte (0x16 = a TLS
  /// handshake record) and do the TLS handshake, or serve plain (permissive) or refuse the connection (enforcing).
  TlsServerMode tls_server_mode = TlsServerMode::kDisabled;
  /// Longest TLS handshake (client: counted with the connect). Default 3 s.
  std::chrono::milliseconds handshake_timeout{3000};
  /// Memory bounds, as in TransportOptions (0 disables each). `meters` is shared by the connections of one
  /// client or server; null: the connection gets its own.
  std::shared_ptr<TransportMeters> meters;
  size_t max_receiving_bytes = 0;
  std::chrono::milliseconds frame_receive_timeout{0};
  size_t max_write_queue_bytes = 0;
  std::chrono::milliseconds write_stall_timeout{0};
  /// Client: with calls pending and nothing read for this long, the connection is closed (0 disables).
  std::chrono::milliseconds read_stall_timeout{0};
  /// TransportOptions::write_on_caller_thread.
  bool write_on_caller_thread = true;
};

/// One TCP connection (plain or TLS), pinned to one io_context: its stream, timers and read buffer are touched
/// only on that loop. The public methods are thread-safe: calls register a pending entry and queue their frame
/// under mu_, and the loop gathers all queued frames into one write. Lifecycle: connecting (a client until its
/// TCP connect and TLS handshake; an accepted connection of a TLS server until its first byte and handshake)
/// -> open -> closed; no frame is written before open. close() is final and fails every pending call with the
/// close status at once. Owned by shared_ptr; async continuations hold shared_ptr/weak_ptr, never `this`.
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
  /// Server side: starts reading an accepted socket (after the TLS handshake when the server speaks TLS).
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
  const std::shared_ptr<TransportMeters>& meters() const { return meters_; }

 private:
  enum class State { kConnecting, kOpen, kClosed };
  /// The deadlines of the pending calls, earliest first; one timer per connection is armed at the earliest.
  using CallDeadlines = std::set<std::pair<std::chrono::steady_clock::time_point, int32_t>>;
  struct Pending {
    ResponseCallback callback;
    CallDeadlines::iterator deadline;  // its entry in call_deadlines_
    int32_t code = 0;
    std::chrono::milliseconds timeout{0};
    uint64_t queue_seq = 0;  // position of its frame in the write queue (see queue_base_seq_)
  };
  /// A frame waiting in the write queue; a call's frame is emptied (and skipped) if the call times out first.
  struct QueuedFrame {
    std::string frame;
    int32_t opaque = 0;  // the call's opaque; 0 with `call` false for responses and oneway frames
    bool call = false;
  };

  // Loop-confined.
  void onConnected(const std::error_code& ec);
  void startHandshake(asio::ssl::stream_base::handshake_type type);
  void onHandshake(const std::error_code& ec);
  void onFirstByte(const std::error_code& ec);
  /// Connected (and TLS-established): writes what was queued, starts reading, tells the open waiters.
  void onOpen();
  /// "connection to <peer> closed: <reason>" for a failed read or write.
  Status streamError(const std::error_code& ec, std::string_view what);
  void doRead();
  void onRead(const std::error_code& ec, size_t n);
  /// Decodes and dispatches the buffered frames (stopping while the write queue is over its cap), accounts
  /// the incomplete rest, and reads on unless paused or closed.
  void processFrames();
  /// Accounts `unread` bytes of an incomplete frame against max_receiving_bytes; false if it closed us.
  bool accountReceiving(size_t unread);
  void armFrameTimer();
  void onFrameTimer();
  /// Server: stops reading while the write queue is over max_write_queue_bytes.
  void pauseReading();
  void onStallTimer();
  /// Client: the queue (not empty) plus `frame_bytes` would pass max_write_queue_bytes.
  bool overWriteCapLocked(size_t frame_bytes) const;
  /// Counts the refusal; OverLimit naming the peer and the cap.
  Status writeCapStatus() const;
  /// Server: not OK (the reason to close) when `frame_bytes` would take the queue past twice the cap.
  Status hardWriteCapLocked(size_t frame_bytes) const;
  void closeForWriteCap(Status reason);
  void handleFrame(RemotingCommand cmd);
  void onResponse(RemotingCommand cmd);
  void onRequest(RemotingCommand cmd);
  /// Arms call_timer_ at the earliest call deadline unless it is armed at or before it. Under mu_.
  void armCallTimerLocked();
  /// call_timer_ fired: fails every call past its deadline, then re-arms.
  void onCallTimer();
  /// Client: closes the connection when calls are pending and nothing was read for read_stall_timeout.
  void armReadStallTimer(std::chrono::steady_clock::time_point at);
  void onReadStallTimer();
  void doWrite();
  void onWrite(const std::error_code& ec);
  void armIdleTimer(std::chrono::steady_clock::time_point at);
  void onIdleTimer();
  void closeSocket();
  /// Under mu_: queues a frame (of call `opaque` when `call`); true if the caller must post doWrite().
  bool queueLocked(std::string frame, int32_t opaque = 0, bool call = false);
  /// For the thread queueLocked made the writer: writeFromCaller() at the end of its BatchScope (a thread off
  /// the I/O threads, with write_on_caller_thread), else postWrite().
  void scheduleWrite();
  /// Under mu_: moves the frames at the front of the write queue (at least one, up to kMaxWriteBatchBytes, those
  /// dropped at their timeout skipped) to `out`; returns their bytes.
  size_t takeQueuedLocked(std::vector<QueuedFrame>* out);
  static void writeFromCallerThunk(void* connection);
  /// Writes the queued frames on the calling thread (one gathered non-blocking write, under mu_); what the
  /// socket does not take stays queued for the loop.
  void writeFromCaller();
  void postWrite();

  std::shared_ptr<asio::io_context> ctx_;  // declared first: outlives the socket and timers below
  const ConnectionOptions options_;
  const std::shared_ptr<const HandlerRegistry> handlers_;
  const CloseHook on_close_;

  // Loop-confined.
  ByteStream stream_;
  asio::ip::tcp::resolver resolver_;
  asio::steady_timer connect_timer_;  // the connect, then the TLS handshake
  const bool client_;                 // we connected (not accepted)
  bool received_any_ = false;         // a byte was read on this connection
  bool frame_seen_ = false;           // a whole frame was decoded on this connection
  std::string tls_host_;              // client: the host name or IP address verified in the server's certificate
  unsigned char first_byte_ = 0;      // server with TLS: the peeked first byte
  std::string tls_write_buf_;         // TLS: small batched frames coalesced into one record (capacity reused)
  asio::steady_timer idle_timer_;
  std::vector<char> read_buf_;
  size_t read_begin_ = 0;
  size_t read_end_ = 0;
  bool read_pending_ = false;       // an asyncReadSome is outstanding
  bool read_paused_ = false;        // server: not reading while the write queue is over its cap
  size_t receiving_accounted_ = 0;  // this connection's share of meters_->receiving_bytes
  bool partial_ = false;            // an incomplete frame is buffered, since partial_since_
  std::chrono::steady_clock::time_point partial_since_;
  asio::steady_timer frame_timer_;
  bool frame_timer_armed_ = false;
  asio::steady_timer stall_timer_;
  bool stall_timer_armed_ = false;
  std::chrono::steady_clock::time_point last_write_done_;
  size_t write_batch_bytes_ = 0;
  std::vector<QueuedFrame> write_batch_;
  std::vector<asio::const_buffer> write_buffers_;
  std::chrono::steady_clock::time_point last_activity_;
  std::chrono::steady_clock::time_point last_read_;  // bytes last arrived (or the connection opened)
  asio::steady_timer read_stall_timer_;

  const std::shared_ptr<TransportMeters> meters_;
  std::atomic<bool> closed_{false};
  /// Bytes queued and being written; changed under mu_, read without it by the loop's pause check.
  std::atomic<size_t> queued_bytes_{0};
  mutable std::mutex mu_;
  State state_;                                                  // guarded by mu_
  Status close_status_;                                          // guarded by mu_
  std::unordered_map<int32_t, Pending> pending_;                 // guarded by mu_
  /// Calls time out through one timer armed at the earliest deadline (a timer per call cost an allocation, and
  /// cancelling it on the response a handler run on the loop). A response removes its entry and leaves the timer
  /// as it is: firing early, it re-arms at the earliest deadline left, so it fires about once per call timeout
  /// when calls are answered, not once per call.
  CallDeadlines call_deadlines_;                                 // guarded by mu_
  asio::steady_timer call_timer_;                                // its methods are called under mu_ only
  bool call_timer_armed_ = false;                                // guarded by mu_
  std::chrono::steady_clock::time_point call_timer_at_;          // guarded by mu_: when the armed timer fires
  std::deque<QueuedFrame> write_queue_;                          // guarded by mu_
  uint64_t queue_base_seq_ = 0;  // guarded by mu_: sequence number of write_queue_.front() (frames ever dequeued)
  std::chrono::steady_clock::time_point pending_since_;  // guarded by mu_: pending_ last became non-empty
  size_t write_queue_bytes_ = 0;                                 // guarded by mu_: bytes in write_queue_
  bool write_scheduled_ = false;                                 // guarded by mu_: doWrite posted or running
  /// Set by the thread that deferred a write to the end of its batch (scheduleWrite), moved out when it writes.
  std::shared_ptr<Connection> caller_write_hold_;
  /// Steady-clock ticks of the last write made by writeFromCaller (the idle timer counts it as traffic).
  std::atomic<std::chrono::steady_clock::rep> last_direct_write_{0};
  std::vector<std::function<void(const Status&)>> open_waiters_;  // guarded by mu_
};

}  // namespace detail

/// Answers one request on the connection it came from. Thread-safe; answers at most once.
class Responder::Impl {
 public:
  Impl(std::weak_ptr<detail::Connection> connection, std::shared_ptr<detail::TransportMeters> meters,
       int32_t opaque, bool oneway, std::string remote_address)
      : connection_(std::move(connection)),
        meters_(std::move(meters)),
        opaque_(opaque),
        oneway_(oneway),
        remote_address_(std::move(remote_address)) {}

  void respond(RemotingCommand response);
  const std::string& remoteAddress() const { return remote_address_; }

 private:
  /// Dropped responses.
  void dropped(const Status& why);

  const std::weak_ptr<detail::Connection> connection_;
  const std::shared_ptr<detail::TransportMeters> meters_;
  const int32_t opaque_;
  const bool oneway_;
  const std::string remote_address_;
  std::atomic<bool> answered_{false};
};

}  // namespace rocketrpc::remoting
