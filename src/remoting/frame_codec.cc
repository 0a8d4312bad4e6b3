// Frame and header codecs; the grammar is in docs/design/wire-protocol.md.
#include "remoting/frame_codec.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/big_endian.h"

namespace rocketrpc::remoting {
namespace {

using nlohmann::json;

constexpr size_t kMaxHeaderLength = 0xFFFFFF;  // 24 bits of the header word
constexpr size_t kMinBinaryHeader = 21;

// ---- big-endian helpers -------------------------------------------------------------------------------------

void putU8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }
void putU16(std::string* out, uint16_t v) { appendBig16(*out, static_cast<int16_t>(v)); }
void putU32(std::string* out, uint32_t v) { appendBig32(*out, static_cast<int32_t>(v)); }
uint32_t loadU32(const char* p) { return static_cast<uint32_t>(getBig32(p)); }
using Reader = BigEndianReader;

LanguageCode languageFromByte(int64_t value) {
  if (value < 0 || value > static_cast<int64_t>(LanguageCode::kNodeJs)) return LanguageCode::kOther;
  return static_cast<LanguageCode>(value);
}

// ---- JSON helpers -------------------------------------------------------------------------------------------

// Builds a RemotingCommand straight from nlohmann's SAX events (no DOM: this is on every frame's path).
// Depth 1 is the header object; depth 2 inside "extFields" holds the custom header; anything nested deeper, or
// under an unknown key, is skipped.
class JsonHeaderReader {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  explicit JsonHeaderReader(RemotingCommand* cmd) : cmd_(cmd) {}

  const std::string& error() const { return error_; }
  bool haveCode() const { return have_code_; }

  bool null() { return scalar(Value{Kind::kNull}); }
  bool boolean(bool v) {
    Value value{Kind::kBool};
    value.b = v;
    return scalar(value);
  }
  bool number_integer(number_integer_t v) {
    Value value{Kind::kInt};
    value.i = v;
    return scalar(value);
  }
  bool number_unsigned(number_unsigned_t v) {
    Value value{Kind::kUint};
    value.u = v;
    return scalar(value);
  }
  bool number_float(number_float_t v, const string_t& text) {
    Value value{Kind::kFloat};
    value.d = v;
    value.s = &text;
    return scalar(value);
  }
  bool string(string_t& v) {
    Value value{Kind::kString};
    value.s = &v;
    return scalar(value);
  }
  bool binary(binary_t&) { return fail("JSON header: unexpected binary value"); }

  bool start_object(std::size_t) {
    ++depth_;
    if (depth_ == 2 && top_key_ == "extFields") {
      in_ext_ = true;
    } else if (depth_ == 2 && isKnownScalarKey(top_key_)) {
      return fail("JSON header: " + top_key_ + " is an object");
    } else if (depth_ == 3 && in_ext_) {
      return fail("JSON header: extFields." + ext_key_ + " is not a string");
    }
    return true;
  }
  bool end_object() {
    if (depth_ == 2) in_ext_ = false;
    --depth_;
    return true;
  }
  bool start_array(std::size_t) {
    ++depth_;
    if (depth_ == 1) return fail("JSON header is not an object");
    if (depth_ == 2 && (isKnownScalarKey(top_key_) || top_key_ == "extFields")) {
      return fail("JSON header: " + top_key_ + " is an array");
    }
    if (depth_ == 3 && in_ext_) return fail("JSON header: extFields." + ext_key_ + " is not a string");
    return true;
  }
  bool end_array() {
    --depth_;
    return true;
  }
  bool key(string_t& k) {
    if (depth_ == 1) {
      top_key_ = k;
    } else if (depth_ == 2 && in_ext_) {
      ext_key_ = k;
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    return fail(std::string("JSON header does not parse: ") + e.what());
  }

 private:
  enum class Kind { kNull, kBool, kInt, kUint, kFloat, kString };
  struct Value {
    Kind kind;
    bool b = false;
    int64_t i = 0;
    uint64_t u = 0;
    double d = 0;
    const std::string* s = nullptr;
  };

  static bool isKnownScalarKey(const std::string& k) {
    return k == "code" || k == "flag" || k == "opaque" || k == "version" || k == "language" || k == "remark" ||
           k == "serializeTypeCurrentRPC";
  }

  bool fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    return false;
  }

  // Integral number (or integral float) within int32.
  static bool toInt32(const Value& v, int32_t* out) {
    constexpr int64_t kMin = std::numeric_limits<int32_t>::min();
    constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
    switch (v.kind) {
      case Kind::kInt:
        if (v.i < kMin || v.i > kMax) return false;
        *out = static_cast<int32_t>(v.i);
        return true;
      case Kind::kUint:
        if (v.u > static_cast<uint64_t>(kMax)) return false;
        *out = static_cast<int32_t>(v.u);
        return true;
      case Kind::kFloat:
        if (!std::isfinite(v.d) || v.d != std::trunc(v.d) || v.d < static_cast<double>(kMin) ||
            v.d > static_cast<double>(kMax)) {
          return false;
        }
        *out = static_cast<int32_t>(v.d);
        return true;
      default:
        return false;
    }
  }

  // Strings as is; numbers and booleans as their text (Java peers always send strings, others may not).
  static bool toText(const Value& v, std::string* out) {
    switch (v.kind) {
      case Kind::kString: *out = *v.s; return true;
      case Kind::kBool: *out = v.b ? "true" : "false"; return true;
      case Kind::kInt: *out = std::to_string(v.i); return true;
      case Kind::kUint: *out = std::to_string(v.u); return true;
      case Kind::kFloat: *out = *v.s; return true;  // the number as written
      default: return false;
    }
  }

  bool scalar(const Value& v) {
    if (depth_ == 0) return fail("JSON header is not an object");
    if (depth_ == 2 && in_ext_) {
      if (v.kind == Kind::kNull) return true;  // Java maps may hold nulls; they mean "absent"
      std::string text;
      toText(v, &text);
      cmd_->ext_fields.append(ext_key_, std::move(text));  // normalize()d once the header is parsed
      return true;
    }
    if (depth_ != 1) return true;  // inside an unknown key's value
    const std::string& k = top_key_;
    if (k == "code") {
      if (!toInt32(v, &cmd_->code)) return fail("JSON header: code is not an int32");
      have_code_ = true;
    } else if (k == "flag") {
      if (!toInt32(v, &cmd_->flag)) return fail("JSON header: flag is not an int32");
    } else if (k == "opaque") {
      if (!toInt32(v, &cmd_->opaque)) return fail("JSON header: opaque is not an int32");
    } else if (k == "version") {
      if (!toInt32(v, &cmd_->version)) return fail("JSON header: version is not an int32");
    } else if (k == "language") {
      int32_t n = 0;
      if (v.kind == Kind::kString) {
        cmd_->language = languageFromName(*v.s);
      } else if (toInt32(v, &n)) {
        cmd_->language = languageFromByte(n);
      } else if (v.kind != Kind::kNull) {
        return fail("JSON header: language is not a name or a number");
      }
    } else if (k == "remark") {
      if (v.kind == Kind::kNull) {
        cmd_->remark.reset();
      } else {
        std::string text;
        toText(v, &text);
        cmd_->remark = std::move(text);
      }
    } else if (k == "extFields") {
      if (v.kind != Kind::kNull) return fail("JSON header: extFields is not an object");
    }
    // serializeTypeCurrentRPC is informational (the frame's type byte decides); other keys are ignored.
    return true;
  }

  RemotingCommand* cmd_;
  int depth_ = 0;
  bool in_ext_ = false;
  bool have_code_ = false;
  std::string top_key_;
  std::string ext_key_;
  std::string error_;
};

// Length of the valid UTF-8 sequence (RFC 3629) starting at s[i], or 0 if it is not one.
size_t utf8SequenceLength(std::string_view s, size_t i) {
  auto at = [&s](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return k < s.size() && at(k) >= lo && at(k) <= hi;
  };
  unsigned char c = at(i);
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c == 0xE0) return cont(i + 1, 0xA0) && cont(i + 2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(i + 1) && cont(i + 2) ? 3 : 0;
  if (c == 0xED) return cont(i + 1, 0x80, 0x9F) && cont(i + 2) ? 3 : 0;
  if (c == 0xF0) return cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  if (c == 0xF4) return cont(i + 1, 0x80, 0x8F) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  return 0;
}

// Appends `s` as a JSON string: quotes, backslashes and control characters escaped, UTF-8 written as is,
// bytes that are not valid UTF-8 replaced by U+FFFD.
void appendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    size_t run = i;  // copy runs of plain ASCII at once
    while (run < s.size()) {
      auto c = static_cast<unsigned char>(s[run]);
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
      ++run;
    }
    out->append(s.data() + i, run - i);
    i = run;
    if (i == s.size()) break;
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = utf8SequenceLength(s, i);
      if (n == 0) {
        out->append("\xEF\xBF\xBD");
        ++i;
      } else {
        out->append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default: {
        char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out->append(esc, 6);
      }
    }
    ++i;
  }
  out->push_back('"');
}

void appendInt(std::string* out, int32_t v) {
  char buf[16];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, static_cast<size_t>(end - buf));
}

Status headerTooLong(size_t n) {
  return Status::invalidArgument(fmt::format("header of {} bytes exceeds the 24-bit header length", n));
}

}  // namespace

// ---- JSON header --------------------------------------------------------------------------------------------

Status decodeJsonHeader(std::string_view header, RemotingCommand* out) {
  RemotingCommand cmd;
  cmd.serialize_type = SerializeType::kJson;
  JsonHeaderReader reader(&cmd);
  bool parsed = false;
  try {
    parsed = json::sax_parse(header.begin(), header.end(), &reader);
  } catch (const std::exception& e) {
    return Status::corrupt(std::string("JSON header: ") + e.what());
  }
  if (!parsed) return Status::corrupt(reader.error().empty() ? "JSON header does not parse" : reader.error());
  if (!reader.haveCode()) return Status::corrupt("JSON header has no code");
  cmd.ext_fields.normalize();
  cmd.body = std::move(out->body);
  *out = std::move(cmd);
  return Status::ok();
}

void encodeJsonHeader(const RemotingCommand& cmd, std::string* out) {
  // Keys in fastjson's (alphabetical) order; extFields are kept sorted by key.
  out->append(R"({"code":)");
  appendInt(out, cmd.code);
  out->append(R"(,"extFields":{)");
  bool first = true;
  for (const auto& [key, value] : cmd.ext_fields) {
    if (!first) out->push_back(',');
    first = false;
    appendJsonString(out, key);
    out->push_back(':');
    appendJsonString(out, value);
  }
  out->append(R"(},"flag":)");
  appendInt(out, cmd.flag);
  out->append(R"(,"language":)");
  appendJsonString(out, languageName(cmd.language));
  out->append(R"(,"opaque":)");
  appendInt(out, cmd.opaque);
  if (cmd.remark) {
    out->append(R"(,"remark":)");
    appendJsonString(out, *cmd.remark);
  }
  out->append(R"(,"serializeTypeCurrentRPC":"JSON","version":)");
  appendInt(out, cmd.version);
  out->push_back('}');
}

// ---- ROCKETMQ binary header ---------------------------------------------------------------------------------

Status decodeBinaryHeader(std::string_view header, RemotingCommand* out) {
  if (header.size() < kMinBinaryHeader) {
    return Status::corrupt(fmt::format("binary header of {} bytes is shorter than 21", header.size()));
  }
  Reader r(header);
  RemotingCommand cmd;
  cmd.serialize_type = SerializeType::kRocketMq;
  int16_t code = 0;
  uint8_t language = 0;
  int16_t version = 0;
  int32_t remark_len = 0;
  r.i16(&code);
  r.u8(&language);
  r.i16(&version);
  r.i32(&cmd.opaque);
  r.i32(&cmd.flag);
  r.i32(&remark_len);
  cmd.code = code;
  cmd.language = languageFromByte(language);
  cmd.version = version;
  if (remark_len < 0 || static_cast<size_t>(remark_len) > r.remaining()) {
    return Status::corrupt(fmt::format("binary header: remark length {} out of range", remark_len));
  }
  if (remark_len > 0) {
    std::string_view remark;
    r.bytes(static_cast<size_t>(remark_len), &remark);
    cmd.remark = std::string(remark);
  }
  int32_t ext_len = 0;
  if (!r.i32(&ext_len)) return Status::corrupt("binary header: truncated before extFields length");
  if (ext_len < 0 || static_cast<size_t>(ext_len) > r.remaining()) {
    return Status::corrupt(fmt::format("binary header: extFields length {} out of range", ext_len));
  }
  std::string_view ext_bytes;
  r.bytes(static_cast<size_t>(ext_len), &ext_bytes);
  Reader ext(ext_bytes);
  while (ext.remaining() > 0) {
    int16_t key_len = 0;
    int32_t value_len = 0;
    std::string_view key;
    std::string_view value;
    if (!ext.i16(&key_len) || key_len < 0 || !ext.bytes(static_cast<size_t>(key_len), &key)) {
      return Status::corrupt("binary header: bad extFields key length");
    }
    if (!ext.i32(&value_len) || value_len < 0 || !ext.bytes(static_cast<size_t>(value_len), &value)) {
      return Status::corrupt("binary header: bad extFields value length");
    }
    cmd.ext_fields.append(std::string(key), std::string(value));
  }
  cmd.ext_fields.normalize();
  // Bytes after the extFields section are ignored, as Java does.
  cmd.body = std::move(out->body);
  *out = std::move(cmd);
  return Status::ok();
}

Status encodeBinaryHeader(const RemotingCommand& cmd, std::string* out) {
  constexpr int64_t kShortMin = std::numeric_limits<int16_t>::min();
  constexpr int64_t kShortMax = std::numeric_limits<int16_t>::max();
  constexpr size_t kIntMax = static_cast<size_t>(std::numeric_limits<int32_t>::max());
  if (cmd.code < kShortMin || cmd.code > kShortMax) {
    return Status::invalidArgument(fmt::format("code {} does not fit the binary header (int16)", cmd.code));
  }
  if (cmd.version < kShortMin || cmd.version > kShortMax) {
    return Status::invalidArgument(fmt::format("version {} does not fit the binary header (int16)", cmd.version));
  }
  size_t ext_len = 0;
  for (const auto& [key, value] : cmd.ext_fields) {
    if (key.size() > static_cast<size_t>(kShortMax)) {
      return Status::invalidArgument(fmt::format("extFields key of {} bytes is too long", key.size()));
    }
    if (value.size() > kIntMax) return Status::invalidArgument("extFields value too long");
    ext_len += 2 + key.size() + 4 + value.size();
  }
  size_t remark_len = cmd.remark ? cmd.remark->size() : 0;
  if (ext_len > kIntMax || remark_len > kIntMax) return Status::invalidArgument("binary header too long");
  size_t total = kMinBinaryHeader + remark_len + ext_len;
  if (total > kMaxHeaderLength) return headerTooLong(total);

  out->reserve(out->size() + total);
  putU16(out, static_cast<uint16_t>(static_cast<int16_t>(cmd.code)));
  putU8(out, static_cast<uint8_t>(cmd.language));
  putU16(out, static_cast<uint16_t>(static_cast<int16_t>(cmd.version)));
  putU32(out, static_cast<uint32_t>(cmd.opaque));
  putU32(out, static_cast<uint32_t>(cmd.flag));
  putU32(out, static_cast<uint32_t>(remark_len));
  if (cmd.remark) out->append(*cmd.remark);
  putU32(out, static_cast<uint32_t>(ext_len));
  for (const auto& [key, value] : cmd.ext_fields) {
    putU16(out, static_cast<uint16_t>(key.size()));
    out->append(key);
    putU32(out, static_cast<uint32_t>(value.size()));
    out->append(value);
  }
  return Status::ok();
}

// ---- frame --------------------------------------------------------------------------------------------------

FrameDecodeResult decodeFrame(std::string_view input, size_t max_frame_bytes, RemotingCommand* out) {
  FrameDecodeResult result;
  auto corrupt = [&result](std::string why) {
    result.state = DecodeState::kCorrupt;
    result.error = std::move(why);
    return result;
  };
  if (input.size() < 4) return result;
  int32_t length = static_cast<int32_t>(loadU32(input.data()));
  if (length < 0) return corrupt(fmt::format("negative frame length {}", length));
  uint64_t frame_bytes = static_cast<uint64_t>(length) + 4;
  if (frame_bytes > max_frame_bytes) {
    return corrupt(fmt::format("frame of {} bytes exceeds the limit of {}", frame_bytes, max_frame_bytes));
  }
  if (length < 4) return corrupt(fmt::format("frame length {} is shorter than the header-length word", length));
  if (input.size() < 8) return result;
  uint32_t word = loadU32(input.data() + 4);
  uint8_t type = static_cast<uint8_t>(word >> 24);
  uint32_t header_len = word & 0xFFFFFF;
  if (type != static_cast<uint8_t>(SerializeType::kJson) && type != static_cast<uint8_t>(SerializeType::kRocketMq)) {
    return corrupt(fmt::format("unknown serialize type {}", type));
  }
  if (header_len > static_cast<uint32_t>(length) - 4) {
    return corrupt(fmt::format("header length {} exceeds frame length {}", header_len, length));
  }
  if (input.size() < frame_bytes) return result;

  std::string_view header = input.substr(8, header_len);
  std::string_view body = input.substr(8 + header_len, static_cast<size_t>(frame_bytes) - 8 - header_len);
  RemotingCommand cmd;
  Status s = type == static_cast<uint8_t>(SerializeType::kJson) ? decodeJsonHeader(header, &cmd)
                                                                 : decodeBinaryHeader(header, &cmd);
  if (!s.isOk()) return corrupt(s.message());
  cmd.body.assign(body.data(), body.size());
  *out = std::move(cmd);
  result.state = DecodeState::kComplete;
  result.consumed = static_cast<size_t>(frame_bytes);
  return result;
}

Status encodeFrame(const RemotingCommand& cmd, std::string* out) {
  const size_t start = out->size();
  putU32(out, 0);  // length, patched below
  putU32(out, 0);  // header word, patched below
  const size_t header_start = out->size();
  const bool binary = cmd.serialize_type == SerializeType::kRocketMq;
  if (binary) {
    Status s = encodeBinaryHeader(cmd, out);
    if (!s.isOk()) {
      out->resize(start);
      return s;
    }
  } else {
    encodeJsonHeader(cmd, out);
  }
  const size_t header_len = out->size() - header_start;
  if (header_len > kMaxHeaderLength) {
    out->resize(start);
    return headerTooLong(header_len);
  }
  const uint64_t length = 4 + uint64_t{header_len} + cmd.body.size();
  if (length > static_cast<uint64_t>(std::numeric_limits<int32_t>::max()) - 4) {
    out->resize(start);
    return Status::invalidArgument(fmt::format("frame of {} bytes is too long", length + 4));
  }
  out->append(cmd.body);
  const uint32_t word = (uint32_t{binary ? 1u : 0u} << 24) | static_cast<uint32_t>(header_len);
  putBig32(out->data() + start, static_cast<int32_t>(length));
  putBig32(out->data() + start + 4, static_cast<int32_t>(word));
  return Status::ok();
}

}  // namespace rocketrpc::remoting
