// Topic configuration as brokers report it to name servers (REGISTER_BROKER body) and persist it:
// TopicConfig, DataVersion, TopicConfigSerializeWrapper and RegisterBrokerBody (docs/design/broker.md,
// protocol reference section 8.1). Plain value types (thread-compatible) and pure codec functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rocketrpc::namesrv {

struct TopicConfig {
  std::string topic_name;
  int32_t read_queue_nums = 16;
  int32_t write_queue_nums = 16;
  int32_t perm = 6;  // remoting::perm bits
  std::string topic_filter_type = "SINGLE_TAG";
  int32_t topic_sys_flag = 0;
  bool order = false;
  friend bool operator==(const TopicConfig&, const TopicConfig&) = default;
};

/// Bumped by a broker on every topic change; name servers re-read queue data only when it differs.
struct DataVersion {
  int64_t timestamp = 0;
  int64_t counter = 0;
  int64_t state_version = 0;
  friend bool operator==(const DataVersion&, const DataVersion&) = default;
  /// counter + 1, timestamp = now_ms.
  void next(int64_t now_ms) {
    ++counter;
    timestamp = now_ms;
  }
};

using TopicConfigTable = std::map<std::string, TopicConfig>;

struct TopicConfigWrapper {
  DataVersion data_version;
  TopicConfigTable topic_config_table;
};

struct RegisterBrokerBody {
  TopicConfigWrapper topic_config_wrapper;
  std::vector<std::string> filter_server_list;
};

/// RegisterBrokerBody JSON (fastjson field names, sorted).
std::string encodeRegisterBrokerBody(const RegisterBrokerBody& body);
/// Parses the JSON form, or with `compressed` the zlib form of section 8.1. Corrupt on bad input.
Result<RegisterBrokerBody> parseRegisterBrokerBody(std::string_view data, bool compressed);
/// Compressed (zlib) form, as Java brokers send with compressedRegister=true; used by tests.
std::string encodeRegisterBrokerBodyCompressed(const RegisterBrokerBody& body);

/// {"dataVersion":{...},"topicConfigTable":{...}}: the broker's on-disk topics.json.
std::string encodeTopicConfigWrapper(const TopicConfigWrapper& wrapper);
Result<TopicConfigWrapper> parseTopicConfigWrapper(std::string_view json);

}  // namespace rocketrpc::namesrv
