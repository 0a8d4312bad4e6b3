/// \file
/// Options shared by producers and consumers: where the name servers are and how this process identifies
/// itself to brokers. Plain struct, validated by start().
#pragma once

#include <chrono>
#include <string>

namespace rocketrpc {

/// Encoding of the remoting header of the requests a client sends (docs/design/wire-protocol.md).
enum class HeaderFormat {
  /// RocketMQ's binary header (serialize type ROCKETMQ = 1): about 5x cheaper to decode and 2x cheaper to
  /// encode than JSON. Apache RocketMQ 4.9.x and 5.x brokers and name servers and rocketrpc-broker decode it.
  kBinary,
  /// The JSON header (serialize type JSON = 0), what the Java client sends by default.
  kJson,
};

/// TLS for the connections a client opens to name servers and brokers (OpenSSL). Off by default.
struct TlsOptions {
  /// Speak TLS on every name-server and broker connection. Default false.
  bool enabled = false;
  /// PEM file of the certificate authorities that sign the servers' certificates. Empty: the system's
  /// default trust store (OpenSSL's default verify paths).
  std::string ca_file;
  /// PEM certificate (chain) this client presents (mutual TLS). Empty: none. Needs key_file.
  std::string cert_file;
  /// PEM private key of cert_file. Never logged.
  std::string key_file;
  /// Verify the server's certificate chain and that it names the host or IP address connected to.
  /// Default true; false accepts any server (tests only).
  bool verify = true;
};

/// Options every client (Producer, PushConsumer) has: name servers, identity, timers, threads, header
/// encoding, ACL credentials and TLS. Thread-compatible value type; checked when the client is constructed
/// or started.
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
  /// A connection to a name server or broker with calls pending and nothing read from it for this long is
  /// closed; those calls fail as send errors (kSendFailed / kNetwork naming read_stall_timeout), never as
  /// timeouts of their own. Keep it above the longest answer a broker may hold back: a push consumer's
  /// long-polling pull (PushConsumerOptions::broker_suspend_max_time, up to 60 s). Default 120 s; 0 disables;
  /// up to 3600 s.
  std::chrono::milliseconds read_stall_timeout{120000};
  /// Header encoding of requests sent to brokers and name servers. Responses and broker-initiated requests
  /// are decoded in either encoding. Clients sharing an instance (same client id) use the first one's
  /// choice. Default kBinary.
  HeaderFormat header_format = HeaderFormat::kBinary;

  /// ACL credentials. With a non-empty access_key every request to name servers and brokers is signed as
  /// Apache RocketMQ's AclClientRPCHook signs it (HMAC-SHA1 over the sorted header values and the body):
  /// accepted by Apache 4.9 plain ACL, Apache 5.x authentication and rocketrpc-broker with aclEnable=true.
  /// Empty (the default): requests are sent unsigned. Responses to broker-initiated requests are never
  /// signed (as in Apache's clients). A request the cluster refuses for authentication or permission fails
  /// with ErrorCode::kAccessDenied (RpcErrorCode::kAccessDenied in the RPC layer), naming the operation and
  /// the topic/group; it is not retried.
  /// Clients sharing an instance (same client id: same client_ip and instance_name) share one connection set
  /// and sign with the FIRST client's credentials; give clients with different accounts different
  /// instance_name values.
  std::string access_key;
  /// Secret of access_key; required with it (start() throws kInvalidArgument naming the field, never its
  /// value). Never logged, never in exception texts or stats.
  std::string secret_key;
  /// Optional session token sent as SecurityToken (signed too). Empty: not sent. Needs access_key.
  std::string security_token;
  /// TLS for every connection of this client. Clients sharing an instance (same client id) use the first
  /// one's credentials and TLS settings.
  TlsOptions tls;
};

}  // namespace rocketrpc
