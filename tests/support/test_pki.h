// TestPki: throw-away certificates for TLS tests, made with the `openssl` command (scripts/setup.sh installs it)
// in a fresh temporary directory that is deleted with the object. EC P-256 keys (fast to make), valid 2 days.
// Thread-compatible; create one per suite.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

namespace rocketrpc::testing {

struct TestPki {
  ~TestPki();

  std::filesystem::path dir;
  /// The test CA clients and servers trust.
  std::string ca_cert;
  /// Signed by ca_cert, for IP 127.0.0.1 and DNS localhost (serverAuth and clientAuth).
  std::string server_cert, server_key;
  /// Signed by ca_cert, for DNS other-host.invalid only (a name mismatch for 127.0.0.1 and localhost).
  std::string other_name_cert, other_name_key;
  /// Signed by a second CA nobody trusts, for IP 127.0.0.1 and DNS localhost.
  std::string rogue_cert, rogue_key;
  /// Signed by ca_cert: a client certificate for mutual TLS.
  std::string client_cert, client_key;
  /// server_key encrypted with a password (which must never show up in an error).
  std::string encrypted_key;
  static constexpr const char* kEncryptedKeyPassword = "pki-test-password-0451";

  /// Creates every file above. nullptr with *error set when the openssl command failed (its output is quoted).
  static std::unique_ptr<TestPki> create(std::string* error);
};

}  // namespace rocketrpc::testing
