#include "broker/broker_config.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/log.h"

namespace rocketrpc::broker {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

const std::vector<ConfigProperty>& configProperties() {
  static const std::vector<ConfigProperty> kTable = {
      {"brokerClusterName", "Cluster name; also names the <cluster> and <cluster>_REPLY_TOPIC topics.",
       &BrokerConfig::broker_cluster_name},
      {"brokerName", "Broker name reported to name servers.", &BrokerConfig::broker_name},
      {"brokerId", "0 = master (only masters are supported).", &BrokerConfig::broker_id},
      {"brokerIP1", "IP address in the broker address registered with name servers and in message ids.",
       &BrokerConfig::broker_ip1},
      {"listenHost", "Address the server binds (rocketrpc). Use 0.0.0.0 with a routable brokerIP1 for remote "
                     "clients.",
       &BrokerConfig::listen_host},
      {"listenPort", "TCP port serving both the broker and (when namesrvEnable) the name server; 0 = any.",
       &BrokerConfig::listen_port},
      {"storePathRootDir", "Store directory (commit log, consume queues, config/). Default "
                           "$XDG_DATA_HOME/rocketrpc-broker or ~/.local/share/rocketrpc-broker.",
       &BrokerConfig::store_path_root_dir},
      {"flushDiskType", "SYNC_FLUSH (ack after fsync) or ASYNC_FLUSH (ack after write, fsync every "
                        "flushIntervalCommitLog ms).",
       &BrokerConfig::flush_disk_type},
      {"flushIntervalCommitLog", "Background flush period in ms (1..60000).", &BrokerConfig::flush_interval_commit_log},
      {"flushConsumerOffsetInterval", "Period of consumer-offset persistence (and retention checks), ms "
                                      "(100..600000).",
       &BrokerConfig::flush_consumer_offset_interval},
      {"autoCreateTopicEnable", "Create unknown topics on send from TBW102 (and create TBW102 at start).",
       &BrokerConfig::auto_create_topic_enable},
      {"autoCreateSubscriptionGroup", "Accept heartbeats/pulls of unknown consumer groups.",
       &BrokerConfig::auto_create_subscription_group},
      {"defaultTopicQueueNums", "Queue count of TBW102 (upper bound for auto-created topics), 1..1024.",
       &BrokerConfig::default_topic_queue_nums},
      {"fileReservedTime", "Hours a commit-log segment is kept (1..87600).", &BrokerConfig::file_reserved_time},
      {"mapedFileSizeCommitLog", "Commit-log segment size in bytes (4096..1073741824); must not change between runs.",
       &BrokerConfig::maped_file_size_commit_log},
      {"maxMessageSize", "Largest message body in bytes (1..16777216).", &BrokerConfig::max_message_size},
      {"namesrvAddr", "External name servers (host:port;host:port) to register with, in addition to the embedded "
                      "one.",
       &BrokerConfig::namesrv_addr},
      {"namesrvEnable", "Serve the name-server codes on listenPort (rocketrpc).", &BrokerConfig::namesrv_enable},
      {"storeReplyMessageEnable", "Also store reply messages in <cluster>_REPLY_TOPIC.",
       &BrokerConfig::store_reply_message_enable},
      {"longPollingEnable", "Hold empty pulls up to the client's suspendTimeoutMillis (at most "
                            "maxPullHoldTimeMills); false = shortPollingTimeMills.",
       &BrokerConfig::long_polling_enable},
      {"shortPollingTimeMills", "Hold time of empty pulls without long polling, ms.",
       &BrokerConfig::short_polling_time_mills},
      {"registerNameServerPeriod", "Period of broker registration with name servers, ms (10000..60000).",
       &BrokerConfig::register_name_server_period},
      {"channelExpiredTimeout", "Producer/consumer connections silent (no heartbeat) this long are dropped, ms.",
       &BrokerConfig::channel_expired_timeout},
      {"brokerExpiredTimeout", "Embedded name server: brokers not registered this long are dropped, ms.",
       &BrokerConfig::broker_expired_timeout},
      {"messageDelayLevel", "Delay of levels 1..N (s, m, h, d units).", &BrokerConfig::message_delay_level},
      {"regionId", "MSG_REGION returned on send responses.", &BrokerConfig::region_id},
      {"traceOn", "TRACE_ON returned on send responses.", &BrokerConfig::trace_on},
      {"serverSelectorThreads",
       "I/O threads, which also run most request processors (0..64; 0 = one per 4 hardware threads, 1..8).",
       &BrokerConfig::server_selector_threads},
      {"serverWorkerThreads", "Threads running request processors (1..256).", &BrokerConfig::server_worker_threads},
      {"metricsPort", "Prometheus text endpoint on 127.0.0.1:<port> (0 = off).", &BrokerConfig::metrics_port},
      {"metricsMaxTopics",
       "Topics with their own per-topic metric series (others add to topic=\"__other__\"); also the most "
       "consumer-lag series a scrape lists (0..100000).",
       &BrokerConfig::metrics_max_topics},
      {"aclEnable", "Check every request (broker and name-server codes) against the accounts of aclFile; refused "
                    "requests are answered NO_PERMISSION (16).",
       &BrokerConfig::acl_enable},
      {"aclFile", "Account file in Apache 4.9's plain_acl.yml format (globalWhiteRemoteAddresses, accounts). "
                  "Default <storePathRootDir>/config/plain_acl.yml. Must exist and parse when aclEnable=true.",
       &BrokerConfig::acl_file},
      {"aclReloadIntervalMillis", "How often aclFile is checked for changes (inode, size, mtime), ms (100..60000); "
                                  "a bad new file keeps the accounts in force.",
       &BrokerConfig::acl_reload_interval_millis},
      {"aclReplyCheckEnable", "With ACL on, accept a reply (SEND_REPLY_MESSAGE/_V2) only for a request this "
                              "broker stored, from an account that may SUB the request's topic. false = "
                              "Apache's behaviour (a valid signature is enough).",
       &BrokerConfig::acl_reply_check_enable},
      {"aclReplyTrackMaxEntries", "Requests remembered for the reply check (1..10000000); when full the oldest "
                                  "is forgotten and a reply to it is refused.",
       &BrokerConfig::acl_reply_track_max_entries},
      {"aclReplyTrackTtlMillis", "How long a request is remembered for the reply check after it was stored or "
                                 "last answered, ms (1000..86400000).",
       &BrokerConfig::acl_reply_track_ttl_millis},
      {"tlsServerMode", "TLS on listenPort: disabled (plain only), permissive (TLS and plain on the same port, told "
                        "apart by the first byte) or enforcing (TLS only; plain connections are closed).",
       &BrokerConfig::tls_server_mode},
      {"tlsServerCertPath", "PEM certificate chain the broker presents (required unless tlsServerMode=disabled).",
       &BrokerConfig::tls_server_cert_path},
      {"tlsServerKeyPath", "PEM private key of tlsServerCertPath, unencrypted (required unless "
                           "tlsServerMode=disabled). Its contents are never logged.",
       &BrokerConfig::tls_server_key_path},
      {"tlsServerTrustCertPath", "PEM CAs that sign client certificates (tlsServerNeedClientAuth); empty: the "
                                 "system's trust store.",
       &BrokerConfig::tls_server_trust_cert_path},
      {"tlsServerNeedClientAuth", "Require a client certificate signed by tlsServerTrustCertPath (mutual TLS).",
       &BrokerConfig::tls_server_need_client_auth},
      {"tlsEnable", "Speak TLS to the external name servers of namesrvAddr.", &BrokerConfig::tls_enable},
      {"tlsClientTrustCertPath", "With tlsEnable: PEM CAs that sign the name servers' certificates; empty: the "
                                 "system's trust store.",
       &BrokerConfig::tls_client_trust_cert_path},
      {"tlsClientCertPath", "With tlsEnable: PEM certificate presented to name servers (mutual TLS); empty: none.",
       &BrokerConfig::tls_client_cert_path},
      {"tlsClientKeyPath", "With tlsEnable: PEM private key of tlsClientCertPath, unencrypted. Never logged.",
       &BrokerConfig::tls_client_key_path},
      {"tlsClientAuthServer", "With tlsEnable: verify the name server's certificate chain and address (Apache's "
                              "default is false; ours is true).",
       &BrokerConfig::tls_client_auth_server},
      {"maxTransferBytesOnMessageInMemory",
       "Bytes one pull may return, whatever its maxMsgBytes asks (at least one message; 1024..67108864). Applied "
       "before the store reads anything.",
       &BrokerConfig::max_transfer_bytes_on_message_in_memory},
      {"maxPullHoldTimeMills",
       "Longest a long-polling pull is held, whatever its suspendTimeoutMillis asks, ms (1000..3600000).",
       &BrokerConfig::max_pull_hold_time_mills},
      {"maxPullHoldsPerConnection",
       "Long-polling pulls held at once for one connection; more are answered SYSTEM_BUSY (1..65536).",
       &BrokerConfig::max_pull_holds_per_connection},
      {"maxReceivingBytes",
       "Bytes of incomplete frames being received over all connections; the connection that would pass it is "
       "closed (65536..1099511627776). A receive buffer grows with the bytes that arrived, not the announced "
       "frame length.",
       &BrokerConfig::max_receiving_bytes},
      {"frameReceiveTimeoutMillis",
       "A connection holding an incomplete frame this long is closed, however slowly its bytes trickle in, ms "
       "(100..3600000).",
       &BrokerConfig::frame_receive_timeout_millis},
      {"waitTimeMillsInSendQueue",
       "A send that has waited this long for the store writer (or for a worker) is not stored but answered "
       "SYSTEM_BUSY \"[TIMEOUT_CLEAN_QUEUE]broker busy, ...\", as Apache, so that producers retry on another "
       "broker; 0 disables the check, ms (0..600000).",
       &BrokerConfig::wait_time_mills_in_send_queue},
      {"maxSendQueueBytes",
       "Message body bytes queued for the store writer; a send that would pass it is answered SYSTEM_BUSY "
       "\"[PCBUSY_CLEAN_QUEUE]broker busy, ...\" at once (a send finding the queue empty is always taken; "
       "1048576..68719476736).",
       &BrokerConfig::max_send_queue_bytes},
      {"workerQueueCapacity",
       "Requests waiting for a worker thread (sends and replies that cannot be stored on the I/O thread, "
       "heartbeats, admin and query codes); a request of those codes arriving while this many wait is answered "
       "SYSTEM_BUSY \"[OVERLOAD]system busy, start flow control for a while\" at once, as Apache answers when "
       "its thread pool queue is full (16..1048576).",
       &BrokerConfig::worker_queue_capacity},
      {"maxWriteQueueBytesPerConnection",
       "Answer bytes queued for one connection and not yet written: over it the connection is not read until "
       "it drains to half; at twice it, or when stalled over it for writeStallTimeoutMillis, it is closed "
       "(65536..68719476736).",
       &BrokerConfig::max_write_queue_bytes_per_connection},
      {"writeStallTimeoutMillis",
       "A connection whose write queue stays over maxWriteQueueBytesPerConnection with no write completing "
       "this long is closed, ms (100..3600000).",
       &BrokerConfig::write_stall_timeout_millis},
      {"maxOpenFiles",
       "Store files (commit-log segments, consume-queue files) kept open at most (16..1048576); idle ones are "
       "closed least recently used first and reopened on demand. At start the soft RLIMIT_NOFILE is raised to "
       "the hard limit, and the bound is lowered to half of it when that is smaller (the rest is for "
       "connections).",
       &BrokerConfig::max_open_files},
      {"diskMaxUsedSpaceRatio",
       "Disk usage, percent (10..95), over which retention deletes the oldest commit-log segments whatever their "
       "age (Apache's key).",
       &BrokerConfig::disk_max_used_space_ratio},
      {"diskSpaceWarningLevelRatio",
       "Disk usage, percent (10..99), over which sends are refused with SERVICE_NOT_AVAILABLE (14, \"the broker's "
       "disk is full\"), as after ENOSPC; they are accepted again by themselves once usage drops below it "
       "(Apache's rocketmq.broker.diskSpaceWarningLevelRatio, 0.90 there).",
       &BrokerConfig::disk_space_warning_level_ratio},
  };
  return kTable;
}

std::string getConfigProperty(const BrokerConfig& config, const ConfigProperty& prop) {
  if (auto s = std::get_if<std::string BrokerConfig::*>(&prop.field)) return config.**s;
  if (auto i = std::get_if<int64_t BrokerConfig::*>(&prop.field)) return std::to_string(config.**i);
  return (config.*std::get<bool BrokerConfig::*>(prop.field)) ? "true" : "false";
}

Status setConfigProperty(BrokerConfig& config, std::string_view key, std::string_view value) {
  value = trim(value);
  for (const auto& prop : configProperties()) {
    if (prop.key != key) continue;
    if (auto s = std::get_if<std::string BrokerConfig::*>(&prop.field)) {
      config.**s = std::string(value);
      return Status::ok();
    }
    if (auto i = std::get_if<int64_t BrokerConfig::*>(&prop.field)) {
      std::string text(value);
      char* end = nullptr;
      errno = 0;
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || errno != 0 || *end != '\0')
        return Status::invalidArgument(std::string(key) + ": not an integer: " + text);
      config.**i = v;
      return Status::ok();
    }
    if (value == "true" || value == "false") {
      config.*std::get<bool BrokerConfig::*>(prop.field) = value == "true";
      return Status::ok();
    }
    return Status::invalidArgument(std::string(key) + ": expected true or false, got " + std::string(value));
  }
  return Status::invalidArgument("unknown property " + std::string(key));
}

Status applyConfigText(BrokerConfig& config, std::string_view text) {
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    line = trim(line);
    if (line.empty() || line.front() == '#' || line.front() == '!') continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos)
      return Status::invalidArgument("line " + std::to_string(line_no) + ": expected key=value");
    std::string_view key = trim(line.substr(0, eq));
    std::string_view value = trim(line.substr(eq + 1));
    bool known = false;
    for (const auto& prop : configProperties()) known = known || prop.key == key;
    if (!known) {
      RRPC_LOG(kWarn, "broker", "config line {}: unknown property {} ignored", line_no, key);
      continue;
    }
    Status s = setConfigProperty(config, key, value);
    if (!s.isOk()) return s.withContext("line " + std::to_string(line_no));
  }
  return Status::ok();
}

Status loadConfigFile(BrokerConfig& config, const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::invalidArgument("cannot read config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return applyConfigText(config, ss.str()).withContext(path);
}

std::string describeConfig() {
  BrokerConfig defaults;
  std::string out;
  for (const auto& prop : configProperties()) {
    out += std::string(prop.key) + " = " + getConfigProperty(defaults, prop) + "\n    " + std::string(prop.doc) +
           "\n";
  }
  return out;
}

Result<std::vector<int64_t>> parseDelayLevels(std::string_view text) {
  std::vector<int64_t> levels;
  std::istringstream in{std::string(text)};
  std::string word;
  while (in >> word) {
    char unit = word.back();
    int64_t mult = 0;
    switch (unit) {
      case 's': mult = 1000; break;
      case 'm': mult = 60 * 1000; break;
      case 'h': mult = 3600 * 1000; break;
      case 'd': mult = 24 * 3600 * 1000; break;
      default: return Status::invalidArgument("messageDelayLevel: bad unit in " + word);
    }
    try {
      levels.push_back(std::stoll(word.substr(0, word.size() - 1)) * mult);
    } catch (const std::exception&) {
      return Status::invalidArgument("messageDelayLevel: bad number in " + word);
    }
  }
  if (levels.empty()) return Status::invalidArgument("messageDelayLevel is empty");
  return levels;
}

int BrokerConfig::ioThreads() const {
  if (server_selector_threads > 0) return static_cast<int>(server_selector_threads);
  const int hw = static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(hw / 4, 1, 8);
}

Status BrokerConfig::validate() const {
  auto range = [](std::string_view key, int64_t v, int64_t lo, int64_t hi) {
    if (v < lo || v > hi)
      return Status::invalidArgument(std::string(key) + " must be in [" + std::to_string(lo) + ", " +
                                     std::to_string(hi) + "], got " + std::to_string(v));
    return Status::ok();
  };
  for (Status s : {range("listenPort", listen_port, 0, 65535), range("brokerId", broker_id, 0, 0),
                   range("defaultTopicQueueNums", default_topic_queue_nums, 1, 1024),
                   range("fileReservedTime", file_reserved_time, 1, 87600),
                   range("mapedFileSizeCommitLog", maped_file_size_commit_log, 4096, 1LL << 30),
                   range("maxMessageSize", max_message_size, 1, 16 * 1024 * 1024),
                   range("flushConsumerOffsetInterval", flush_consumer_offset_interval, 100, 600000),
                   range("flushIntervalCommitLog", flush_interval_commit_log, 1, 60000),
                   range("registerNameServerPeriod", register_name_server_period, 10000, 60000),
                   range("serverSelectorThreads", server_selector_threads, 0, 64),
                   range("serverWorkerThreads", server_worker_threads, 1, 256),
                   range("metricsPort", metrics_port, 0, 65535),
                   range("metricsMaxTopics", metrics_max_topics, 0, 100000),
                   range("aclReloadIntervalMillis", acl_reload_interval_millis, 100, 60000),
                   range("aclReplyTrackMaxEntries", acl_reply_track_max_entries, 1, 10000000),
                   range("aclReplyTrackTtlMillis", acl_reply_track_ttl_millis, 1000, 86400000),
                   range("channelExpiredTimeout", channel_expired_timeout, 1000, 3600000),
                   range("brokerExpiredTimeout", broker_expired_timeout, 1000, 3600000),
                   range("maxTransferBytesOnMessageInMemory", max_transfer_bytes_on_message_in_memory, 1024,
                         64 * 1024 * 1024),
                   range("maxPullHoldTimeMills", max_pull_hold_time_mills, 1000, 3600000),
                   range("maxPullHoldsPerConnection", max_pull_holds_per_connection, 1, 65536),
                   range("maxReceivingBytes", max_receiving_bytes, 65536, int64_t{1} << 40),
                   range("frameReceiveTimeoutMillis", frame_receive_timeout_millis, 100, 3600000),
                   range("maxWriteQueueBytesPerConnection", max_write_queue_bytes_per_connection, 65536,
                         int64_t{1} << 36),
                   range("writeStallTimeoutMillis", write_stall_timeout_millis, 100, 3600000),
                   range("waitTimeMillsInSendQueue", wait_time_mills_in_send_queue, 0, 600000),
                   range("maxSendQueueBytes", max_send_queue_bytes, 1024 * 1024, int64_t{1} << 36),
                   range("workerQueueCapacity", worker_queue_capacity, 16, 1048576),
                   range("maxOpenFiles", max_open_files, 16, 1048576),
                   range("diskMaxUsedSpaceRatio", disk_max_used_space_ratio, 10, 95),
                   range("diskSpaceWarningLevelRatio", disk_space_warning_level_ratio, 10, 99)}) {
    if (!s.isOk()) return s;
  }
  if (flush_disk_type != "SYNC_FLUSH" && flush_disk_type != "ASYNC_FLUSH")
    return Status::invalidArgument("flushDiskType must be SYNC_FLUSH or ASYNC_FLUSH");
  if (broker_cluster_name.empty() || broker_name.empty())
    return Status::invalidArgument("brokerClusterName and brokerName must not be empty");
  if (tls_server_mode != "disabled" && tls_server_mode != "permissive" && tls_server_mode != "enforcing")
    return Status::invalidArgument("tlsServerMode must be disabled, permissive or enforcing, got " + tls_server_mode);
  if (tls_server_mode != "disabled" && (tls_server_cert_path.empty() || tls_server_key_path.empty()))
    return Status::invalidArgument("tlsServerMode=" + tls_server_mode +
                                   " needs tlsServerCertPath and tlsServerKeyPath");
  if (tls_client_cert_path.empty() != tls_client_key_path.empty())
    return Status::invalidArgument("tlsClientCertPath and tlsClientKeyPath must be set together");
  auto levels = parseDelayLevels(message_delay_level);
  if (!levels.isOk()) return levels.status();
  return Status::ok();
}

std::string BrokerConfig::storeRoot() const {
  if (!store_path_root_dir.empty()) return store_path_root_dir;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return std::string(xdg) + "/rocketrpc-broker";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.local/share/rocketrpc-broker";
}

}  // namespace rocketrpc::broker
