// RpcClientOptions / RpcServerOptions validation and the YAML loader (yaml-cpp stays inside this file).
#include "rpc/config.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>

#include "remoting/protocol/names.h"
#include "rpc/wire.h"

namespace rocketrpc {

namespace rpc {

std::string checkBrokerUrl(const std::string& addr) {
  if (addr.empty()) return "is required (name-server addresses host:port, ';'-separated)";
  size_t start = 0;
  while (start <= addr.size()) {
    size_t end = addr.find(';', start);
    std::string part = addr.substr(start, end == std::string::npos ? std::string::npos : end - start);
    // Surrounding blanks are tolerated (as in RocketMQ's namesrvAddr).
    size_t b = part.find_first_not_of(' ');
    size_t e = part.find_last_not_of(' ');
    part = b == std::string::npos ? std::string() : part.substr(b, e - b + 1);
    size_t colon = part.rfind(':');
    if (part.empty() || colon == std::string::npos || colon == 0 || colon + 1 == part.size()) {
      return "'" + addr + "' is not host:port[;host:port...]";
    }
    auto port = parseNonNegative(std::string_view(part).substr(colon + 1));
    if (!port || *port < 1 || *port > 65535) return "'" + addr + "' has a port outside 1..65535";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return {};
}

std::string checkResourceName(const std::string& name, size_t max_len) {
  if (name.empty()) return "is required";
  if (name.size() > max_len)
    return "'" + name + "' is longer than " + std::to_string(max_len) + " characters";
  if (!remoting::hasOnlyNameCharacters(name)) return "'" + name + "' has characters outside [%|a-zA-Z0-9_-]";
  return {};
}

std::string checkCredentials(const std::string& access_key, const std::string& secret_key,
                             const std::string& security_token) {
  // Never quote a value here: the message reaches exceptions and logs.
  if (!access_key.empty() && secret_key.empty()) return "secret-key is required when access-key is set";
  if (access_key.empty() && (!secret_key.empty() || !security_token.empty())) {
    return "access-key is required when secret-key or security-token is set";
  }
  return {};
}

std::string defaultProducerGroup(const std::string& topic) { return ("rpc-client-" + topic).substr(0, 255); }
std::string defaultConsumerGroup(const std::string& topic) { return ("rpc-server-" + topic).substr(0, 255); }

}  // namespace rpc

namespace {

constexpr const char* kClientPrefix = "rocketmq.rpc.client.";
constexpr const char* kServerPrefix = "rocketmq.rpc.server.";

[[noreturn]] void fail(const std::string& key, const std::string& why) {
  throw RpcException(RpcErrorCode::kConfig, key + ": " + why);
}

void require(const std::string& key, const std::string& problem) {
  if (!problem.empty()) fail(key, problem);
}

template <typename T>
void checkRange(const std::string& key, T value, T min, T max) {
  if (value < min || value > max) {
    fail(key, "must be in " + std::to_string(min) + ".." + std::to_string(max) + " (got " +
                  std::to_string(value) + ")");
  }
}

void checkMillis(const std::string& key, std::chrono::milliseconds v, int64_t min, int64_t max) {
  checkRange<int64_t>(key, v.count(), min, max);
}

// 0 (off) or min..max.
void checkOptionalMillis(const std::string& key, std::chrono::milliseconds v, int64_t min, int64_t max) {
  if (v.count() != 0) checkMillis(key, v, min, max);
}

}  // namespace

// The YAML loader checks everything but the credentials: the secret may legitimately come from elsewhere
// (the CLI reads ROCKETRPC_SECRET_KEY, an application its vault); RpcClient/RpcServer check them at
// construction through validate().
namespace {

void validateClient(const RpcClientOptions& o, bool credentials) {
  const std::string p = kClientPrefix;
  require(p + "broker-url", rpc::checkBrokerUrl(o.broker_url));
  require(p + "request-topic", rpc::checkResourceName(o.request_topic, 127));
  checkMillis(p + "default-timeout-millis", o.default_timeout, 1, 300000);
  checkRange<uint64_t>(p + "max-concurrent-requests", o.max_concurrent_requests, 1, 1000000);
  checkRange<uint64_t>(p + "max-concurrent-sessions", o.max_concurrent_sessions, 1, 100000);
  checkMillis(p + "session-idle-timeout-millis", o.session_idle_timeout, 100, 3600000);
  checkMillis(p + "send-timeout-millis", o.send_timeout, 1, 300000);
  checkMillis(p + "read-stall-timeout-millis", o.read_stall_timeout, 0, 3600000);
  checkMillis(p + "responder-check-cache-millis", o.responder_check_cache, 0, 60000);
  checkOptionalMillis(p + "stats-interval-millis", o.stats_interval, 100, 3600000);
  if (!o.producer_group.empty()) require(p + "producer-group", rpc::checkResourceName(o.producer_group, 255));
  if (!o.instance_name.empty()) require(p + "instance-name", rpc::checkResourceName(o.instance_name, 255));
  if (credentials) {
    require(p + "access-key", rpc::checkCredentials(o.access_key, o.secret_key, o.security_token));
  }
}

void validateServer(const RpcServerOptions& o, bool credentials) {
  const std::string p = kServerPrefix;
  require(p + "broker-url", rpc::checkBrokerUrl(o.broker_url));
  require(p + "request-topic", rpc::checkResourceName(o.request_topic, 127));
  if (!o.consumer_group.empty()) require(p + "consumer-group", rpc::checkResourceName(o.consumer_group, 255));
  checkRange<int64_t>(p + "consume-threads", o.consume_threads, 1, 1000);
  checkRange<uint64_t>(p + "max-concurrent-sessions", o.max_concurrent_sessions, 1, 1000000);
  checkRange<uint64_t>(p + "max-session-bytes", o.max_session_bytes, 1, uint64_t{1} << 30);
  checkRange<uint64_t>(p + "max-session-messages", o.max_session_messages, 1, 10000000);
  checkMillis(p + "session-idle-timeout-millis", o.session_idle_timeout, 100, 3600000);
  checkMillis(p + "stream-gap-timeout-millis", o.stream_gap_timeout, 1, 300000);
  checkRange<uint64_t>(p + "dedup-cache-size", o.dedup_cache_size, 0, 10000000);
  if (!o.instance_name.empty()) require(p + "instance-name", rpc::checkResourceName(o.instance_name, 255));
  checkRange<uint64_t>(p + "compress-over", o.compress_over, 1, std::numeric_limits<uint64_t>::max());
  checkRange<int64_t>(p + "compress-level", o.compress_level, 1, 9);
  checkOptionalMillis(p + "stats-interval-millis", o.stats_interval, 100, 3600000);
  if (credentials) {
    require(p + "access-key", rpc::checkCredentials(o.access_key, o.secret_key, o.security_token));
  }
}

}  // namespace

void RpcClientOptions::validate() const { validateClient(*this, /*credentials=*/true); }
void RpcServerOptions::validate() const { validateServer(*this, /*credentials=*/true); }

namespace {

using Setter = std::function<void(const YAML::Node&, const std::string& key)>;

// One YAML key: how it sets its option, and the name of the option field it sets (for the configuration
// reference, which takes the field's type, default and meaning from the API reference).
struct Key {
  Setter set;
  const char* field;
};
using KeyTable = std::map<std::string, Key>;
#define ROCKETRPC_KEY(name, kind, member) \
  { name, Key{kind(&member), #member} }

std::string scalar(const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar())
    fail(key, n.IsNull() ? "has no value" : "must be a single value, not a list or a mapping");
  return n.Scalar();
}

int64_t integer(const YAML::Node& n, const std::string& key) {
  std::string s = scalar(n, key);
  bool neg = !s.empty() && s[0] == '-';
  auto v = rpc::parseNonNegative(neg ? std::string_view(s).substr(1) : std::string_view(s));
  if (!v) fail(key, "must be a whole number (got '" + s + "')");
  return neg ? -*v : *v;
}

bool boolean(const YAML::Node& n, const std::string& key) {
  std::string s = scalar(n, key);
  if (s == "true" || s == "True" || s == "TRUE" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "False" || s == "FALSE" || s == "no" || s == "off") return false;
  fail(key, "must be true or false (got '" + s + "')");
}

Setter str(std::string* out) {
  return [out](const YAML::Node& n, const std::string& key) { *out = scalar(n, key); };
}
Setter millis(std::chrono::milliseconds* out) {
  return [out](const YAML::Node& n, const std::string& key) {
    *out = std::chrono::milliseconds(integer(n, key));
  };
}
Setter count(size_t* out) {
  return [out](const YAML::Node& n, const std::string& key) {
    int64_t v = integer(n, key);
    if (v < 0) fail(key, "must not be negative (got " + std::to_string(v) + ")");
    *out = static_cast<size_t>(v);
  };
}
Setter intValue(int* out) {
  return [out](const YAML::Node& n, const std::string& key) {
    int64_t v = integer(n, key);
    if (v < INT32_MIN || v > INT32_MAX) fail(key, "is out of range (got " + std::to_string(v) + ")");
    *out = static_cast<int>(v);
  };
}
Setter flag(bool* out) {
  return [out](const YAML::Node& n, const std::string& key) { *out = boolean(n, key); };
}

void applySection(const YAML::Node& section, const std::string& prefix, const KeyTable& keys,
                  std::map<std::string, bool>* seen);

/// The keys of the tls mapping.
KeyTable tlsKeys(TlsOptions& t) {
  return {
      ROCKETRPC_KEY("enabled", flag, t.enabled),     ROCKETRPC_KEY("ca-file", str, t.ca_file),
      ROCKETRPC_KEY("cert-file", str, t.cert_file),  ROCKETRPC_KEY("key-file", str, t.key_file),
      ROCKETRPC_KEY("verify", flag, t.verify),
  };
}

/// The tls mapping: enabled, ca-file, cert-file, key-file, verify.
Setter tlsSection(TlsOptions* out) {
  return [out](const YAML::Node& n, const std::string& key) {
    std::map<std::string, bool> seen;
    if (!n.IsNull()) applySection(n, key + ".", tlsKeys(*out), &seen);
  };
}

void applySection(const YAML::Node& section, const std::string& prefix, const KeyTable& keys,
                  std::map<std::string, bool>* seen) {
  if (!section.IsMap()) fail(prefix.substr(0, prefix.size() - 1), "must be a mapping of keys");
  for (auto it = section.begin(); it != section.end(); ++it) {
    std::string name = it->first.IsScalar() ? it->first.Scalar() : std::string("?");
    auto k = keys.find(name);
    if (k == keys.end()) {
      std::string known;
      for (const auto& [n, s] : keys) known += (known.empty() ? "" : ", ") + n;
      fail(prefix + name, "unknown key (known: " + known + ")");
    }
    k->second.set(it->second, prefix + name);
    (*seen)[name] = true;
  }
}

// A key given twice in one mapping is an error naming both lines (yaml-cpp keeps both and the last would win
// silently). Checked over the whole document, unknown sections included.
void checkDuplicateKeys(const YAML::Node& node, const std::string& path) {
  if (node.IsMap()) {
    std::map<std::string, int> lines;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string name = it->first.IsScalar() ? it->first.Scalar() : std::string("?");
      const int line = it->first.Mark().line + 1;
      auto [pos, inserted] = lines.emplace(name, line);
      if (!inserted) {
        fail(path + name, "is defined twice (lines " + std::to_string(pos->second) + " and " +
                              std::to_string(line) + ")");
      }
      checkDuplicateKeys(it->second, path + name + ".");
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) checkDuplicateKeys(item, path);
  }
}

// Spring's relaxed name of a key: rocketmq.rpc.client.broker-url -> ROCKETMQ_RPC_CLIENT_BROKER_URL.
std::string environmentName(const std::string& key) {
  std::string out;
  out.reserve(key.size());
  for (char ch : key) {
    out += (ch == '.' || ch == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  }
  return out;
}

constexpr const char* kTlsKeys[] = {"enabled", "ca-file", "cert-file", "key-file", "verify"};

// Applies the environment's overrides of a section's keys (after the file, as Spring does). Errors name the
// variable. Returns whether any was set.
bool applyEnvironment(const std::string& prefix, const KeyTable& keys, std::map<std::string, bool>* seen) {
  bool any = false;
  for (const auto& [name, key] : keys) {
    const Setter& setter = key.set;
    if (name == "tls") {
      YAML::Node tls(YAML::NodeType::Map);
      for (const char* k : kTlsKeys) {
        if (const char* v = std::getenv(environmentName(prefix + "tls." + k).c_str())) tls[k] = std::string(v);
      }
      if (tls.size() > 0) {
        setter(tls, "environment " + environmentName(prefix + "tls") + "_*: " + prefix + "tls");
        (*seen)[name] = any = true;
      }
      continue;
    }
    const std::string var = environmentName(prefix + name);
    if (const char* v = std::getenv(var.c_str())) {
      setter(YAML::Node(std::string(v)), "environment " + var + ": " + prefix + name);
      (*seen)[name] = any = true;
    }
  }
  return any;
}

KeyTable clientKeys(RpcClientOptions& c) {
  return {
      ROCKETRPC_KEY("broker-url", str, c.broker_url),
      ROCKETRPC_KEY("request-topic", str, c.request_topic),
      ROCKETRPC_KEY("default-timeout-millis", millis, c.default_timeout),
      ROCKETRPC_KEY("max-concurrent-requests", count, c.max_concurrent_requests),
      ROCKETRPC_KEY("max-concurrent-sessions", count, c.max_concurrent_sessions),
      ROCKETRPC_KEY("session-idle-timeout-millis", millis, c.session_idle_timeout),
      ROCKETRPC_KEY("send-timeout-millis", millis, c.send_timeout),
      ROCKETRPC_KEY("read-stall-timeout-millis", millis, c.read_stall_timeout),
      ROCKETRPC_KEY("fail-fast", flag, c.fail_fast),
      ROCKETRPC_KEY("responder-check-cache-millis", millis, c.responder_check_cache),
      ROCKETRPC_KEY("producer-group", str, c.producer_group),
      ROCKETRPC_KEY("instance-name", str, c.instance_name),
      ROCKETRPC_KEY("stats-interval-millis", millis, c.stats_interval),
      ROCKETRPC_KEY("access-key", str, c.access_key),
      ROCKETRPC_KEY("secret-key", str, c.secret_key),
      ROCKETRPC_KEY("security-token", str, c.security_token),
      ROCKETRPC_KEY("tls", tlsSection, c.tls),
  };
}
KeyTable serverKeys(RpcServerOptions& s) {
  return {
      ROCKETRPC_KEY("broker-url", str, s.broker_url),
      ROCKETRPC_KEY("request-topic", str, s.request_topic),
      ROCKETRPC_KEY("consumer-group", str, s.consumer_group),
      ROCKETRPC_KEY("consume-threads", intValue, s.consume_threads),
      ROCKETRPC_KEY("max-concurrent-sessions", count, s.max_concurrent_sessions),
      ROCKETRPC_KEY("max-session-bytes", count, s.max_session_bytes),
      ROCKETRPC_KEY("max-session-messages", count, s.max_session_messages),
      ROCKETRPC_KEY("session-idle-timeout-millis", millis, s.session_idle_timeout),
      ROCKETRPC_KEY("stream-gap-timeout-millis", millis, s.stream_gap_timeout),
      ROCKETRPC_KEY("dedup-cache-size", count, s.dedup_cache_size),
      ROCKETRPC_KEY("instance-name", str, s.instance_name),
      ROCKETRPC_KEY("compress-over", count, s.compress_over),
      ROCKETRPC_KEY("compress-level", intValue, s.compress_level),
      ROCKETRPC_KEY("stats-interval-millis", millis, s.stats_interval),
      ROCKETRPC_KEY("access-key", str, s.access_key),
      ROCKETRPC_KEY("secret-key", str, s.secret_key),
      ROCKETRPC_KEY("security-token", str, s.security_token),
      ROCKETRPC_KEY("tls", tlsSection, s.tls),
  };
}


}  // namespace

RpcConfig parseRpcConfig(std::string_view yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    throw RpcException(RpcErrorCode::kConfig, "YAML syntax error at line " + std::to_string(e.mark.line + 1) +
                                                  ", column " + std::to_string(e.mark.column + 1) + ": " +
                                                  e.msg);
  }
  checkDuplicateKeys(root, "");
  RpcConfig config;
  const YAML::Node top = root;
  if (!top.IsMap())
    fail("rocketmq.rpc", "missing: the file must be a mapping holding rocketmq.rpc.client/server");
  const YAML::Node rocketmq = top["rocketmq"];
  if (!rocketmq || !rocketmq.IsMap())
    fail("rocketmq.rpc", "missing (no 'rocketmq' mapping at the top level)");
  const YAML::Node rpc_node = rocketmq["rpc"];
  if (!rpc_node || !rpc_node.IsMap()) fail("rocketmq.rpc", "missing (no 'rpc' mapping under 'rocketmq')");
  for (auto it = rpc_node.begin(); it != rpc_node.end(); ++it) {
    std::string name = it->first.IsScalar() ? it->first.Scalar() : std::string("?");
    if (name != "client" && name != "server")
      fail("rocketmq.rpc." + name, "unknown key (known: client, server)");
  }

  RpcClientOptions& c = config.client;
  RpcServerOptions& s = config.server;
  const KeyTable client_keys = clientKeys(c);
  const KeyTable server_keys = serverKeys(s);
  std::map<std::string, bool> client_seen, server_seen;
  if (const YAML::Node n = rpc_node["client"]) {
    config.has_client = true;
    if (!n.IsNull()) applySection(n, kClientPrefix, client_keys, &client_seen);
  }
  if (const YAML::Node n = rpc_node["server"]) {
    config.has_server = true;
    if (!n.IsNull()) applySection(n, kServerPrefix, server_keys, &server_seen);
  }
  // ROCKETMQ_RPC_CLIENT_BROKER_URL=... and the like override the file (and can supply a section it lacks).
  if (applyEnvironment(kClientPrefix, client_keys, &client_seen)) config.has_client = true;
  if (applyEnvironment(kServerPrefix, server_keys, &server_seen)) config.has_server = true;
  if (!config.has_client && !config.has_server) {
    fail("rocketmq.rpc", "has neither a 'client' nor a 'server' section");
  }
  if (config.has_server) {
    if (!server_seen["broker-url"] && config.has_client) s.broker_url = c.broker_url;
    if (!server_seen["request-topic"] && config.has_client) s.request_topic = c.request_topic;
    // Credentials and TLS come as one set: a server section naming any of them does not mix in the client's.
    if (config.has_client && !server_seen["access-key"] && !server_seen["secret-key"] &&
        !server_seen["security-token"]) {
      s.access_key = c.access_key;
      s.secret_key = c.secret_key;
      s.security_token = c.security_token;
    }
    if (!server_seen["tls"] && config.has_client) s.tls = c.tls;
    validateServer(s, /*credentials=*/false);
  }
  if (config.has_client) validateClient(c, /*credentials=*/false);
  return config;
}

std::vector<rpc::ConfigKey> rpc::configKeys() {
  std::vector<ConfigKey> out;
  RpcClientOptions c;
  RpcServerOptions s;
  TlsOptions t;
  // "c.broker_url" -> "broker_url"
  auto fieldName = [](const char* member) { return std::string(std::strchr(member, '.') + 1); };
  auto add = [&](const std::string& prefix, const char* options, const KeyTable& keys) {
    for (const auto& [name, key] : keys) {
      if (name == "tls") {
        for (const auto& [tls_name, tls_key] : tlsKeys(t))
          out.push_back({prefix + "tls." + tls_name, "TlsOptions", fieldName(tls_key.field)});
      } else {
        out.push_back({prefix + name, options, fieldName(key.field)});
      }
    }
  };
  add(kClientPrefix, "RpcClientOptions", clientKeys(c));
  add(kServerPrefix, "RpcServerOptions", serverKeys(s));
  return out;
}

std::string rpc::environmentVariable(const std::string& key) { return environmentName(key); }

RpcConfig loadRpcConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RpcException(RpcErrorCode::kConfig, "cannot read configuration file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return parseRpcConfig(text.str());
  } catch (const RpcException& e) {
    throw RpcException(RpcErrorCode::kConfig, path + ": " + e.what());
  }
}

}  // namespace rocketrpc
