// Private to src/remoting: the OpenSSL contexts of TLS connections, built once per RemotingClient /
// RemotingServer and shared (read-only) by all of its connections, and the one translation of OpenSSL
// errors into text for Status messages.
//
// What is never put into a message: key file contents, passwords (encrypted keys are refused, never prompted
// for), certificate contents. File paths and OpenSSL's reason strings are.
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <memory>
#include <string>
#include <system_error>

#include "common/status.h"
#include "remoting/transport.h"

namespace rocketrpc::remoting::detail {

/// Client context: TLS 1.2 or newer; trusts options.ca_file (or OpenSSL's default verify paths when empty);
/// verifies the server unless options.verify is false; presents cert_file/key_file when set.
/// A file that cannot be loaded -> InvalidArgument naming the option and the file.
Result<std::shared_ptr<asio::ssl::context>> makeClientTlsContext(const TlsOptions& options);

/// Server context for kPermissive / kEnforcing: TLS 1.2 or newer; presents cert_file/key_file (both required);
/// with need_client_auth requires a client certificate signed by trust_cert_file (or the default verify paths).
Result<std::shared_ptr<asio::ssl::context>> makeServerTlsContext(const TlsServerOptions& options);

/// Sets what the client verifies on `stream` before its handshake: SNI and the host name when `host` is a name,
/// the IP address when it is an IP literal. No-op when verification is off in the context.
Status prepareClientStream(asio::ssl::stream<asio::ip::tcp::socket>& stream, const std::string& host);

/// "certificate verify failed (unable to get local issuer certificate)", "tlsv1 alert protocol version",
/// "connection closed by the peer", ...: the reason of a failed TLS operation on `ssl` (may be null).
std::string tlsErrorText(const std::error_code& ec, SSL* ssl);

}  // namespace rocketrpc::remoting::detail
