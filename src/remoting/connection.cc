#include "remoting/connection.h"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <optional>

#include "common/batch_scope.h"
#include "common/big_endian.h"
#include "common/log.h"
#include "remoting/frame_codec.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/names.h"
#include "remoting/tls_context.h"

namespace rocketrpc::remoting {
namespace detail {
namespace {

constexpr size_t kInitialReadBuffer = 64 * 1024;
constexpr size_t kMinReadSpace = 16 * 1024;
constexpr const char* kModule = "remoting";
/// First byte of a TLS record carrying a handshake message (a ClientHello when a connection starts).
constexpr unsigned char kTlsHandshakeRecord = 0x16;
/// On TLS, asio writes one buffer per TLS record: batches of small frames up to this size are copied into one.
constexpr size_t kTlsCoalesceBytes = 64 * 1024;
/// Most bytes taken from the write queue into one gathered write (one frame at least). What stays queued can
/// still be dropped when its call times out; a frame handed to the socket cannot.
constexpr size_t kMaxWriteBatchBytes = 4 * 1024 * 1024;

thread_local bool t_on_io_thread = false;

uint32_t peekLength(const char* p) { return static_cast<uint32_t>(getBig32(p)); }

}  // namespace

TransportCounters TransportMeters::snapshot() const {
  TransportCounters c;
  c.receive_cap_closes = receive_cap_closes.load(std::memory_order_relaxed);
  c.frame_timeout_closes = frame_timeout_closes.load(std::memory_order_relaxed);
  c.write_pauses = write_pauses.load(std::memory_order_relaxed);
  c.write_cap_closes = write_cap_closes.load(std::memory_order_relaxed);
  c.write_cap_refusals = write_cap_refusals.load(std::memory_order_relaxed);
  c.dropped_responses = dropped_responses.load(std::memory_order_relaxed);
  c.unsent_dropped = unsent_dropped.load(std::memory_order_relaxed);
  c.read_stall_closes = read_stall_closes.load(std::memory_order_relaxed);
  return c;
}

int32_t nextOpaque() {
  static std::atomic<uint32_t> counter{0};
  return static_cast<int32_t>(counter.fetch_add(1, std::memory_order_relaxed));
}

void invokeCallback(const ResponseCallback& cb, Result<RemotingCommand> result) {
  if (!cb) return;
  try {
    cb(std::move(result));
  } catch (const std::exception& e) {
    RRPC_LOG(kError, kModule, "response callback threw: {}", e.what());
  } catch (...) {
    RRPC_LOG(kError, kModule, "response callback threw a non-standard exception");
  }
}

// ---- HandlerRegistry ----------------------------------------------------------------------------------------

void HandlerRegistry::add(int32_t code, RequestHandler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  auto copy = std::make_shared<Map>(*map_);
  (*copy)[code] = std::move(handler);
  map_ = std::move(copy);
}

std::shared_ptr<const HandlerRegistry::Map> HandlerRegistry::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return map_;
}

// ---- IoPool -------------------------------------------------------------------------------------------------

IoPool::IoPool(int threads) {
  threads = std::clamp(threads, 1, 64);
  for (int i = 0; i < threads; ++i) {
    contexts_.push_back(std::make_shared<asio::io_context>(1));
    guards_.push_back(asio::make_work_guard(*contexts_.back()));
  }
}

IoPool::~IoPool() { stopAndJoin(); }

void IoPool::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopped_) return;
  started_ = true;
  for (auto& ctx : contexts_) {
    threads_.emplace_back([ctx] {
      t_on_io_thread = true;
      for (;;) {
        try {
          ctx->run();
          break;
        } catch (const std::exception& e) {
          // Handlers catch user exceptions themselves; this is a last resort that keeps the loop alive.
          RRPC_LOG(kError, kModule, "I/O loop caught an exception: {}", e.what());
        } catch (...) {
          RRPC_LOG(kError, kModule, "I/O loop caught a non-standard exception");
        }
      }
    });
  }
}

void IoPool::stopAndJoin() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& guard : guards_) guard.reset();
    threads.swap(threads_);
  }
  for (auto& t : threads) {
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();  // shut down from one of our own callbacks: that loop finishes on its own
    } else {
      t.join();
    }
  }
}

std::shared_ptr<asio::io_context> IoPool::next() {
  return contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
}

bool IoPool::onIoThread() { return t_on_io_thread; }

// ---- Connection: construction, connect, close ---------------------------------------------------------------

Connection::Connection(std::shared_ptr<asio::io_context> ctx, asio::ip::tcp::socket socket,
                       std::shared_ptr<const HandlerRegistry> handlers, ConnectionOptions options,
                       CloseHook on_close, bool connected)
    : ctx_(std::move(ctx)),
      options_(std::move(options)),
      handlers_(std::move(handlers)),
      on_close_(std::move(on_close)),
      stream_(std::move(socket)),
      resolver_(*ctx_),
      connect_timer_(*ctx_),
      client_(!connected),
      idle_timer_(*ctx_),
      frame_timer_(*ctx_),
      stall_timer_(*ctx_),
      read_stall_timer_(*ctx_),
      meters_(options_.meters ? options_.meters : std::make_shared<TransportMeters>()),
      state_(connected && options_.tls_server_mode == TlsServerMode::kDisabled ? State::kOpen
                                                                              : State::kConnecting),
      call_timer_(*ctx_) {}

Connection::~Connection() = default;

void Connection::startConnect(std::string host, std::string port, std::chrono::milliseconds timeout) {
  asio::post(*ctx_, [self = shared_from_this(), host = std::move(host), port = std::move(port), timeout] {
    if (self->isClosed()) return;
    std::weak_ptr<Connection> weak = self;
    self->tls_host_ = host;
    self->connect_timer_.expires_after(timeout);
    self->connect_timer_.async_wait([weak, timeout](const std::error_code& ec) {
      if (ec) return;
      if (auto conn = weak.lock()) {
        conn->close(Status::network(
            fmt::format("connect to {} failed: timed out after {} ms", conn->peer(), timeout.count())));
      }
    });
    std::error_code ec;
    asio::ip::address ip = asio::ip::make_address(host, ec);
    if (!ec) {
      auto port_number = static_cast<uint16_t>(std::stoul(port));
      self->stream_.socket().async_connect(asio::ip::tcp::endpoint(ip, port_number),
                                           [self](const std::error_code& e) { self->onConnected(e); });
      return;
    }
    self->resolver_.async_resolve(
        host, port, [self](const std::error_code& e, const asio::ip::tcp::resolver::results_type& results) {
          if (self->isClosed()) return;
          if (e) {
            self->close(Status::network(fmt::format("connect to {} failed: {}", self->peer(), e.message())));
            return;
          }
          asio::async_connect(self->stream_.socket(), results,
                              [self](const std::error_code& e2, const asio::ip::tcp::endpoint&) {
                                self->onConnected(e2);
                              });
        });
  });
}

void Connection::onConnected(const std::error_code& ec) {
  if (isClosed()) return;
  connect_timer_.cancel();
  if (ec) {
    close(Status::network(fmt::format("connect to {} failed: {}", peer(), ec.message())));
    return;
  }
  std::error_code ignored;
  stream_.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
  if (options_.tls_context) {
    auto& tls = stream_.startTls(*options_.tls_context);
    if (Status s = prepareClientStream(tls, tls_host_); !s.isOk()) {
      close(Status::network(fmt::format("TLS handshake with {} failed: {}", peer(), s.message())));
      return;
    }
    startHandshake(asio::ssl::stream_base::client);
    return;
  }
  onOpen();
}

// The handshake gets its own budget (the connect timer re-armed): a slow connect must not starve it.
void Connection::startHandshake(asio::ssl::stream_base::handshake_type type) {
  std::weak_ptr<Connection> weak = weak_from_this();
  const auto timeout = options_.handshake_timeout;
  connect_timer_.expires_after(timeout);
  connect_timer_.async_wait([weak, timeout](const std::error_code& ec) {
    if (ec) return;
    if (auto conn = weak.lock()) {
      conn->close(Status::network(
          fmt::format("TLS handshake with {} failed: timed out after {} ms", conn->peer(), timeout.count())));
    }
  });
  stream_.tls().async_handshake(type, [self = shared_from_this()](const std::error_code& ec) {
    self->onHandshake(ec);
  });
}

void Connection::onHandshake(const std::error_code& ec) {
  if (isClosed()) return;
  connect_timer_.cancel();
  if (ec) {
    // The one line a refused peer leaves in the log is close()'s, with this reason.
    std::string reason = tlsErrorText(ec, stream_.tls().native_handle());
    if (client_ && reason == "connection closed by the peer") reason += " (does the server speak TLS?)";
    close(Status::network(fmt::format("TLS handshake with {} failed: {}", peer(), reason)));
    return;
  }
  RRPC_LOG(kDebug, kModule, "{}: TLS established with {} ({}, {})", logName(), peer(),
           SSL_get_version(stream_.tls().native_handle()),
           SSL_get_cipher_name(stream_.tls().native_handle()));
  onOpen();
}

void Connection::onFirstByte(const std::error_code& ec) {
  if (isClosed()) return;
  if (ec) {
    close(streamError(ec, "closed"));
    return;
  }
  // A plain frame starting with 0x16 would announce over 369 MB, far beyond max_frame_bytes (16 MiB default).
  if (first_byte_ == kTlsHandshakeRecord) {
    stream_.startTls(*options_.tls_context);
    startHandshake(asio::ssl::stream_base::server);
    return;
  }
  if (options_.tls_server_mode == TlsServerMode::kPermissive) {
    onOpen();  // plain: the peeked byte is still in the socket for the frame reader
    return;
  }
  close(Status::network(fmt::format("plain (non-TLS) connection from {} refused: this server accepts TLS only",
                                    peer())));
}

void Connection::onOpen() {
  bool need_write = false;
  std::vector<std::function<void(const Status&)>> waiters;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ == State::kClosed) return;
    state_ = State::kOpen;
    if (!write_queue_.empty() && !write_scheduled_) {
      write_scheduled_ = true;
      need_write = true;
    }
    waiters.swap(open_waiters_);
  }
  if (client_) RRPC_LOG(kDebug, kModule, "{}: connected to {}", logName(), peer());
  last_activity_ = std::chrono::steady_clock::now();
  last_read_ = last_activity_;
  armIdleTimer(last_activity_ + options_.idle_timeout);
  if (client_ && options_.read_stall_timeout.count() > 0) armReadStallTimer(last_read_ + options_.read_stall_timeout);
  doRead();
  if (need_write) doWrite();
  for (auto& waiter : waiters) waiter(Status::ok());
}

void Connection::startAccepted() {
  asio::post(*ctx_, [self = shared_from_this()] {
    if (self->isClosed()) return;
    std::error_code ignored;
    self->stream_.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    self->last_activity_ = std::chrono::steady_clock::now();
    self->armIdleTimer(self->last_activity_ + self->options_.idle_timeout);
    if (self->options_.tls_server_mode == TlsServerMode::kDisabled || !self->options_.tls_context) {
      self->doRead();
      return;
    }
    // Until the first byte arrives the idle timer bounds the wait, as for any quiet plain connection.
    self->stream_.socket().async_receive(
        asio::buffer(&self->first_byte_, 1), asio::socket_base::message_peek,
        [self](const std::error_code& ec, size_t) { self->onFirstByte(ec); });
  });
}

void Connection::close(Status reason) {
  std::unordered_map<int32_t, Pending> pending;
  std::vector<std::function<void(const Status&)>> waiters;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    closed_.store(true, std::memory_order_release);
    close_status_ = reason;
    pending.swap(pending_);
    call_deadlines_.clear();
    call_timer_.cancel();
    call_timer_armed_ = false;
    waiters.swap(open_waiters_);
    queue_base_seq_ += write_queue_.size();
    write_queue_.clear();
    queued_bytes_.fetch_sub(write_queue_bytes_, std::memory_order_relaxed);
    write_queue_bytes_ = 0;
  }
  auto self = shared_from_this();
  RRPC_LOG(kInfo, kModule, "{}: closing connection {}: {}", logName(), peer(), reason.toString());
  asio::dispatch(*ctx_, [self] { self->closeSocket(); });
  for (auto& waiter : waiters) waiter(reason);
  for (auto& [opaque, call] : pending) invokeCallback(call.callback, reason);
  if (on_close_) on_close_(self, reason);
}

void Connection::closeSocket() {
  std::error_code ignored;
  resolver_.cancel();
  connect_timer_.cancel();
  idle_timer_.cancel();
  frame_timer_.cancel();
  stall_timer_.cancel();
  read_stall_timer_.cancel();
  if (receiving_accounted_ > 0) {
    meters_->receiving_bytes.fetch_sub(receiving_accounted_, std::memory_order_relaxed);
    receiving_accounted_ = 0;
  }
  // No TLS close_notify: the peer sees the end of the TCP stream, which it treats as the close.
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
}

bool Connection::isOpen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_ == State::kOpen;
}

size_t Connection::pendingCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.size();
}

void Connection::whenOpen(std::function<void(const Status&)> cb) {
  Status status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ == State::kConnecting) {
      open_waiters_.push_back(std::move(cb));
      return;
    }
    if (state_ == State::kClosed) status = close_status_;
  }
  cb(status);
}

// ---- Connection: calls and writes ---------------------------------------------------------------------------

void Connection::call(int32_t opaque, int32_t code, std::string frame, std::chrono::steady_clock::time_point deadline,
                      std::chrono::milliseconds timeout, ResponseCallback cb) {
  Status failure;
  Status hard_cap;
  bool need_write = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ == State::kClosed) {
      failure = close_status_;
    } else if (pending_.count(opaque) != 0) {
      failure = Status::internal(fmt::format("opaque {} is already pending on {}", opaque, peer()));
    } else if (client_ && overWriteCapLocked(frame.size())) {
      failure = writeCapStatus();
    } else if (!client_ && !(hard_cap = hardWriteCapLocked(frame.size())).isOk()) {
      failure = hard_cap;
    } else {
      // Registered under mu_, before the frame can be written: the response or close that ends the call comes
      // later and also goes through mu_.
      auto deadline_entry = call_deadlines_.emplace(deadline, opaque).first;
      armCallTimerLocked();
      if (pending_.empty()) pending_since_ = std::chrono::steady_clock::now();
      const uint64_t seq = queue_base_seq_ + write_queue_.size();
      pending_.emplace(opaque, Pending{std::move(cb), deadline_entry, code, timeout, seq});
      need_write = queueLocked(std::move(frame), opaque, /*call=*/true);
    }
  }
  if (!hard_cap.isOk()) closeForWriteCap(hard_cap);
  if (!failure.isOk()) {
    invokeCallback(cb, failure);
    return;
  }
  if (need_write) scheduleWrite();
}

Status Connection::send(std::string frame) {
  bool need_write = false;
  Status hard_cap;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ == State::kClosed) return close_status_;
    if (client_ && overWriteCapLocked(frame.size())) return writeCapStatus();
    if (!client_) hard_cap = hardWriteCapLocked(frame.size());
    if (hard_cap.isOk()) need_write = queueLocked(std::move(frame));
  }
  if (!hard_cap.isOk()) {
    closeForWriteCap(hard_cap);
    return hard_cap;
  }
  if (need_write) scheduleWrite();
  return Status::ok();
}

bool Connection::overWriteCapLocked(size_t frame_bytes) const {
  const size_t cap = options_.max_write_queue_bytes;
  const size_t queued = queued_bytes_.load(std::memory_order_relaxed);
  // One frame always fits an empty queue: frames are bounded by max_frame_bytes on their own.
  return cap > 0 && queued > 0 && queued + frame_bytes > cap;
}

Status Connection::writeCapStatus() const {
  meters_->write_cap_refusals.fetch_add(1, std::memory_order_relaxed);
  return Status::overLimit(fmt::format(
      "write queue to {} holds {} bytes not yet written, over the cap of {} bytes (max_write_queue_bytes): the "
      "peer is not reading",
      peer(), queued_bytes_.load(std::memory_order_relaxed), options_.max_write_queue_bytes));
}

// The server pauses reading at the cap; what still arrives answers requests read before the pause. Twice the
// cap means the peer is not reading and its requests' answers keep coming: the connection goes at once.
Status Connection::hardWriteCapLocked(size_t frame_bytes) const {
  const size_t cap = options_.max_write_queue_bytes;
  const size_t queued = queued_bytes_.load(std::memory_order_relaxed);
  if (cap == 0 || queued == 0 || queued + frame_bytes <= 2 * cap) return Status::ok();
  return Status::overLimit(fmt::format(
      "connection to {} closed: its write queue reached {} bytes, twice max_write_queue_bytes {}: the peer is "
      "not reading",
      peer(), queued + frame_bytes, cap));
}

void Connection::closeForWriteCap(Status reason) {
  meters_->write_cap_closes.fetch_add(1, std::memory_order_relaxed);
  static log::RateLimiter limiter(std::chrono::seconds(1));
  if (limiter.allow()) RRPC_LOG(kWarn, kModule, "{}: {}", logName(), reason.message());
  close(std::move(reason));
}

bool Connection::queueLocked(std::string frame, int32_t opaque, bool call) {
  write_queue_bytes_ += frame.size();
  queued_bytes_.fetch_add(frame.size(), std::memory_order_relaxed);
  write_queue_.push_back(QueuedFrame{std::move(frame), opaque, call});
  if (state_ != State::kOpen || write_scheduled_) return false;
  write_scheduled_ = true;
  return true;
}

size_t Connection::takeQueuedLocked(std::vector<QueuedFrame>* out) {
  size_t taken = 0;
  while (!write_queue_.empty() &&
         (out->empty() || taken + write_queue_.front().frame.size() <= kMaxWriteBatchBytes)) {
    QueuedFrame& f = write_queue_.front();
    if (!f.frame.empty()) {  // empty: dropped by its call's timeout
      taken += f.frame.size();
      out->push_back(std::move(f));
    }
    write_queue_.pop_front();
    ++queue_base_seq_;
  }
  write_queue_bytes_ -= taken;
  return taken;
}

void Connection::scheduleWrite() {
  // This thread is now the connection's writer (queueLocked handed it write_scheduled_). Off the I/O threads,
  // inside a batch (the store completing a group of puts), it writes itself when the batch ends: the frames of
  // the whole batch in one gathered write, and the I/O thread needs no wake-up.
  if (options_.write_on_caller_thread && !IoPool::onIoThread() &&
      BatchScope::defer(&Connection::writeFromCallerThunk, this)) {
    caller_write_hold_ = shared_from_this();
    return;
  }
  postWrite();
}

void Connection::writeFromCallerThunk(void* connection) {
  static_cast<Connection*>(connection)->writeFromCaller();
}

void Connection::writeFromCaller() {
  const std::shared_ptr<Connection> self = std::move(caller_write_hold_);
  std::vector<QueuedFrame> batch;
  {
    // mu_ is held across the write: close() takes it before the loop may close the socket, so the descriptor
    // stays this connection's while it is written here.
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ == State::kOpen && !stream_.isTls() && !write_queue_.empty()) {
      queued_bytes_.fetch_sub(takeQueuedLocked(&batch), std::memory_order_relaxed);
      size_t written = 0;
      if (!batch.empty()) {
        iovec iov[64];
        size_t first = 0;   // first frame not wholly written
        size_t offset = 0;  // bytes of batch[first] written
        while (first < batch.size()) {
          int n_iov = 0;
          for (size_t i = first; i < batch.size() && n_iov < 64; ++i, ++n_iov) {
            const std::string& f = batch[i].frame;
            const size_t skip = i == first ? offset : 0;
            iov[n_iov].iov_base = const_cast<char*>(f.data() + skip);
            iov[n_iov].iov_len = f.size() - skip;
          }
          msghdr msg{};
          msg.msg_iov = iov;
          msg.msg_iovlen = static_cast<size_t>(n_iov);
          const ssize_t n = ::sendmsg(stream_.socket().native_handle(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) break;  // would block: the loop writes the rest; an error: the loop's write reports it
          written += static_cast<size_t>(n);
          size_t left = static_cast<size_t>(n);
          while (left > 0) {
            const size_t rest = batch[first].frame.size() - offset;
            if (left >= rest) {
              left -= rest;
              ++first;
              offset = 0;
            } else {
              offset += left;
              left = 0;
            }
          }
        }
        if (written > 0) {
          last_direct_write_.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                                   std::memory_order_relaxed);
        }
        // What the socket did not take goes back to the front, in order, for the loop. A frame written in part
        // can no longer be taken back at its call's timeout.
        for (size_t i = batch.size(); i-- > first;) {
          QueuedFrame& f = batch[i];
          if (i == first && offset > 0) {
            f.frame.erase(0, offset);
            f.call = false;
          }
          write_queue_bytes_ += f.frame.size();
          queued_bytes_.fetch_add(f.frame.size(), std::memory_order_relaxed);
          write_queue_.push_front(std::move(f));
          --queue_base_seq_;
        }
      }
    }
    if (state_ != State::kClosed && write_queue_.empty()) {
      write_scheduled_ = false;  // all written: the next sender becomes the writer
      return;
    }
  }
  postWrite();  // closed (the loop resets the flag), TLS, or bytes the socket did not take yet
}

void Connection::postWrite() {
  asio::post(*ctx_, [self = shared_from_this()] { self->doWrite(); });
}

void Connection::doWrite() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ == State::kClosed || write_queue_.empty()) {
      write_scheduled_ = false;
      return;
    }
    // The frames queued so far go out in one gathered write, up to kMaxWriteBatchBytes: the rest stays queued,
    // where a call that times out can still take its frame back.
    write_batch_bytes_ = takeQueuedLocked(&write_batch_);
    if (write_batch_.empty()) {  // every queued frame had been dropped
      write_scheduled_ = false;
      return;
    }
  }
  write_buffers_.clear();
  if (stream_.isTls() && write_batch_.size() > 1) {
    size_t total = 0;
    for (const auto& f : write_batch_) total += f.frame.size();
    if (total <= kTlsCoalesceBytes) {
      tls_write_buf_.clear();
      for (const auto& f : write_batch_) tls_write_buf_.append(f.frame);
      write_buffers_.push_back(asio::buffer(tls_write_buf_));
    }
  }
  if (write_buffers_.empty()) {
    write_buffers_.reserve(write_batch_.size());
    for (const auto& f : write_batch_) write_buffers_.push_back(asio::buffer(f.frame));
  }
  stream_.asyncWrite(write_buffers_,
                     [self = shared_from_this()](const std::error_code& ec, size_t) { self->onWrite(ec); });
}

void Connection::onWrite(const std::error_code& ec) {
  write_batch_.clear();
  queued_bytes_.fetch_sub(write_batch_bytes_, std::memory_order_relaxed);
  write_batch_bytes_ = 0;
  if (ec) {
    close(streamError(ec, "closed: write failed"));
    return;
  }
  last_activity_ = std::chrono::steady_clock::now();
  last_write_done_ = last_activity_;
  doWrite();
  // Resume below the low-water mark (half the cap), so a queue hovering at the cap does not flap.
  if (read_paused_ && !isClosed() &&
      queued_bytes_.load(std::memory_order_relaxed) <= options_.max_write_queue_bytes / 2) {
    read_paused_ = false;
    processFrames();
  }
}

Status Connection::streamError(const std::error_code& ec, std::string_view what) {
  if (stream_.isTls()) {
    return Status::network(fmt::format("connection to {} {}: TLS: {}", peer(), what,
                                       tlsErrorText(ec, stream_.tls().native_handle())));
  }
  return Status::network(fmt::format("connection to {} {}: {}", peer(), what, ec.message()));
}

// ---- Connection: reads and dispatch -------------------------------------------------------------------------

void Connection::doRead() {
  if (isClosed() || read_pending_ || read_paused_) return;
  if (read_buf_.empty()) read_buf_.resize(kInitialReadBuffer);
  if (read_buf_.size() - read_end_ < kMinReadSpace) {
    // Make room: move unread bytes to the front.
    const size_t unread = read_end_ - read_begin_;
    if (read_begin_ > 0) {
      std::memmove(read_buf_.data(), read_buf_.data() + read_begin_, unread);
      read_begin_ = 0;
      read_end_ = unread;
    }
    if (read_buf_.size() - read_end_ < kMinReadSpace) {
      // Full of one incomplete frame: grow geometrically with the bytes that arrived, never to the announced
      // length up front (8 bytes announcing 16 MiB must not cost 16 MiB), and never past that length.
      size_t grown = std::max(read_buf_.size() * 2, unread + kMinReadSpace);
      if (unread >= 4) {
        const size_t frame_bytes = size_t{peekLength(read_buf_.data())} + 4;  // checked by decodeFrame
        grown = std::min(grown, std::max(frame_bytes, unread + kMinReadSpace));
      }
      read_buf_.resize(grown);
    }
  }
  read_pending_ = true;
  stream_.asyncReadSome(asio::buffer(read_buf_.data() + read_end_, read_buf_.size() - read_end_),
                        [self = shared_from_this()](const std::error_code& ec, size_t n) { self->onRead(ec, n); });
}

void Connection::onRead(const std::error_code& ec, size_t n) {
  read_pending_ = false;
  if (isClosed()) return;
  if (ec) {
    if (client_ && !received_any_ && !stream_.isTls() && ec == asio::error::eof) {
      close(Status::network(fmt::format("connection to {} closed by the peer before any reply (does the server "
                                        "require TLS?)",
                                        peer())));
      return;
    }
    close(streamError(ec, "closed"));
    return;
  }
  received_any_ = true;
  read_end_ += n;
  last_activity_ = std::chrono::steady_clock::now();
  last_read_ = last_activity_;
  processFrames();
}

void Connection::processFrames() {
  // Handlers that hand work to another thread wake it once, after the last frame of this read (batch_scope.h).
  BatchScope batch;
  bool completed = false;
  const size_t write_cap = client_ ? 0 : options_.max_write_queue_bytes;
  while (read_begin_ < read_end_) {
    if (write_cap > 0 && queued_bytes_.load(std::memory_order_relaxed) > write_cap) {
      pauseReading();
      break;
    }
    RemotingCommand cmd;
    std::string_view input(read_buf_.data() + read_begin_, read_end_ - read_begin_);
    FrameDecodeResult r = decodeFrame(input, options_.max_frame_bytes, &cmd);
    if (r.state == DecodeState::kNeedMore) break;
    if (r.state == DecodeState::kCorrupt) {
      if (client_ && !frame_seen_) {
        // The first bytes of a peer we dialled are no RocketMQ frame: a wrong port (an HTTP or SSH server)
        // is far likelier than a broken broker, and "frame of 1213486164 bytes" ("HTTP") would not say so.
        std::string why = fmt::format("{} is not a RocketMQ name server or broker (it answered \"{}\")", peer(),
                                      printableBytes(input.substr(0, 40), 60));
        RRPC_LOG(kError, kModule, "{}: corrupt frame from {}: {}; closing the connection", logName(), peer(), why);
        close(Status::network(std::move(why)));
        return;
      }
      RRPC_LOG(kError, kModule, "{}: corrupt frame from {}: {}; closing the connection", logName(), peer(),
               r.error);
      close(Status::network(fmt::format("connection to {} closed: corrupt frame: {}", peer(), r.error)));
      return;
    }
    frame_seen_ = true;
    read_begin_ += r.consumed;
    completed = true;
    handleFrame(std::move(cmd));
    if (isClosed()) return;  // a callback or handler may have closed us
  }
  const size_t unread = read_end_ - read_begin_;
  if (unread != receiving_accounted_ && !accountReceiving(unread)) return;
  if (unread == 0) {
    partial_ = false;
    read_begin_ = read_end_ = 0;
    // Give back the memory of an unusually large frame.
    if (read_buf_.size() > 4 * kInitialReadBuffer) {
      read_buf_.resize(kInitialReadBuffer);
      read_buf_.shrink_to_fit();
    }
  } else if (!partial_ || completed) {
    // A new incomplete frame: its clock starts now (a trickle of bytes does not restart it).
    partial_ = true;
    partial_since_ = last_activity_;
    armFrameTimer();
  }
  doRead();
}

bool Connection::accountReceiving(size_t unread) {
  if (unread < receiving_accounted_) {
    meters_->receiving_bytes.fetch_sub(receiving_accounted_ - unread, std::memory_order_relaxed);
    receiving_accounted_ = unread;
    return true;
  }
  const size_t delta = unread - receiving_accounted_;
  const size_t total = meters_->receiving_bytes.fetch_add(delta, std::memory_order_relaxed) + delta;
  const size_t cap = options_.max_receiving_bytes;
  if (cap > 0 && total > cap) {
    meters_->receiving_bytes.fetch_sub(delta, std::memory_order_relaxed);
    meters_->receive_cap_closes.fetch_add(1, std::memory_order_relaxed);
    static log::RateLimiter limiter(std::chrono::seconds(1));
    if (limiter.allow()) {
      RRPC_LOG(kWarn, kModule,
               "{}: closing {}: its incomplete frame of {} bytes would take the bytes being received over "
               "max_receiving_bytes {}",
               logName(), peer(), unread, cap);
    }
    close(Status::overLimit(fmt::format(
        "connection to {} closed: bytes being received over max_receiving_bytes {}", peer(), cap)));
    return false;
  }
  receiving_accounted_ = unread;
  return true;
}

void Connection::armFrameTimer() {
  if (options_.frame_receive_timeout.count() <= 0 || frame_timer_armed_ || isClosed()) return;
  frame_timer_armed_ = true;
  frame_timer_.expires_at(partial_since_ + options_.frame_receive_timeout);
  frame_timer_.async_wait([weak = weak_from_this()](const std::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->onFrameTimer();
  });
}

// One timer per connection, re-armed from partial_since_ rather than restarted per frame: frames split across
// reads cost no timer operation.
void Connection::onFrameTimer() {
  frame_timer_armed_ = false;
  if (isClosed() || !partial_) return;
  const auto now = std::chrono::steady_clock::now();
  if (read_paused_) {
    partial_since_ = now;  // not reading: the stall timeout is in charge
  } else if (now - partial_since_ >= options_.frame_receive_timeout) {
    meters_->frame_timeout_closes.fetch_add(1, std::memory_order_relaxed);
    close(Status::network(fmt::format(
        "connection to {} closed: a frame was still incomplete after {} ms (frame_receive_timeout), {} bytes "
        "received",
        peer(), options_.frame_receive_timeout.count(), read_end_ - read_begin_)));
    return;
  }
  armFrameTimer();
}

void Connection::pauseReading() {
  read_paused_ = true;
  meters_->write_pauses.fetch_add(1, std::memory_order_relaxed);
  last_write_done_ = std::chrono::steady_clock::now();  // the stall clock starts at the pause
  if (options_.write_stall_timeout.count() <= 0 || stall_timer_armed_) return;
  stall_timer_armed_ = true;
  stall_timer_.expires_at(last_write_done_ + options_.write_stall_timeout);
  stall_timer_.async_wait([weak = weak_from_this()](const std::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->onStallTimer();
  });
}

void Connection::onStallTimer() {
  stall_timer_armed_ = false;
  if (isClosed() || !read_paused_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_write_done_ >= options_.write_stall_timeout) {
    closeForWriteCap(Status::overLimit(fmt::format(
        "connection to {} closed: its write queue stayed over max_write_queue_bytes {} with no write completing "
        "for {} ms (write_stall_timeout): the peer is not reading",
        peer(), options_.max_write_queue_bytes, options_.write_stall_timeout.count())));
    return;
  }
  stall_timer_armed_ = true;
  stall_timer_.expires_at(last_write_done_ + options_.write_stall_timeout);
  stall_timer_.async_wait([weak = weak_from_this()](const std::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->onStallTimer();
  });
}

void Connection::handleFrame(RemotingCommand cmd) {
  if (cmd.isResponse()) {
    onResponse(std::move(cmd));
  } else {
    onRequest(std::move(cmd));
  }
}

void Connection::onResponse(RemotingCommand cmd) {
  Pending call;
  bool found = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pending_.find(cmd.opaque);
    if (it != pending_.end()) {
      call_deadlines_.erase(it->second.deadline);
      call = std::move(it->second);
      pending_.erase(it);
      found = true;
    }
  }
  if (!found) {
    static log::RateLimiter limiter(std::chrono::seconds(1));
    if (limiter.allow()) {
      RRPC_LOG(kWarn, kModule, "{}: response from {} with unknown opaque {} (code {}) dropped", logName(), peer(),
               cmd.opaque, cmd.code);
    }
    return;
  }
  invokeCallback(call.callback, std::move(cmd));
}

void Connection::armCallTimerLocked() {
  if (call_deadlines_.empty()) return;
  const auto earliest = call_deadlines_.begin()->first;
  if (call_timer_armed_ && call_timer_at_ <= earliest) return;
  // Re-arming cancels the wait in progress (its handler sees operation_aborted and does nothing), unless that
  // wait has expired and its handler is queued already: then that handler runs onCallTimer too, which handles
  // what is due and re-arms (one extra wait, no lost or early timeout).
  call_timer_.expires_at(earliest);
  call_timer_.async_wait([weak = weak_from_this()](const std::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->onCallTimer();
  });
  // Set once the wait is queued: had async_wait thrown, the next call arms again.
  call_timer_armed_ = true;
  call_timer_at_ = earliest;
}

void Connection::onCallTimer() {
  struct TimedOut {
    Pending call;
    bool unsent = false;
  };
  std::vector<TimedOut> timed_out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    call_timer_armed_ = false;
    const auto now = std::chrono::steady_clock::now();
    while (!call_deadlines_.empty() && call_deadlines_.begin()->first <= now) {
      const int32_t opaque = call_deadlines_.begin()->second;
      call_deadlines_.erase(call_deadlines_.begin());
      auto it = pending_.find(opaque);
      if (it == pending_.end()) continue;
      TimedOut t{std::move(it->second), false};
      pending_.erase(it);
      // Its frame still queued (the peer reads slowly, or we are still connecting): take it back, so that it
      // never goes out and its memory is freed now.
      if (t.call.queue_seq >= queue_base_seq_ && t.call.queue_seq - queue_base_seq_ < write_queue_.size()) {
        QueuedFrame& f = write_queue_[t.call.queue_seq - queue_base_seq_];
        if (f.call && f.opaque == opaque && !f.frame.empty()) {
          write_queue_bytes_ -= f.frame.size();
          queued_bytes_.fetch_sub(f.frame.size(), std::memory_order_relaxed);
          std::string().swap(f.frame);
          t.unsent = true;
        }
      }
      timed_out.push_back(std::move(t));
    }
    if (state_ != State::kClosed) armCallTimerLocked();
  }
  for (auto& t : timed_out) {
    if (t.unsent) meters_->unsent_dropped.fetch_add(1, std::memory_order_relaxed);
    invokeCallback(t.call.callback,
                   Status::timeout(fmt::format("wait response from {} timeout after {} ms, code {}{}", peer(),
                                               t.call.timeout.count(), t.call.code,
                                               t.unsent ? " (never sent: still queued behind earlier frames)" : "")));
  }
}

void Connection::armReadStallTimer(std::chrono::steady_clock::time_point at) {
  if (isClosed()) return;
  read_stall_timer_.expires_at(at);
  read_stall_timer_.async_wait([weak = weak_from_this()](const std::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->onReadStallTimer();
  });
}

void Connection::onReadStallTimer() {
  if (isClosed()) return;
  const auto now = std::chrono::steady_clock::now();
  const auto limit = options_.read_stall_timeout;
  size_t pending = 0;
  std::chrono::steady_clock::time_point since;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending = pending_.size();
    since = std::max(last_read_, pending_since_);
  }
  if (pending == 0) {  // nothing expected: nothing to read
    armReadStallTimer(now + limit);
    return;
  }
  if (now - since < limit) {
    armReadStallTimer(since + limit);
    return;
  }
  meters_->read_stall_closes.fetch_add(1, std::memory_order_relaxed);
  // Network, not Timeout: the calls failed because the connection went silent, whatever their own timeouts.
  close(Status::network(fmt::format("connection to {} closed: {} calls pending and nothing read for {} ms "
                                    "(read_stall_timeout)",
                                    peer(), pending, limit.count())));
}

void Connection::onRequest(RemotingCommand cmd) {
  const int32_t code = cmd.code;
  const bool oneway = cmd.isOneway();
  auto responder_impl = std::make_shared<Responder::Impl>(weak_from_this(), meters_, cmd.opaque, oneway, peer());
  Responder responder(responder_impl);
  auto handlers = handlers_->snapshot();
  auto it = handlers->find(code);
  if (it == handlers->end()) {
    RRPC_LOG(kDebug, kModule, "{}: request code {} from {} not supported", logName(), code, peer());
    RemotingCommand response;
    response.code = response_code::kRequestCodeNotSupported;
    response.remark = fmt::format(" request type {} not supported", code);
    responder.respond(std::move(response));  // no-op for oneway requests
    return;
  }
  std::optional<std::string> error;
  try {
    it->second(std::move(cmd), responder);
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "non-standard exception";
  }
  if (error) {
    RRPC_LOG(kError, kModule, "{}: handler for request code {} from {} threw: {}", logName(), code, peer(), *error);
    RemotingCommand response;
    response.code = response_code::kSystemError;
    response.remark = std::move(*error);
    responder.respond(std::move(response));  // no-op if the handler already answered
  }
}

// ---- Connection: idle timeout -------------------------------------------------------------------------------

void Connection::armIdleTimer(std::chrono::steady_clock::time_point at) {
  if (options_.idle_timeout.count() <= 0 || isClosed()) return;
  idle_timer_.expires_at(at);
  idle_timer_.async_wait([weak = weak_from_this()](const std::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->onIdleTimer();
  });
}

void Connection::onIdleTimer() {
  if (isClosed()) return;
  auto now = std::chrono::steady_clock::now();
  const std::chrono::steady_clock::time_point direct{
      std::chrono::steady_clock::duration(last_direct_write_.load(std::memory_order_relaxed))};
  last_activity_ = std::max(last_activity_, direct);  // frames written by other threads are traffic too
  if (now - last_activity_ < options_.idle_timeout) {
    armIdleTimer(last_activity_ + options_.idle_timeout);
    return;
  }
  if (pendingCount() > 0) {  // quiet, but waiting for an answer (e.g. a long poll): not idle
    armIdleTimer(now + options_.idle_timeout);
    return;
  }
  close(Status::network(
      fmt::format("connection to {} closed: idle for {} ms", peer(), options_.idle_timeout.count())));
}

}  // namespace detail

// ---- Responder ----------------------------------------------------------------------------------------------

void Responder::Impl::respond(RemotingCommand response) {
  if (oneway_ || answered_.exchange(true)) return;
  auto connection = connection_.lock();
  if (!connection) {
    dropped(Status::network(fmt::format("connection to {} closed", remote_address_)));
    return;
  }
  response.opaque = opaque_;
  response.flag |= kFlagResponse;
  std::string frame;
  Status s = encodeFrame(response, &frame);
  if (s.isOk() && frame.size() > connection->maxFrameBytes()) {
    s = Status::overLimit(
        fmt::format("response frame of {} bytes exceeds {}", frame.size(), connection->maxFrameBytes()));
  }
  if (!s.isOk()) {
    RRPC_LOG(kError, "remoting", "{}: cannot send response (code {}) to {}: {}", connection->logName(),
             response.code, remote_address_, s.toString());
    RemotingCommand fallback;
    fallback.code = response_code::kSystemError;
    fallback.opaque = opaque_;
    fallback.flag = kFlagResponse;
    fallback.remark = "response not sent: " + s.message();
    frame.clear();
    if (!encodeFrame(fallback, &frame).isOk()) return;
  }
  if (Status sent = connection->send(std::move(frame)); !sent.isOk()) dropped(sent);
}

void Responder::Impl::dropped(const Status& why) {
  if (meters_) meters_->dropped_responses.fetch_add(1, std::memory_order_relaxed);
  static log::RateLimiter limiter(std::chrono::seconds(1));
  if (limiter.allow()) {
    RRPC_LOG(kDebug, "remoting", "response to {} (opaque {}) dropped: {}", remote_address_, opaque_, why.message());
  }
}

void Responder::respond(RemotingCommand response) const {
  if (impl_) impl_->respond(std::move(response));
}

const std::string& Responder::remoteAddress() const {
  static const std::string kEmpty;
  return impl_ ? impl_->remoteAddress() : kEmpty;
}

}  // namespace rocketrpc::remoting
