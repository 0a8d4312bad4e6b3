// libFuzzer target for rocketrpc-broker's access control (src/broker/acl): the plain_acl.yml parser, the
// remote-address patterns, and the access decision for arbitrary requests (header fields, values, body, code)
// against a fixed account set, signed or not. The first input byte selects the part:
//   0  account file text                     -> parseAclConfig; what it accepts decides every request the same way
//   1  address pattern '\n' host             -> AddressPattern::parse / matches
//   2  request: code(2 bytes) signer(1) host(1), then "key=value\n" lines, an empty line, then the body
// Nothing may throw or crash, and the same request must always get the same verdict.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "broker/acl/access_check.h"
#include "broker/acl/acl_config.h"
#include "broker/acl/reply_registry.h"
#include "fuzz_support.h"
#include "remoting/acl_signer.h"
#include "remoting/protocol/message_codec.h"

namespace {

using namespace rocketrpc;
using namespace rocketrpc::broker::acl;
using remoting::RemotingCommand;

constexpr std::string_view kAccounts = R"(
globalWhiteRemoteAddresses:
  - 10.10.103.*
  - 192.168.0.{1,2}
accounts:
  - accessKey: RocketMQ
    secretKey: 12345678
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms: [topicA=DENY, topicB=PUB|SUB, topicC=SUB]
    groupPerms: [groupA=DENY, groupB=PUB|SUB]
  - accessKey: adminKey1
    secretKey: adminSecret1
    whiteRemoteAddress: 172.16.1-9.*
    admin: true
)";

const AclConfig& fixedConfig() {
  static const AclConfig config = [] {
    auto c = parseAclConfig(kAccounts);
    if (!c.isOk()) __builtin_trap();
    return *c;
  }();
  return config;
}

constexpr const char* kHosts[] = {"127.0.0.1", "10.10.103.9", "192.168.0.2", "172.16.5.1", "::1", "garbage"};

Verdict decide(const AclConfig& config, const RemotingCommand& cmd, std::string_view host) {
  // A fresh registry each time, with the same known request, so verdicts can be compared.
  ReplyRegistry replies(4, 1000);
  replies.noteRequest("corr-1", "topicB", "client@1", 0);
  return checkAccess(config, cmd, host, &replies, 1);
}

void checkFile(std::string_view text) {
  auto config = parseAclConfig(text);
  auto again = parseAclConfig(text);
  if (config.isOk() != again.isOk()) __builtin_trap();
  if (!config.isOk()) return;
  if (config->accounts.size() != again->accounts.size()) __builtin_trap();
  // Whatever was accepted must answer requests without trouble.
  auto cmd = RemotingCommand::request(310);
  cmd.set("b", "topicB");
  for (const auto& [ak, account] : config->accounts) {
    auto signed_cmd = cmd;
    remoting::aclSignRequest(signed_cmd, remoting::AclCredentials{ak, account.secret_key, ""});
    for (const char* host : kHosts) {
      if (decide(*config, signed_cmd, host).allowed != decide(*again, signed_cmd, host).allowed) __builtin_trap();
    }
  }
}

void checkPattern(std::string_view input) {
  size_t nl = input.find('\n');
  auto pattern = AddressPattern::parse(input.substr(0, nl));
  if (!pattern.isOk()) return;
  const std::string_view host = nl == std::string_view::npos ? std::string_view("127.0.0.1") : input.substr(nl + 1);
  if (pattern->matches(host) != pattern->matches(host)) __builtin_trap();
  for (const char* h : kHosts) (void)pattern->matches(h);
}

void checkRequest(std::string_view input) {
  if (input.size() < 4) return;
  const std::string_view raw = input;
  RemotingCommand cmd;
  cmd.code = static_cast<int16_t>(static_cast<uint8_t>(input[0]) | (static_cast<uint8_t>(input[1]) << 8));
  const uint8_t signer = static_cast<uint8_t>(input[2]);
  const char* host = kHosts[static_cast<uint8_t>(input[3]) % (sizeof(kHosts) / sizeof(kHosts[0]))];
  input.remove_prefix(4);
  while (!input.empty()) {
    size_t nl = input.find('\n');
    std::string_view line = input.substr(0, nl);
    input = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
    if (line.empty()) break;
    size_t eq = line.find('=');
    std::string value = eq == std::string_view::npos ? std::string() : std::string(line.substr(eq + 1));
    cmd.set(std::string(line.substr(0, eq)), std::move(value));
  }
  cmd.body = std::string(input);
  switch (signer % 4) {
    case 1: remoting::aclSignRequest(cmd, {"RocketMQ", "12345678", ""}); break;
    case 2: remoting::aclSignRequest(cmd, {"adminKey1", "adminSecret1", ""}); break;
    case 3: remoting::aclSignRequest(cmd, {"RocketMQ", "wrong-secret", ""}); break;
    default: break;
  }
  const Verdict first = decide(fixedConfig(), cmd, host);
  const Verdict second = decide(fixedConfig(), cmd, host);
  if (first.allowed != second.allowed || first.reason != second.reason) __builtin_trap();
  if (!first.allowed && first.reason.rfind("No permission: ", 0) != 0) __builtin_trap();
  // A secret never appears in a refusal unless the request itself carried it.
  for (std::string_view secret : {std::string_view("12345678"), std::string_view("adminSecret1")}) {
    if (first.reason.find(secret) != std::string::npos && raw.find(secret) == std::string_view::npos) __builtin_trap();
  }
  (void)trackedRequestOf(cmd);
  (void)requirementsOf(cmd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  rocketrpc::fuzz::quietLogs();
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 3) {
      case 0: checkFile(input); break;
      case 1: checkPattern(input); break;
      case 2: checkRequest(input); break;
    }
  } catch (...) {
    __builtin_trap();  // nothing may escape: the broker calls these on I/O threads
  }
  return 0;
}
