#include "remoting/tls_context.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace rocketrpc::remoting::detail {
namespace {

/// The reason of the most recent OpenSSL error (the queue is drained so it cannot leak into a later call).
std::string takeOpensslError() {
  unsigned long last = 0;
  while (unsigned long e = ERR_get_error()) last = e;
  if (last == 0) return "unknown OpenSSL error";
  const char* reason = ERR_reason_error_string(last);
  return reason ? reason : fmt::format("OpenSSL error {:#x}", last);
}

/// Refuses encrypted keys instead of letting OpenSSL prompt on the terminal (a broker must never block there).
int noPassword(char*, int, int, void*) { return 0; }

/// InvalidArgument "<what> <file>: <reason>" when the file cannot be opened; the OpenSSL reason is read later.
Status checkReadable(std::string_view what, const std::string& file) {
  std::ifstream in(file);
  if (in) return Status::ok();
  return Status::invalidArgument(fmt::format("TLS {} {}: cannot open: {}", what, file, std::strerror(errno)));
}

Status loadIdentity(SSL_CTX* ctx, std::string_view who, const std::string& cert_file, const std::string& key_file) {
  if (Status s = checkReadable("certificate", cert_file); !s.isOk()) return s;
  if (Status s = checkReadable("private key", key_file); !s.isOk()) return s;
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return Status::invalidArgument(
        fmt::format("TLS {} certificate {}: cannot load: {}", who, cert_file, takeOpensslError()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    // Only the OpenSSL reason ("bad decrypt", "no start line"): never anything read from the file.
    return Status::invalidArgument(
        fmt::format("TLS {} private key {}: cannot load: {}", who, key_file, takeOpensslError()));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Status::invalidArgument(fmt::format("TLS {} private key {} does not match certificate {}: {}", who,
                                               key_file, cert_file, takeOpensslError()));
  }
  return Status::ok();
}

Status loadTrust(SSL_CTX* ctx, std::string_view what, const std::string& ca_file) {
  if (ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return Status::invalidArgument(
          fmt::format("TLS {}: cannot load the system's default trust store: {}", what, takeOpensslError()));
    }
    return Status::ok();
  }
  if (Status s = checkReadable(what, ca_file); !s.isOk()) return s;
  if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
    return Status::invalidArgument(fmt::format("TLS {} {}: cannot load: {}", what, ca_file, takeOpensslError()));
  }
  return Status::ok();
}

Result<std::shared_ptr<asio::ssl::context>> newContext(asio::ssl::context::method method) {
  ERR_clear_error();
  std::shared_ptr<asio::ssl::context> context;
  try {
    context = std::make_shared<asio::ssl::context>(method);
  } catch (const std::exception& e) {
    return Status::internal(fmt::format("TLS: cannot create an OpenSSL context: {}", e.what()));
  }
  SSL_CTX* ctx = context->native_handle();
  // TLS 1.2 or newer only: 1.0 and 1.1 are deprecated (RFC 8996).
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    return Status::internal(fmt::format("TLS: cannot require TLS 1.2: {}", takeOpensslError()));
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_default_passwd_cb(ctx, &noPassword);
  return context;
}

}  // namespace

Result<std::shared_ptr<asio::ssl::context>> makeClientTlsContext(const TlsOptions& options) {
  if (options.cert_file.empty() != options.key_file.empty()) {
    return Status::invalidArgument("TLS client certificate: cert_file and key_file must be set together");
  }
  auto made = newContext(asio::ssl::context::tls_client);
  if (!made.isOk()) return made.status();
  SSL_CTX* ctx = (*made)->native_handle();
  if (options.verify) {
    if (Status s = loadTrust(ctx, "CA file", options.ca_file); !s.isOk()) return s;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (!options.cert_file.empty()) {
    if (Status s = loadIdentity(ctx, "client", options.cert_file, options.key_file); !s.isOk()) return s;
  }
  return made;
}

Result<std::shared_ptr<asio::ssl::context>> makeServerTlsContext(const TlsServerOptions& options) {
  if (options.cert_file.empty() || options.key_file.empty()) {
    return Status::invalidArgument("TLS server: a certificate file and a key file are required");
  }
  auto made = newContext(asio::ssl::context::tls_server);
  if (!made.isOk()) return made.status();
  SSL_CTX* ctx = (*made)->native_handle();
  if (Status s = loadIdentity(ctx, "server", options.cert_file, options.key_file); !s.isOk()) return s;
  // Needed once client certificates are verified: sessions are resumable only within this context.
  static constexpr unsigned char kSessionContext[] = "rocketrpc";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);
  if (options.need_client_auth) {
    if (Status s = loadTrust(ctx, "trust certificate file", options.trust_cert_file); !s.isOk()) return s;
    if (!options.trust_cert_file.empty()) {
      // Tells clients which CAs we accept, so one with several certificates can pick the right one.
      if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.trust_cert_file.c_str())) {
        SSL_CTX_set_client_CA_list(ctx, names);
      }
      ERR_clear_error();
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  return made;
}

Status prepareClientStream(asio::ssl::stream<asio::ip::tcp::socket>& stream, const std::string& host) {
  SSL* ssl = stream.native_handle();
  const bool verify = (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) != 0;
  std::error_code ec;
  asio::ip::make_address(host, ec);
  const bool is_ip = !ec;
  if (!is_ip) {
    // SNI: lets a server with several names present the right certificate. Never sent for IP literals (RFC 6066).
    if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
      return Status::invalidArgument(fmt::format("TLS: cannot use '{}' as server name: {}", host, takeOpensslError()));
    }
  }
  if (!verify) return Status::ok();
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  int ok = 0;
  if (is_ip) {
    ok = X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  } else {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    ok = X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  }
  if (ok != 1) {
    return Status::invalidArgument(fmt::format("TLS: cannot verify against '{}': {}", host, takeOpensslError()));
  }
  return Status::ok();
}

std::string tlsErrorText(const std::error_code& ec, SSL* ssl) {
  if (ec == asio::ssl::error::stream_truncated || ec == asio::error::eof ||
      ec == asio::error::connection_reset) {
    return "connection closed by the peer";
  }
  if (ec.category() != asio::error::get_ssl_category()) return ec.message();
  const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
  std::string text = reason ? reason : ec.message();
  if (ssl != nullptr && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) text += fmt::format(" ({})", X509_verify_cert_error_string(verify));
  }
  return text;
}

}  // namespace rocketrpc::remoting::detail
