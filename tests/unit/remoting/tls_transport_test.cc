// TLS between RemotingClient and RemotingServer over 127.0.0.1, with certificates the test makes with the
// openssl command (support/test_pki.h): handshake, verification (chain, IP address, host name), server modes
// (enforcing, permissive), mutual TLS, protocol floor, and bad files.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "common/log.h"
#include "remoting/transport.h"
#include "support/test_pki.h"

namespace rocketrpc::remoting {
namespace {

using namespace std::chrono_literals;
using testing::TestPki;

constexpr int32_t kEchoCode = 100;
// Long enough that a hang would be obvious, short enough that a failing test still ends: every call below that
// must fail must fail with Network long before this (a Timeout status means the handshake error was lost).
constexpr auto kCallTimeout = 20s;

class TlsTransportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = TestPki::create(&setup_error_);
  }
  static void TearDownTestSuite() { pki_.reset(); }

  void SetUp() override {
    if (pki_ == nullptr) GTEST_FAIL() << "cannot make test certificates: " << setup_error_;
  }
  void TearDown() override {
    for (auto& client : clients_) client->shutdown();
    for (auto& server : servers_) server->shutdown();
  }

  TlsServerOptions serverTls(TlsServerMode mode) const {
    TlsServerOptions tls;
    tls.mode = mode;
    tls.cert_file = pki_->server_cert;
    tls.key_file = pki_->server_key;
    return tls;
  }
  TlsOptions clientTls() const {
    TlsOptions tls;
    tls.enabled = true;
    tls.ca_file = pki_->ca_cert;
    return tls;
  }

  /// A started echo server (answers kEchoCode with the request's body); its address is "127.0.0.1:<port>".
  std::string startServer(TlsServerOptions tls) {
    TransportOptions options;
    options.name = "tls-test-server";
    options.tls_server = std::move(tls);
    auto server = std::make_unique<RemotingServer>(options);
    server->registerHandler(kEchoCode, [](RemotingCommand request, Responder responder) {
      auto response = RemotingCommand::responseTo(request, 0);
      response.body = std::move(request.body);
      responder.respond(std::move(response));
    });
    Status s = server->start("127.0.0.1", 0);
    EXPECT_TRUE(s.isOk()) << s.toString();
    std::string addr = "127.0.0.1:" + std::to_string(server->port());
    servers_.push_back(std::move(server));
    return addr;
  }

  RemotingClient& newClient(TlsOptions tls) {
    TransportOptions options;
    options.name = "tls-test-client";
    options.tls = std::move(tls);
    clients_.push_back(std::make_unique<RemotingClient>(options));
    EXPECT_TRUE(clients_.back()->start().isOk());
    return *clients_.back();
  }

  static Result<RemotingCommand> echo(RemotingClient& client, const std::string& addr, std::string body = "ping") {
    auto request = RemotingCommand::request(kEchoCode);
    request.body = std::move(body);
    return client.invokeSync(addr, std::move(request), kCallTimeout);
  }

  static void expectEcho(RemotingClient& client, const std::string& addr) {
    auto r = echo(client, addr, "hello over " + addr);
    ASSERT_TRUE(r.isOk()) << r.status().toString();
    EXPECT_EQ(r->body, "hello over " + addr);
  }

  /// The call fails with Network (not Timeout) and a message containing every one of `parts`.
  static void expectNetworkError(const Result<RemotingCommand>& r, const std::vector<std::string>& parts) {
    ASSERT_FALSE(r.isOk()) << "the call succeeded";
    EXPECT_EQ(r.status().code(), StatusCode::kNetwork) << r.status().toString();
    for (const auto& part : parts) {
      EXPECT_NE(r.status().message().find(part), std::string::npos)
          << "'" << part << "' not in: " << r.status().message();
    }
  }

  static inline std::unique_ptr<TestPki> pki_;
  static inline std::string setup_error_;
  std::vector<std::unique_ptr<RemotingServer>> servers_;
  std::vector<std::unique_ptr<RemotingClient>> clients_;
};

TEST_F(TlsTransportTest, RoundTripVerifiesChainAndIpAddress) {
  const std::string addr = startServer(serverTls(TlsServerMode::kEnforcing));
  auto& client = newClient(clientTls());
  expectEcho(client, addr);
  // A frame much larger than a TLS record (16 KiB) and than one read, both ways.
  std::string big(3 * 1024 * 1024 + 7, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + 7);
  auto r = echo(client, addr, big);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->body, big);
}

TEST_F(TlsTransportTest, ManyConcurrentCallsAreBatchedAndAllAnswered) {
  const std::string addr = startServer(serverTls(TlsServerMode::kEnforcing));
  auto& client = newClient(clientTls());
  constexpr int kCalls = 500;
  std::vector<std::promise<Result<RemotingCommand>>> promises(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    auto request = RemotingCommand::request(kEchoCode);
    request.body = "call " + std::to_string(i) + std::string(static_cast<size_t>(i % 7) * 300, 'x');
    client.invokeAsync(addr, std::move(request), kCallTimeout,
                       [&promises, i](Result<RemotingCommand> r) { promises[i].set_value(std::move(r)); });
  }
  for (int i = 0; i < kCalls; ++i) {
    auto r = promises[i].get_future().get();
    ASSERT_TRUE(r.isOk()) << i << ": " << r.status().toString();
    EXPECT_EQ(r->body, "call " + std::to_string(i) + std::string(static_cast<size_t>(i % 7) * 300, 'x'));
  }
}

TEST_F(TlsTransportTest, HostNameIsVerifiedAndSentAsSni) {
  const std::string addr = startServer(serverTls(TlsServerMode::kEnforcing));
  auto& client = newClient(clientTls());
  const std::string port = addr.substr(addr.rfind(':') + 1);
  expectEcho(client, "localhost:" + port);  // the certificate names DNS:localhost
}

TEST_F(TlsTransportTest, EnforcingServerRefusesPlainClientWithAClearError) {
  const std::string addr = startServer(serverTls(TlsServerMode::kEnforcing));
  auto& plain = newClient(TlsOptions{});
  expectNetworkError(echo(plain, addr), {addr, "closed by the peer before any reply", "TLS"});
  // The server keeps serving TLS clients.
  expectEcho(newClient(clientTls()), addr);
}

TEST_F(TlsTransportTest, PermissiveServerServesPlainAndTlsOnOnePort) {
  const std::string addr = startServer(serverTls(TlsServerMode::kPermissive));
  auto& plain = newClient(TlsOptions{});
  auto& tls = newClient(clientTls());
  for (int i = 0; i < 3; ++i) {
    expectEcho(plain, addr);
    expectEcho(tls, addr);
  }
}

TEST_F(TlsTransportTest, DisabledServerMakesTlsClientFailClearly) {
  const std::string addr = startServer(TlsServerOptions{});
  expectNetworkError(echo(newClient(clientTls()), addr), {"TLS handshake with " + addr + " failed"});
}

TEST_F(TlsTransportTest, SilentServerFailsTheHandshakeAfterConnectTimeoutNotTheCallTimeout) {
  // Accepts and then never says a word: the ServerHello never comes.
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const std::string addr = "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  TransportOptions options;
  options.tls = clientTls();
  options.connect_timeout = 300ms;
  RemotingClient client(options);
  ASSERT_TRUE(client.start().isOk());
  auto r = echo(client, addr);  // the call's own timeout is kCallTimeout
  expectNetworkError(r, {"TLS handshake with " + addr + " failed: timed out after 300 ms"});
  client.shutdown();
}

TEST_F(TlsTransportTest, UnknownCaFailsTheHandshakeNamingAddressAndReason) {
  auto tls = serverTls(TlsServerMode::kEnforcing);
  tls.cert_file = pki_->rogue_cert;
  tls.key_file = pki_->rogue_key;
  const std::string addr = startServer(tls);
  auto& client = newClient(clientTls());
  const auto started = std::chrono::steady_clock::now();
  // Pending calls on the connection fail together with the one handshake error.
  std::vector<std::promise<Result<RemotingCommand>>> promises(3);
  for (auto& p : promises) {
    client.invokeAsync(addr, RemotingCommand::request(kEchoCode), kCallTimeout,
                       [&p](Result<RemotingCommand> r) { p.set_value(std::move(r)); });
  }
  for (auto& p : promises) {
    expectNetworkError(p.get_future().get(), {"TLS handshake with " + addr + " failed: certificate verify failed",
                                              "unable to get local issuer certificate"});
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, kCallTimeout / 2);
}

TEST_F(TlsTransportTest, WrongNameIsRejectedWithVerifyAndAcceptedWithout) {
  auto tls = serverTls(TlsServerMode::kEnforcing);
  tls.cert_file = pki_->other_name_cert;
  tls.key_file = pki_->other_name_key;
  const std::string addr = startServer(tls);
  const std::string port = addr.substr(addr.rfind(':') + 1);
  auto& verifying = newClient(clientTls());
  expectNetworkError(echo(verifying, addr), {"TLS handshake with " + addr + " failed", "IP address mismatch"});
  expectNetworkError(echo(verifying, "localhost:" + port), {"hostname mismatch"});

  auto no_verify = clientTls();
  no_verify.verify = false;
  no_verify.ca_file.clear();
  expectEcho(newClient(no_verify), addr);
}

TEST_F(TlsTransportTest, MutualTlsNeedsAClientCertificateFromTheTrustedCa) {
  auto tls = serverTls(TlsServerMode::kEnforcing);
  tls.need_client_auth = true;
  tls.trust_cert_file = pki_->ca_cert;
  const std::string addr = startServer(tls);

  // TLS 1.3 finishes the client's handshake before the server checks its certificate: the refusal arrives as
  // an alert on the first read, still a Network error naming the peer and the reason.
  expectNetworkError(echo(newClient(clientTls()), addr), {addr, "certificate required"});

  auto untrusted = clientTls();
  untrusted.cert_file = pki_->rogue_cert;  // signed by a CA the server does not trust
  untrusted.key_file = pki_->rogue_key;
  expectNetworkError(echo(newClient(untrusted), addr), {addr, "unknown ca"});

  auto with_cert = clientTls();
  with_cert.cert_file = pki_->client_cert;
  with_cert.key_file = pki_->client_key;
  expectEcho(newClient(with_cert), addr);
}

TEST_F(TlsTransportTest, Tls11ClientIsRefused) {
  const std::string addr = startServer(serverTls(TlsServerMode::kEnforcing));
  const auto port = static_cast<uint16_t>(std::stoul(addr.substr(addr.rfind(':') + 1)));
  auto handshake = [&](int max_version) {
    asio::io_context io;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    SSL_CTX_set_security_level(ctx.native_handle(), 0);  // let this client offer TLS 1.1 at all
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_1_VERSION);
    SSL_CTX_set_max_proto_version(ctx.native_handle(), max_version);
    ctx.set_verify_mode(asio::ssl::verify_none);
    asio::ssl::stream<asio::ip::tcp::socket> stream(io, ctx);
    stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    std::error_code ec;
    stream.handshake(asio::ssl::stream_base::client, ec);
    return ec;
  };
  // The same client with TLS 1.2 allowed gets through: the refusal below is the server's protocol floor.
  ASSERT_FALSE(handshake(TLS1_2_VERSION)) << "TLS 1.2 handshake failed";
  std::error_code ec = handshake(TLS1_1_VERSION);
  ASSERT_TRUE(ec) << "a TLS 1.1 handshake succeeded";
  const std::string text = ec.message();
  if (text.find("no protocols available") != std::string::npos) {
    GTEST_SKIP() << "this OpenSSL cannot offer TLS 1.1 at all: " << text;
  }
  EXPECT_NE(text.find("protocol version"), std::string::npos) << text;
}

TEST_F(TlsTransportTest, BadServerFilesFailStartNamingTheFile) {
  const std::string missing = (pki_->dir / "missing.crt").string();
  auto tls = serverTls(TlsServerMode::kEnforcing);
  tls.cert_file = missing;
  RemotingServer server(TransportOptions{.tls_server = tls});
  Status s = server.start("127.0.0.1", 0);
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.toString();
  EXPECT_NE(s.message().find(missing), std::string::npos) << s.toString();

  tls = serverTls(TlsServerMode::kPermissive);
  tls.key_file = pki_->other_name_key;  // valid, but not the certificate's key
  RemotingServer mismatched(TransportOptions{.tls_server = tls});
  s = mismatched.start("127.0.0.1", 0);
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("mismatch"), std::string::npos) << s.toString();
  EXPECT_NE(s.message().find(tls.key_file), std::string::npos) << s.toString();

  tls = serverTls(TlsServerMode::kEnforcing);
  tls.cert_file.clear();
  RemotingServer no_cert(TransportOptions{.tls_server = tls});
  EXPECT_EQ(no_cert.start("127.0.0.1", 0).code(), StatusCode::kInvalidArgument);
}

TEST_F(TlsTransportTest, EncryptedKeyIsRefusedWithoutPromptOrPasswordInTheMessage) {
  auto tls = serverTls(TlsServerMode::kEnforcing);
  tls.key_file = pki_->encrypted_key;
  RemotingServer server(TransportOptions{.tls_server = tls});
  Status s = server.start("127.0.0.1", 0);  // would block on a terminal prompt without our password callback
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find(pki_->encrypted_key), std::string::npos) << s.toString();
  EXPECT_EQ(s.message().find(TestPki::kEncryptedKeyPassword), std::string::npos);
}

TEST_F(TlsTransportTest, BadClientFilesFailStartAndEveryCall) {
  const std::string addr = startServer(serverTls(TlsServerMode::kEnforcing));
  auto tls = clientTls();
  tls.ca_file = (pki_->dir / "no-such-ca.pem").string();
  RemotingClient client(TransportOptions{.tls = tls});
  Status s = client.start();
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(tls.ca_file), std::string::npos) << s.toString();
  auto r = echo(client, addr);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().message(), s.message());

  auto half = clientTls();
  half.cert_file = pki_->client_cert;  // no key
  RemotingClient half_client(TransportOptions{.tls = half});
  EXPECT_EQ(half_client.start().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rocketrpc::remoting
