// RemotingClient signs what it sends with TransportOptions::credentials: a RemotingServer on 127.0.0.1 records
// each request as it arrived off the wire and checks the signature with the secret, as a secured broker would.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <vector>

#include "remoting/acl_signer.h"
#include "remoting/protocol/codes.h"
#include "remoting/transport.h"
#include "support/test_support.h"

namespace rocketrpc::remoting {
namespace {

using namespace std::chrono_literals;

constexpr int32_t kRecordCode = 110;
constexpr const char* kSecret = "s3cr3t-Never-Printed";

/// A server that keeps every request it receives (as decoded from the wire) and answers it. Thread-safe.
class RecordingServer {
 public:
  RecordingServer() {
    TransportOptions options;
    options.name = "recording-server";
    server_ = std::make_unique<RemotingServer>(options);
    server_->registerHandler(kRecordCode, [this](RemotingCommand req, Responder responder) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        received_.push_back(req);
        client_addr_ = responder.remoteAddress();
        cv_.notify_all();
      }
      responder.respond(RemotingCommand::responseTo(req, response_code::kSuccess));
    });
    EXPECT_TRUE(server_->start("127.0.0.1", 0).isOk());
    addr_ = "127.0.0.1:" + std::to_string(server_->port());
  }
  ~RecordingServer() { server_->shutdown(); }

  const std::string& addr() const { return addr_; }
  RemotingServer& server() { return *server_; }

  /// The n-th request received (0-based), waiting up to 5 s for it.
  RemotingCommand request(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, 5s, [&] { return received_.size() > n; }));
    return received_.size() > n ? received_[n] : RemotingCommand{};
  }
  std::string clientAddr() {
    std::lock_guard<std::mutex> lock(mu_);
    return client_addr_;
  }

 private:
  std::unique_ptr<RemotingServer> server_;
  std::string addr_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<RemotingCommand> received_;  // guarded by mu_
  std::string client_addr_;                // guarded by mu_
};

TransportOptions signingOptions(SerializeType header, std::string token = "") {
  TransportOptions options;
  options.name = "signing-client";
  options.request_serialize_type = header;
  options.credentials = AclCredentials{"rocketrpc-ak", kSecret, std::move(token)};
  return options;
}

RemotingCommand recordRequest() {
  RemotingCommand req = RemotingCommand::request(kRecordCode);
  req.set("topic", "OrderTopic");
  req.set("consumerGroup", "G1");
  req.set("queueId", int64_t{3});
  req.body = "payload bytes";
  return req;
}

class TransportAclTest : public ::testing::TestWithParam<SerializeType> {};

TEST_P(TransportAclTest, SyncAsyncAndOnewayRequestsArriveSignedAndVerify) {
  RecordingServer server;
  RemotingClient client(signingOptions(GetParam()));
  auto sync = client.invokeSync(server.addr(), recordRequest(), 3s);
  ASSERT_TRUE(sync.isOk()) << sync.status().toString();

  std::promise<Status> async_done;
  client.invokeAsync(server.addr(), recordRequest(), 3s,
                     [&](Result<RemotingCommand> r) { async_done.set_value(r.status()); });
  ASSERT_TRUE(async_done.get_future().get().isOk());

  ASSERT_TRUE(client.invokeOneway(server.addr(), recordRequest(), 3s).isOk());

  for (size_t i = 0; i < 3; ++i) {
    RemotingCommand got = server.request(i);
    EXPECT_EQ(got.serialize_type, GetParam()) << "request " << i;
    ASSERT_NE(got.get(kAclAccessKey), nullptr) << "request " << i;
    EXPECT_EQ(*got.get(kAclAccessKey), "rocketrpc-ak");
    EXPECT_EQ(got.get(kAclSecurityToken), nullptr);
    EXPECT_TRUE(aclSignatureMatches(got, kSecret)) << "request " << i;
    EXPECT_FALSE(aclSignatureMatches(got, "another-secret"));
    EXPECT_EQ(*got.get("topic"), "OrderTopic");
  }
  EXPECT_TRUE(server.request(2).isOneway());
}

TEST_P(TransportAclTest, SecurityTokenIsSentAndSigned) {
  RecordingServer server;
  RemotingClient client(signingOptions(GetParam(), "session-token"));
  ASSERT_TRUE(client.invokeSync(server.addr(), recordRequest(), 3s).isOk());
  RemotingCommand got = server.request(0);
  ASSERT_NE(got.get(kAclSecurityToken), nullptr);
  EXPECT_EQ(*got.get(kAclSecurityToken), "session-token");
  EXPECT_TRUE(aclSignatureMatches(got, kSecret));
  got.set(std::string(kAclSecurityToken), "other-token");  // the token is covered by the signature
  EXPECT_FALSE(aclSignatureMatches(got, kSecret));
}

TEST_P(TransportAclTest, ASignatureTheCallerPutThereIsReplaced) {
  RecordingServer server;
  RemotingClient client(signingOptions(GetParam()));
  RemotingCommand req = recordRequest();
  req.set(std::string(kAclSignature), "forged");
  ASSERT_TRUE(client.invokeSync(server.addr(), req, 3s).isOk());
  EXPECT_TRUE(aclSignatureMatches(server.request(0), kSecret));
}

INSTANTIATE_TEST_SUITE_P(Headers, TransportAclTest,
                         ::testing::Values(SerializeType::kJson, SerializeType::kRocketMq),
                         [](const auto& info) { return info.param == SerializeType::kJson ? "Json" : "Binary"; });

TEST(TransportAclPlainTest, WithoutCredentialsNothingIsAdded) {
  RecordingServer server;
  TransportOptions options;
  options.name = "plain-client";
  RemotingClient client(options);
  ASSERT_TRUE(client.invokeSync(server.addr(), recordRequest(), 3s).isOk());
  RemotingCommand got = server.request(0);
  EXPECT_EQ(got.get(kAclAccessKey), nullptr);
  EXPECT_EQ(got.get(kAclSignature), nullptr);
  EXPECT_EQ(got.get(kAclSecurityToken), nullptr);
}

TEST(TransportAclPlainTest, ResponsesToBrokerInitiatedRequestsAreNotSigned) {
  RecordingServer server;
  RemotingClient client(signingOptions(SerializeType::kJson));
  client.registerHandler(request_code::kPushReplyMessageToClient, [](RemotingCommand req, Responder responder) {
    auto resp = RemotingCommand::responseTo(req, response_code::kSuccess);
    resp.set("answer", "42");
    responder.respond(std::move(resp));
  });
  ASSERT_TRUE(client.invokeSync(server.addr(), recordRequest(), 3s).isOk());
  std::promise<Result<RemotingCommand>> pushed;
  server.server().invokeAsync(server.clientAddr(), RemotingCommand::request(request_code::kPushReplyMessageToClient),
                              3s, [&](Result<RemotingCommand> r) { pushed.set_value(std::move(r)); });
  auto resp = pushed.get_future().get();
  ASSERT_TRUE(resp.isOk()) << resp.status().toString();
  EXPECT_EQ(*resp->get("answer"), "42");
  EXPECT_EQ(resp->get(kAclSignature), nullptr);
  EXPECT_EQ(resp->get(kAclAccessKey), nullptr);
}

}  // namespace
}  // namespace rocketrpc::remoting
