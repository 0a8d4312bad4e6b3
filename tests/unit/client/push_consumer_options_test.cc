// PushConsumerOptions validation (no broker needed: the constructor validates) and its reply compression knobs.
#include <gtest/gtest.h>

#include <climits>

#include "rocketrpc/push_consumer.h"

namespace rocketrpc {
namespace {

PushConsumerOptions validOptions() {
  PushConsumerOptions o;
  o.namesrv_addr = "127.0.0.1:9876";
  o.group = "OptionsTestGroup";
  return o;
}

TEST(PushConsumerOptionsTest, ReplyCompressionDefaultsAsTheJavaClient) {
  PushConsumerOptions o;
  EXPECT_EQ(o.compress_over, 4096u);
  EXPECT_EQ(o.compress_level, 5);
  EXPECT_EQ(o.header_format, HeaderFormat::kBinary);
}

TEST(PushConsumerOptionsTest, CompressLevelOutsideOneToNineIsRejected) {
  for (int level : {0, 10, -1}) {
    PushConsumerOptions o = validOptions();
    o.compress_level = level;
    try {
      PushConsumer consumer(o);
      ADD_FAILURE() << "level " << level << " accepted";
    } catch (const MQException& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find("compress_level"), std::string::npos) << e.what();
    }
  }
}

TEST(PushConsumerOptionsTest, CompressionCanBeTurnedOff) {
  PushConsumerOptions o = validOptions();
  o.compress_over = SIZE_MAX;
  o.compress_level = 9;
  EXPECT_NO_THROW(PushConsumer consumer(o));
}

TEST(PushConsumerOptionsTest, SendReplyWithCallbackBeforeStartReportsNotStarted) {
  PushConsumer consumer(validOptions());
  bool called = false;
  consumer.sendReply(Message("T", "x"), [&](Outcome<SendResult> out) {
    called = true;
    EXPECT_FALSE(out.ok());
    EXPECT_EQ(out.errorCode(), ErrorCode::kNotStarted);
  });
  EXPECT_TRUE(called);  // on the calling thread: no client threads exist yet
}

}  // namespace
}  // namespace rocketrpc
