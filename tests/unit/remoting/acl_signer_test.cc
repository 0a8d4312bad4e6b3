#include "remoting/acl_signer.h"

#include <gtest/gtest.h>

namespace rocketrpc::remoting {
namespace {

TEST(AclSignerTest, HmacSha1MatchesRfc2202Vector) {
  // RFC 2202 test case 2: HMAC-SHA1("Jefe", "what do ya want for nothing?") = effcdf6a...9a7c79.
  EXPECT_EQ(aclHmacSha1Base64("what do ya want for nothing?", "Jefe"), "7/zfauXrL6LSdBbV8YTfnCWafHk=");
}

TEST(AclSignerTest, ContentIsValuesInKeyOrderThenBody) {
  RemotingCommand cmd = RemotingCommand::request(10);
  cmd.set("topic", "T");
  cmd.set("AccessKey", "ak");
  cmd.set("b", "2");
  cmd.set("Signature", "ignored");
  cmd.set("_UNIQUE_KEY_QUERY", "u");
  cmd.body = "BODY";
  // Upper-case letters sort before '_' and lower-case ones, as in Java's TreeMap.
  // Keys in order: AccessKey, _UNIQUE_KEY_QUERY, b, topic.
  EXPECT_EQ(aclSignedContent(cmd, /*server_side=*/false), "aku2TBODY");
  EXPECT_EQ(aclSignedContent(cmd, /*server_side=*/true), "ak2TBODY");
}

TEST(AclSignerTest, SignedRequestVerifiesAndAnyChangeBreaksIt) {
  RemotingCommand cmd = RemotingCommand::request(310);
  cmd.set("a", "topicA");
  cmd.set("b", "group");
  cmd.body = "payload";
  aclSignRequest(cmd, AclCredentials{"ak", "sk", "token"});
  ASSERT_NE(cmd.get("Signature"), nullptr);
  EXPECT_EQ(*cmd.get("AccessKey"), "ak");
  EXPECT_EQ(*cmd.get("SecurityToken"), "token");
  EXPECT_TRUE(aclSignatureMatches(cmd, "sk"));
  EXPECT_FALSE(aclSignatureMatches(cmd, "wrong"));

  RemotingCommand body_changed = cmd;
  body_changed.body = "payloaD";
  EXPECT_FALSE(aclSignatureMatches(body_changed, "sk"));
  RemotingCommand field_changed = cmd;
  field_changed.set("a", "topicB");
  EXPECT_FALSE(aclSignatureMatches(field_changed, "sk"));
  RemotingCommand field_added = cmd;
  field_added.set("c", "x");
  EXPECT_FALSE(aclSignatureMatches(field_added, "sk"));
  RemotingCommand unsigned_cmd = RemotingCommand::request(310);
  EXPECT_FALSE(aclSignatureMatches(unsigned_cmd, "sk"));
}

TEST(AclSignerTest, NoCredentialsLeaveTheRequestAlone) {
  RemotingCommand cmd = RemotingCommand::request(310);
  cmd.set("a", "1");
  aclSignRequest(cmd, AclCredentials{});
  EXPECT_EQ(cmd.ext_fields.size(), 1u);
}

}  // namespace
}  // namespace rocketrpc::remoting

namespace rocketrpc::remoting {
namespace {

// The streaming signature (no content string built) signs exactly the documented content.
TEST(AclSignerTest, SignatureIsTheHmacOfTheDocumentedContent) {
  RemotingCommand cmd = RemotingCommand::request(310);
  cmd.set("b", "TopicA");
  cmd.set("a", "ProducerGroup");
  cmd.set("_UNIQUE_KEY_QUERY", "false");  // signed by the client, skipped by servers: present on both sides here
  cmd.body = std::string(1000, 'x');
  aclSignRequest(cmd, AclCredentials{"accessKey1", "secretKey1", ""});
  RemotingCommand unsigned_copy = cmd;
  unsigned_copy.ext_fields.erase("Signature");
  EXPECT_EQ(*cmd.get("Signature"), aclHmacSha1Base64(aclSignedContent(unsigned_copy, false), "secretKey1"));
  // Many signatures on one thread reuse its context; a different key in between changes nothing.
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(aclHmacSha1Base64("what do ya want for nothing?", i % 2 ? "Jefe" : "other"),
              i % 2 ? "7/zfauXrL6LSdBbV8YTfnCWafHk=" : aclHmacSha1Base64("what do ya want for nothing?", "other"));
  }
}

}  // namespace
}  // namespace rocketrpc::remoting
