#include "remoting/protocol/names.h"

#include <algorithm>
#include <cstdint>

namespace rocketrpc::remoting {

namespace {

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '%' || c == '|' ||
         c == '_' || c == '-';
}

bool isPrintableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

Status checkPattern(std::string_view what, std::string_view value, size_t max_len) {
  if (value.empty()) return Status::invalidArgument("The specified " + std::string(what) + " is blank.");
  if (!hasOnlyNameCharacters(value)) {
    return Status::invalidArgument("The specified " + std::string(what) + "[" + printableBytes(value) +
                                   "] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$");
  }
  if (value.size() > max_len) {
    return Status::invalidArgument("The specified " + std::string(what) + "[" + printableBytes(value, 40) +
                                   "...] is longer than " + std::string(what) + " max length " +
                                   std::to_string(max_len) + ".");
  }
  return Status::ok();
}

Status checkToken(std::string_view what, std::string_view value) {
  if (value.empty()) return Status::invalidArgument("The specified " + std::string(what) + " is blank.");
  if (!isPrintableAscii(value)) {
    return Status::invalidArgument("The specified " + std::string(what) + "[" + printableBytes(value) +
                                   "] contains characters outside printable ASCII");
  }
  if (value.size() > kMaxTokenLength) {
    return Status::invalidArgument("The specified " + std::string(what) + " is longer than " +
                                   std::to_string(kMaxTokenLength) + " characters.");
  }
  return Status::ok();
}

size_t topicLimit(std::string_view topic) {
  return topic.starts_with(kRetryTopicPrefix) || topic.starts_with(kDlqTopicPrefix) ? kMaxDerivedTopicLength
                                                                                    : kMaxTopicLength;
}

}  // namespace

std::string_view nameKindLabel(NameKind kind) {
  switch (kind) {
    case NameKind::kTopic:
      return "topic";
    case NameKind::kGroup:
      return "group";
    case NameKind::kClientId:
      return "clientId";
    case NameKind::kBrokerName:
      return "brokerName";
    case NameKind::kMessageKeys:
      return "keys";
    case NameKind::kFilterType:
      return "topicFilterType";
  }
  return "name";
}

bool hasOnlyNameCharacters(std::string_view name) { return std::all_of(name.begin(), name.end(), isNameChar); }

bool isValidTopicName(std::string_view topic) {
  return !topic.empty() && topic.size() <= topicLimit(topic) && hasOnlyNameCharacters(topic);
}

bool isValidGroupName(std::string_view group) {
  return !group.empty() && group.size() <= kMaxGroupLength && hasOnlyNameCharacters(group);
}

bool isValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n + 1;
  }
  return true;
}

Status checkName(NameKind kind, std::string_view value) {
  switch (kind) {
    case NameKind::kTopic:
      return checkPattern("topic", value, topicLimit(value));
    case NameKind::kGroup:
      return checkPattern("group", value, kMaxGroupLength);
    case NameKind::kClientId:
      return checkToken("clientId", value);
    case NameKind::kBrokerName:
      return checkToken("brokerName", value);
    case NameKind::kMessageKeys: {
      const bool control = std::any_of(value.begin(), value.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
      });
      if (control || !isValidUtf8(value)) {
        return Status::invalidArgument("The specified message keys[" + printableBytes(value) +
                                       "] are not valid UTF-8 text");
      }
      return Status::ok();
    }
    case NameKind::kFilterType:
      if (value == "SINGLE_TAG" || value == "MULTI_TAG") return Status::ok();
      return Status::invalidArgument("The specified topicFilterType[" + printableBytes(value) +
                                     "] is neither SINGLE_TAG nor MULTI_TAG");
  }
  return Status::invalidArgument("unknown name kind");
}

std::string printableBytes(std::string_view bytes, size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char ch : bytes) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += ch;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace rocketrpc::remoting
