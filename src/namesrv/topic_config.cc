#include "namesrv/topic_config.h"

#include <nlohmann/json.hpp>

#include "remoting/protocol/message_codec.h"
#include "remoting/protocol/route_data.h"

namespace rocketrpc::namesrv {
namespace {

using Json = nlohmann::json;

Json dataVersionJson(const DataVersion& v) {
  return Json{{"counter", v.counter}, {"stateVersion", v.state_version}, {"timestamp", v.timestamp}};
}

DataVersion readDataVersion(const Json& j) {
  DataVersion v;
  if (!j.is_object()) return v;
  v.counter = j.value("counter", int64_t{0});
  v.timestamp = j.value("timestamp", int64_t{0});
  v.state_version = j.value("stateVersion", int64_t{0});
  return v;
}

Json topicConfigJson(const TopicConfig& c) {
  return Json{{"order", c.order},
              {"perm", c.perm},
              {"readQueueNums", c.read_queue_nums},
              {"topicFilterType", c.topic_filter_type},
              {"topicName", c.topic_name},
              {"topicSysFlag", c.topic_sys_flag},
              {"writeQueueNums", c.write_queue_nums}};
}

TopicConfig readTopicConfig(const std::string& name, const Json& j) {
  TopicConfig c;
  c.topic_name = j.value("topicName", name);
  if (c.topic_name.empty()) c.topic_name = name;
  c.read_queue_nums = j.value("readQueueNums", 16);
  c.write_queue_nums = j.value("writeQueueNums", 16);
  c.perm = j.value("perm", 6);
  c.topic_filter_type = j.value("topicFilterType", std::string("SINGLE_TAG"));
  c.topic_sys_flag = j.value("topicSysFlag", 0);
  c.order = j.value("order", false);
  return c;
}

Json wrapperJson(const TopicConfigWrapper& w) {
  Json table = Json::object();
  for (const auto& [name, c] : w.topic_config_table) table[name] = topicConfigJson(c);
  return Json{{"dataVersion", dataVersionJson(w.data_version)}, {"topicConfigTable", std::move(table)}};
}

TopicConfigWrapper readWrapper(const Json& j) {
  TopicConfigWrapper w;
  if (!j.is_object()) return w;
  if (auto it = j.find("dataVersion"); it != j.end()) w.data_version = readDataVersion(*it);
  if (auto it = j.find("topicConfigTable"); it != j.end() && it->is_object()) {
    for (auto t = it->begin(); t != it->end(); ++t) {
      if (t.value().is_object()) w.topic_config_table[t.key()] = readTopicConfig(t.key(), t.value());
    }
  }
  return w;
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// Big-endian reader over the inflated compressed body.
class Reader {
 public:
  explicit Reader(std::string_view d) : d_(d) {}
  bool readInt(int32_t& v) {
    if (d_.size() - pos_ < 4) return false;
    uint32_t u = 0;
    for (int i = 0; i < 4; ++i) u = (u << 8) | static_cast<uint8_t>(d_[pos_ + i]);
    pos_ += 4;
    v = static_cast<int32_t>(u);
    return true;
  }
  bool readBlock(std::string_view& out) {
    int32_t n = 0;
    if (!readInt(n) || n < 0 || static_cast<size_t>(n) > d_.size() - pos_) return false;
    out = d_.substr(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return true;
  }

 private:
  std::string_view d_;
  size_t pos_ = 0;
};

void appendInt(std::string& out, int32_t v) {
  auto u = static_cast<uint32_t>(v);
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>((u >> s) & 0xFF));
}

void appendBlock(std::string& out, std::string_view s) {
  appendInt(out, static_cast<int32_t>(s.size()));
  out.append(s);
}

}  // namespace

std::string encodeRegisterBrokerBody(const RegisterBrokerBody& body) {
  Json j{{"filterServerList", body.filter_server_list},
         {"topicConfigSerializeWrapper", wrapperJson(body.topic_config_wrapper)}};
  return dump(j);
}

Result<RegisterBrokerBody> parseRegisterBrokerBody(std::string_view data, bool compressed) {
  RegisterBrokerBody body;
  if (!compressed) {
    Json j = Json::parse(remoting::quoteBareIntegerKeys(data), nullptr, false);
    if (j.is_discarded() || !j.is_object()) return Status::corrupt("RegisterBrokerBody is not a JSON object");
    try {
      if (auto it = j.find("topicConfigSerializeWrapper"); it != j.end())
        body.topic_config_wrapper = readWrapper(*it);
      if (auto it = j.find("filterServerList"); it != j.end() && it->is_array()) {
        for (const auto& s : *it)
          if (s.is_string()) body.filter_server_list.push_back(s.get<std::string>());
      }
    } catch (const std::exception& e) {
      return Status::corrupt(std::string("RegisterBrokerBody: ") + e.what());
    }
    return body;
  }
  auto inflated = remoting::zlibDecompress(data, 64 * 1024 * 1024);
  if (!inflated.isOk()) return inflated.status().withContext("RegisterBrokerBody");
  Reader r(*inflated);
  std::string_view block;
  if (!r.readBlock(block)) return Status::corrupt("RegisterBrokerBody: truncated data version");
  Json dv = Json::parse(block, nullptr, false);
  if (dv.is_discarded()) return Status::corrupt("RegisterBrokerBody: bad data version JSON");
  body.topic_config_wrapper.data_version = readDataVersion(dv);
  int32_t n = 0;
  if (!r.readInt(n) || n < 0) return Status::corrupt("RegisterBrokerBody: truncated topic count");
  for (int32_t i = 0; i < n; ++i) {
    if (!r.readBlock(block)) return Status::corrupt("RegisterBrokerBody: truncated topic config");
    // "name read write perm filterType [attributes JSON]"
    std::vector<std::string> parts;
    size_t pos = 0;
    std::string text(block);
    while (pos <= text.size() && parts.size() < 5) {
      size_t sp = text.find(' ', pos);
      if (sp == std::string::npos) sp = text.size();
      parts.push_back(text.substr(pos, sp - pos));
      pos = sp + 1;
    }
    if (parts.size() < 5) return Status::corrupt("RegisterBrokerBody: bad topic config text");
    TopicConfig c;
    c.topic_name = parts[0];
    try {
      c.read_queue_nums = std::stoi(parts[1]);
      c.write_queue_nums = std::stoi(parts[2]);
      c.perm = std::stoi(parts[3]);
    } catch (const std::exception&) {
      return Status::corrupt("RegisterBrokerBody: bad topic config numbers");
    }
    c.topic_filter_type = parts[4];
    body.topic_config_wrapper.topic_config_table[c.topic_name] = c;
  }
  if (r.readBlock(block)) {
    Json f = Json::parse(block, nullptr, false);
    if (f.is_array())
      for (const auto& s : f)
        if (s.is_string()) body.filter_server_list.push_back(s.get<std::string>());
  }
  return body;
}

std::string encodeRegisterBrokerBodyCompressed(const RegisterBrokerBody& body) {
  std::string raw;
  appendBlock(raw, dump(dataVersionJson(body.topic_config_wrapper.data_version)));
  appendInt(raw, static_cast<int32_t>(body.topic_config_wrapper.topic_config_table.size()));
  for (const auto& [name, c] : body.topic_config_wrapper.topic_config_table) {
    appendBlock(raw, c.topic_name + ' ' + std::to_string(c.read_queue_nums) + ' ' +
                         std::to_string(c.write_queue_nums) + ' ' + std::to_string(c.perm) + ' ' +
                         c.topic_filter_type);
  }
  appendBlock(raw, dump(Json(body.filter_server_list)));
  auto z = remoting::zlibCompress(raw, 6);
  return z.isOk() ? *z : std::string();
}

std::string encodeTopicConfigWrapper(const TopicConfigWrapper& wrapper) { return wrapperJson(wrapper).dump(2, ' ', false, Json::error_handler_t::replace); }

Result<TopicConfigWrapper> parseTopicConfigWrapper(std::string_view json) {
  Json j = Json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::corrupt("topic config file is not a JSON object");
  try {
    return readWrapper(j);
  } catch (const std::exception& e) {
    return Status::corrupt(std::string("topic config file: ") + e.what());
  }
}

}  // namespace rocketrpc::namesrv
