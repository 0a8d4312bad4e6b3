// The account file of rocketrpc-broker's ACL, in the format of Apache RocketMQ 4.9's plain_acl.yml
// (docs/design/broker.md, "Access control"), and the pieces it is made of: permission bits, remote-address
// patterns, accounts. Parsing is pure (no I/O, no logging), never throws, and is fuzzed (tests/fuzz/acl_fuzz.cc).
// AclConfig is an immutable value once parsed; share it as shared_ptr<const AclConfig>.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rocketrpc::broker::acl {

/// Permission bits as Apache's org.apache.rocketmq.acl.common.Permission.
namespace perm {
inline constexpr uint8_t kDeny = 1;
inline constexpr uint8_t kAny = 1 << 1;
inline constexpr uint8_t kPub = 1 << 2;
inline constexpr uint8_t kSub = 1 << 3;
}  // namespace perm

/// "PUB", "SUB", "PUB|SUB", "SUB|PUB", "DENY" (surrounding spaces ignored); anything else, and an absent
/// value, is DENY (Apache's Permission.parsePermFromString).
uint8_t parsePerm(std::string_view text);
/// "PUB", "SUB", "PUB|SUB", "DENY" for messages.
std::string permName(uint8_t perm);
/// Apache's Permission.checkPermission: DENY in `owned` refuses everything; otherwise any needed bit owned.
bool permits(uint8_t needed, uint8_t owned);

/// "%RETRY%": the retry topic of group G is "%RETRY%G"; group permissions are kept under that name, as Apache
/// keeps them.
inline constexpr std::string_view kRetryTopicPrefix = "%RETRY%";
inline std::string retryTopicOf(std::string_view group) { return std::string(kRetryTopicPrefix) + std::string(group); }

/// One remote-address pattern of a white list (Apache's RemoteAddressStrategyFactory):
///   blank                       matches nothing
///   "*", "*.*.*.*"              matches every address (IPv4 and IPv6)
///   "192.168.0.{1,2}"           the listed last octets
///   "192.168.0.1,192.168.0.2"   the listed addresses
///   "192.168.1.1-100", "10.10.*.*", "10.10.1-5.*"   one octet in a range (or any), octets before it exact,
///                               octets after it "*"
///   "192.168.0.1", "::1"        exactly that address (IPv6 compared in canonical form)
/// IPv6 ranges are not supported (a parse error).
class AddressPattern {
 public:
  /// InvalidArgument naming the pattern when it is malformed.
  static Result<AddressPattern> parse(std::string_view text);
  /// `host` is the remote address without port ("127.0.0.1", "::1").
  bool matches(std::string_view host) const;
  const std::string& text() const { return text_; }

 private:
  enum class Kind { kNone, kAll, kSet, kRange };
  Kind kind_ = Kind::kNone;
  std::string text_;
  std::vector<std::string> set_;  // canonical addresses (kSet; also a single exact address)
  std::string head_;              // kRange: "a.b." before the ranged octet, including the dot
  int index_ = 0;                 // kRange: position of the ranged octet (1..3)
  int lo_ = 0;
  int hi_ = 0;
};

/// One entry of `accounts`.
struct AclAccount {
  std::string access_key;
  std::string secret_key;  // never logged, never in a message
  AddressPattern white_remote_address;
  bool admin = false;
  uint8_t default_topic_perm = perm::kDeny;
  uint8_t default_group_perm = perm::kDeny;
  /// Topic name -> perm; groups are stored under their retry topic "%RETRY%<group>".
  std::map<std::string, uint8_t, std::less<>> resource_perms;
};

struct AclConfig {
  std::vector<AddressPattern> global_white_remote_addresses;
  std::map<std::string, AclAccount, std::less<>> accounts;  // by access key

  const AclAccount* find(std::string_view access_key) const {
    auto it = accounts.find(access_key);
    return it == accounts.end() ? nullptr : &it->second;
  }
};

/// Largest account file accepted, in bytes.
inline constexpr size_t kMaxAclFileBytes = 4 * 1024 * 1024;

/// Parses plain_acl.yml text. Errors (InvalidArgument) name the offending entry by position and access key,
/// never a secret key: not YAML, a top level that is not a map, an account without accessKey/secretKey or with
/// one of 6 characters or fewer (Apache's rule), a duplicate accessKey, a malformed address pattern, a
/// topicPerms/groupPerms entry that is not "name=PERM". Unknown keys are ignored (Apache ignores them too).
Result<AclConfig> parseAclConfig(std::string_view yaml_text);

}  // namespace rocketrpc::broker::acl
