// rocketrpc against a secured Apache RocketMQ (scripts/apache-rocketmq.sh start --acl / --tls enforcing), with
// the Java client 4.9.8 (java-peer) on the other side. Run by the `secure` stage of scripts/run-tests.sh, which
// starts each secured cluster in turn and exports what its start printed:
//
//   ROCKETRPC_TEST_NAMESRV                      the cluster's name server
//   ROCKETRPC_TEST_ACL_{ADMIN,RPC,PUBONLY,SUBONLY}_{AK,SK}   accounts of --acl (apache-rocketmq/README.md)
//   ROCKETRPC_TEST_TLS_CA, ROCKETRPC_TEST_TLS_OTHER_CA       the CA of the servers' certificate, an unrelated CA
//   ROCKETRPC_JAVA_PEER_JAR
//
// SecureApacheAcl* skip unless the ACL variables are set, SecureApacheTls* unless TLS_CA is set, so the
// other stages (which run every integration test) skip them.
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "remoting/acl_signer.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/route_data.h"
#include "remoting/transport.h"
#include "rocketrpc/rpc.h"
#include "support/subprocess.h"
#include "support/test_broker.h"
#include "support/test_pki.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using remoting::RemotingCommand;
using testing::envOr;
using testing::uniqueName;
using Clock = std::chrono::steady_clock;

struct Account {
  std::string access_key, secret_key;
};

Account account(const std::string& role) {
  return {envOr(("ROCKETRPC_TEST_ACL_" + role + "_AK").c_str(), ""),
          envOr(("ROCKETRPC_TEST_ACL_" + role + "_SK").c_str(), "")};
}

// What a client of the secured cluster is given: an account (may be empty) and TLS settings.
struct Security {
  Account acl;
  TlsOptions tls;
};

// Puts credentials and TLS into RpcClientOptions / RpcServerOptions. The fields come with the client-side
// security work; a build without them fails the test (instead of silently testing an unsigned client).
template <class Options>
void applySecurity(Options& o, const Security& s) {
  if constexpr (requires { o.access_key; o.secret_key; o.tls; }) {
    o.access_key = s.acl.access_key;
    o.secret_key = s.acl.secret_key;
    o.tls = s.tls;
  } else {
    (void)o;
    (void)s;
    throw std::runtime_error("this build's RPC options have no access_key/secret_key/tls fields");
  }
}

// UPDATE_AND_CREATE_TOPIC on every master, signed by `admin` (when given) and over TLS (when enabled), then
// waits until the name server routes the topic. The plain test helper (support/admin.h) sends unsigned.
void createTopic(const std::string& namesrv, const std::string& topic, const Security& admin) {
  remoting::TransportOptions topts;
  topts.tls = admin.tls;
  remoting::RemotingClient client(topts);
  client.start();
  remoting::AclCredentials creds{admin.acl.access_key, admin.acl.secret_key, ""};
  auto send = [&](const std::string& addr, RemotingCommand cmd) {
    remoting::aclSignRequest(cmd, creds);  // no-op without credentials
    return client.invokeSync(addr, std::move(cmd), 10000ms);
  };
  auto info_resp = send(namesrv, RemotingCommand::request(remoting::request_code::kGetBrokerClusterInfo));
  ASSERT_TRUE(info_resp.isOk()) << info_resp.status().toString();
  auto info = remoting::parseClusterInfo(info_resp->body);
  ASSERT_TRUE(info.isOk()) << info.status().toString();
  size_t brokers = 0;
  for (const auto& [name, bd] : info->broker_addr_table) {
    std::string addr = bd.masterAddr();
    if (addr.empty()) continue;
    auto cmd = RemotingCommand::request(remoting::request_code::kUpdateAndCreateTopic);
    cmd.set("topic", topic);
    cmd.set("defaultTopic", "TBW102");
    cmd.set("readQueueNums", int64_t{4});
    cmd.set("writeQueueNums", int64_t{4});
    cmd.set("perm", int64_t{6});
    cmd.set("topicFilterType", "SINGLE_TAG");
    cmd.set("topicSysFlag", int64_t{0});
    cmd.setBool("order", false);
    auto r = send(addr, std::move(cmd));
    ASSERT_TRUE(r.isOk()) << "create topic on " << addr << ": " << r.status().toString();
    ASSERT_EQ(r->code, 0) << "create topic on " << addr << ": " << r->remarkOrEmpty();
    ++brokers;
  }
  ASSERT_GT(brokers, 0u);
  auto deadline = Clock::now() + 60s;
  for (;;) {
    auto cmd = RemotingCommand::request(remoting::request_code::kGetRouteInfoByTopic);
    cmd.set("topic", topic);
    auto r = send(namesrv, std::move(cmd));
    if (r.isOk() && r->code == 0) {
      auto route = remoting::parseTopicRouteData(r->body);
      if (route.isOk() && route->queue_datas.size() >= brokers) break;
    }
    ASSERT_LT(Clock::now(), deadline) << "route of " << topic << " incomplete";
    std::this_thread::sleep_for(200ms);
  }
  client.shutdown();
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class Echo : public RpcReceiver {
 public:
  std::string processRequest(std::string_view request) override { return std::string(request); }
};

// Common parts: the topic, an RpcServer / RpcClient with given security, the Java peer with given flags.
class SecureApacheBase : public ::testing::Test {
 protected:
  void startServer(const Security& s) {
    RpcServerOptions o;
    o.broker_url = namesrv_;
    o.request_topic = topic_;
    o.consumer_group = uniqueName("secure_srv");
    applySecurity(o, s);
    server_ = std::make_unique<RpcServer>(o, std::make_shared<Echo>());
    server_->start();
    ASSERT_TRUE(testing::waitUntil([&] { return !server_->assignedQueues().empty(); }, 60s))
        << "the RpcServer got no queue of " << topic_;
  }
  std::unique_ptr<RpcClient> makeClient(const Security& s, std::chrono::milliseconds timeout = 10000ms) {
    RpcClientOptions o;
    o.broker_url = namesrv_;
    o.request_topic = topic_;
    o.default_timeout = timeout;
    applySecurity(o, s);
    return std::make_unique<RpcClient>(o);
  }
  // java -jar java-peer.jar COMMAND -n NS -t TOPIC ARGS... plus the Java side of `s`.
  testing::Subprocess java(const std::string& command, std::vector<std::string> args, const Security& s) {
    std::vector<std::string> argv{"java", "-jar", jar_, command, "-n", namesrv_, "-t", topic_};
    argv.insert(argv.end(), args.begin(), args.end());
    if (!s.acl.access_key.empty()) {
      argv.insert(argv.end(), {"--access-key", s.acl.access_key, "--secret-key", s.acl.secret_key});
    }
    if (s.tls.enabled) argv.insert(argv.end(), {"--tls-ca", s.tls.ca_file});
    return testing::Subprocess(argv);
  }
  void TearDown() override {
    if (server_) server_->close();
  }
  // Each call: sendSync of a distinct payload, echoed.
  void expectRoundTrips(RpcClient& client, int n) {
    for (int i = 0; i < n; ++i) {
      std::string payload = "secure-" + std::to_string(i);
      auto r = client.sendSync(payload, 10000ms);
      ASSERT_TRUE(r.success()) << r.errorMessage();
      EXPECT_EQ(r.payload(), payload);
    }
  }
  // Java requester -> RpcServer: N requests answered and checked by the Java side.
  void expectJavaRequesterAnswered(const Security& s, int n) {
    auto req = java("requester", {"--count", std::to_string(n), "--timeout-ms", "10000", "--group",
                                  uniqueName("java_req")}, s);
    auto rc = req.wait(180s);
    ASSERT_TRUE(rc.has_value()) << req.output();
    EXPECT_EQ(*rc, 0) << req.output();
    EXPECT_NE(req.output().find("ok=" + std::to_string(n) + " errors=0"), std::string::npos) << req.output();
  }
  // RpcClient -> Java responder (echo): N calls.
  void expectJavaResponderAnswers(const Security& s, RpcClient& client, int n) {
    auto rsp = java("responder", {"-g", uniqueName("java_rsp"), "--count", std::to_string(n)}, s);
    ASSERT_TRUE(rsp.waitForLine("READY", 90s)) << rsp.output();
    client.start();
    expectRoundTrips(client, n);
    auto rc = rsp.wait(60s);
    ASSERT_TRUE(rc.has_value()) << rsp.output();
    EXPECT_EQ(*rc, 0) << rsp.output();
    EXPECT_NE(rsp.output().find("replied=" + std::to_string(n) + " errors=0"), std::string::npos) << rsp.output();
  }

  std::string namesrv_, jar_, topic_;
  std::unique_ptr<RpcServer> server_;
};

// ---------------------------------------------------------------------------------------------------------
// ACL: Apache 4.9 plain ACL and Apache 5.x ACL 2.0
// ---------------------------------------------------------------------------------------------------------
class SecureApacheAclIT : public SecureApacheBase {
 protected:
  void SetUp() override {
    rpc_.acl = account("RPC");
    admin_.acl = account("ADMIN");
    if (rpc_.acl.access_key.empty() || admin_.acl.access_key.empty()) {
      GTEST_SKIP() << "not a secured stage: ROCKETRPC_TEST_ACL_RPC_AK / _ADMIN_AK unset";
    }
    namesrv_ = envOr("ROCKETRPC_TEST_NAMESRV", "");
    ASSERT_FALSE(namesrv_.empty()) << "ROCKETRPC_TEST_NAMESRV not set";
    jar_ = envOr("ROCKETRPC_JAVA_PEER_JAR", "");
    ASSERT_FALSE(jar_.empty()) << "ROCKETRPC_JAVA_PEER_JAR not set";
    topic_ = uniqueName("secure_acl");
    createTopic(namesrv_, topic_, admin_);
  }
  Security rpc_, admin_;
};

TEST_F(SecureApacheAclIT, RpcClientSignedIsAnsweredByJavaResponderWithAclHook) {
  auto client = makeClient(rpc_);
  expectJavaResponderAnswers(rpc_, *client, 5);
  client->close();
}

TEST_F(SecureApacheAclIT, JavaRequesterWithAclHookIsAnsweredBySignedRpcServer) {
  startServer(rpc_);
  expectJavaRequesterAnswered(rpc_, 5);
  EXPECT_GE(server_->stats().replies, 5u);
}

TEST_F(SecureApacheAclIT, UnsignedJavaRequesterIsRefused) {
  // The environment check: ACL really is on (an unsigned client gets nothing through).
  auto req = java("requester", {"--count", "1", "--timeout-ms", "3000"}, Security{});
  auto rc = req.wait(60s);
  ASSERT_TRUE(rc.has_value()) << req.output();
  EXPECT_EQ(*rc, 1) << req.output();
  EXPECT_NE(req.output().find("ok=0 errors=1"), std::string::npos) << req.output();
}

TEST_F(SecureApacheAclIT, WrongSecretIsAccessDeniedAtOnce) {
  startServer(rpc_);  // a server is online: the refusal cannot be a fail-fast NoResponder
  Security wrong = rpc_;
  wrong.acl.secret_key = "not-the-secret-" + rpc_.acl.secret_key;
  auto t0 = Clock::now();
  try {
    auto client = makeClient(wrong, 20000ms);
    client->start();
    client->sendSync("hello", 20000ms);
    FAIL() << "a client with a wrong secret got a reply";
  } catch (const RpcException& e) {
    auto took = Clock::now() - t0;
    std::cerr << "refused as expected: " << e.what() << "\n";
    EXPECT_EQ(e.code(), RpcErrorCode::kAccessDenied) << e.what();
    // Refused by the broker at once, not after waiting out the 20 s timeout.
    EXPECT_LT(took, 5s) << e.what();
    // The secret never appears in the error.
    EXPECT_EQ(std::string(e.what()).find(wrong.acl.secret_key), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find(rpc_.acl.secret_key), std::string::npos);
  }
}

TEST_F(SecureApacheAclIT, AccountWithoutPubIsAccessDeniedNamingTheTopic) {
  startServer(rpc_);
  Security subonly;
  subonly.acl = account("SUBONLY");
  ASSERT_FALSE(subonly.acl.access_key.empty()) << "ROCKETRPC_TEST_ACL_SUBONLY_AK not set";
  auto t0 = Clock::now();
  try {
    auto client = makeClient(subonly, 20000ms);
    client->start();
    client->sendSync("hello", 20000ms);
    FAIL() << "an account without PUB sent a request";
  } catch (const RpcException& e) {
    std::cerr << "refused as expected: " << e.what() << "\n";
    EXPECT_EQ(e.code(), RpcErrorCode::kAccessDenied) << e.what();
    EXPECT_NE(std::string(e.what()).find(topic_), std::string::npos) << e.what();
    EXPECT_LT(Clock::now() - t0, 5s) << e.what();
  }
  EXPECT_EQ(server_->stats().replies, 0u);
}

// ---------------------------------------------------------------------------------------------------------
// TLS: Apache with tls.server.mode=enforcing
// ---------------------------------------------------------------------------------------------------------
class SecureApacheTlsIT : public SecureApacheBase {
 protected:
  void SetUp() override {
    std::string ca = envOr("ROCKETRPC_TEST_TLS_CA", "");
    if (ca.empty()) GTEST_SKIP() << "not a TLS stage: ROCKETRPC_TEST_TLS_CA unset";
    other_ca_ = envOr("ROCKETRPC_TEST_TLS_OTHER_CA", "");
    namesrv_ = envOr("ROCKETRPC_TEST_NAMESRV", "");
    ASSERT_FALSE(namesrv_.empty()) << "ROCKETRPC_TEST_NAMESRV not set";
    jar_ = envOr("ROCKETRPC_JAVA_PEER_JAR", "");
    ASSERT_FALSE(jar_.empty()) << "ROCKETRPC_JAVA_PEER_JAR not set";
    tls_.tls.enabled = true;
    tls_.tls.ca_file = ca;
    topic_ = uniqueName("secure_tls");
    createTopic(namesrv_, topic_, tls_);
  }
  // Expects the RpcClient with `s` to fail promptly with a send failure that names the name server.
  void expectRefused(const Security& s, const std::string& must_mention) {
    auto t0 = Clock::now();
    try {
      auto client = makeClient(s, 20000ms);
      client->start();
      client->sendSync("hello", 20000ms);
      FAIL() << "the call went through";
    } catch (const RpcException& e) {
      std::string what = e.what();
      std::cerr << "refused as expected: " << what << "\n";
      EXPECT_EQ(e.code(), RpcErrorCode::kSendFailed) << what;
      EXPECT_NE(what.find(namesrv_), std::string::npos) << "does not name the address: " << what;
      if (!must_mention.empty()) EXPECT_NE(lower(what).find(must_mention), std::string::npos) << what;
      EXPECT_LT(Clock::now() - t0, 5s) << what;
    }
  }
  Security tls_;
  std::string other_ca_;
};

TEST_F(SecureApacheTlsIT, RpcOverTlsWorksBothWaysWithJava) {
  startServer(tls_);
  auto client = makeClient(tls_);
  client->start();
  expectRoundTrips(*client, 5);
  client->close();
  expectJavaRequesterAnswered(tls_, 3);
}

TEST_F(SecureApacheTlsIT, PlainClientIsRefusedClearly) {
  expectRefused(Security{}, "");
}

TEST_F(SecureApacheTlsIT, ServerCertificateFromUnknownCaIsRejected) {
  ASSERT_FALSE(other_ca_.empty()) << "ROCKETRPC_TEST_TLS_OTHER_CA not set";
  Security other = tls_;
  other.tls.ca_file = other_ca_;
  expectRefused(other, "certificate");
}

// ---------------------------------------------------------------------------------------------------------
// rocketrpc-broker with ACL and TLS both on (aclEnable=true, tlsServerMode=enforcing): the Java client 4.9.8
// (AclClientRPCHook, setUseTLS) and rocketrpc on either side of a call. The broker executable is started by
// the test itself, whatever the stage; the accounts are the ones README.md shows.
// ---------------------------------------------------------------------------------------------------------
class SecureRocketrpcBrokerIT : public SecureApacheBase {
 protected:
  void SetUp() override {
    jar_ = envOr("ROCKETRPC_JAVA_PEER_JAR", "");
    if (jar_.empty()) GTEST_SKIP() << "ROCKETRPC_JAVA_PEER_JAR not set";
    std::string error;
    pki_ = testing::TestPki::create(&error);
    ASSERT_NE(pki_, nullptr) << error;
    dir_ = std::filesystem::temp_directory_path() / uniqueName("secure_broker");
    std::filesystem::create_directories(dir_);
    const auto acl_file = dir_ / "plain_acl.yml";
    {
      std::ofstream f(acl_file);
      f << "accounts:\n"
        << "  - accessKey: ops-admin\n    secretKey: " << kAdminSecret << "\n    admin: true\n"
        << "  - accessKey: rpc-app\n    secretKey: " << kAppSecret << "\n"
        << "    defaultTopicPerm: PUB|SUB\n    defaultGroupPerm: SUB\n";
    }
    broker_ = testing::startBrokerBinary(
        {"--port", "0", "--store", (dir_ / "store").string(), "--set", "aclEnable=true", "--set",
         "aclFile=" + acl_file.string(), "--set", "tlsServerMode=enforcing", "--set",
         "tlsServerCertPath=" + pki_->server_cert, "--set", "tlsServerKeyPath=" + pki_->server_key},
        &namesrv_);
    ASSERT_NE(broker_, nullptr) << "rocketrpc-broker with ACL and TLS did not start";
    admin_.acl = {"ops-admin", kAdminSecret};
    app_.acl = {"rpc-app", kAppSecret};
    for (Security* s : {&admin_, &app_}) {
      s->tls.enabled = true;
      s->tls.ca_file = pki_->ca_cert;
    }
    topic_ = uniqueName("secure_rrpc");
    createTopic(namesrv_, topic_, admin_);
  }
  void TearDown() override {
    SecureApacheBase::TearDown();
    broker_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  static constexpr const char* kAdminSecret = "ops-admin-secret-for-tests";
  static constexpr const char* kAppSecret = "rpc-app-secret-for-tests";
  std::unique_ptr<testing::TestPki> pki_;
  std::filesystem::path dir_;
  std::unique_ptr<testing::Subprocess> broker_;
  Security admin_, app_;
};

TEST_F(SecureRocketrpcBrokerIT, RpcClientIsAnsweredByJavaResponderOverTlsWithAcl) {
  auto client = makeClient(app_);
  expectJavaResponderAnswers(app_, *client, 5);
  client->close();
}

TEST_F(SecureRocketrpcBrokerIT, JavaRequesterIsAnsweredByRpcServerOverTlsWithAcl) {
  startServer(app_);
  expectJavaRequesterAnswered(app_, 5);
  EXPECT_GE(server_->stats().replies, 5u);
}

TEST_F(SecureRocketrpcBrokerIT, UnsignedClientOverTlsIsAccessDenied) {
  startServer(app_);
  Security unsigned_tls = app_;
  unsigned_tls.acl = {};
  auto t0 = Clock::now();
  try {
    auto client = makeClient(unsigned_tls, 20000ms);
    client->start();
    client->sendSync("hello", 20000ms);
    FAIL() << "an unsigned client got a reply";
  } catch (const RpcException& e) {
    EXPECT_EQ(e.code(), RpcErrorCode::kAccessDenied) << e.what();
    EXPECT_LT(Clock::now() - t0, 5s) << e.what();
  }
  EXPECT_EQ(server_->stats().replies, 0u);
}

}  // namespace
}  // namespace rocketrpc
