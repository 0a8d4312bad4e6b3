// SessionAssembler: the server side of streaming sessions. Collects the messages of each session by sequence
// number (they may be consumed out of order or twice: the consumer is concurrent and redelivers), and decides
// when a session's `end` can be answered: at once when every message 0..count-1 is there, later when the
// missing ones arrive, or with a gap error after stream-gap-timeout. Enforces max-concurrent-sessions, the
// per-session bounds (bytes, messages) and the idle timeout; ended, expired, rejected and overflowed sessions
// leave a bounded tombstone so that late messages are dropped and their end gets the right error.
// Thread-safe; never calls user code (the caller runs the returned actions outside its lock).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "rocketrpc/message.h"
#include "rpc/wire.h"

namespace rocketrpc::rpc {

struct SessionLimits {
  size_t max_sessions = 1000;
  size_t max_bytes = 16 * 1024 * 1024;
  size_t max_messages = 100000;
  std::chrono::milliseconds idle_timeout{120000};
  std::chrono::milliseconds gap_timeout{5000};
  size_t max_tombstones = 100000;
};

/// What to do with a session's end request.
struct EndAction {
  enum class Kind { kNone, kProcess, kError };
  Kind kind = Kind::kNone;
  std::string session_id;
  MessageExt end;                                        // the end request to answer
  std::vector<std::string> messages;                     // kProcess: in sequence order
  ReplyErrorKind error_kind = ReplyErrorKind::kSession;  // kError
  std::string error;                                     // kError
};

struct SessionCounters {
  uint64_t open = 0;
  uint64_t completed = 0;
  uint64_t expired = 0;
  uint64_t rejected = 0;
  uint64_t overflows = 0;
  uint64_t messages = 0;
  uint64_t duplicates = 0;
  uint64_t dropped = 0;
  uint64_t gaps = 0;
};

class SessionAssembler {
 public:
  using Clock = std::chrono::steady_clock;
  explicit SessionAssembler(SessionLimits limits);

  /// A `start` message: opens the session (or refreshes it).
  void onStart(const std::string& id, Clock::time_point now);
  /// A `msg` with its sequence number; may complete a parked end.
  EndAction onMessage(const std::string& id, int64_t seq, std::string payload, Clock::time_point now);
  /// The `end` request with the number of messages the client sent.
  EndAction onEnd(const std::string& id, int64_t count, const MessageExt& end, Clock::time_point now);
  /// Expires idle sessions and answers parked ends whose gap timed out.
  std::vector<EndAction> sweep(Clock::time_point now);
  /// Drops every session (server closing).
  void clear();
  SessionCounters counters() const;

 private:
  struct Parked {
    MessageExt end;
    int64_t count = 0;
    Clock::time_point since;
  };
  struct Session {
    std::map<int64_t, std::string> parts;
    size_t bytes = 0;
    Clock::time_point last_activity;
    std::optional<Parked> parked;
  };
  enum class Closed { kEnded, kExpired, kRejected, kOverflow };
  struct Tombstone {
    Closed why;
    std::string detail;
  };

  /// The session to add to, creating it; nullptr (with the tombstone set) when it is closed or refused.
  Session* openLocked(const std::string& id, Clock::time_point now, const Tombstone** closed);
  void bury(const std::string& id, Closed why, std::string detail);
  EndAction tryCompleteLocked(const std::string& id, Session& s);
  EndAction errorForTombstone(const std::string& id, const Tombstone& t, const MessageExt& end);

  const SessionLimits limits_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Session> sessions_;
  std::unordered_map<std::string, Tombstone> tombstones_;
  std::deque<std::string> tombstone_order_;
  SessionCounters counters_;
};

}  // namespace rocketrpc::rpc
