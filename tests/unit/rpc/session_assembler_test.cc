// Server-side assembly of streaming sessions: order by sequence number, duplicates, ends that arrive before
// their messages, gaps, idle expiry, max sessions and per-session bounds.
#include "rpc/session_assembler.h"

#include <gtest/gtest.h>

namespace rocketrpc::rpc {
namespace {

using namespace std::chrono_literals;
using Clock = SessionAssembler::Clock;
using Kind = EndAction::Kind;

MessageExt endRequest(const std::string& cid) {
  MessageExt m;
  m.putProperty("CORRELATION_ID", cid);
  return m;
}

class SessionAssemblerTest : public ::testing::Test {
 protected:
  SessionLimits limits() {
    SessionLimits l;
    l.max_sessions = 2;
    l.max_bytes = 10;
    l.max_messages = 4;
    l.idle_timeout = 1000ms;
    l.gap_timeout = 100ms;
    l.max_tombstones = 100;
    return l;
  }
  Clock::time_point t0 = Clock::now();
};

TEST_F(SessionAssemblerTest, InOrderMessagesCompleteAtEnd) {
  SessionAssembler a(limits());
  a.onStart("s", t0);
  EXPECT_EQ(a.onMessage("s", 0, "a", t0).kind, Kind::kNone);
  EXPECT_EQ(a.onMessage("s", 1, "b", t0).kind, Kind::kNone);
  EndAction e = a.onEnd("s", 2, endRequest("c1"), t0);
  ASSERT_EQ(e.kind, Kind::kProcess);
  EXPECT_EQ(e.session_id, "s");
  EXPECT_EQ(e.messages, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(e.end.getProperty("CORRELATION_ID"), "c1");
  EXPECT_EQ(a.counters().completed, 1u);
  EXPECT_EQ(a.counters().open, 0u);
}

TEST_F(SessionAssemblerTest, OutOfOrderAndEarlyEndAreReassembled) {
  SessionAssembler a(limits());
  EXPECT_EQ(a.onMessage("s", 2, "c", t0).kind, Kind::kNone);
  EXPECT_EQ(a.onEnd("s", 3, endRequest("c1"), t0).kind, Kind::kNone);  // parked: 0 and 1 missing
  EXPECT_EQ(a.onMessage("s", 0, "a", t0).kind, Kind::kNone);
  EndAction e = a.onMessage("s", 1, "b", t0);
  ASSERT_EQ(e.kind, Kind::kProcess);
  EXPECT_EQ(e.messages, (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(SessionAssemblerTest, DuplicatesAreIgnored) {
  SessionAssembler a(limits());
  a.onMessage("s", 0, "a", t0);
  a.onMessage("s", 0, "a", t0);
  EndAction e = a.onEnd("s", 1, endRequest("c"), t0);
  ASSERT_EQ(e.kind, Kind::kProcess);
  EXPECT_EQ(e.messages.size(), 1u);
  EXPECT_EQ(a.counters().duplicates, 1u);
}

TEST_F(SessionAssemblerTest, EmptySessionCompletesAtOnce) {
  SessionAssembler a(limits());
  a.onStart("s", t0);
  EndAction e = a.onEnd("s", 0, endRequest("c"), t0);
  ASSERT_EQ(e.kind, Kind::kProcess);
  EXPECT_TRUE(e.messages.empty());
}

TEST_F(SessionAssemblerTest, GapIsReportedAfterGapTimeout) {
  SessionAssembler a(limits());
  a.onMessage("s", 0, "a", t0);
  a.onMessage("s", 2, "c", t0);
  EXPECT_EQ(a.onEnd("s", 3, endRequest("c"), t0).kind, Kind::kNone);
  EXPECT_TRUE(a.sweep(t0 + 50ms).empty());
  auto actions = a.sweep(t0 + 150ms);
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, Kind::kError);
  EXPECT_EQ(actions[0].error_kind, ReplyErrorKind::kSession);
  EXPECT_NE(actions[0].error.find("first gap at sequence 1"), std::string::npos) << actions[0].error;
  EXPECT_NE(actions[0].error.find("received 2 of 3"), std::string::npos);
  // A late message of the ended session is dropped, not reassembled.
  EXPECT_EQ(a.onMessage("s", 1, "b", t0 + 200ms).kind, Kind::kNone);
  EXPECT_EQ(a.counters().open, 0u);
}

TEST_F(SessionAssemblerTest, IdleSessionsExpireAndTheirEndIsASessionError) {
  SessionAssembler a(limits());
  a.onStart("s", t0);
  a.onMessage("s", 0, "a", t0 + 500ms);
  EXPECT_TRUE(a.sweep(t0 + 1200ms).empty());  // 700 ms idle: still open
  EXPECT_EQ(a.counters().open, 1u);
  a.sweep(t0 + 1600ms);
  EXPECT_EQ(a.counters().expired, 1u);
  EXPECT_EQ(a.counters().open, 0u);
  EndAction e = a.onEnd("s", 1, endRequest("c"), t0 + 1700ms);
  ASSERT_EQ(e.kind, Kind::kError);
  EXPECT_EQ(e.error_kind, ReplyErrorKind::kSession);
  EXPECT_NE(e.error.find("expired"), std::string::npos);
  // Its end was answered: a second end sees "already ended".
  EndAction again = a.onEnd("s", 1, endRequest("c2"), t0 + 1800ms);
  EXPECT_NE(again.error.find("already ended"), std::string::npos);
}

TEST_F(SessionAssemblerTest, EndedSessionRejectsSecondEndAndDropsLateMessages) {
  SessionAssembler a(limits());
  a.onMessage("s", 0, "a", t0);
  ASSERT_EQ(a.onEnd("s", 1, endRequest("c"), t0).kind, Kind::kProcess);
  EXPECT_EQ(a.onMessage("s", 1, "late", t0).kind, Kind::kNone);
  EXPECT_EQ(a.counters().dropped, 1u);
  EndAction e = a.onEnd("s", 1, endRequest("c2"), t0);
  ASSERT_EQ(e.kind, Kind::kError);
  EXPECT_EQ(e.error_kind, ReplyErrorKind::kSession);
}

TEST_F(SessionAssemblerTest, MaxSessionsRefusesAndAnswersEndWithOverLimit) {
  SessionAssembler a(limits());
  a.onStart("s1", t0);
  a.onStart("s2", t0);
  a.onStart("s3", t0);  // refused
  a.onMessage("s3", 0, "x", t0);
  EXPECT_EQ(a.counters().rejected, 1u);
  EXPECT_EQ(a.counters().open, 2u);
  EndAction e = a.onEnd("s3", 1, endRequest("c"), t0);
  ASSERT_EQ(e.kind, Kind::kError);
  EXPECT_EQ(e.error_kind, ReplyErrorKind::kOverLimit);
  EXPECT_NE(e.error.find("max-concurrent-sessions (2)"), std::string::npos);
}

TEST_F(SessionAssemblerTest, ByteBoundFreesTheBufferAndAnswersWithOverLimit) {
  SessionAssembler a(limits());
  a.onMessage("s", 0, "123456", t0);
  a.onMessage("s", 1, "123456", t0);  // 12 bytes > 10
  EXPECT_EQ(a.counters().overflows, 1u);
  EXPECT_EQ(a.counters().open, 0u);  // buffer freed
  a.onMessage("s", 2, "x", t0);      // dropped, no new buffer
  EXPECT_EQ(a.counters().open, 0u);
  EndAction e = a.onEnd("s", 3, endRequest("c"), t0);
  ASSERT_EQ(e.kind, Kind::kError);
  EXPECT_EQ(e.error_kind, ReplyErrorKind::kOverLimit);
  EXPECT_NE(e.error.find("max-session-bytes"), std::string::npos);
}

TEST_F(SessionAssemblerTest, MessageBoundWithParkedEndAnswersAtOnce) {
  SessionAssembler a(limits());
  EXPECT_EQ(a.onEnd("s", 6, endRequest("c"), t0).kind, Kind::kNone);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(a.onMessage("s", i, "", t0).kind, Kind::kNone);
  EndAction e = a.onMessage("s", 4, "", t0);  // fifth message > max 4
  ASSERT_EQ(e.kind, Kind::kError);
  EXPECT_EQ(e.error_kind, ReplyErrorKind::kOverLimit);
  EXPECT_NE(e.error.find("max-session-messages"), std::string::npos);
}

TEST_F(SessionAssemblerTest, MessagesBeyondTheAnnouncedCountAreDropped) {
  SessionAssembler a(limits());
  a.onMessage("s", 0, "a", t0);
  a.onMessage("s", 5, "z", t0);
  EndAction e = a.onEnd("s", 1, endRequest("c"), t0);
  ASSERT_EQ(e.kind, Kind::kProcess);
  EXPECT_EQ(e.messages, (std::vector<std::string>{"a"}));
}

}  // namespace
}  // namespace rocketrpc::rpc
