#include "rpc/wire.h"

#include <algorithm>
#include <charconv>

#include "common/random_id.h"

#include "remoting/protocol/message_codec.h"

namespace rocketrpc::rpc {

namespace {
constexpr std::string_view kHandlerMark = "[Handler] ";
constexpr std::string_view kOverLimitMark = "[OverLimit] ";
constexpr std::string_view kSessionMark = "[Session] ";

bool startsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
}  // namespace

std::string encodeErrorText(ReplyErrorKind kind, std::string_view text) {
  switch (kind) {
    case ReplyErrorKind::kOverLimit:
      return std::string(kOverLimitMark) + std::string(text);
    case ReplyErrorKind::kSession:
      return std::string(kSessionMark) + std::string(text);
    case ReplyErrorKind::kHandler:
      break;
  }
  if (startsWith(text, kHandlerMark) || startsWith(text, kOverLimitMark) || startsWith(text, kSessionMark)) {
    return std::string(kHandlerMark) + std::string(text);
  }
  return std::string(text);
}

std::pair<ReplyErrorKind, std::string> decodeErrorText(std::string_view text) {
  if (startsWith(text, kOverLimitMark)) {
    return {ReplyErrorKind::kOverLimit, std::string(text.substr(kOverLimitMark.size()))};
  }
  if (startsWith(text, kSessionMark))
    return {ReplyErrorKind::kSession, std::string(text.substr(kSessionMark.size()))};
  if (startsWith(text, kHandlerMark))
    return {ReplyErrorKind::kHandler, std::string(text.substr(kHandlerMark.size()))};
  return {ReplyErrorKind::kHandler, std::string(text)};
}

std::string_view errorKindName(ReplyErrorKind kind) {
  switch (kind) {
    case ReplyErrorKind::kHandler:
      return "Handler";
    case ReplyErrorKind::kOverLimit:
      return "OverLimit";
    case ReplyErrorKind::kSession:
      return "Session";
  }
  return "Handler";
}

int64_t nowEpochMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<int64_t> parseNonNegative(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

int64_t ttlBudgetMs(int64_t ttl, std::string_view uniq_key) {
  if (!remoting::isGoClientUniqId(uniq_key)) return ttl;
  // int(ttl.Seconds()) truncates: a 500 ms request says 0, a 3.9 s one says 3. The end of the second keeps
  // every live request; serving one up to a second after its requester gave up only costs the work.
  constexpr int64_t kMaxSeconds = 1'000'000'000'000;  // far past any real budget; keeps the sum in range
  return (std::min(ttl, kMaxSeconds) + 1) * 1000;
}

std::optional<int64_t> requestDeadlineMs(const MessageExt& msg) {
  // Views into the property map, no copies: this runs for every request.
  const auto& props = msg.properties();
  auto view = [&props](std::string_view name) -> std::string_view {
    auto it = props.find(name);
    return it == props.end() ? std::string_view() : std::string_view(it->second);
  };
  if (auto d = parseNonNegative(view(prop::kDeadline))) return d;
  auto ttl = parseNonNegative(view(property::kTtl));
  if (ttl && msg.bornTimestamp() > 0) {
    return msg.bornTimestamp() + ttlBudgetMs(*ttl, view(property::kUniqClientMessageId));
  }
  return std::nullopt;
}

std::string newUuid() { return newRandomId(); }

void setPayload(Message& m, std::string_view payload) {
  if (payload.empty()) {
    m.setBody(std::string(kEmptyBody));
    m.putProperty(prop::kEmpty, "1");
  } else {
    m.setBody(std::string(payload));
  }
}

std::string_view payloadOf(const Message& m) {
  if (m.hasProperty(prop::kEmpty) && m.getProperty(prop::kEmpty) == "1") return {};
  return m.body();
}

}  // namespace rocketrpc::rpc
