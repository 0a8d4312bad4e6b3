// The one validator of the names RocketMQ requests carry (topics, groups, client ids, broker names, message keys,
// filter types), shared by the client, the RPC layer, the broker and the store. Rules are Apache RocketMQ's
// (4.9 Validators / TopicValidator): topics and groups are ^[%|a-zA-Z0-9_-]+$, a topic at most 127 characters
// (255 for the %RETRY% and %DLQ% topics a broker derives from a group), a group at most 255. Names Apache leaves
// free-form get the loosest rule that keeps them safe to log, to write into JSON and to use as a map key:
// printable ASCII for client ids and broker names, valid UTF-8 for message keys. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rocketrpc::remoting {

inline constexpr size_t kMaxTopicLength = 127;         // Apache TopicValidator.TOPIC_MAX_LENGTH
inline constexpr size_t kMaxDerivedTopicLength = 255;  // %RETRY%<group>, %DLQ%<group>
inline constexpr size_t kMaxGroupLength = 255;         // Apache Validators.CHARACTER_MAX_LENGTH
inline constexpr size_t kMaxTokenLength = 255;         // client ids, broker names
inline constexpr std::string_view kRetryTopicPrefix = "%RETRY%";
inline constexpr std::string_view kDlqTopicPrefix = "%DLQ%";

enum class NameKind {
  kTopic,        // ^[%|a-zA-Z0-9_-]+$, <= 127 (<= 255 with a %RETRY% / %DLQ% prefix)
  kGroup,        // ^[%|a-zA-Z0-9_-]+$, <= 255 (consumer and producer groups)
  kClientId,     // printable ASCII, 1..255 ("ip@instance", "ip@pid#nanos", ...)
  kBrokerName,   // printable ASCII, 1..255
  kMessageKeys,  // the KEYS property: valid UTF-8 without control characters (may be empty)
  kFilterType,   // topicFilterType: SINGLE_TAG or MULTI_TAG
};

/// "topic", "group", ... (used in error texts).
std::string_view nameKindLabel(NameKind kind);

/// True when every character is one of [%|a-zA-Z0-9_-] (an empty name qualifies; lengths are checked apart).
bool hasOnlyNameCharacters(std::string_view name);
/// Topic rules (kTopic).
bool isValidTopicName(std::string_view topic);
/// Group rules (kGroup).
bool isValidGroupName(std::string_view group);
/// RFC 3629 UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool isValidUtf8(std::string_view text);

/// OK, or InvalidArgument whose message says which rule `value` breaks, in Apache's wording where Apache has
/// one ("The specified topic[...] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$"). The value
/// is quoted with printableBytes, so the message is safe to log and to send.
Status checkName(NameKind kind, std::string_view value);

/// `bytes` with every byte outside printable ASCII written as \xNN, cut to about `max` characters.
std::string printableBytes(std::string_view bytes, size_t max = 300);

}  // namespace rocketrpc::remoting
