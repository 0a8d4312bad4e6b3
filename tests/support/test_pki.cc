#include "support/test_pki.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "support/test_support.h"

namespace rocketrpc::testing {
namespace {

constexpr const char* kConfig = R"([req]
distinguished_name = dn
prompt = no
[dn]
CN = rocketrpc-test
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf_local]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
[leaf_other]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = DNS:other-host.invalid
[leaf_client]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
)";

class Maker {
 public:
  explicit Maker(std::filesystem::path dir) : dir_(std::move(dir)) {}

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  /// Runs `openssl <args>` with output to the log file; false (and error_ set) on failure.
  bool run(const std::string& args) {
    if (!error_.empty()) return false;
    const std::string log = path("openssl.log");
    std::string cmd = "openssl " + args + " >'" + log + "' 2>&1";
    if (std::system(cmd.c_str()) == 0) return true;
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    error_ = "openssl " + args + " failed: " + ss.str();
    return false;
  }

  bool makeCa(const std::string& name) {
    return run("req -x509 -config '" + path("pki.cnf") + "' -extensions ca_ext -subj /CN=" + name +
               " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout '" + path(name + ".key") +
               "' -out '" + path(name + ".crt") + "' -days 2");
  }

  bool makeLeaf(const std::string& name, const std::string& ca, const std::string& extensions) {
    return run("req -new -config '" + path("pki.cnf") + "' -subj /CN=" + name +
               " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout '" + path(name + ".key") +
               "' -out '" + path(name + ".csr") + "'") &&
           run("x509 -req -in '" + path(name + ".csr") + "' -CA '" + path(ca + ".crt") + "' -CAkey '" +
               path(ca + ".key") + "' -set_serial " + std::to_string(++serial_) + " -days 2 -extfile '" +
               path("pki.cnf") + "' -extensions " + extensions + " -out '" + path(name + ".crt") + "'");
  }

  const std::string& error() const { return error_; }

 private:
  std::filesystem::path dir_;
  std::string error_;
  int serial_ = 1000;
};

}  // namespace

TestPki::~TestPki() {
  std::error_code ignored;
  if (!dir.empty()) std::filesystem::remove_all(dir, ignored);
}

std::unique_ptr<TestPki> TestPki::create(std::string* error) {
  auto pki = std::make_unique<TestPki>();
  pki->dir = std::filesystem::temp_directory_path() / uniqueName("rocketrpc_pki");
  std::filesystem::create_directories(pki->dir);
  Maker m(pki->dir);
  {
    std::ofstream cnf(m.path("pki.cnf"));
    cnf << kConfig;
  }
  bool ok = m.makeCa("ca") && m.makeCa("rogue-ca") && m.makeLeaf("server", "ca", "leaf_local") &&
            m.makeLeaf("other", "ca", "leaf_other") && m.makeLeaf("rogue", "rogue-ca", "leaf_local") &&
            m.makeLeaf("client", "ca", "leaf_client") &&
            m.run("pkey -in '" + m.path("server.key") + "' -aes256 -passout pass:" + kEncryptedKeyPassword +
                  " -out '" + m.path("encrypted.key") + "'");
  if (!ok) {
    *error = m.error();
    return nullptr;
  }
  pki->ca_cert = m.path("ca.crt");
  pki->server_cert = m.path("server.crt");
  pki->server_key = m.path("server.key");
  pki->other_name_cert = m.path("other.crt");
  pki->other_name_key = m.path("other.key");
  pki->rogue_cert = m.path("rogue.crt");
  pki->rogue_key = m.path("rogue.key");
  pki->client_cert = m.path("client.crt");
  pki->client_key = m.path("client.key");
  pki->encrypted_key = m.path("encrypted.key");
  return pki;
}

}  // namespace rocketrpc::testing
