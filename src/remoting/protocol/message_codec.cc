// Message encodings; the byte layouts are described in docs/design/message-format.md ("Messages").
#include "remoting/protocol/message_codec.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <charconv>
#include <chrono>
#include <cstring>
#include <limits>
#include <optional>
#include <random>

#include "common/big_endian.h"
#include "common/local_address.h"

namespace rocketrpc::remoting {

namespace {

// ---- big-endian primitives -----------------------------------------------------------------------------

void putU8(std::string& out, uint8_t v) { out.push_back(static_cast<char>(v)); }

// Stored records and message ids: the common big-endian helpers.
void putI16(std::string& out, int16_t v) { appendBig16(out, v); }
void putI32(std::string& out, int32_t v) { appendBig32(out, v); }
void putI64(std::string& out, int64_t v) { appendBig64(out, v); }
using Reader = BigEndianReader;

// ---- hosts and hex -------------------------------------------------------------------------------------

constexpr char kHexDigits[] = "0123456789ABCDEF";

void appendHex(std::string& out, const uint8_t* bytes, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHexDigits[bytes[i] >> 4]);
    out.push_back(kHexDigits[bytes[i] & 0xF]);
  }
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// An IP address (4 or 16 bytes) and a port, as written in stored records and offset ids.
struct HostAddr {
  std::array<uint8_t, 16> ip{};
  bool v6 = false;
  int32_t port = 0;

  size_t ipSize() const { return v6 ? 16 : 4; }
};

bool validPort(int64_t port) { return port >= 0 && port <= 65535; }

// "a.b.c.d:port", "[v6]:port" or "v6:port" (the last colon separates the port).
std::optional<HostAddr> parseHostPort(std::string_view text) {
  std::string_view addr;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    addr = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    addr = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  int64_t port = -1;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      !validPort(port)) {
    return std::nullopt;
  }
  HostAddr host;
  host.port = static_cast<int32_t>(port);
  const std::string addr_z(addr);  // inet_pton needs a NUL-terminated string
  if (addr.find(':') != std::string_view::npos) {
    host.v6 = true;
    if (inet_pton(AF_INET6, addr_z.c_str(), host.ip.data()) != 1) return std::nullopt;
  } else {
    if (inet_pton(AF_INET, addr_z.c_str(), host.ip.data()) != 1) return std::nullopt;
  }
  return host;
}

// "a.b.c.d:port" or "[v6]:port".
std::string formatHost(const HostAddr& host) {
  char buf[INET6_ADDRSTRLEN] = {};
  std::string out;
  if (host.v6) {
    inet_ntop(AF_INET6, host.ip.data(), buf, sizeof buf);
    out += '[';
    out += buf;
    out += ']';
  } else {
    inet_ntop(AF_INET, host.ip.data(), buf, sizeof buf);
    out += buf;
  }
  out += ':';
  out += std::to_string(host.port);
  return out;
}

std::string offsetMessageId(const HostAddr& host, int64_t commit_log_offset) {
  std::string raw;
  raw.reserve(28);
  raw.append(reinterpret_cast<const char*>(host.ip.data()), host.ipSize());
  putI32(raw, host.port);
  putI64(raw, commit_log_offset);
  std::string hex;
  hex.reserve(raw.size() * 2);
  appendHex(hex, reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
  return hex;
}

// Reads an IPv4 (4 + 4 bytes) or IPv6 (16 + 4 bytes) host field of a stored record.
bool readHost(Reader& r, bool v6, HostAddr* host) {
  std::string_view ip;
  host->v6 = v6;
  if (!r.bytes(host->ipSize(), &ip)) return false;
  std::memcpy(host->ip.data(), ip.data(), ip.size());
  return r.i32(&host->port);
}

void writeHost(std::string& out, const HostAddr& host) {
  out.append(reinterpret_cast<const char*>(host.ip.data()), host.ipSize());
  putI32(out, host.port);
}

// ---- stored records ------------------------------------------------------------------------------------

// TOTALSIZE..BODYLEN with IPv4 hosts, plus the smallest topic-length and properties-length fields.
constexpr size_t kMinStoredRecordSize = 88 + 1 + 2;

Status decodeBody(std::string_view stored, int32_t* sys_flag, bool decompress, size_t max_body_bytes,
                  std::string* body) {
  if (!decompress || (*sys_flag & sys_flag::kCompressed) == 0) {
    body->assign(stored);
    return Status::ok();
  }
  const int32_t type = *sys_flag & sys_flag::kCompressionTypeMask;
  if (type == sys_flag::kCompressionLz4 || type == sys_flag::kCompressionZstd) {
    return Status::corrupt("unsupported compression (" +
                           std::string(type == sys_flag::kCompressionLz4 ? "LZ4" : "ZSTD") + ")");
  }
  if (type != 0 && type != sys_flag::kCompressionZlib) {
    return Status::corrupt("unknown compression type " + std::to_string(type >> 8));
  }
  auto inflated = zlibDecompress(stored, max_body_bytes);
  if (!inflated) return inflated.status().withContext("body");
  *body = std::move(inflated).value();
  *sys_flag &= ~sys_flag::kCompressed;
  return Status::ok();
}

// Decodes the record starting at the beginning of `data`; sets *consumed to its TOTALSIZE.
// The fields of one stored-message record, as views into its bytes.
struct StoredRecord {
  int32_t total_size = 0;
  int32_t magic = 0;
  int32_t body_crc = 0;
  int32_t queue_id = 0;
  int32_t flag = 0;
  int64_t queue_offset = 0;
  int64_t physical_offset = 0;
  int32_t sys_flag = 0;
  int64_t born_ts = 0;
  int64_t store_ts = 0;
  HostAddr born_host;
  HostAddr store_host;
  int32_t reconsume_times = 0;
  int64_t prepared_tx_offset = 0;
  std::string_view body;
  std::string_view topic;
  std::string_view props;
};

// Parses the record at the start of `data` (which may continue with more records): every length field must fit
// and TOTALSIZE must be exactly the sum of the fields. Allocates nothing.
Status parseStoredRecord(std::string_view data, StoredRecord* rec) {
  Reader r(data);
  int32_t total_size = 0;
  if (!r.i32(&total_size)) return Status::corrupt("truncated TOTALSIZE");
  if (total_size < 0 || static_cast<size_t>(total_size) < kMinStoredRecordSize) {
    return Status::corrupt("TOTALSIZE " + std::to_string(total_size) + " too small");
  }
  if (static_cast<size_t>(total_size) > data.size()) {
    return Status::corrupt("TOTALSIZE " + std::to_string(total_size) + " exceeds the " +
                           std::to_string(data.size()) + " bytes left");
  }
  r = Reader(data.substr(0, static_cast<size_t>(total_size)));
  r.i32(&rec->total_size);

  int32_t& magic = rec->magic;
  if (!r.i32(&magic)) return Status::corrupt("truncated MAGICCODE");
  if (magic != kMessageMagicV1 && magic != kMessageMagicV2) return Status::corrupt("bad MAGICCODE");
  if (!r.i32(&rec->body_crc) || !r.i32(&rec->queue_id) || !r.i32(&rec->flag) || !r.i64(&rec->queue_offset) ||
      !r.i64(&rec->physical_offset) || !r.i32(&rec->sys_flag) || !r.i64(&rec->born_ts)) {
    return Status::corrupt("truncated fixed fields");
  }
  if (!readHost(r, (rec->sys_flag & sys_flag::kBornHostV6) != 0, &rec->born_host))
    return Status::corrupt("truncated BORNHOST");
  if (!r.i64(&rec->store_ts)) return Status::corrupt("truncated STORETIMESTAMP");
  if (!readHost(r, (rec->sys_flag & sys_flag::kStoreHostV6) != 0, &rec->store_host)) {
    return Status::corrupt("truncated STOREHOST");
  }
  if (!validPort(rec->born_host.port) || !validPort(rec->store_host.port))
    return Status::corrupt("host port out of range");
  if (!r.i32(&rec->reconsume_times) || !r.i64(&rec->prepared_tx_offset))
    return Status::corrupt("truncated fixed fields");
  int32_t body_len = 0;
  if (!r.i32(&body_len)) return Status::corrupt("truncated BODYLEN");
  if (body_len < 0) return Status::corrupt("negative BODYLEN");
  if (!r.bytes(static_cast<size_t>(body_len), &rec->body)) return Status::corrupt("BODYLEN exceeds the record");
  size_t topic_len = 0;
  if (magic == kMessageMagicV1) {
    uint8_t len = 0;
    if (!r.u8(&len)) return Status::corrupt("truncated TOPICLEN");
    if (len > 127) return Status::corrupt("negative TOPICLEN");  // a Java byte
    topic_len = len;
  } else {
    int16_t len = 0;
    if (!r.i16(&len)) return Status::corrupt("truncated TOPICLEN");
    if (len < 0) return Status::corrupt("negative TOPICLEN");
    topic_len = static_cast<size_t>(len);
  }
  if (!r.bytes(topic_len, &rec->topic)) return Status::corrupt("TOPICLEN exceeds the record");
  int16_t props_len = 0;
  if (!r.i16(&props_len)) return Status::corrupt("truncated PROPERTIESLEN");
  if (props_len < 0) return Status::corrupt("negative PROPERTIESLEN");
  if (!r.bytes(static_cast<size_t>(props_len), &rec->props))
    return Status::corrupt("PROPERTIESLEN exceeds the record");
  if (r.remaining() != 0) return Status::corrupt("TOTALSIZE does not match the record's fields");
  return Status::ok();
}

Status decodeOneStored(std::string_view data, bool decompress, size_t max_body_bytes, MessageExt* msg,
                       size_t* consumed) {
  StoredRecord rec;
  if (Status s = parseStoredRecord(data, &rec); !s) return s;
  *consumed = static_cast<size_t>(rec.total_size);  // delimited, even if the body below does not decode
  int32_t sys_flag = rec.sys_flag;
  std::string decoded_body;
  if (Status s = decodeBody(rec.body, &sys_flag, decompress, max_body_bytes, &decoded_body); !s) return s;

  msg->setStoreSize(rec.total_size);
  msg->setBodyCrc(rec.body_crc);
  msg->setQueueId(rec.queue_id);
  msg->setFlag(rec.flag);
  msg->setQueueOffset(rec.queue_offset);
  msg->setCommitLogOffset(rec.physical_offset);
  msg->setSysFlag(sys_flag);
  msg->setBornTimestamp(rec.born_ts);
  msg->setBornHost(formatHost(rec.born_host));
  msg->setStoreTimestamp(rec.store_ts);
  msg->setStoreHost(formatHost(rec.store_host));
  msg->setReconsumeTimes(rec.reconsume_times);
  msg->setPreparedTransactionOffset(rec.prepared_tx_offset);
  msg->setBody(std::move(decoded_body));
  msg->setTopic(std::string(rec.topic));
  msg->mutableProperties() = decodeProperties(rec.props);
  std::string offset_id = offsetMessageId(rec.store_host, rec.physical_offset);
  auto uniq = msg->properties().find(property::kUniqClientMessageId);
  msg->setMsgId(uniq != msg->properties().end() ? uniq->second : offset_id);
  msg->setOffsetMsgId(std::move(offset_id));
  return Status::ok();
}

// ---- UNIQ_KEY ------------------------------------------------------------------------------------------


// IP | pid low 16 bits | random non-zero per-process salt, as 20 hex chars (the fixed prefix of every
// UNIQ_KEY).
std::string uniqIdPrefix() {
  std::string raw;
  const auto ip = localIpv4();
  raw.append(reinterpret_cast<const char*>(ip.data()), ip.size());
  putI16(raw, static_cast<int16_t>(static_cast<uint16_t>(getpid() & 0xFFFF)));
  std::random_device rd;
  // Never 0: a zero field marks ids of rocketmq-client-go, whose TTL is read as seconds (rpc::ttlBudgetMs).
  uint32_t salt = rd();
  if (salt == 0) salt = 1;
  putI32(raw, static_cast<int32_t>(salt));
  std::string hex;
  appendHex(hex, reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
  return hex;
}

// Unix ms at the start of the (UTC) month containing `ms`.
int64_t monthStartMs(int64_t ms) {
  using namespace std::chrono;
  const sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(ms)));
  const year_month_day ymd(day);
  const sys_days first = ymd.year() / ymd.month() / std::chrono::day(1);
  return duration_cast<milliseconds>(first.time_since_epoch()).count();
}

}  // namespace

// ---- properties ----------------------------------------------------------------------------------------

std::string encodeProperties(const Properties& props) {
  std::string out;
  for (const auto& [name, value] : props) {
    if (name.empty() || value.empty()) continue;
    if (!out.empty()) out.push_back(kPropertySeparator);
    out += name;
    out.push_back(kNameValueSeparator);
    out += value;
  }
  return out;
}

std::string encodeProperties(const Properties& props,
                             std::span<const std::pair<std::string_view, std::string_view>> overrides) {
  // A handful of overrides at most: sorted by name (stably, so the last of equal names is last) and merged with
  // the sorted map.
  std::vector<std::pair<std::string_view, std::string_view>> sorted(overrides.begin(), overrides.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  auto append = [&out](std::string_view name, std::string_view value) {
    if (name.empty() || value.empty()) return;
    if (!out.empty()) out.push_back(kPropertySeparator);
    out.append(name);
    out.push_back(kNameValueSeparator);
    out.append(value);
  };
  auto it = props.begin();
  for (size_t i = 0; i < sorted.size();) {
    const std::string_view name = sorted[i].first;
    for (; it != props.end() && std::string_view(it->first) < name; ++it) append(it->first, it->second);
    if (it != props.end() && it->first == name) ++it;  // overridden
    size_t last = i;
    while (last + 1 < sorted.size() && sorted[last + 1].first == name) ++last;
    append(name, sorted[last].second);
    i = last + 1;
  }
  for (; it != props.end(); ++it) append(it->first, it->second);
  return out;
}

Properties decodeProperties(std::string_view text) {
  Properties props;
  size_t index = 0;
  while (index < text.size()) {
    size_t end = text.find(kPropertySeparator, index);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view segment = text.substr(index, end - index);
    const size_t sep = segment.find(kNameValueSeparator);
    // Needs a non-empty name and a non-empty value (value may itself contain \x01, as in Java).
    if (sep != std::string_view::npos && sep > 0 && sep + 1 < segment.size()) {
      props.insert_or_assign(std::string(segment.substr(0, sep)), std::string(segment.substr(sep + 1)));
    }
    index = end + 1;
  }
  return props;
}

// ---- tag hash ------------------------------------------------------------------------------------------

int32_t javaStringHash(std::string_view utf8) {
  uint32_t h = 0;  // unsigned: wrapping arithmetic, identical bits to Java's int overflow
  const auto add = [&h](uint32_t unit) { h = h * 31u + unit; };
  constexpr uint32_t kReplacement = 0xFFFD;
  size_t i = 0;
  const size_t n = utf8.size();
  while (i < n) {
    const auto b0 = static_cast<uint8_t>(utf8[i]);
    if (b0 < 0x80) {
      add(b0);
      ++i;
      continue;
    }
    size_t need = 0;
    uint32_t cp = 0;
    uint8_t lo = 0x80;  // valid range of the second byte (excludes overlongs, surrogates, > U+10FFFF)
    uint8_t hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      need = 1;
      cp = b0 & 0x1Fu;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      need = 2;
      cp = b0 & 0x0Fu;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      need = 3;
      cp = b0 & 0x07u;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      add(kReplacement);
      ++i;
      continue;
    }
    size_t j = i + 1;
    bool ok = true;
    for (size_t k = 0; k < need; ++k, ++j) {
      if (j >= n) {
        ok = false;
        break;
      }
      const auto b = static_cast<uint8_t>(utf8[j]);
      if (b < (k == 0 ? lo : 0x80) || b > (k == 0 ? hi : 0xBF)) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (b & 0x3Fu);
    }
    i = j;  // on error: the maximal valid prefix becomes one U+FFFD; the offending byte is decoded next
    if (!ok) {
      add(kReplacement);
    } else if (cp >= 0x10000) {
      cp -= 0x10000;
      add(0xD800 + (cp >> 10));
      add(0xDC00 + (cp & 0x3FF));
    } else {
      add(cp);
    }
  }
  return static_cast<int32_t>(h);
}

// ---- zlib ----------------------------------------------------------------------------------------------

Result<std::string> zlibCompress(std::string_view data, int level) {
  if (level < 1 || level > 9) return Status::invalidArgument("zlib level must be 1..9");
  uLongf out_len = compressBound(static_cast<uLong>(data.size()));
  std::string out(out_len, '\0');
  const int rc =
      compress2(reinterpret_cast<Bytef*>(out.data()), &out_len, reinterpret_cast<const Bytef*>(data.data()),
                static_cast<uLong>(data.size()), level);
  if (rc != Z_OK) return Status::internal("zlib compress2 failed: " + std::to_string(rc));
  out.resize(out_len);
  return out;
}

std::optional<std::string> zlibCompressIfSmaller(std::string_view data, int level) {
  if (level < 1 || level > 9 || data.size() > std::numeric_limits<uInt>::max()) return std::nullopt;
  z_stream zs{};
  if (deflateInit(&zs, level) != Z_OK) return std::nullopt;
  struct End {
    z_stream* zs;
    ~End() { deflateEnd(zs); }
  } end{&zs};
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  std::string out;
  if (data.size() > 2 * kZlibProbeBytes) {
    // Probe: deflate the first block alone and flush it out; give up unless it shrank.
    out.resize(kZlibProbeBytes + kZlibProbeBytes / 8 + 64);
    zs.avail_in = static_cast<uInt>(kZlibProbeBytes);
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    if (deflate(&zs, Z_SYNC_FLUSH) != Z_OK || zs.avail_in != 0) return std::nullopt;
    if (zs.total_out >= kZlibProbeBytes - kZlibProbeBytes / 32) return std::nullopt;
  }
  // deflateBound covers the rest of the stream; the sync flush above adds at most a few bytes more.
  const size_t produced = zs.total_out;
  out.resize(produced + deflateBound(&zs, static_cast<uLong>(data.size())) + 64);
  zs.avail_in = static_cast<uInt>(data.size() - zs.total_in);
  zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
  zs.avail_out = static_cast<uInt>(out.size() - produced);
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) return std::nullopt;
  if (zs.total_out >= data.size()) return std::nullopt;
  out.resize(zs.total_out);
  return out;
}

bool isGoClientUniqId(std::string_view uniq_key) {
  // rocketmq-client-go's CreateUniqID: hex of IPv4 (4 bytes) | pid (2) | classLoadId (4, always 0) | time (4)
  // | counter (2). Java's MessageClientIDSetter has the same layout with the class loader's hash code.
  if (uniq_key.size() != 32) return false;
  for (char c : uniq_key) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
    if (!hex) return false;
  }
  return uniq_key.substr(12, 8) == "00000000";
}

bool hasZlibHeader(std::string_view data) {
  if (data.size() < 2) return false;
  const auto cmf = static_cast<uint8_t>(data[0]);
  const auto flg = static_cast<uint8_t>(data[1]);
  const bool deflate = (cmf & 0x0F) == 8 && (cmf >> 4) <= 7;
  const bool check = ((cmf << 8) | flg) % 31 == 0;
  const bool no_dict = (flg & 0x20) == 0;
  return deflate && check && no_dict;
}

Result<std::string> zlibDecompress(std::string_view data, size_t max_output) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return Status::internal("zlib inflateInit failed");
  struct End {
    z_stream* zs;
    ~End() { inflateEnd(zs); }
  } end{&zs};

  constexpr size_t kChunk = 64 * 1024;
  std::vector<unsigned char> chunk(kChunk);
  std::string out;
  const auto* next = reinterpret_cast<const unsigned char*>(data.data());
  size_t left = data.size();
  while (true) {
    if (zs.avail_in == 0 && left > 0) {
      const size_t feed = std::min<size_t>(left, std::numeric_limits<uInt>::max());
      zs.next_in = const_cast<Bytef*>(next);
      zs.avail_in = static_cast<uInt>(feed);
      next += feed;
      left -= feed;
    }
    zs.next_out = chunk.data();
    zs.avail_out = static_cast<uInt>(kChunk);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_NEED_DICT || rc == Z_DATA_ERROR) {
      return Status::corrupt(std::string("zlib: ") + (zs.msg != nullptr ? zs.msg : "bad data"));
    }
    if (rc == Z_MEM_ERROR) return Status::internal("zlib: out of memory");
    const size_t produced = kChunk - zs.avail_out;
    if (produced > max_output - out.size()) {
      return Status::overLimit("inflated size exceeds " + std::to_string(max_output) + " bytes");
    }
    if (out.capacity() < out.size() + produced) {
      // Grow geometrically but never past the limit, so a bomb cannot make us reserve more than max_output.
      out.reserve(std::min(max_output, std::max(out.size() + produced, out.capacity() * 2)));
    }
    out.append(reinterpret_cast<const char*>(chunk.data()), produced);
    if (rc == Z_STREAM_END)
      return out;  // trailing bytes after the stream are ignored, as Java's Inflater does
    if (zs.avail_out != 0 && zs.avail_in == 0 && left == 0) return Status::corrupt("zlib: truncated stream");
  }
}

int32_t bodyCrc(std::string_view body) {
  const uLong crc = crc32_z(0L, reinterpret_cast<const Bytef*>(body.data()), body.size());
  return static_cast<int32_t>(crc & 0x7FFFFFFFu);
}

// ---- stored records ------------------------------------------------------------------------------------

Status checkStoredRecord(std::string_view record, int64_t physical_offset) {
  StoredRecord rec;
  if (Status s = parseStoredRecord(record, &rec); !s) return s;
  if (static_cast<size_t>(rec.total_size) != record.size()) {
    return Status::corrupt("TOTALSIZE " + std::to_string(rec.total_size) + " is not the " +
                           std::to_string(record.size()) + " bytes expected");
  }
  if (rec.physical_offset != physical_offset) {
    return Status::corrupt("PHYSICALOFFSET " + std::to_string(rec.physical_offset) + " is not " +
                           std::to_string(physical_offset));
  }
  return Status::ok();
}

SalvagedMessages decodeStoredMessagesSalvaging(std::string_view data, bool decompress, size_t max_body_bytes) {
  SalvagedMessages out;
  size_t pos = 0;
  while (pos < data.size()) {
    MessageExt msg;
    size_t consumed = 0;
    Status s = decodeOneStored(data.substr(pos), decompress, max_body_bytes, &msg, &consumed);
    if (s) {
      out.messages.push_back(std::move(msg));
    } else {
      if (out.first_error) out.first_error = s.withContext("stored message at byte " + std::to_string(pos));
      if (consumed == 0) {  // cannot be delimited: neither it nor anything after it can be found
        out.rest_lost = true;
        break;
      }
      ++out.skipped_records;
    }
    pos += consumed;
  }
  return out;
}

Result<std::vector<MessageExt>> decodeStoredMessages(std::string_view data, bool decompress,
                                                     size_t max_body_bytes) {
  std::vector<MessageExt> msgs;
  size_t pos = 0;
  while (pos < data.size()) {
    MessageExt msg;
    size_t consumed = 0;
    Status s = decodeOneStored(data.substr(pos), decompress, max_body_bytes, &msg, &consumed);
    if (!s) return s.withContext("stored message at byte " + std::to_string(pos));
    msgs.push_back(std::move(msg));
    pos += consumed;
  }
  return msgs;
}

std::string encodeStoredMessage(const MessageExt& msg) {
  HostAddr born = parseHostPort(msg.bornHost()).value_or(HostAddr{});
  HostAddr store = parseHostPort(msg.storeHost()).value_or(HostAddr{});
  int32_t flags = msg.sysFlag() & ~(sys_flag::kBornHostV6 | sys_flag::kStoreHostV6);
  if (born.v6) flags |= sys_flag::kBornHostV6;
  if (store.v6) flags |= sys_flag::kStoreHostV6;
  const std::string props = encodeProperties(msg.properties());
  const std::string& topic = msg.topic();
  const bool v2 = topic.size() > 127;
  assert(props.size() <= kMaxPropertiesBytes && topic.size() <= 32767);

  const size_t total = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + (born.ipSize() + 4) + 8 + (store.ipSize() + 4) +
                       4 + 8 + 4 + msg.body().size() + (v2 ? 2 : 1) + topic.size() + 2 + props.size();
  std::string out;
  out.reserve(total);
  putI32(out, static_cast<int32_t>(total));
  putI32(out, v2 ? kMessageMagicV2 : kMessageMagicV1);
  putI32(out, bodyCrc(msg.body()));
  putI32(out, msg.queueId());
  putI32(out, msg.flag());
  putI64(out, msg.queueOffset());
  putI64(out, msg.commitLogOffset());
  putI32(out, flags);
  putI64(out, msg.bornTimestamp());
  writeHost(out, born);
  putI64(out, msg.storeTimestamp());
  writeHost(out, store);
  putI32(out, msg.reconsumeTimes());
  putI64(out, msg.preparedTransactionOffset());
  putI32(out, static_cast<int32_t>(msg.body().size()));
  out += msg.body();
  if (v2) {
    putI16(out, static_cast<int16_t>(topic.size()));
  } else {
    putU8(out, static_cast<uint8_t>(topic.size()));
  }
  out += topic;
  putI16(out, static_cast<int16_t>(props.size()));
  out += props;
  return out;
}

// ---- batches -------------------------------------------------------------------------------------------

namespace {
constexpr size_t kBatchFixedSize = 4 + 4 + 4 + 4 + 4 + 2;  // TOTALSIZE MAGIC BODYCRC FLAG BODYLEN PROPLEN
}  // namespace

std::string encodeBatch(const std::vector<Message>& msgs) {
  std::string out;
  for (const Message& msg : msgs) {
    const std::string props = encodeProperties(msg.properties());
    assert(props.size() <= kMaxPropertiesBytes);
    const size_t total = kBatchFixedSize + msg.body().size() + props.size();
    putI32(out, static_cast<int32_t>(total));
    putI32(out, 0);  // MAGICCODE: unused in batches
    putI32(out, 0);  // BODYCRC: computed by the broker
    putI32(out, msg.flag());
    putI32(out, static_cast<int32_t>(msg.body().size()));
    out += msg.body();
    putI16(out, static_cast<int16_t>(props.size()));
    out += props;
  }
  return out;
}

Result<std::vector<Message>> decodeBatch(std::string_view data, const std::string& topic) {
  std::vector<Message> msgs;
  size_t pos = 0;
  while (pos < data.size()) {
    const std::string context = "batch message at byte " + std::to_string(pos);
    Reader head(data.substr(pos));
    int32_t total = 0;
    if (!head.i32(&total)) return Status::corrupt(context + ": truncated TOTALSIZE");
    if (total < 0 || static_cast<size_t>(total) < kBatchFixedSize) {
      return Status::corrupt(context + ": TOTALSIZE " + std::to_string(total) + " too small");
    }
    if (static_cast<size_t>(total) > data.size() - pos) {
      return Status::corrupt(context + ": TOTALSIZE " + std::to_string(total) + " exceeds the input");
    }
    Reader r(data.substr(pos, static_cast<size_t>(total)));
    int32_t magic = 0;
    int32_t crc = 0;
    int32_t flag = 0;
    int32_t body_len = 0;
    int16_t props_len = 0;
    std::string_view body;
    std::string_view props;
    r.i32(&total);
    if (!r.i32(&magic) || !r.i32(&crc) || !r.i32(&flag) || !r.i32(&body_len)) {
      return Status::corrupt(context + ": truncated fixed fields");
    }
    if (body_len < 0) return Status::corrupt(context + ": negative BODYLEN");
    if (!r.bytes(static_cast<size_t>(body_len), &body))
      return Status::corrupt(context + ": BODYLEN exceeds record");
    if (!r.i16(&props_len)) return Status::corrupt(context + ": truncated PROPERTIESLEN");
    if (props_len < 0) return Status::corrupt(context + ": negative PROPERTIESLEN");
    if (!r.bytes(static_cast<size_t>(props_len), &props)) {
      return Status::corrupt(context + ": PROPERTIESLEN exceeds record");
    }
    if (r.remaining() != 0)
      return Status::corrupt(context + ": TOTALSIZE does not match the record's fields");
    Message msg(topic, std::string(body));
    msg.setFlag(flag);
    msg.mutableProperties() = decodeProperties(props);
    msgs.push_back(std::move(msg));
    pos += static_cast<size_t>(total);
  }
  return msgs;
}

// ---- message ids ---------------------------------------------------------------------------------------

Result<std::string> createOffsetMessageId(std::string_view store_host, int64_t commit_log_offset) {
  const auto host = parseHostPort(store_host);
  if (!host) return Status::invalidArgument("bad store host '" + std::string(store_host) + "'");
  return offsetMessageId(*host, commit_log_offset);
}

Result<OffsetMessageId> decodeOffsetMessageId(std::string_view id) {
  if (id.size() != 32 && id.size() != 56) {
    return Status::corrupt("offset message id must have 32 or 56 hex digits, got " +
                           std::to_string(id.size()));
  }
  std::string raw;
  raw.reserve(id.size() / 2);
  for (size_t i = 0; i < id.size(); i += 2) {
    const int hi = hexValue(id[i]);
    const int lo = hexValue(id[i + 1]);
    if (hi < 0 || lo < 0) return Status::corrupt("offset message id is not hex");
    raw.push_back(static_cast<char>((hi << 4) | lo));
  }
  Reader r(raw);
  HostAddr host;
  int64_t offset = 0;
  readHost(r, id.size() == 56, &host);
  r.i64(&offset);
  if (!validPort(host.port)) return Status::corrupt("offset message id has port out of range");
  return OffsetMessageId{formatHost(host), offset};
}

std::string createUniqId() {
  static const std::string prefix = uniqIdPrefix();
  // (unix ms << 16 | counter), strictly increasing across calls: when 65536 ids are taken within one ms the
  // counter carries into the time field, so (time, counter) never repeats within a process.
  static std::atomic<uint64_t> last{0};
  const auto now_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  uint64_t prev = last.load(std::memory_order_relaxed);
  uint64_t next = 0;
  do {
    next = std::max(prev + 1, now_ms << 16);
  } while (!last.compare_exchange_weak(prev, next, std::memory_order_relaxed));
  const auto ms = static_cast<int64_t>(next >> 16);
  const auto since_month = static_cast<uint32_t>(ms - monthStartMs(ms));

  std::string id = prefix;
  id.reserve(32);
  const uint8_t tail[6] = {static_cast<uint8_t>(since_month >> 24), static_cast<uint8_t>(since_month >> 16),
                           static_cast<uint8_t>(since_month >> 8),  static_cast<uint8_t>(since_month),
                           static_cast<uint8_t>(next >> 8),         static_cast<uint8_t>(next)};
  appendHex(id, tail, sizeof tail);
  return id;
}

}  // namespace rocketrpc::remoting
