// BrokerConfig: every setting of rocketrpc-broker, read from a RocketMQ-style key=value file (Apache's key
// names where they exist) and from the command line through ONE property table, which also documents them
// (`rocketrpc-broker --help-config`, docs/design/broker.md). Plain value type; validate() once at start.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace rocketrpc::broker {

struct BrokerConfig {
  std::string broker_cluster_name = "DefaultCluster";
  std::string broker_name = "broker-a";
  int64_t broker_id = 0;
  std::string broker_ip1 = "127.0.0.1";
  std::string listen_host = "127.0.0.1";
  int64_t listen_port = 9876;
  std::string store_path_root_dir;  // empty: $XDG_DATA_HOME/rocketrpc-broker or ~/.local/share/rocketrpc-broker
  std::string flush_disk_type = "ASYNC_FLUSH";
  int64_t flush_interval_commit_log = 500;
  int64_t flush_consumer_offset_interval = 5000;
  bool auto_create_topic_enable = true;
  bool auto_create_subscription_group = true;
  int64_t default_topic_queue_nums = 8;
  int64_t file_reserved_time = 72;
  int64_t maped_file_size_commit_log = 64LL * 1024 * 1024;
  int64_t max_message_size = 4LL * 1024 * 1024;
  std::string namesrv_addr;
  bool namesrv_enable = true;
  bool store_reply_message_enable = true;
  bool long_polling_enable = true;
  int64_t short_polling_time_mills = 1000;
  int64_t register_name_server_period = 30000;
  int64_t channel_expired_timeout = 120000;
  int64_t broker_expired_timeout = 120000;
  std::string message_delay_level = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";
  std::string region_id = "DefaultRegion";
  bool trace_on = true;
  int64_t server_selector_threads = 0;  // 0 = ioThreads()
  int64_t server_worker_threads = 8;
  int64_t metrics_port = 0;
  int64_t metrics_max_topics = 1000;  // per-topic series; the rest share topic="__other__"
  // Access control (docs/design/broker.md "Access control", docs/design/security.md).
  bool acl_enable = false;
  std::string acl_file;  // empty: <storeRoot>/config/plain_acl.yml
  int64_t acl_reload_interval_millis = 2000;
  bool acl_reply_check_enable = true;
  int64_t acl_reply_track_max_entries = 100000;
  int64_t acl_reply_track_ttl_millis = 600000;
  // TLS of the listening port (Apache's tls.server.* properties, camel-cased).
  std::string tls_server_mode = "disabled";  // disabled | permissive | enforcing
  std::string tls_server_cert_path;
  std::string tls_server_key_path;
  std::string tls_server_trust_cert_path;
  bool tls_server_need_client_auth = false;
  // TLS of the broker's own connections to the external name servers of namesrvAddr (Apache's tls.enable and
  // tls.client.*).
  bool tls_enable = false;
  std::string tls_client_trust_cert_path;
  std::string tls_client_cert_path;
  std::string tls_client_key_path;
  bool tls_client_auth_server = true;
  // Bounds a client cannot move (issue 10): see the limits table in docs/design/broker.md.
  int64_t max_transfer_bytes_on_message_in_memory = 256 * 1024;
  int64_t max_pull_hold_time_mills = 30000;
  int64_t max_pull_holds_per_connection = 1024;
  // Connection memory bounds (remoting::TransportOptions of the listening port).
  int64_t max_receiving_bytes = 256LL * 1024 * 1024;
  int64_t frame_receive_timeout_millis = 60000;
  int64_t max_write_queue_bytes_per_connection = 64LL * 1024 * 1024;
  int64_t write_stall_timeout_millis = 30000;
  // Send backpressure (Apache's BrokerFastFailure): a send queued for the store writer (or for a worker) longer
  // than this is answered SYSTEM_BUSY; 0 disables the check.
  int64_t wait_time_mills_in_send_queue = 200;
  // Message bodies queued for the store writer; a send that would pass it is answered SYSTEM_BUSY.
  int64_t max_send_queue_bytes = 128LL * 1024 * 1024;
  // Tasks waiting for the worker pool; a request of a pooled code arriving over it is answered SYSTEM_BUSY.
  int64_t worker_queue_capacity = 10000;
  // Files and disks of the store (docs/design/broker.md "Files and disks").
  int64_t max_open_files = 1024;
  int64_t disk_max_used_space_ratio = 75;
  int64_t disk_space_warning_level_ratio = 90;

  /// The I/O thread count: serverSelectorThreads, or when 0 one per 4 hardware threads (1..8). Requests are
  /// processed on these threads, and a frame for a connection of another thread costs a cross-thread wake-up,
  /// so few threads serve small machines best.
  int ioThreads() const;
  /// Checks ranges and enum values; InvalidArgument naming the key.
  Status validate() const;
  /// The store directory after applying the default.
  std::string storeRoot() const;
  /// aclFile after applying the default.
  std::string aclFilePath() const { return acl_file.empty() ? storeRoot() + "/config/plain_acl.yml" : acl_file; }
  /// "brokerIP1:listenPort" for a given bound port.
  std::string brokerAddr(uint16_t port) const { return broker_ip1 + ":" + std::to_string(port); }
};

struct ConfigProperty {
  std::string_view key;
  std::string_view doc;
  std::variant<std::string BrokerConfig::*, int64_t BrokerConfig::*, bool BrokerConfig::*> field;
};

/// The property table (key, meaning, field).
const std::vector<ConfigProperty>& configProperties();
/// Sets one property by key. Unknown key or bad value -> InvalidArgument.
Status setConfigProperty(BrokerConfig& config, std::string_view key, std::string_view value);
/// Current value of a property as text.
std::string getConfigProperty(const BrokerConfig& config, const ConfigProperty& prop);
/// Applies a key=value text ('#' comments, blank lines, spaces around '=' allowed). Unknown keys are logged
/// and ignored (Apache config files carry many); bad values -> InvalidArgument with the line number.
Status applyConfigText(BrokerConfig& config, std::string_view text);
Status loadConfigFile(BrokerConfig& config, const std::string& path);
/// The table rendered for --help-config: "key = default\n    doc".
std::string describeConfig();

/// Parses messageDelayLevel ("1s 5s 1m 2h ...") into milliseconds per level (level 1 first).
Result<std::vector<int64_t>> parseDelayLevels(std::string_view text);

}  // namespace rocketrpc::broker
