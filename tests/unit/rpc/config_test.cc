// YAML configuration and option validation of the RPC layer (rpc_options.h): the seed's file is accepted as
// is, unknown keys and bad values are rejected with a message naming the key.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "rocketrpc/rpc_options.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSeedYaml = R"(
rocketmq:
  rpc:
    client:
      broker-url: localhost:9876
      request-topic: RPC_REQUEST
      default-timeout-millis: 30000
      max-concurrent-requests: 1000
      max-concurrent-sessions: 100
)";

// Expects parseRpcConfig(text) to throw kConfig with `needle` in the message.
void expectConfigError(const std::string& text, const std::string& needle) {
  try {
    parseRpcConfig(text);
    FAIL() << "accepted: " << text;
  } catch (const RpcException& e) {
    EXPECT_EQ(e.code(), RpcErrorCode::kConfig);
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_FALSE(e.retriable());
  }
}

TEST(RpcConfigTest, SeedFileIsAcceptedAsIs) {
  RpcConfig c = parseRpcConfig(kSeedYaml);
  ASSERT_TRUE(c.has_client);
  EXPECT_FALSE(c.has_server);
  EXPECT_EQ(c.client.broker_url, "localhost:9876");
  EXPECT_EQ(c.client.request_topic, "RPC_REQUEST");
  EXPECT_EQ(c.client.default_timeout, 30000ms);
  EXPECT_EQ(c.client.max_concurrent_requests, 1000u);
  EXPECT_EQ(c.client.max_concurrent_sessions, 100u);
  EXPECT_TRUE(c.client.fail_fast);
}

TEST(RpcConfigTest, ServerSectionInheritsBrokerAndTopicFromClient) {
  RpcConfig c = parseRpcConfig(std::string(kSeedYaml) + R"(
    server:
      consumer-group: RPC_SERVERS
      consume-threads: 3
      max-session-bytes: 1024
      dedup-cache-size: 0
)");
  ASSERT_TRUE(c.has_server);
  EXPECT_EQ(c.server.broker_url, "localhost:9876");
  EXPECT_EQ(c.server.request_topic, "RPC_REQUEST");
  EXPECT_EQ(c.server.consumer_group, "RPC_SERVERS");
  EXPECT_EQ(c.server.consume_threads, 3);
  EXPECT_EQ(c.server.max_session_bytes, 1024u);
  EXPECT_EQ(c.server.dedup_cache_size, 0u);
}

TEST(RpcConfigTest, EveryClientKeyIsRead) {
  RpcConfig c = parseRpcConfig(R"(
rocketmq:
  rpc:
    client:
      broker-url: "127.0.0.1:9876;127.0.0.1:9877"
      request-topic: T
      default-timeout-millis: 5
      max-concurrent-requests: 10000
      max-concurrent-sessions: 3
      session-idle-timeout-millis: 1000
      send-timeout-millis: 700
      read-stall-timeout-millis: 45000
      fail-fast: false
      responder-check-cache-millis: 0
      producer-group: PG
      instance-name: inst1
)");
  EXPECT_EQ(c.client.broker_url, "127.0.0.1:9876;127.0.0.1:9877");
  EXPECT_EQ(c.client.default_timeout, 5ms);
  EXPECT_EQ(c.client.max_concurrent_requests, 10000u);
  EXPECT_EQ(c.client.session_idle_timeout, 1000ms);
  EXPECT_EQ(c.client.send_timeout, 700ms);
  EXPECT_EQ(c.client.read_stall_timeout, 45000ms);
  EXPECT_FALSE(c.client.fail_fast);
  EXPECT_EQ(c.client.responder_check_cache, 0ms);
  EXPECT_EQ(c.client.producer_group, "PG");
  EXPECT_EQ(c.client.instance_name, "inst1");
}

TEST(RpcConfigTest, UnknownKeysAreRejectedWithTheirName) {
  expectConfigError(std::string(kSeedYaml) + "      max-concurent-requests: 5\n",
                    "rocketmq.rpc.client.max-concurent-requests: unknown key");
  expectConfigError("rocketmq:\n  rpc:\n    clients:\n      broker-url: a:1\n",
                    "rocketmq.rpc.clients: unknown key");
  expectConfigError(std::string(kSeedYaml) + "    server:\n      threads: 4\n",
                    "rocketmq.rpc.server.threads");
}

TEST(RpcConfigTest, KeysOutsideRocketmqRpcAreIgnored) {
  RpcConfig c = parseRpcConfig(std::string("spring:\n  application:\n    name: x\n") + kSeedYaml);
  EXPECT_TRUE(c.has_client);
}

TEST(RpcConfigTest, ServerReplyCompressionKeys) {
  RpcConfig defaults = parseRpcConfig(std::string(kSeedYaml) + "    server:\n      consume-threads: 2\n");
  EXPECT_EQ(defaults.server.compress_over, 4096u);
  EXPECT_EQ(defaults.server.compress_level, 5);
  RpcConfig c = parseRpcConfig(std::string(kSeedYaml) + R"(
    server:
      compress-over: 65536
      compress-level: 1
)");
  EXPECT_EQ(c.server.compress_over, 65536u);
  EXPECT_EQ(c.server.compress_level, 1);
  expectConfigError(std::string(kSeedYaml) + "    server:\n      compress-level: 10\n",
                    "rocketmq.rpc.server.compress-level");
  expectConfigError(std::string(kSeedYaml) + "    server:\n      compress-over: 0\n",
                    "rocketmq.rpc.server.compress-over");
}

TEST(RpcConfigTest, BadValuesNameTheKey) {
  auto with = [](const std::string& key, const std::string& value) {
    return "rocketmq:\n  rpc:\n    client:\n      broker-url: localhost:9876\n      request-topic: T\n     "
           " " +
           key + ": " + value + "\n";
  };
  expectConfigError(with("default-timeout-millis", "0"), "rocketmq.rpc.client.default-timeout-millis");
  expectConfigError(with("default-timeout-millis", "300001"), "must be in 1..300000");
  expectConfigError(with("default-timeout-millis", "30s"), "must be a whole number");
  expectConfigError(with("max-concurrent-requests", "0"), "rocketmq.rpc.client.max-concurrent-requests");
  expectConfigError(with("max-concurrent-requests", "-1"), "must not be negative");
  expectConfigError(with("max-concurrent-sessions", "[1, 2]"), "not a list");
  expectConfigError(with("fail-fast", "maybe"), "rocketmq.rpc.client.fail-fast: must be true or false");
  expectConfigError(with("producer-group", "bad group!"), "rocketmq.rpc.client.producer-group");
  expectConfigError(with("default-timeout-millis", ""), "has no value");
}

TEST(RpcConfigTest, RequiredKeysAreNamed) {
  expectConfigError("rocketmq:\n  rpc:\n    client:\n      request-topic: T\n",
                    "rocketmq.rpc.client.broker-url: is required");
  expectConfigError("rocketmq:\n  rpc:\n    client:\n      broker-url: a:1\n",
                    "rocketmq.rpc.client.request-topic");
  expectConfigError("rocketmq:\n  rpc:\n    client:\n      broker-url: nohostport\n      request-topic: T\n",
                    "rocketmq.rpc.client.broker-url: 'nohostport' is not host:port");
  expectConfigError("rocketmq:\n  rpc:\n    client:\n      broker-url: a:70000\n      request-topic: T\n",
                    "port outside 1..65535");
  expectConfigError("rocketmq:\n  rpc:\n    server:\n      consumer-group: G\n",
                    "rocketmq.rpc.server.broker-url: is required");
  expectConfigError("other: 1\n", "rocketmq.rpc");
  expectConfigError("rocketmq:\n  rpc: {}\n", "neither a 'client' nor a 'server'");
}

TEST(RpcConfigTest, SyntaxErrorsGiveLineAndColumn) {
  expectConfigError("rocketmq:\n  rpc:\n    client: [unclosed\n", "YAML syntax error at line");
}

TEST(RpcConfigTest, LoadNamesTheFile) {
  try {
    loadRpcConfig("/nonexistent/rpc.yaml");
    FAIL();
  } catch (const RpcException& e) {
    EXPECT_EQ(e.code(), RpcErrorCode::kConfig);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/rpc.yaml"), std::string::npos);
  }
  std::string path = ::testing::TempDir() + "/rpc_config_test.yaml";
  {
    std::ofstream out(path);
    out << kSeedYaml << "      bogus: 1\n";
  }
  try {
    loadRpcConfig(path);
    FAIL();
  } catch (const RpcException& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": rocketmq.rpc.client.bogus"), std::string::npos)
        << e.what();
  }
  {
    std::ofstream out(path);
    out << kSeedYaml;
  }
  EXPECT_EQ(loadRpcConfig(path).client.request_topic, "RPC_REQUEST");
  std::remove(path.c_str());
}

TEST(RpcConfigTest, CredentialsAndTlsAreReadAndAppliedToTheServerToo) {
  RpcConfig c = parseRpcConfig(std::string(kSeedYaml) + R"(
      access-key: rpc-app
      secret-key: s3cr3t-Never-Printed
      security-token: tok
      tls:
        enabled: true
        ca-file: ca.pem
        cert-file: client.pem
        key-file: client.key
        verify: false
    server:
      consumer-group: RPC_SERVERS
)");
  EXPECT_EQ(c.client.access_key, "rpc-app");
  EXPECT_EQ(c.client.secret_key, "s3cr3t-Never-Printed");
  EXPECT_EQ(c.client.security_token, "tok");
  EXPECT_TRUE(c.client.tls.enabled);
  EXPECT_EQ(c.client.tls.ca_file, "ca.pem");
  EXPECT_EQ(c.client.tls.cert_file, "client.pem");
  EXPECT_EQ(c.client.tls.key_file, "client.key");
  EXPECT_FALSE(c.client.tls.verify);
  ASSERT_TRUE(c.has_server);
  EXPECT_EQ(c.server.access_key, "rpc-app");
  EXPECT_EQ(c.server.secret_key, "s3cr3t-Never-Printed");
  EXPECT_EQ(c.server.security_token, "tok");
  EXPECT_TRUE(c.server.tls.enabled);
  EXPECT_EQ(c.server.tls.ca_file, "ca.pem");
  EXPECT_FALSE(c.server.tls.verify);

  // Defaults: unsigned, TLS off, verification on when TLS is switched on without saying more.
  RpcConfig d = parseRpcConfig(std::string(kSeedYaml) + "      tls: {enabled: true}\n");
  EXPECT_TRUE(d.client.access_key.empty());
  EXPECT_TRUE(d.client.tls.enabled);
  EXPECT_TRUE(d.client.tls.verify);
  EXPECT_TRUE(d.client.tls.ca_file.empty());
  EXPECT_FALSE(parseRpcConfig(kSeedYaml).client.tls.enabled);

  // A server section with its own account keeps it.
  RpcConfig own = parseRpcConfig(std::string(kSeedYaml) + R"(
      access-key: client-ak
      secret-key: client-sk
    server:
      access-key: server-ak
      secret-key: server-sk
)");
  EXPECT_EQ(own.server.access_key, "server-ak");
  EXPECT_EQ(own.server.secret_key, "server-sk");
  EXPECT_EQ(own.client.access_key, "client-ak");
}

TEST(RpcConfigTest, BadCredentialsAndTlsKeysAreNamedWithoutTheSecret) {
  // The file may leave the secret out (the CLI takes it from ROCKETRPC_SECRET_KEY); the options then fail
  // validation, which RpcClient and RpcServer run when constructed.
  RpcConfig no_secret = parseRpcConfig(std::string(kSeedYaml) + "      access-key: ak\n    server: {}\n");
  EXPECT_EQ(no_secret.client.access_key, "ak");
  for (auto validate : {std::function<void()>([&] { no_secret.client.validate(); }),
                        std::function<void()>([&] { no_secret.server.validate(); })}) {
    try {
      validate();
      FAIL() << "an access key without a secret key was accepted";
    } catch (const RpcException& e) {
      EXPECT_EQ(e.code(), RpcErrorCode::kConfig);
      EXPECT_NE(std::string(e.what()).find(".access-key: secret-key is required"), std::string::npos) << e.what();
    }
  }
  RpcClientOptions secret_only = parseRpcConfig(kSeedYaml).client;
  secret_only.secret_key = "s3cr3t-Never-Printed";
  try {
    secret_only.validate();
    FAIL() << "a secret key without an access key was accepted";
  } catch (const RpcException& e) {
    EXPECT_NE(std::string(e.what()).find("access-key is required"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("s3cr3t-Never-Printed"), std::string::npos) << e.what();
  }
  expectConfigError(std::string(kSeedYaml) + "      tls: {enabled: maybe}\n", "rocketmq.rpc.client.tls.enabled");
  expectConfigError(std::string(kSeedYaml) + "      tls: {ciphers: all}\n", "rocketmq.rpc.client.tls.ciphers");
  expectConfigError(std::string(kSeedYaml) + "      tls: [1, 2]\n", "rocketmq.rpc.client.tls");
  // Whatever is wrong, the secret's value never reaches the message.
  for (const std::string& extra : {std::string("      secret-key: [s3cr3t-Never-Printed]\n"),
                                   std::string("      secret-key: {s3cr3t-Never-Printed: 1}\n")}) {
    try {
      parseRpcConfig(std::string(kSeedYaml) + extra);
      FAIL() << extra;
    } catch (const RpcException& e) {
      EXPECT_EQ(std::string(e.what()).find("s3cr3t-Never-Printed"), std::string::npos) << e.what();
    }
  }
}

TEST(RpcConfigTest, StructValidationNamesKeys) {
  RpcClientOptions o;
  o.broker_url = "127.0.0.1:9876";
  o.request_topic = "T";
  EXPECT_NO_THROW(o.validate());
  o.max_concurrent_sessions = 0;
  try {
    o.validate();
    FAIL();
  } catch (const RpcException& e) {
    EXPECT_NE(std::string(e.what()).find("max-concurrent-sessions"), std::string::npos);
  }
  RpcServerOptions s;
  s.broker_url = "127.0.0.1:9876";
  s.request_topic = "T";
  EXPECT_NO_THROW(s.validate());
  s.consume_threads = 0;
  EXPECT_THROW(s.validate(), RpcException);
  s.consume_threads = 1;
  s.stream_gap_timeout = 0ms;
  EXPECT_THROW(s.validate(), RpcException);
}

}  // namespace
}  // namespace rocketrpc

namespace rocketrpc {
namespace {

// Sets environment variables for one test and removes them after it.
class ScopedEnv {
 public:
  ScopedEnv(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (const auto& [k, v] : vars) {
      ::setenv(k, v, 1);
      names_.emplace_back(k);
    }
  }
  ~ScopedEnv() {
    for (const auto& k : names_) ::unsetenv(k.c_str());
  }

 private:
  std::vector<std::string> names_;
};

TEST(RpcConfigEnvTest, DuplicateKeyIsAnErrorNamingBothLines) {
  const char* text = "rocketmq:\n"
                     "  rpc:\n"
                     "    client:\n"
                     "      broker-url: 127.0.0.1:9876\n"
                     "      request-topic: A\n"
                     "      broker-url: 127.0.0.1:9877\n";
  try {
    parseRpcConfig(text);
    FAIL() << "a duplicate key was accepted";
  } catch (const RpcException& e) {
    EXPECT_EQ(e.code(), RpcErrorCode::kConfig);
    const std::string what = e.what();
    EXPECT_NE(what.find("rocketmq.rpc.client.broker-url"), std::string::npos) << what;
    EXPECT_NE(what.find("lines 4 and 6"), std::string::npos) << what;
  }
}

TEST(RpcConfigEnvTest, RelaxedEnvironmentNamesOverrideTheFile) {
  ScopedEnv env({{"ROCKETMQ_RPC_CLIENT_BROKER_URL", "127.0.0.1:19876"},
                 {"ROCKETMQ_RPC_CLIENT_DEFAULT_TIMEOUT_MILLIS", "1234"},
                 {"ROCKETMQ_RPC_CLIENT_ACCESS_KEY", "app-key"},
                 {"ROCKETMQ_RPC_CLIENT_SECRET_KEY", "app-secret"},
                 {"ROCKETMQ_RPC_CLIENT_TLS_CA_FILE", "/tmp/ca.pem"}});
  RpcConfig c = parseRpcConfig(kSeedYaml);
  EXPECT_EQ(c.client.broker_url, "127.0.0.1:19876");
  EXPECT_EQ(c.client.default_timeout, 1234ms);
  EXPECT_EQ(c.client.request_topic, "RPC_REQUEST");  // not overridden: from the file
  EXPECT_EQ(c.client.access_key, "app-key");
  EXPECT_EQ(c.client.secret_key, "app-secret");
  EXPECT_EQ(c.client.tls.ca_file, "/tmp/ca.pem");
  EXPECT_FALSE(c.client.tls.enabled);  // only the keys the environment names change
}

TEST(RpcConfigEnvTest, EnvironmentCanSupplyASectionTheFileLacks) {
  ScopedEnv env({{"ROCKETMQ_RPC_SERVER_CONSUMER_GROUP", "svc-group"}});
  RpcConfig c = parseRpcConfig(kSeedYaml);
  ASSERT_TRUE(c.has_server);
  EXPECT_EQ(c.server.consumer_group, "svc-group");
  EXPECT_EQ(c.server.broker_url, "localhost:9876");  // inherited from the client section as usual
}

TEST(RpcConfigEnvTest, BadEnvironmentValueNamesTheVariable) {
  ScopedEnv env({{"ROCKETMQ_RPC_CLIENT_DEFAULT_TIMEOUT_MILLIS", "soon"}});
  try {
    parseRpcConfig(kSeedYaml);
    FAIL() << "a bad value was accepted";
  } catch (const RpcException& e) {
    EXPECT_NE(std::string(e.what()).find("ROCKETMQ_RPC_CLIENT_DEFAULT_TIMEOUT_MILLIS"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace rocketrpc
