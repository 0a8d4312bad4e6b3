#include "remoting/frame_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rocketrpc::remoting {
namespace {

// The worked examples of the protocol reference (section 1.2 / 1.3): GET_ROUTEINFO_BY_TOPIC for topic "T".
constexpr std::string_view kExampleJson =
    R"({"code":105,"extFields":{"topic":"T"},"flag":0,"language":"CPP","opaque":1,)"
    R"("serializeTypeCurrentRPC":"JSON","version":479})";

std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (int v : values) s.push_back(static_cast<char>(v));
  return s;
}

const std::string kExampleBinaryFrame =
    bytes({0x00, 0x00, 0x00, 0x25, 0x01, 0x00, 0x00, 0x21, 0x00, 0x69, 0x01, 0x01, 0xdf, 0x00, 0x00,
           0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00,
           0x05, 0x74, 0x6f, 0x70, 0x69, 0x63, 0x00, 0x00, 0x00, 0x01, 0x54});

RemotingCommand exampleCommand(SerializeType type) {
  RemotingCommand cmd = RemotingCommand::request(105);
  cmd.set("topic", "T");
  cmd.opaque = 1;
  cmd.version = 479;
  cmd.serialize_type = type;
  return cmd;
}

std::string frameOf(const RemotingCommand& cmd) {
  std::string out;
  Status s = encodeFrame(cmd, &out);
  EXPECT_TRUE(s.isOk()) << s.toString();
  return out;
}

std::string be32(uint32_t v) { return bytes({int(v >> 24), int((v >> 16) & 0xff), int((v >> 8) & 0xff), int(v & 0xff)}); }

/// A frame with an arbitrary JSON header text.
std::string jsonFrame(std::string_view header, std::string_view body = {}) {
  return be32(static_cast<uint32_t>(4 + header.size() + body.size())) + be32(static_cast<uint32_t>(header.size())) +
         std::string(header) + std::string(body);
}

/// A frame with an arbitrary binary header.
std::string binaryFrame(std::string_view header) {
  return be32(static_cast<uint32_t>(4 + header.size())) + be32((1u << 24) | static_cast<uint32_t>(header.size())) +
         std::string(header);
}

FrameDecodeResult decode(std::string_view input, RemotingCommand* cmd, size_t max = 16 * 1024 * 1024) {
  return decodeFrame(input, max, cmd);
}

void expectSame(const RemotingCommand& a, const RemotingCommand& b) {
  EXPECT_EQ(a.code, b.code);
  EXPECT_EQ(a.language, b.language);
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.opaque, b.opaque);
  EXPECT_EQ(a.flag, b.flag);
  EXPECT_EQ(a.remark, b.remark);
  EXPECT_EQ(a.ext_fields, b.ext_fields);
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.serialize_type, b.serialize_type);
}

class FrameCodecTest : public ::testing::Test {};

// ---- worked examples ----------------------------------------------------------------------------------------

TEST_F(FrameCodecTest, JsonExampleEncodesByteForByte) {
  std::string frame = frameOf(exampleCommand(SerializeType::kJson));
  EXPECT_EQ(frame.substr(0, 8), bytes({0x00, 0x00, 0x00, 0x7e, 0x00, 0x00, 0x00, 0x7a}));
  EXPECT_EQ(frame.substr(8), kExampleJson);
  EXPECT_EQ(frame.size(), 130u);
}

TEST_F(FrameCodecTest, JsonExampleDecodes) {
  std::string frame = jsonFrame(kExampleJson);
  ASSERT_EQ(frame.substr(0, 9), bytes({0x00, 0x00, 0x00, 0x7e, 0x00, 0x00, 0x00, 0x7a, 0x7b}));
  RemotingCommand cmd;
  auto r = decode(frame, &cmd);
  ASSERT_EQ(r.state, DecodeState::kComplete) << r.error;
  EXPECT_EQ(r.consumed, frame.size());
  expectSame(cmd, exampleCommand(SerializeType::kJson));
  EXPECT_FALSE(cmd.remark.has_value());
}

TEST_F(FrameCodecTest, BinaryExampleEncodesByteForByte) {
  EXPECT_EQ(frameOf(exampleCommand(SerializeType::kRocketMq)), kExampleBinaryFrame);
}

TEST_F(FrameCodecTest, BinaryExampleDecodes) {
  RemotingCommand cmd;
  auto r = decode(kExampleBinaryFrame, &cmd);
  ASSERT_EQ(r.state, DecodeState::kComplete) << r.error;
  EXPECT_EQ(r.consumed, kExampleBinaryFrame.size());
  expectSame(cmd, exampleCommand(SerializeType::kRocketMq));
}

// ---- round trips --------------------------------------------------------------------------------------------

RemotingCommand richCommand(SerializeType type) {
  RemotingCommand cmd;
  cmd.code = 17;
  cmd.language = LanguageCode::kJava;
  cmd.version = 409;
  cmd.opaque = -12345;
  cmd.flag = kFlagResponse | kFlagOneway;
  cmd.remark = "topic \"x\" not found\n\xc3\xa9";
  cmd.set("a", "1");
  cmd.set("empty", "");
  cmd.set("unicode", "\xe4\xb8\xad\xe6\x96\x87");
  cmd.set(std::string("nul\0key", 7), std::string("v\0v", 3));
  cmd.body = std::string("\x00\x01\xff body", 9);
  cmd.serialize_type = type;
  return cmd;
}

TEST_F(FrameCodecTest, BothHeaderTypesRoundTrip) {
  for (auto type : {SerializeType::kJson, SerializeType::kRocketMq}) {
    RemotingCommand original = richCommand(type);
    std::string frame = frameOf(original);
    RemotingCommand decoded;
    auto r = decode(frame, &decoded);
    ASSERT_EQ(r.state, DecodeState::kComplete) << r.error;
    expectSame(decoded, original);
  }
}

TEST_F(FrameCodecTest, EmptyCommandRoundTrips) {
  for (auto type : {SerializeType::kJson, SerializeType::kRocketMq}) {
    RemotingCommand original;
    original.serialize_type = type;
    RemotingCommand decoded;
    ASSERT_EQ(decode(frameOf(original), &decoded).state, DecodeState::kComplete);
    expectSame(decoded, original);
  }
}

TEST_F(FrameCodecTest, BinaryCodeIsSignedShort) {
  RemotingCommand cmd = exampleCommand(SerializeType::kRocketMq);
  cmd.code = -1000;
  RemotingCommand decoded;
  ASSERT_EQ(decode(frameOf(cmd), &decoded).state, DecodeState::kComplete);
  EXPECT_EQ(decoded.code, -1000);
  cmd.code = 32767;
  ASSERT_EQ(decode(frameOf(cmd), &decoded).state, DecodeState::kComplete);
  EXPECT_EQ(decoded.code, 32767);
}

TEST_F(FrameCodecTest, BinaryRefusesCodesOutsideInt16) {
  for (int32_t code : {32768, -32769, 200050}) {
    RemotingCommand cmd = exampleCommand(SerializeType::kRocketMq);
    cmd.code = code;
    std::string out = "prefix";
    Status s = encodeFrame(cmd, &out);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << code;
    EXPECT_EQ(out, "prefix");  // nothing appended on failure
    std::string header;
    EXPECT_EQ(encodeBinaryHeader(cmd, &header).code(), StatusCode::kInvalidArgument);
    cmd.serialize_type = SerializeType::kJson;  // POP codes only work with JSON
    RemotingCommand decoded;
    ASSERT_EQ(decode(frameOf(cmd), &decoded).state, DecodeState::kComplete);
    EXPECT_EQ(decoded.code, code);
  }
}

TEST_F(FrameCodecTest, BinaryZeroLengthRemarkIsNull) {
  RemotingCommand cmd = exampleCommand(SerializeType::kRocketMq);
  cmd.remark = "";
  RemotingCommand decoded;
  ASSERT_EQ(decode(frameOf(cmd), &decoded).state, DecodeState::kComplete);
  EXPECT_FALSE(decoded.remark.has_value());
}

TEST_F(FrameCodecTest, JsonOmitsNullRemarkAndKeepsEmptyOne) {
  RemotingCommand cmd = exampleCommand(SerializeType::kJson);
  std::string header;
  encodeJsonHeader(cmd, &header);
  EXPECT_EQ(header.find("remark"), std::string::npos);
  cmd.remark = "";
  header.clear();
  encodeJsonHeader(cmd, &header);
  EXPECT_NE(header.find(R"("remark":"")"), std::string::npos);
  RemotingCommand decoded;
  ASSERT_TRUE(decodeJsonHeader(header, &decoded).isOk());
  EXPECT_EQ(decoded.remark, std::optional<std::string>(""));
}

TEST_F(FrameCodecTest, JsonEncoderReplacesInvalidUtf8) {
  RemotingCommand cmd;
  cmd.remark = std::string("bad \xff\xfe");
  std::string header;
  encodeJsonHeader(cmd, &header);
  RemotingCommand decoded;
  ASSERT_TRUE(decodeJsonHeader(header, &decoded).isOk());
  EXPECT_EQ(decoded.remark, std::optional<std::string>("bad \xef\xbf\xbd\xef\xbf\xbd"));
}

TEST_F(FrameCodecTest, JsonEncoderEscapesQuotesBackslashesAndControlCharacters) {
  RemotingCommand cmd;
  cmd.remark = std::string("a\"b\\c\n\t\x01\x1f/\x7f\xc3\xa9", 13);
  cmd.set("k\"", "\r\b\f");
  std::string header;
  encodeJsonHeader(cmd, &header);
  EXPECT_NE(header.find(R"("remark":"a\"b\\c\n\t\u0001\u001f/)" "\x7f\xc3\xa9\""), std::string::npos) << header;
  EXPECT_NE(header.find(R"("extFields":{"k\"":"\r\b\f"})"), std::string::npos) << header;
  RemotingCommand decoded;
  ASSERT_TRUE(decodeJsonHeader(header, &decoded).isOk());
  EXPECT_EQ(decoded.remark, cmd.remark);
  EXPECT_EQ(decoded.ext_fields, cmd.ext_fields);
}

TEST_F(FrameCodecTest, JsonReaderUnescapesStrings) {
  RemotingCommand cmd;
  ASSERT_TRUE(decodeJsonHeader(R"({"code":1,"remark":"\u00e9\n\"\ud83d\ude00","extFields":{"\u0041":"\/"}})", &cmd).isOk());
  EXPECT_EQ(cmd.remark, std::optional<std::string>("\xc3\xa9\n\"\xf0\x9f\x98\x80"));
  EXPECT_EQ(*cmd.get("A"), "/");
}

// ---- JSON header tolerance ----------------------------------------------------------------------------------

TEST_F(FrameCodecTest, JsonReaderDoesNotDependOnKeyOrderAndIgnoresUnknownKeys) {
  std::string header =
      R"({"version":479,"unknown":[1,{"x":2}],"opaque":1,"serializeTypeCurrentRPC":"ROCKETMQ","language":"CPP",)"
      R"("flag":0,"extFields":{"topic":"T"},"code":105})";
  RemotingCommand cmd;
  ASSERT_TRUE(decodeJsonHeader(header, &cmd).isOk());
  expectSame(cmd, exampleCommand(SerializeType::kJson));  // the type comes from the frame, not from the key
}

TEST_F(FrameCodecTest, JsonReaderConvertsScalarExtValuesToText) {
  std::string header =
      R"({"code":10,"extFields":{"i":42,"n":-7,"b":true,"f":false,"d":1.5,"s":"x","z":null},"remark":null})";
  RemotingCommand cmd;
  ASSERT_TRUE(decodeJsonHeader(header, &cmd).isOk());
  EXPECT_EQ(*cmd.get("i"), "42");
  EXPECT_EQ(*cmd.get("n"), "-7");
  EXPECT_EQ(*cmd.get("b"), "true");
  EXPECT_EQ(*cmd.get("f"), "false");
  EXPECT_EQ(*cmd.get("d"), "1.5");
  EXPECT_EQ(*cmd.get("s"), "x");
  EXPECT_EQ(cmd.get("z"), nullptr);
  EXPECT_FALSE(cmd.remark.has_value());
}

TEST_F(FrameCodecTest, JsonReaderAcceptsLanguageAsNameOrNumber) {
  RemotingCommand cmd;
  ASSERT_TRUE(decodeJsonHeader(R"({"code":1,"language":"GO"})", &cmd).isOk());
  EXPECT_EQ(cmd.language, LanguageCode::kGo);
  ASSERT_TRUE(decodeJsonHeader(R"({"code":1,"language":0})", &cmd).isOk());
  EXPECT_EQ(cmd.language, LanguageCode::kJava);
  ASSERT_TRUE(decodeJsonHeader(R"({"code":1,"language":"KLINGON"})", &cmd).isOk());
  EXPECT_EQ(cmd.language, LanguageCode::kOther);
  ASSERT_TRUE(decodeJsonHeader(R"({"code":1,"language":99})", &cmd).isOk());
  EXPECT_EQ(cmd.language, LanguageCode::kOther);
}

TEST_F(FrameCodecTest, JsonReaderKeepsBodyOfOutput) {
  RemotingCommand cmd;
  cmd.body = "payload";
  ASSERT_TRUE(decodeJsonHeader(R"({"code":1})", &cmd).isOk());
  EXPECT_EQ(cmd.body, "payload");
}

TEST_F(FrameCodecTest, JsonReaderRejectsMalformedHeaders) {
  const std::vector<std::string> bad = {
      "",
      "   ",
      "[1,2,3]",
      "\"code\"",
      "105",
      "null",
      "{",
      R"({"code":105} trailing)",
      R"({"flag":0})",                          // no code
      R"({"code":"105"})",                      // code not a number
      R"({"code":2147483648})",                 // code beyond int32
      R"({"code":1.5})",                        // not integral
      R"({"code":1,"opaque":-2147483649})",     // opaque beyond int32
      R"({"code":1,"extFields":[1]})",          // extFields not an object
      R"({"code":1,"extFields":{"k":{"a":1}}})",  // nested value
      R"({"code":1,"extFields":{"k":[1]}})",
      R"({"code":1,"remark":{}})",
      R"({"code":1,"language":[]})",
      "{\"code\":1,\"remark\":\"\xff\"}",       // invalid UTF-8
  };
  for (const auto& header : bad) {
    RemotingCommand cmd;
    Status s = decodeJsonHeader(header, &cmd);
    EXPECT_EQ(s.code(), StatusCode::kCorrupt) << header;
    // The frame decoder reports the same thing as kCorrupt.
    auto r = decode(jsonFrame(header), &cmd);
    EXPECT_EQ(r.state, DecodeState::kCorrupt) << header;
    EXPECT_FALSE(r.error.empty());
  }
}

TEST_F(FrameCodecTest, JsonReaderAcceptsIntegralFloatsAndInt32Bounds) {
  RemotingCommand cmd;
  ASSERT_TRUE(decodeJsonHeader(R"({"code":105.0,"opaque":-2147483648,"flag":2147483647})", &cmd).isOk());
  EXPECT_EQ(cmd.code, 105);
  EXPECT_EQ(cmd.opaque, INT32_MIN);
  EXPECT_EQ(cmd.flag, INT32_MAX);
}

// ---- binary header validation -------------------------------------------------------------------------------

std::string binaryHeader(int remark_len, std::string_view remark, int ext_len, std::string_view ext) {
  // code 105, language CPP, version 479, opaque 1, flag 0
  return bytes({0x00, 0x69, 0x01, 0x01, 0xdf, 0, 0, 0, 1, 0, 0, 0, 0}) + be32(static_cast<uint32_t>(remark_len)) +
         std::string(remark) + be32(static_cast<uint32_t>(ext_len)) + std::string(ext);
}

TEST_F(FrameCodecTest, BinaryReaderChecksEveryLength) {
  const std::string entry = bytes({0x00, 0x01, 'k', 0, 0, 0, 1, 'v'});
  struct Case {
    const char* name;
    std::string header;
  };
  const std::vector<Case> bad = {
      {"shorter than 21", std::string(20, '\0')},
      {"negative remark length", binaryHeader(-1, "", 0, "")},
      {"remark longer than header", binaryHeader(100, "abc", 0, "")},
      {"remark eats ext length", binaryHeader(4, "abcd", 0, "").substr(0, 21)},
      {"negative ext length", binaryHeader(0, "", -5, "")},
      {"ext longer than header", binaryHeader(0, "", 9, entry)},
      {"negative key length", binaryHeader(0, "", 8, bytes({0xff, 0xff, 'k', 0, 0, 0, 1, 'v'}))},
      {"key longer than ext", binaryHeader(0, "", 8, bytes({0x00, 0x09, 'k', 0, 0, 0, 1, 'v'}))},
      {"negative value length", binaryHeader(0, "", 8, bytes({0x00, 0x01, 'k', 0xff, 0xff, 0xff, 0xff, 'v'}))},
      {"value longer than ext", binaryHeader(0, "", 8, bytes({0x00, 0x01, 'k', 0, 0, 0, 2, 'v'}))},
      {"truncated entry", binaryHeader(0, "", 2, bytes({0x00, 0x01}))},
      {"huge value length", binaryHeader(0, "", 8, bytes({0x00, 0x01, 'k', 0x7f, 0xff, 0xff, 0xff, 'v'}))},
  };
  for (const auto& c : bad) {
    RemotingCommand cmd;
    EXPECT_EQ(decodeBinaryHeader(c.header, &cmd).code(), StatusCode::kCorrupt) << c.name;
    EXPECT_EQ(decode(binaryFrame(c.header), &cmd).state, DecodeState::kCorrupt) << c.name;
  }
}

TEST_F(FrameCodecTest, BinaryReaderParsesRemarkAndEntriesAndIgnoresTrailingBytes) {
  const std::string ext = bytes({0x00, 0x01, 'k', 0, 0, 0, 1, 'v', 0x00, 0x00, 0, 0, 0, 0});
  RemotingCommand cmd;
  ASSERT_TRUE(decodeBinaryHeader(binaryHeader(2, "hi", static_cast<int>(ext.size()), ext) + "junk", &cmd).isOk());
  EXPECT_EQ(cmd.remark, std::optional<std::string>("hi"));
  ASSERT_EQ(cmd.ext_fields.size(), 2u);
  EXPECT_EQ(*cmd.get("k"), "v");
  EXPECT_EQ(*cmd.get(""), "");
  EXPECT_EQ(cmd.serialize_type, SerializeType::kRocketMq);
}

TEST_F(FrameCodecTest, BinaryUnknownLanguageByteIsOther) {
  std::string header = binaryHeader(0, "", 0, "");
  header[2] = static_cast<char>(0xee);
  RemotingCommand cmd;
  ASSERT_TRUE(decodeBinaryHeader(header, &cmd).isOk());
  EXPECT_EQ(cmd.language, LanguageCode::kOther);
}

// ---- frame layer --------------------------------------------------------------------------------------------

TEST_F(FrameCodecTest, HeaderSplitAcrossReadsNeedsMoreData) {
  for (auto type : {SerializeType::kJson, SerializeType::kRocketMq}) {
    std::string frame = frameOf(richCommand(type));
    for (size_t split = 0; split < frame.size(); ++split) {
      RemotingCommand cmd;
      auto r = decode(std::string_view(frame).substr(0, split), &cmd);
      ASSERT_EQ(r.state, DecodeState::kNeedMore) << "split " << split;
      EXPECT_EQ(r.consumed, 0u);
    }
    RemotingCommand cmd;
    auto r = decode(frame, &cmd);
    ASSERT_EQ(r.state, DecodeState::kComplete);
    EXPECT_EQ(r.consumed, frame.size());
  }
}

TEST_F(FrameCodecTest, BackToBackFramesDecodeOneAtATime) {
  std::string first = frameOf(exampleCommand(SerializeType::kJson));
  std::string second = frameOf(richCommand(SerializeType::kRocketMq));
  std::string input = first + second + second.substr(0, 5);
  RemotingCommand cmd;
  auto r = decode(input, &cmd);
  ASSERT_EQ(r.state, DecodeState::kComplete);
  EXPECT_EQ(r.consumed, first.size());
  EXPECT_EQ(cmd.code, 105);
  std::string_view rest = std::string_view(input).substr(r.consumed);
  r = decode(rest, &cmd);
  ASSERT_EQ(r.state, DecodeState::kComplete);
  EXPECT_EQ(cmd.code, 17);
  EXPECT_EQ(cmd.serialize_type, SerializeType::kRocketMq);
  r = decode(rest.substr(r.consumed), &cmd);
  EXPECT_EQ(r.state, DecodeState::kNeedMore);
}

TEST_F(FrameCodecTest, OversizeLengthIsCorruptFromFourBytes) {
  RemotingCommand cmd;
  auto r = decode(be32(1021), &cmd, 1024);  // L + 4 = 1025 > 1024
  EXPECT_EQ(r.state, DecodeState::kCorrupt);
  EXPECT_NE(r.error.find("exceeds"), std::string::npos) << r.error;
  r = decode(be32(1020), &cmd, 1024);  // exactly the limit: fine, wants more
  EXPECT_EQ(r.state, DecodeState::kNeedMore);
  r = decode(be32(0x7fffffff), &cmd);
  EXPECT_EQ(r.state, DecodeState::kCorrupt);
}

TEST_F(FrameCodecTest, FrameAtExactlyTheLimitDecodes) {
  RemotingCommand original = exampleCommand(SerializeType::kJson);
  std::string frame = frameOf(original);
  RemotingCommand cmd;
  EXPECT_EQ(decode(frame, &cmd, frame.size()).state, DecodeState::kComplete);
  EXPECT_EQ(decode(frame, &cmd, frame.size() - 1).state, DecodeState::kCorrupt);
}

TEST_F(FrameCodecTest, NegativeLengthIsCorrupt) {
  for (uint32_t length : {0x80000000u, 0xffffffffu, 0xfffffff0u}) {
    RemotingCommand cmd;
    auto r = decode(be32(length), &cmd, SIZE_MAX);
    EXPECT_EQ(r.state, DecodeState::kCorrupt) << length;
  }
}

TEST_F(FrameCodecTest, LengthShorterThanHeaderWordIsCorrupt) {
  for (uint32_t length : {0u, 1u, 3u}) {
    RemotingCommand cmd;
    EXPECT_EQ(decode(be32(length), &cmd).state, DecodeState::kCorrupt) << length;
  }
}

TEST_F(FrameCodecTest, HeaderLongerThanFrameIsCorrupt) {
  RemotingCommand cmd;
  // L = 10 leaves 6 bytes for header + body; H = 7.
  EXPECT_EQ(decode(be32(10) + be32(7), &cmd).state, DecodeState::kCorrupt);
  EXPECT_EQ(decode(be32(10) + be32((1u << 24) | 0xffffff), &cmd).state, DecodeState::kCorrupt);
}

TEST_F(FrameCodecTest, UnknownSerializeTypeIsCorrupt) {
  RemotingCommand cmd;
  for (uint32_t type : {2u, 0x7fu, 0xffu}) {
    EXPECT_EQ(decode(be32(10) + be32((type << 24) | 2), &cmd).state, DecodeState::kCorrupt) << type;
  }
}

TEST_F(FrameCodecTest, EmptyJsonHeaderIsCorrupt) {
  RemotingCommand cmd;
  EXPECT_EQ(decode(be32(4) + be32(0), &cmd).state, DecodeState::kCorrupt);
}

TEST_F(FrameCodecTest, GarbageIsCorrupt) {
  RemotingCommand cmd;
  for (std::string garbage : {std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), std::string("\x16\x03\x01\x02\x00", 5),
                              std::string(64, '\xff')}) {
    auto r = decode(garbage, &cmd);
    EXPECT_EQ(r.state, DecodeState::kCorrupt) << garbage;
  }
}

TEST_F(FrameCodecTest, BodyIsEverythingAfterTheHeader) {
  std::string header = R"({"code":1})";
  RemotingCommand cmd;
  auto r = decode(jsonFrame(header, "the body"), &cmd);
  ASSERT_EQ(r.state, DecodeState::kComplete);
  EXPECT_EQ(cmd.body, "the body");
}

}  // namespace
}  // namespace rocketrpc::remoting
