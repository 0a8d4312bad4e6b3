#include "cli_util.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <random>

#include "common/instance_name.h"

namespace rocketrpc::cli {

void printError(std::string_view kind, std::string_view text) {
  std::string line = "error: ";
  line.append(kind).append(": ").append(text);
  std::replace(line.begin(), line.end(), '\n', ' ');  // always one line
  std::cerr << line << std::endl;
}

void printError(ErrorCode kind, std::string_view text) { printError(errorCodeName(kind), text); }

int exitCodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return kExitUsageError;
    case ErrorCode::kAccessDenied:
      return kExitAccessDenied;
    case ErrorCode::kRequestTimeout:
    case ErrorCode::kOperationTimeout:
      return kExitTimeout;
    case ErrorCode::kNoRoute:
    case ErrorCode::kSendFailed:
    case ErrorCode::kNetwork:
      return kExitUnavailable;
    case ErrorCode::kOverLimit:
      return kExitOverLimit;
    case ErrorCode::kNotStarted:
    case ErrorCode::kClosed:
    case ErrorCode::kBrokerError:
    case ErrorCode::kReplyError:
    case ErrorCode::kInternal:
      break;
  }
  return kExitRuntimeError;
}

int exitCodeFor(RpcErrorCode code) {
  switch (code) {
    case RpcErrorCode::kInvalidArgument:
    case RpcErrorCode::kConfig:
      return kExitUsageError;
    case RpcErrorCode::kAccessDenied:
      return kExitAccessDenied;
    case RpcErrorCode::kTimeout:
      return kExitTimeout;
    case RpcErrorCode::kSendFailed:
    case RpcErrorCode::kNoResponder:
    case RpcErrorCode::kNetwork:
      return kExitUnavailable;
    case RpcErrorCode::kOverLimit:
      return kExitOverLimit;
    case RpcErrorCode::kNotStarted:
    case RpcErrorCode::kClosed:
    case RpcErrorCode::kRemoteError:
    case RpcErrorCode::kSession:
    case RpcErrorCode::kCorrelation:
    case RpcErrorCode::kInternal:
      break;
  }
  return kExitRuntimeError;
}

int exitCodeForName(std::string_view name) {
  for (int v = 1; v <= static_cast<int>(ErrorCode::kAccessDenied); ++v) {
    if (errorCodeName(static_cast<ErrorCode>(v)) == name) return exitCodeFor(static_cast<ErrorCode>(v));
  }
  for (int v = 1; v <= static_cast<int>(RpcErrorCode::kNetwork); ++v) {
    if (rpcErrorCodeName(static_cast<RpcErrorCode>(v)) == name) return exitCodeFor(static_cast<RpcErrorCode>(v));
  }
  return kExitRuntimeError;
}

void addSecurityOptions(CLI::App& app, SecurityFlags& flags) {
  const std::string group = "Security";
  // No default values are captured: --help shows no key, token or secret.
  app.add_option("--access-key", flags.access_key, "ACL access key; requests are signed with it")->group(group);
  app.add_option("--secret-key", flags.secret_key,
                 std::string("ACL secret key (default: the ") + kSecretKeyEnv +
                     " environment variable, preferable: arguments are visible to other local users)")
      ->group(group);
  app.add_option("--security-token", flags.security_token, "ACL security token (optional)")->group(group);
  app.add_flag("--tls", flags.tls, "Use TLS for name-server and broker connections")->group(group);
  app.add_option("--tls-ca", flags.tls_ca, "PEM file of the CAs to trust (default: the system's; implies --tls)")
      ->check(CLI::ExistingFile)
      ->group(group);
  app.add_option("--tls-cert", flags.tls_cert, "PEM client certificate for mutual TLS (implies --tls)")
      ->check(CLI::ExistingFile)
      ->group(group);
  app.add_option("--tls-key", flags.tls_key, "PEM private key of --tls-cert (implies --tls)")
      ->check(CLI::ExistingFile)
      ->group(group);
  app.add_flag("--tls-no-verify", flags.tls_no_verify, "Do not verify the server's certificate (testing only)")
      ->group(group);
}

void applySecurityFlags(const SecurityFlags& flags, std::string& access_key, std::string& secret_key,
                        std::string& security_token, TlsOptions& tls) {
  if (!flags.access_key.empty()) access_key = flags.access_key;
  if (!flags.secret_key.empty()) secret_key = flags.secret_key;
  if (!flags.security_token.empty()) security_token = flags.security_token;
  if (!access_key.empty() && secret_key.empty()) {
    if (const char* env = std::getenv(kSecretKeyEnv); env != nullptr) secret_key = env;
  }
  if (flags.tls || !flags.tls_ca.empty() || !flags.tls_cert.empty() || !flags.tls_key.empty()) tls.enabled = true;
  if (!flags.tls_ca.empty()) tls.ca_file = flags.tls_ca;
  if (!flags.tls_cert.empty()) tls.cert_file = flags.tls_cert;
  if (!flags.tls_key.empty()) tls.key_file = flags.tls_key;
  if (flags.tls_no_verify) tls.verify = false;
}

std::string describeRequestError(ErrorCode code, std::string_view what, std::string_view topic,
                                 std::chrono::milliseconds timeout) {
  std::string t(topic), w(what);
  switch (code) {
    case ErrorCode::kNoRoute:
      return "no route for topic " + t + " (" + w + ")";
    case ErrorCode::kRequestTimeout:
      return "request timed out after " + std::to_string(timeout.count()) + " ms (sent, no reply)";
    case ErrorCode::kSendFailed:
      return "send failed, request not sent to topic " + t + " (" + w + ")";
    case ErrorCode::kReplyError:
      return "responder failed: " + w;
    default:
      return w;
  }
}

namespace {
std::optional<int64_t> parseInt(std::string_view s) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}
}  // namespace

std::string checkNamesrvAddr(const std::string& addr) {
  for (size_t begin = 0; begin <= addr.size();) {
    size_t end = std::min(addr.find(';', begin), addr.size());
    std::string_view entry(addr.data() + begin, end - begin);
    size_t colon = entry.find(':');
    auto port = colon == std::string_view::npos ? std::nullopt : parseInt(entry.substr(colon + 1));
    if (colon == 0 || !port || *port < 1 || *port > 65535 ||
        entry.find_first_of(" \t") != std::string_view::npos) {
      return "bad name-server address '" + addr + "' (expected host:port[;host:port])";
    }
    begin = end + 1;
  }
  return {};
}

std::string checkResourceName(const std::string& name, size_t max_len) {
  if (name.empty()) return "must not be empty";
  if (name.size() > max_len)
    return "'" + name + "' is longer than " + std::to_string(max_len) + " characters";
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '%' || c == '|' || c == '_' || c == '-')) {
      return "'" + name + "' has characters outside [%|a-zA-Z0-9_-]";
    }
  }
  return {};
}

std::string checkProperty(const std::string& prop) {
  size_t eq = prop.find('=');
  if (eq == std::string::npos || eq == 0) return "bad property '" + prop + "' (expected NAME=VALUE)";
  if (prop.find_first_of("\x01\x02") != std::string::npos) return "property must not contain \\x01 or \\x02";
  return {};
}

CLI::Validator integerIn(int64_t min, int64_t max) {
  const std::string range = max == INT64_MAX
                                ? ">= " + std::to_string(min)
                                : "in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  return checkWith(
      [=](const std::string& s) -> std::string {
        auto value = parseInt(s);
        return value && *value >= min && *value <= max ? ""
                                                       : "expected an integer " + range + ", got '" + s + "'";
      },
      "INT " + range);
}

CLI::Validator checkWith(std::function<std::string(const std::string&)> check,
                         const std::string& description) {
  return CLI::Validator([check](std::string& s) { return check(s); }, description, description);
}

void addNamesrvOption(CLI::App& app, std::string& namesrv) {
  app.add_option("-n,--namesrv", namesrv, "Name servers, host:port[;host:port]")
      ->required()
      ->check(checkWith(checkNamesrvAddr, "HOST:PORT[;HOST:PORT]"));
}

void addTopicOption(CLI::App& app, std::string& topic) {
  app.add_option("-t,--topic", topic, "Topic")
      ->required()
      ->check(checkWith([](const std::string& s) { return checkResourceName(s, 127); }, "TOPIC"));
}

std::pair<std::string, std::string> splitProperty(const std::string& prop) {
  size_t eq = prop.find('=');
  return {prop.substr(0, eq), prop.substr(eq + 1)};
}

std::string patternBody(size_t size) {
  static constexpr std::string_view kAlphabet =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string body(size, '\0');
  for (size_t i = 0; i < size; ++i) body[i] = kAlphabet[i % kAlphabet.size()];
  return body;
}

std::string asciiUpper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

std::string uniqueInstanceName(std::string_view role) {
  return rocketrpc::uniqueInstanceName("rocketrpc_cli_" + std::string(role));
}

int64_t percentile(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace rocketrpc::cli
