#include "rpc/session_assembler.h"

#include <fmt/format.h>

namespace rocketrpc::rpc {

SessionAssembler::SessionAssembler(SessionLimits limits) : limits_(limits) {}

void SessionAssembler::bury(const std::string& id, Closed why, std::string detail) {
  auto [it, inserted] = tombstones_.insert_or_assign(id, Tombstone{why, std::move(detail)});
  if (inserted) tombstone_order_.push_back(id);
  while (tombstone_order_.size() > limits_.max_tombstones) {
    tombstones_.erase(tombstone_order_.front());
    tombstone_order_.pop_front();
  }
}

SessionAssembler::Session* SessionAssembler::openLocked(const std::string& id, Clock::time_point now,
                                                        const Tombstone** closed) {
  *closed = nullptr;
  auto it = sessions_.find(id);
  if (it != sessions_.end()) return &it->second;
  auto t = tombstones_.find(id);
  if (t != tombstones_.end()) {
    *closed = &t->second;
    return nullptr;
  }
  if (sessions_.size() >= limits_.max_sessions) {
    ++counters_.rejected;
    bury(id, Closed::kRejected,
         fmt::format("session {} refused: the server already assembles max-concurrent-sessions ({}) sessions",
                     id, limits_.max_sessions));
    *closed = &tombstones_.at(id);
    return nullptr;
  }
  Session& s = sessions_[id];
  s.last_activity = now;
  return &s;
}

void SessionAssembler::onStart(const std::string& id, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  const Tombstone* closed = nullptr;
  if (Session* s = openLocked(id, now, &closed)) s->last_activity = now;
}

EndAction SessionAssembler::onMessage(const std::string& id, int64_t seq, std::string payload,
                                      Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  ++counters_.messages;
  const Tombstone* closed = nullptr;
  Session* s = openLocked(id, now, &closed);
  if (!s) {
    ++counters_.dropped;
    return {};
  }
  s->last_activity = now;
  if (s->parked && seq >= s->parked->count) {  // beyond what the end announced: not part of the session
    ++counters_.dropped;
    return {};
  }
  if (s->parts.count(seq)) {
    ++counters_.duplicates;
    return {};
  }
  if (s->bytes + payload.size() > limits_.max_bytes || s->parts.size() + 1 > limits_.max_messages) {
    ++counters_.overflows;
    std::string why =
        s->bytes + payload.size() > limits_.max_bytes
            ? fmt::format("session {} exceeded max-session-bytes ({} bytes); its messages were discarded", id,
                          limits_.max_bytes)
            : fmt::format("session {} exceeded max-session-messages ({}); its messages were discarded", id,
                          limits_.max_messages);
    std::optional<Parked> parked = std::move(s->parked);
    sessions_.erase(id);
    bury(id, Closed::kOverflow, why);
    if (parked) {
      EndAction a;
      a.kind = EndAction::Kind::kError;
      a.session_id = id;
      a.end = std::move(parked->end);
      a.error_kind = ReplyErrorKind::kOverLimit;
      a.error = why;
      bury(id, Closed::kEnded, "session " + id + " has already ended");
      return a;
    }
    return {};
  }
  s->bytes += payload.size();
  s->parts.emplace(seq, std::move(payload));
  if (s->parked) return tryCompleteLocked(id, *s);
  return {};
}

EndAction SessionAssembler::tryCompleteLocked(const std::string& id, Session& s) {
  const int64_t count = s.parked->count;
  // Keys are unique and >= 0; those >= count were removed when the end arrived and are refused after.
  if (static_cast<int64_t>(s.parts.size()) != count) return {};
  EndAction a;
  a.kind = EndAction::Kind::kProcess;
  a.session_id = id;
  a.end = std::move(s.parked->end);
  a.messages.reserve(s.parts.size());
  for (auto& [seq, payload] : s.parts) a.messages.push_back(std::move(payload));
  sessions_.erase(id);
  ++counters_.completed;
  bury(id, Closed::kEnded, "session " + id + " has already ended");
  return a;
}

EndAction SessionAssembler::errorForTombstone(const std::string& id, const Tombstone& t,
                                              const MessageExt& end) {
  EndAction a;
  a.kind = EndAction::Kind::kError;
  a.session_id = id;
  a.end = end;
  a.error = t.detail;
  a.error_kind = (t.why == Closed::kRejected || t.why == Closed::kOverflow) ? ReplyErrorKind::kOverLimit
                                                                            : ReplyErrorKind::kSession;
  return a;
}

EndAction SessionAssembler::onEnd(const std::string& id, int64_t count, const MessageExt& end,
                                  Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto t = tombstones_.find(id);
  if (t != tombstones_.end() && !sessions_.count(id)) {
    EndAction a = errorForTombstone(id, t->second, end);
    if (t->second.why != Closed::kEnded) bury(id, Closed::kEnded, "session " + id + " has already ended");
    return a;
  }
  const Tombstone* closed = nullptr;
  Session* s = openLocked(id, now, &closed);
  if (!s) return errorForTombstone(id, *closed, end);
  if (s->parked) {  // a second end with another correlation id: answer it as ended
    EndAction a;
    a.kind = EndAction::Kind::kError;
    a.session_id = id;
    a.end = end;
    a.error = "session " + id + " is already ending";
    return a;
  }
  for (auto it = s->parts.lower_bound(count); it != s->parts.end();) {
    s->bytes -= it->second.size();
    it = s->parts.erase(it);
    ++counters_.dropped;
  }
  s->last_activity = now;
  s->parked = Parked{end, count, now};
  return tryCompleteLocked(id, *s);
}

std::vector<EndAction> SessionAssembler::sweep(Clock::time_point now) {
  std::vector<EndAction> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    Session& s = it->second;
    const std::string id = it->first;
    if (s.parked && now - s.parked->since >= limits_.gap_timeout) {
      int64_t missing = -1;
      for (int64_t i = 0; i < s.parked->count; ++i) {
        if (!s.parts.count(i)) {
          missing = i;
          break;
        }
      }
      EndAction a;
      a.kind = EndAction::Kind::kError;
      a.session_id = id;
      a.end = std::move(s.parked->end);
      a.error_kind = ReplyErrorKind::kSession;
      a.error = fmt::format(
          "session {}: messages missing (first gap at sequence {}): received {} of {} within {} ms; the "
          "session is "
          "unknown here, or messages were lost or went to another server",
          id, missing, s.parts.size(), s.parked->count, limits_.gap_timeout.count());
      out.push_back(std::move(a));
      ++counters_.gaps;
      it = sessions_.erase(it);
      bury(id, Closed::kEnded, "session " + id + " has already ended");
      continue;
    }
    if (!s.parked && now - s.last_activity >= limits_.idle_timeout) {
      ++counters_.expired;
      it = sessions_.erase(it);
      bury(id, Closed::kExpired,
           fmt::format("session {} expired on the server after {} ms without messages", id,
                       limits_.idle_timeout.count()));
      continue;
    }
    ++it;
  }
  return out;
}

void SessionAssembler::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.clear();
  tombstones_.clear();
  tombstone_order_.clear();
}

SessionCounters SessionAssembler::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  SessionCounters c = counters_;
  c.open = sessions_.size();
  return c;
}

}  // namespace rocketrpc::rpc
