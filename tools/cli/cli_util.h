// Helpers shared by the rocketrpc CLI subcommands: exit codes, error lines, argument validation, bodies,
// percentiles.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rocketrpc/client_options.h"
#include "rocketrpc/errors.h"
#include "rocketrpc/rpc_errors.h"

namespace rocketrpc::cli {

// Exit codes of every command (README.md "Errors" documents them). Each error code of either layer maps to one.
inline constexpr int kExitOk = 0;
/// A failure reported by the peer or an unexpected state: RemoteError/ReplyError, BrokerError, Session,
/// Correlation, Closed, NotStarted, Internal, an echo mismatch.
inline constexpr int kExitRuntimeError = 1;
/// Bad command line or configuration: InvalidArgument, Config, unknown command.
inline constexpr int kExitUsageError = 2;
/// The cluster refused the credentials or the permission (AccessDenied).
inline constexpr int kExitAccessDenied = 3;
/// Sent, but no answer in time: Timeout / RequestTimeout, OperationTimeout.
inline constexpr int kExitTimeout = 4;
/// Nothing could be delivered: SendFailed, Network, NoRoute, NoResponder.
inline constexpr int kExitUnavailable = 5;
/// A configured bound was reached: OverLimit.
inline constexpr int kExitOverLimit = 6;
/// A long run (request --count, call --count) stopped by SIGINT / SIGTERM after printing its summary so far:
/// 128 + the signal, as a shell reports a process the signal killed.
inline constexpr int kExitSigint = 130;
inline constexpr int kExitSigterm = 143;

/// The exit code of an error code (see the constants above).
int exitCodeFor(ErrorCode code);
int exitCodeFor(RpcErrorCode code);
/// The exit code of an error code's name ("NoResponder", "RequestTimeout", ...) of either layer; 1 for others.
int exitCodeForName(std::string_view name);

/// The environment variable the secret key is read from when --secret-key is not given.
inline constexpr const char* kSecretKeyEnv = "ROCKETRPC_SECRET_KEY";

/// Credentials and TLS flags every client command takes. Each field is set only when its flag was given,
/// so that flags override a YAML file field by field.
struct SecurityFlags {
  std::string access_key;
  std::string secret_key;
  std::string security_token;
  bool tls = false;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  bool tls_no_verify = false;
};
/// Registers --access-key, --secret-key, --security-token, --tls, --tls-ca, --tls-cert, --tls-key and
/// --tls-no-verify on `app`. Nothing is read from the environment here, so --help never shows a secret.
void addSecurityOptions(CLI::App& app, SecurityFlags& flags);
/// Applies the flags that were given over `access_key`, `secret_key`, `security_token` and `tls` (from a
/// YAML file, or empty), then, when an access key is set and no secret is, reads the secret from
/// ROCKETRPC_SECRET_KEY. --tls-ca/--tls-cert/--tls-key imply --tls.
void applySecurityFlags(const SecurityFlags& flags, std::string& access_key, std::string& secret_key,
                        std::string& security_token, TlsOptions& tls);
template <typename Options>
void applySecurityFlags(const SecurityFlags& flags, Options& options) {
  applySecurityFlags(flags, options.access_key, options.secret_key, options.security_token, options.tls);
}

/// Prints "error: <kind>: <text>" as one line on stderr.
void printError(std::string_view kind, std::string_view text);
void printError(ErrorCode kind, std::string_view text);
/// Text for a failed request: "no route for topic T (...)", "request timed out after N ms (sent, no
/// reply)"...
std::string describeRequestError(ErrorCode code, std::string_view what, std::string_view topic,
                                 std::chrono::milliseconds timeout);

/// Checks return "" when valid, else the reason.
std::string checkNamesrvAddr(const std::string& addr);                   // host:port[;host:port]
std::string checkResourceName(const std::string& name, size_t max_len);  // [%|a-zA-Z0-9_-]{1,max_len}
std::string checkProperty(const std::string& prop);                      // NAME=VALUE
/// Wraps a check as a CLI11 validator; `description` shows in --help.
CLI::Validator checkWith(std::function<std::string(const std::string&)> check,
                         const std::string& description);
/// Accepts decimal integers in [min, max].
CLI::Validator integerIn(int64_t min, int64_t max);
/// The options every client subcommand shares: required -n/--namesrv and -t/--topic.
void addNamesrvOption(CLI::App& app, std::string& namesrv);
void addTopicOption(CLI::App& app, std::string& topic);

/// Splits a checked "NAME=VALUE".
std::pair<std::string, std::string> splitProperty(const std::string& prop);
/// `size` bytes of a repeating printable pattern.
std::string patternBody(size_t size);
/// ASCII letters uppercased, other bytes unchanged.
std::string asciiUpper(std::string s);
/// "rocketrpc_cli_<role>_<pid>_<counter>_<random>" (common/instance_name.h).
std::string uniqueInstanceName(std::string_view role);
/// Nearest-rank percentile (q in (0,1]) of an ascending vector; 0 when empty.
int64_t percentile(const std::vector<int64_t>& sorted, double q);

}  // namespace rocketrpc::cli
