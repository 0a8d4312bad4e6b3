// Remoting transport over TCP (asio), optionally TLS (OpenSSL; TransportOptions::tls / tls_server, see
// docs/design/wire-protocol.md "TLS"): connections, pending calls, and dispatch of peer-initiated requests.
//
// RemotingClient owns a small pool of I/O threads and one connection per "host:port" address, created on
// first use and re-created after it closes. RemotingServer accepts connections and dispatches requests.
// Both use the same Connection machinery: a connection is pinned to one I/O loop; frames are decoded with
// the frame codec (limits checked before allocating); a malformed frame closes that connection only.
//
// Pending calls: opaque -> {deadline timer, callback}. Each completes exactly once: with the response, with
// Timeout when its own timer fires (no periodic scans), or with Network when the connection closes. A call that
// times out while its frame still waits in the write queue takes the frame back: it is never sent. A client
// connection with calls pending and nothing read for read_stall_timeout is closed (its calls fail with Network).
// Callbacks run on the connection's I/O thread, except immediate failures (encode error, over the frame limit,
// bad address, Closed after shutdown: on the caller's thread before invokeAsync returns) and failures caused by
// shutdown()/closeConnection() (on the closing thread). They must be short and non-blocking.
//
// Thread-safety: every public method of RemotingClient / RemotingServer is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "remoting/acl_signer.h"
#include "remoting/remoting_command.h"
#include "rocketrpc/client_options.h"

namespace rocketrpc::remoting {

inline constexpr size_t kDefaultMaxFrameBytes = 16 * 1024 * 1024;

/// Server-side TLS, with Apache RocketMQ's modes (tls.server.mode): kDisabled speaks plain TCP only,
/// kPermissive accepts plain and TLS connections on the same port (told apart by the first byte), kEnforcing
/// accepts TLS only.
enum class TlsServerMode { kDisabled, kPermissive, kEnforcing };

struct TlsServerOptions {
  TlsServerMode mode = TlsServerMode::kDisabled;
  /// PEM certificate chain and private key the server presents. Required unless kDisabled.
  std::string cert_file;
  std::string key_file;
  /// PEM CAs that sign client certificates (mutual TLS). Empty: OpenSSL's default verify paths.
  std::string trust_cert_file;
  /// Require and verify a client certificate.
  bool need_client_auth = false;
};

/// A handle to answer a peer's request. Copyable; answering twice, or answering a oneway request, is a no-op.
/// Safe to call from any thread, after the connection closed too (then the response is dropped).
class Responder {
 public:
  class Impl;
  Responder() = default;
  explicit Responder(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  void respond(RemotingCommand response) const;
  /// "host:port" of the peer, as seen on the socket.
  const std::string& remoteAddress() const;

 private:
  std::shared_ptr<Impl> impl_;
};

/// Handles a peer-initiated request (not a response). Runs on an I/O thread: answer at once or hand off.
using RequestHandler = std::function<void(RemotingCommand request, Responder responder)>;
/// Completes a call exactly once.
using ResponseCallback = std::function<void(Result<RemotingCommand>)>;

struct TransportOptions {
  /// Number of I/O threads (event loops). Default 1; 1..64.
  int io_threads = 1;
  /// Connect timeout; with TLS also the longest TLS handshake (client and server side). Default 3 s.
  std::chrono::milliseconds connect_timeout{3000};
  /// Largest frame accepted or sent (length prefix + 4). Default 16 MiB as in Apache RocketMQ.
  size_t max_frame_bytes = kDefaultMaxFrameBytes;
  /// Connections with no traffic in either direction for this long are closed. 0 disables. Default 120 s.
  std::chrono::milliseconds idle_timeout{120000};
  /// Name used in log lines.
  std::string name = "remoting";
  /// Frames queued by a thread other than the I/O threads inside a BatchScope (common/batch_scope.h; the
  /// broker's store opens one while it completes a group of puts) are written by that thread when the scope
  /// ends, in one gathered non-blocking write per connection, instead of waking the connection's I/O thread;
  /// what the socket does not take at once is left to the I/O thread. Plain TCP only. Default true.
  bool write_on_caller_thread = true;
  /// RemotingClient only: header encoding of the requests it sends. kRocketMq (binary) also upgrades commands
  /// built with the default kJson; a command the binary header cannot represent (code or version beyond
  /// int16) then goes out as JSON. kJson sends every command as its serialize_type says. Default kJson.
  SerializeType request_serialize_type = SerializeType::kJson;
  /// RemotingClient only: ACL credentials every request it sends is signed with (acl_signer.h). Default: none.
  AclCredentials credentials;
  /// RemotingClient only: TLS on every connection it opens (handshake before the first frame; a failed one
  /// fails the connection's calls with Network "TLS handshake with <addr> failed: <reason>"). Default: off.
  TlsOptions tls;
  /// RemotingServer only: TLS for accepted connections. Default: off.
  TlsServerOptions tls_server;

  // Memory bounds (docs/design/wire-protocol.md "Memory bounds"). A receive buffer grows with the bytes that
  // arrived, never with a frame's announced length; one frame being received is bounded by max_frame_bytes.
  /// Bytes of incomplete frames being received across all connections of this client or server. A connection
  /// whose next read would take the total over it is closed (logged once per second, counted). 0 disables.
  /// Default 256 MiB.
  size_t max_receiving_bytes = size_t{256} * 1024 * 1024;
  /// A connection holding an incomplete frame for longer than this is closed, however slowly bytes trickle in
  /// (the idle timeout does not see a trickle). 0 disables. Default 60 s.
  std::chrono::milliseconds frame_receive_timeout{60000};
  /// Bytes queued for one connection and not yet written to its socket. RemotingClient: a call or oneway
  /// send that finds the queue over it fails at once with OverLimit and is never queued. RemotingServer: the
  /// connection is no longer read (no new request from it is processed) until its queue drains below half of
  /// it; it is closed when the queue reaches twice the cap (responses to requests read before the pause) or
  /// stays over the cap with no write completing for write_stall_timeout. 0 disables. Default 64 MiB.
  size_t max_write_queue_bytes = size_t{64} * 1024 * 1024;
  /// See max_write_queue_bytes. 0 disables. Default 30 s.
  std::chrono::milliseconds write_stall_timeout{30000};
  /// RemotingClient only: a connection with calls pending and nothing read from it for this long is closed; its
  /// pending calls fail with Network ("... nothing read for N ms (read_stall_timeout)"), not with Timeout.
  /// 0 disables (the default here; clients set ClientOptions::read_stall_timeout).
  std::chrono::milliseconds read_stall_timeout{0};
};

/// What the memory bounds did, per client or server (monotonic counts; read with relaxed loads).
struct TransportCounters {
  /// Connections closed because they would take the receiving bytes over max_receiving_bytes.
  uint64_t receive_cap_closes = 0;
  /// Connections closed for holding an incomplete frame longer than frame_receive_timeout.
  uint64_t frame_timeout_closes = 0;
  /// Server: times a connection stopped being read because its write queue was over the cap.
  uint64_t write_pauses = 0;
  /// Server: connections closed for a write queue at twice the cap or stalled over it.
  uint64_t write_cap_closes = 0;
  /// Client: calls and oneway sends refused with OverLimit because the write queue was over the cap.
  uint64_t write_cap_refusals = 0;
  /// Responses dropped because their connection was closed (or closed for the write cap) before they were queued.
  uint64_t dropped_responses = 0;
  /// Client: calls that timed out with their frame still in the write queue; the frame was dropped unsent.
  uint64_t unsent_dropped = 0;
  /// Client: connections closed for read_stall_timeout (calls pending, nothing read).
  uint64_t read_stall_closes = 0;
};

class RemotingClient {
 public:
  explicit RemotingClient(TransportOptions options = {});
  ~RemotingClient();  // calls shutdown()
  RemotingClient(const RemotingClient&) = delete;
  RemotingClient& operator=(const RemotingClient&) = delete;

  /// Starts the I/O threads. Idempotent. Fails (InvalidArgument naming the file) when TLS is on and its CA,
  /// certificate or key file cannot be loaded; calls then fail with the same status.
  Status start();
  /// Fails all pending calls with Closed, closes every connection, joins the I/O threads. Idempotent.
  /// Must not be called from an I/O thread.
  void shutdown();

  /// Registers the handler for requests the peer sends us with `code`. Requests with no handler are answered
  /// REQUEST_CODE_NOT_SUPPORTED (3). Register before start().
  void registerHandler(int32_t code, RequestHandler handler);

  /// Sends `request` to `addr` ("host:port"), assigning its opaque. `callback` gets the response, Timeout after
  /// `timeout` (counted from this call, connect time included), or Network/Closed.
  void invokeAsync(const std::string& addr, RemotingCommand request, std::chrono::milliseconds timeout,
                   ResponseCallback callback);
  /// Blocking form of invokeAsync. Must not be called from an I/O thread.
  Result<RemotingCommand> invokeSync(const std::string& addr, RemotingCommand request,
                                     std::chrono::milliseconds timeout);
  /// Sends with the ONEWAY flag; OK once written to the socket buffer queue (connect failure -> Network).
  Status invokeOneway(const std::string& addr, RemotingCommand request, std::chrono::milliseconds timeout);

  /// Closes the connection to `addr` if any (its pending calls fail with Network).
  void closeConnection(const std::string& addr);
  /// Called with the peer address ("host:port" as given to invoke*) each time a connection of this client
  /// closes, whatever the reason (peer gone, connect refused, closeConnection, shutdown), on an I/O thread:
  /// it must not block. Lets a client instance heartbeat again as soon as a restarted broker is back.
  void setCloseListener(std::function<void(const std::string& addr)> listener);
  /// Number of calls awaiting a response (all connections).
  size_t pendingCount() const;
  TransportCounters counters() const;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

class RemotingServer {
 public:
  explicit RemotingServer(TransportOptions options = {});
  ~RemotingServer();
  RemotingServer(const RemotingServer&) = delete;
  RemotingServer& operator=(const RemotingServer&) = delete;

  void registerHandler(int32_t code, RequestHandler handler);
  /// Called when a connection closes, with its remote address (for producer/consumer table clean-up).
  void setCloseListener(std::function<void(const std::string& remote_addr)> listener);

  /// Binds host:port (port 0 = any free port) and starts the I/O threads. With tls_server.mode other than
  /// kDisabled, first loads the certificate, key and trust files: one that cannot be loaded fails start()
  /// (InvalidArgument naming the file).
  Status start(const std::string& host, uint16_t port);
  /// The bound port (after start).
  uint16_t port() const;
  void shutdown();

  /// Sends a request to the client connected from `remote_addr` over its existing connection (server push,
  /// e.g. PUSH_REPLY_MESSAGE_TO_CLIENT). No such connection -> Network.
  void invokeAsync(const std::string& remote_addr, RemotingCommand request, std::chrono::milliseconds timeout,
                   ResponseCallback callback);
  Status invokeOneway(const std::string& remote_addr, RemotingCommand request);
  TransportCounters counters() const;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace rocketrpc::remoting
