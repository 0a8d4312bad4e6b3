#include "broker/acl/acl_config.h"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <exception>

namespace rocketrpc::broker::acl {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    size_t at = s.find(sep);
    out.push_back(trim(s.substr(0, at)));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

// A decimal 0..255 of 1..3 digits; -1 otherwise.
int octet(std::string_view s) {
  if (s.empty() || s.size() > 3) return -1;
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0 || v > 255) return -1;
  return v;
}

// The canonical text of an IPv4 or IPv6 address ("::1", "10.0.0.1"), empty when `s` is neither.
std::string canonicalAddress(std::string_view s) {
  std::string text(trim(s));
  if (text.empty() || text.size() > 64) return {};
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (text.find(':') == std::string::npos) {
    auto parts = split(text, '.');
    if (parts.size() != 4) return {};
    std::string canon;
    for (size_t i = 0; i < 4; ++i) {
      int v = octet(parts[i]);
      if (v < 0) return {};
      canon += (i ? "." : "") + std::to_string(v);
    }
    return canon;
  }
  if (inet_pton(AF_INET6, text.c_str(), buf) != 1) return {};
  if (inet_ntop(AF_INET6, buf, out, sizeof(out)) == nullptr) return {};
  return out;
}

Status badPattern(std::string_view text, std::string_view why) {
  return Status::invalidArgument("bad remote address pattern '" + std::string(text) + "': " + std::string(why));
}

}  // namespace

uint8_t parsePerm(std::string_view text) {
  text = trim(text);
  if (text == "PUB") return perm::kPub;
  if (text == "SUB") return perm::kSub;
  if (text == "PUB|SUB" || text == "SUB|PUB") return perm::kPub | perm::kSub;
  return perm::kDeny;
}

std::string permName(uint8_t p) {
  if (p & perm::kDeny) return "DENY";
  if ((p & perm::kPub) && (p & perm::kSub)) return "PUB|SUB";
  if (p & perm::kPub) return "PUB";
  if (p & perm::kSub) return "SUB";
  if (p & perm::kAny) return "PUB or SUB";
  return "DENY";
}

bool permits(uint8_t needed, uint8_t owned) {
  if (owned & perm::kDeny) return false;
  if (needed & perm::kAny) return (owned & (perm::kPub | perm::kSub)) != 0;
  return (needed & owned) != 0;
}

Result<AddressPattern> AddressPattern::parse(std::string_view raw) {
  AddressPattern p;
  std::string_view text = trim(raw);
  p.text_ = std::string(text);
  if (text.empty()) return p;  // kNone
  if (text == "*" || text == "*.*.*.*" || text == "*:*:*:*:*:*:*:*") {
    p.kind_ = Kind::kAll;
    return p;
  }
  auto addSet = [&](std::string_view addr) -> Status {
    std::string canon = canonicalAddress(addr);
    if (canon.empty()) return badPattern(text, "'" + std::string(trim(addr)) + "' is not an IP address");
    p.set_.push_back(std::move(canon));
    return Status::ok();
  };
  if (text.back() == '}') {
    // "a.b.c.{x,y}": the listed values of the last octet.
    size_t open = text.rfind('{');
    size_t last_dot = text.rfind('.');
    if (open == std::string_view::npos || last_dot == std::string_view::npos || open != last_dot + 1)
      return badPattern(text, "'{...}' must be the whole last octet");
    std::string_view head = text.substr(0, open);
    for (std::string_view item : split(text.substr(open + 1, text.size() - open - 2), ',')) {
      if (Status s = addSet(std::string(head) + std::string(item)); !s.isOk()) return s;
    }
    p.kind_ = Kind::kSet;
    return p;
  }
  if (text.find(',') != std::string_view::npos) {
    for (std::string_view item : split(text, ',')) {
      if (Status s = addSet(item); !s.isOk()) return s;
    }
    p.kind_ = Kind::kSet;
    return p;
  }
  if (text.find('*') != std::string_view::npos || text.find('-') != std::string_view::npos) {
    if (text.find(':') != std::string_view::npos) return badPattern(text, "IPv6 ranges are not supported");
    auto parts = split(text, '.');
    if (parts.size() != 4) return badPattern(text, "expected four octets");
    if (octet(parts[0]) < 0) return badPattern(text, "the first octet must be a number 0..255");
    int index = 0;
    for (int i = 1; i < 4; ++i) {
      std::string_view part = parts[static_cast<size_t>(i)];
      if (index == 0) {
        if (part == "*") {
          index = i;
          p.lo_ = 0;
          p.hi_ = 255;
        } else if (size_t dash = part.find('-'); dash != std::string_view::npos) {
          int lo = octet(trim(part.substr(0, dash)));
          int hi = octet(trim(part.substr(dash + 1)));
          if (lo < 0 || hi < 0 || lo > hi)
            return badPattern(text, "range '" + std::string(part) + "' is not a..b in 0..255");
          index = i;
          p.lo_ = lo;
          p.hi_ = hi;
        } else if (octet(part) < 0) {
          return badPattern(text, "octet '" + std::string(part) + "' is not a number 0..255");
        }
      } else if (part != "*") {
        return badPattern(text, "octets after a range must be '*'");
      }
    }
    if (index == 0) return badPattern(text, "no range found");
    for (int i = 0; i < index; ++i) p.head_ += std::to_string(octet(parts[static_cast<size_t>(i)])) + ".";
    p.index_ = index;
    p.kind_ = Kind::kRange;
    return p;
  }
  if (Status s = addSet(text); !s.isOk()) return s;
  p.kind_ = Kind::kSet;
  return p;
}

bool AddressPattern::matches(std::string_view host) const {
  switch (kind_) {
    case Kind::kNone:
      return false;
    case Kind::kAll:
      return true;
    case Kind::kSet: {
      std::string canon = canonicalAddress(host);
      if (canon.empty()) return false;
      for (const auto& a : set_) {
        if (a == canon) return true;
      }
      return false;
    }
    case Kind::kRange: {
      std::string canon = canonicalAddress(host);
      if (canon.empty() || canon.find(':') != std::string::npos || !canon.starts_with(head_)) return false;
      auto parts = split(canon, '.');
      int v = octet(parts[static_cast<size_t>(index_)]);
      return v >= lo_ && v <= hi_;
    }
  }
  return false;
}

namespace {

// A scalar as text; empty for null / absent. Sequences and maps are errors.
Result<std::string> scalarText(const YAML::Node& node, std::string_view what) {
  if (!node || node.IsNull()) return std::string();
  if (!node.IsScalar()) return Status::invalidArgument(std::string(what) + " must be a single value");
  return node.Scalar();
}

Result<std::vector<std::string>> scalarList(const YAML::Node& node, std::string_view what) {
  std::vector<std::string> out;
  if (!node || node.IsNull()) return out;
  if (!node.IsSequence()) return Status::invalidArgument(std::string(what) + " must be a list");
  for (const auto& item : node) {
    auto text = scalarText(item, what);
    if (!text.isOk()) return text.status();
    out.push_back(std::move(*text));
  }
  return out;
}

Status parseResourcePerms(AclAccount& account, const YAML::Node& node, bool groups, std::string_view where) {
  const char* what = groups ? "groupPerms" : "topicPerms";
  auto items = scalarList(node, std::string(where) + " " + what);
  if (!items.isOk()) return items.status();
  for (const auto& item : *items) {
    auto parts = split(item, '=');
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
      return Status::invalidArgument(std::string(where) + " " + what + ": '" + item +
                                     "' is not name=PUB|SUB|DENY");
    }
    std::string resource = groups ? retryTopicOf(parts[0]) : std::string(parts[0]);
    account.resource_perms[std::move(resource)] = parsePerm(parts[1]);
  }
  return Status::ok();
}

Result<AclConfig> parseRoot(const YAML::Node& root) {
  AclConfig config;
  if (!root || root.IsNull()) return config;  // an empty file: no accounts, nothing white-listed
  if (!root.IsMap())
    return Status::invalidArgument("the top level must be a map (globalWhiteRemoteAddresses, accounts)");
  auto white = scalarList(root["globalWhiteRemoteAddresses"], "globalWhiteRemoteAddresses");
  if (!white.isOk()) return white.status();
  for (const auto& text : *white) {
    auto pattern = AddressPattern::parse(text);
    if (!pattern.isOk()) return pattern.status().withContext("globalWhiteRemoteAddresses");
    config.global_white_remote_addresses.push_back(std::move(*pattern));
  }
  const YAML::Node accounts = root["accounts"];
  if (!accounts || accounts.IsNull()) return config;
  if (!accounts.IsSequence()) return Status::invalidArgument("accounts must be a list");
  size_t index = 0;
  for (const auto& node : accounts) {
    std::string where = "accounts[" + std::to_string(index++) + "]";
    if (!node.IsMap()) return Status::invalidArgument(where + " must be a map");
    AclAccount account;
    auto ak = scalarText(node["accessKey"], where + " accessKey");
    if (!ak.isOk()) return ak.status();
    account.access_key = std::string(trim(*ak));
    auto sk = scalarText(node["secretKey"], where + " secretKey");
    if (!sk.isOk()) return Status::invalidArgument(where + " secretKey must be a single value");
    account.secret_key = std::move(*sk);
    if (account.access_key.size() <= 6) {
      return Status::invalidArgument(where + ": accessKey must be longer than 6 characters");
    }
    where += " (accessKey " + account.access_key + ")";
    if (account.secret_key.size() <= 6) {
      return Status::invalidArgument(where + ": secretKey must be longer than 6 characters");
    }
    if (config.accounts.count(account.access_key) != 0) {
      return Status::invalidArgument(where + ": duplicate accessKey");
    }
    auto addr = scalarText(node["whiteRemoteAddress"], where + " whiteRemoteAddress");
    if (!addr.isOk()) return addr.status();
    auto pattern = AddressPattern::parse(*addr);
    if (!pattern.isOk()) return pattern.status().withContext(where + " whiteRemoteAddress");
    account.white_remote_address = std::move(*pattern);
    auto admin = scalarText(node["admin"], where + " admin");
    if (!admin.isOk()) return admin.status();
    std::string admin_text(trim(*admin));
    if (admin_text == "true" || admin_text == "True" || admin_text == "TRUE") {
      account.admin = true;
    } else if (!admin_text.empty() && admin_text != "false" && admin_text != "False" && admin_text != "FALSE") {
      return Status::invalidArgument(where + ": admin must be true or false, got '" + admin_text + "'");
    }
    auto topic_default = scalarText(node["defaultTopicPerm"], where + " defaultTopicPerm");
    if (!topic_default.isOk()) return topic_default.status();
    account.default_topic_perm = parsePerm(*topic_default);
    auto group_default = scalarText(node["defaultGroupPerm"], where + " defaultGroupPerm");
    if (!group_default.isOk()) return group_default.status();
    account.default_group_perm = parsePerm(*group_default);
    // Groups first, topics second, as Apache's buildPlainAccessResource: a topic entry wins over a group
    // entry of the same retry-topic name.
    if (Status s = parseResourcePerms(account, node["groupPerms"], true, where); !s.isOk()) return s;
    if (Status s = parseResourcePerms(account, node["topicPerms"], false, where); !s.isOk()) return s;
    std::string key = account.access_key;
    config.accounts.emplace(std::move(key), std::move(account));
  }
  return config;
}

}  // namespace

Result<AclConfig> parseAclConfig(std::string_view yaml_text) {
  if (yaml_text.size() > kMaxAclFileBytes) {
    return Status::invalidArgument("account file is larger than " + std::to_string(kMaxAclFileBytes) + " bytes");
  }
  try {
    YAML::Node root = YAML::Load(std::string(yaml_text));
    return parseRoot(root);
  } catch (const YAML::Exception& e) {
    // The mark names line and column; the message never quotes the document.
    return Status::invalidArgument("not valid YAML at line " + std::to_string(e.mark.line + 1) + ", column " +
                                   std::to_string(e.mark.column + 1));
  } catch (const std::exception& e) {
    return Status::invalidArgument(std::string("cannot read the account file: ") + e.what());
  }
}

}  // namespace rocketrpc::broker::acl
