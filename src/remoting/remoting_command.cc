#include "remoting/remoting_command.h"

#include <array>
#include <cctype>
#include <limits>

namespace rocketrpc::remoting {
namespace {

// Indexed by LanguageCode value; names as in RocketMQ's LanguageCode enum.
constexpr std::array<std::string_view, 14> kLanguageNames = {
    "JAVA", "CPP", "DOTNET", "PYTHON", "DELPHI", "ERLANG", "RUBY",
    "OTHER", "HTTP", "GO", "PHP", "OMS", "RUST", "NODE_JS",
};

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view languageName(LanguageCode code) {
  auto index = static_cast<size_t>(code);
  return index < kLanguageNames.size() ? kLanguageNames[index] : kLanguageNames[static_cast<size_t>(LanguageCode::kOther)];
}

LanguageCode languageFromName(std::string_view name) {
  for (size_t i = 0; i < kLanguageNames.size(); ++i) {
    if (kLanguageNames[i] == name) return static_cast<LanguageCode>(i);
  }
  return LanguageCode::kOther;
}

std::optional<int64_t> RemotingCommand::getInt(std::string_view key) const {
  const std::string* value = get(key);
  if (value == nullptr || value->empty()) return std::nullopt;
  std::string_view text(*value);
  bool negative = false;
  if (text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
    if (text.empty()) return std::nullopt;
  }
  // Accumulate as a negative number so that INT64_MIN parses without overflow.
  int64_t result = 0;
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    int digit = c - '0';
    if (result < (kMin + digit) / 10) return std::nullopt;
    result = result * 10 - digit;
  }
  if (negative) return result;
  if (result == kMin) return std::nullopt;
  return -result;
}

bool RemotingCommand::getBool(std::string_view key) const {
  const std::string* value = get(key);
  return value != nullptr && equalsIgnoreCase(*value, "true");
}

}  // namespace rocketrpc::remoting
