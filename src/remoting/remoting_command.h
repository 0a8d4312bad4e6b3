// RemotingCommand: one request or response of RocketMQ's remoting protocol (docs/design/wire-protocol.md).
// A plain value type (thread-compatible). Wire names (opaque, extFields, remark) appear only in the codecs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "remoting/header_fields.h"

namespace rocketrpc::remoting {

enum class SerializeType : uint8_t { kJson = 0, kRocketMq = 1 };

/// LanguageCode of the sender; we always send kCpp.
enum class LanguageCode : uint8_t {
  kJava = 0, kCpp = 1, kDotnet = 2, kPython = 3, kDelphi = 4, kErlang = 5, kRuby = 6, kOther = 7,
  kHttp = 8, kGo = 9, kPhp = 10, kOms = 11, kRust = 12, kNodeJs = 13,
};
std::string_view languageName(LanguageCode code);
/// Unknown names map to kOther.
LanguageCode languageFromName(std::string_view name);

/// MQVersion ordinal we send: V4_9_8. >= 401 makes name servers answer routes in standard JSON.
inline constexpr int32_t kDefaultVersion = 409;
inline constexpr int32_t kFlagResponse = 0x1;
inline constexpr int32_t kFlagOneway = 0x2;

struct RemotingCommand {
  int32_t code = 0;
  LanguageCode language = LanguageCode::kCpp;
  int32_t version = kDefaultVersion;
  int32_t opaque = 0;
  int32_t flag = 0;
  std::optional<std::string> remark;
  /// The custom header: every value is a string on the wire.
  HeaderFields ext_fields;
  std::string body;
  /// Header encoding used when this command is written.
  SerializeType serialize_type = SerializeType::kJson;

  static RemotingCommand request(int32_t code) {
    RemotingCommand c;
    c.code = code;
    return c;
  }
  /// A response to `req` (opaque copied, RESPONSE flag set, header encoded as the request's was: Apache
  /// RocketMQ 4.9's NettyRemotingAbstract answers in the request's serialize type too).
  static RemotingCommand responseTo(const RemotingCommand& req, int32_t code, std::string remark = {}) {
    RemotingCommand c;
    c.code = code;
    c.opaque = req.opaque;
    c.flag = kFlagResponse;
    c.serialize_type = req.serialize_type;
    if (!remark.empty()) c.remark = std::move(remark);
    return c;
  }

  bool isResponse() const { return (flag & kFlagResponse) != 0; }
  bool isOneway() const { return (flag & kFlagOneway) != 0; }
  void markOneway() { flag |= kFlagOneway; }

  void set(std::string key, std::string value) { ext_fields[std::move(key)] = std::move(value); }
  void set(std::string key, int64_t value) { ext_fields[std::move(key)] = std::to_string(value); }
  void setBool(std::string key, bool value) { ext_fields[std::move(key)] = value ? "true" : "false"; }
  /// Null when absent.
  const std::string* get(std::string_view key) const {
    auto it = ext_fields.find(key);
    return it == ext_fields.end() ? nullptr : &it->second;
  }
  /// Absent or not a decimal integer -> nullopt.
  std::optional<int64_t> getInt(std::string_view key) const;
  /// Java Boolean.parseBoolean semantics: true only for "true" (any case).
  bool getBool(std::string_view key) const;
  const std::string& remarkOrEmpty() const {
    static const std::string kEmpty;
    return remark ? *remark : kEmpty;
  }
};

}  // namespace rocketrpc::remoting
