// ClientOptions credentials are checked when the client instance starts (Producer::start): an access key needs
// a secret key and the other way round, and the message names the field, never a secret's value. Nothing here
// connects anywhere (the checks run before any connection is made; the name server is a closed port).
#include <gtest/gtest.h>

#include "rocketrpc/producer.h"

namespace rocketrpc {
namespace {

constexpr const char* kSecret = "s3cr3t-Never-Printed";

ProducerOptions options() {
  ProducerOptions o;
  o.namesrv_addr = "127.0.0.1:1";
  o.group = "CredentialsTestGroup";
  return o;
}

std::string startError(const ProducerOptions& o, ErrorCode* code) {
  Producer producer(o);
  try {
    producer.start();
  } catch (const MQException& e) {
    *code = e.code();
    return e.what();
  }
  producer.shutdown();
  return {};
}

TEST(ClientCredentialsTest, AccessKeyWithoutSecretKeyIsRefusedNamingTheField) {
  ProducerOptions o = options();
  o.access_key = "ak";
  ErrorCode code = ErrorCode::kInternal;
  std::string what = startError(o, &code);
  EXPECT_EQ(code, ErrorCode::kInvalidArgument);
  EXPECT_NE(what.find("secret_key is required when access_key is set"), std::string::npos) << what;
}

TEST(ClientCredentialsTest, SecretOrTokenWithoutAccessKeyIsRefusedWithoutEchoingIt) {
  for (bool token : {false, true}) {
    ProducerOptions o = options();
    (token ? o.security_token : o.secret_key) = kSecret;
    ErrorCode code = ErrorCode::kInternal;
    std::string what = startError(o, &code);
    EXPECT_EQ(code, ErrorCode::kInvalidArgument);
    EXPECT_NE(what.find("access_key is required"), std::string::npos) << what;
    EXPECT_EQ(what.find(kSecret), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace rocketrpc
