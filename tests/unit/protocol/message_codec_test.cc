// Properties strings, tag hashes, zlib, stored-message records, batches and message ids (protocol reference
// 4).
#include "remoting/protocol/message_codec.h"

#include <gtest/gtest.h>

#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <unordered_set>

namespace rocketrpc::remoting {
namespace {

using namespace std::string_literals;

// ---- properties ----------------------------------------------------------------------------------------

TEST(PropertiesTest, EncodeHasNoTrailingSeparator) {
  Properties props{{"k1", "v1"}, {"k2", "v2"}};
  EXPECT_EQ(encodeProperties(props), "k1\x01v1\x02k2\x01v2");
}

TEST(PropertiesTest, EncodeSkipsEmptyNamesAndValues) {
  Properties props{{"", "x"}, {"a", ""}, {"b", "1"}};
  EXPECT_EQ(encodeProperties(props),
            "b\x01"
            "1");
  EXPECT_EQ(encodeProperties({}), "");
}

TEST(PropertiesTest, OverridesReplaceAddAndRemoveWithoutTouchingTheMap) {
  const Properties props{{"a", "1"}, {"c", "3"}, {"e", "5"}};
  const std::pair<std::string_view, std::string_view> overrides[] = {
      {"d", "4"}, {"c", "x"}, {"a", ""}, {"c", "y"}, {"f", "6"}, {"0", "z"}};
  EXPECT_EQ(encodeProperties(props, overrides), "0\x01z\x02"
                                                "c\x01y\x02"
                                                "d\x01"
                                                "4\x02"
                                                "e\x01"
                                                "5\x02"
                                                "f\x01"
                                                "6");
  EXPECT_EQ(props.at("c"), "3");
  EXPECT_EQ(encodeProperties(props, {}), encodeProperties(props));
}

// Against the definition: a copy of the message with putProperty of each override, then encoded.
TEST(PropertiesTest, OverridesEncodeAsPutPropertyOnACopyWould) {
  std::mt19937 rng(20261207);
  const std::string names[] = {"", "A", "B", "TTL", "UNIQ_KEY", "a", "b", "zz"};
  const std::string values[] = {"", "1", "two", "\xe4\xb8\x80"};
  for (int round = 0; round < 2000; ++round) {
    Message reference("T", "x");
    const size_t own = rng() % 6;
    for (size_t i = 0; i < own; ++i) {
      reference.mutableProperties()[names[rng() % std::size(names)]] = values[rng() % std::size(values)];
    }
    const Properties props = reference.properties();
    std::vector<std::pair<std::string_view, std::string_view>> overrides;
    const size_t n = rng() % 5;
    for (size_t i = 0; i < n; ++i) {
      overrides.emplace_back(names[rng() % std::size(names)], values[rng() % std::size(values)]);
      reference.putProperty(overrides.back().first, overrides.back().second);
    }
    ASSERT_EQ(encodeProperties(props, overrides), encodeProperties(reference.properties())) << "round " << round;
  }
}

TEST(PropertiesTest, DecodeAcceptsTrailingSeparatorOrNot) {
  const Properties expected{{"k1", "v1"}, {"k2", "v2"}};
  EXPECT_EQ(decodeProperties("k1\x01v1\x02k2\x01v2"), expected);
  EXPECT_EQ(decodeProperties("k1\x01v1\x02k2\x01v2\x02"), expected);
}

TEST(PropertiesTest, DecodeSkipsMalformedSegments) {
  // no \x01, empty name, empty value, empty segments
  const Properties props = decodeProperties("junk\x02\x01v\x02k\x01\x02\x02\x02ok\x01yes\x02x");
  EXPECT_EQ(props, (Properties{{"ok", "yes"}}));
  EXPECT_TRUE(decodeProperties("").empty());
  EXPECT_TRUE(decodeProperties("\x02\x02").empty());
  EXPECT_TRUE(decodeProperties("\x01").empty());
}

TEST(PropertiesTest, DecodeLastDuplicateWins) {
  EXPECT_EQ(decodeProperties("k\x01"
                             "1\x02k\x01"
                             "2\x02k\x01"
                             "3"),
            (Properties{{"k", "3"}}));
}

TEST(PropertiesTest, DecodeValueKeepsLaterNameValueSeparators) {
  // As Java: the name ends at the first \x01; the value is the rest of the segment.
  EXPECT_EQ(decodeProperties("k\x01"
                             "a\x01"
                             "b"),
            (Properties{{"k",
                         "a\x01"
                         "b"}}));
}

TEST(PropertiesTest, RoundTripWithUtf8AndBinaryFreeValues) {
  Properties props{{"UNIQ_KEY", "0A0B0C0D"}, {"KEYS", "a b"}, {"中文", "值"}, {"TAGS", "TagA"}};
  EXPECT_EQ(decodeProperties(encodeProperties(props)), props);
}

// ---- tag hash ------------------------------------------------------------------------------------------

TEST(JavaStringHashTest, MatchesJavaForAscii) {
  EXPECT_EQ(javaStringHash("TagA"), 2598919);
  EXPECT_EQ(javaStringHash("*"), 42);
  EXPECT_EQ(javaStringHash(""), 0);
  EXPECT_EQ(javaStringHash("TopicTest"), -1902610879);  // wraps past int32 max
}

TEST(JavaStringHashTest, NonAsciiUsesUtf16CodeUnits) {
  EXPECT_EQ(javaStringHash("\xC3\xA9"), 233);  // é = U+00E9
  // 中 U+4E2D = 20013, 文 U+6587 = 25991: 20013 * 31 + 25991
  EXPECT_EQ(javaStringHash("中文"), 646394);
}

TEST(JavaStringHashTest, SupplementaryPlaneBecomesSurrogatePair) {
  // U+1F600 -> D83D DE00: 55357 * 31 + 56832
  EXPECT_EQ(javaStringHash("\xF0\x9F\x98\x80"), 1772899);
  EXPECT_EQ(javaStringHash("a\xF0\x9F\x98\x80"
                           "b"),
            57849694);
}

TEST(JavaStringHashTest, InvalidBytesCountAsReplacementChar) {
  EXPECT_EQ(javaStringHash("\xFF"), 0xFFFD);
  EXPECT_EQ(javaStringHash("x\xFFy"), 2146964);
  EXPECT_EQ(javaStringHash("\xE4\xB8"), 0xFFFD);   // truncated 3-byte sequence: one U+FFFD
  EXPECT_EQ(javaStringHash("\xC0\xAF"), 2097056);  // overlong lead + stray continuation: two
  // encoded surrogate D800 is ill-formed: three U+FFFD (65533 * 993), as "\uFFFD\uFFFD\uFFFD"
  EXPECT_EQ(javaStringHash("\xED\xA0\x80"), 65074269);
  EXPECT_EQ(javaStringHash("\xED\xA0\x80"), javaStringHash("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"));
}

// ---- zlib ----------------------------------------------------------------------------------------------

TEST(ZlibTest, RoundTrip) {
  std::string data;
  for (int i = 0; i < 10000; ++i) data += "message body " + std::to_string(i % 97) + "\n";
  auto packed = zlibCompress(data, 5);
  ASSERT_TRUE(packed.isOk()) << packed.status().toString();
  EXPECT_LT(packed->size(), data.size());
  EXPECT_EQ(static_cast<uint8_t>((*packed)[0]), 0x78);  // RFC 1950 header, not raw deflate
  auto unpacked = zlibDecompress(*packed, data.size());
  ASSERT_TRUE(unpacked.isOk()) << unpacked.status().toString();
  EXPECT_EQ(*unpacked, data);
}

TEST(ZlibTest, EmptyInputRoundTrips) {
  auto packed = zlibCompress("", 5);
  ASSERT_TRUE(packed.isOk());
  auto unpacked = zlibDecompress(*packed, 0);
  ASSERT_TRUE(unpacked.isOk());
  EXPECT_EQ(*unpacked, "");
}

TEST(ZlibTest, RejectsBadLevel) {
  EXPECT_EQ(zlibCompress("x", 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(zlibCompress("x", 10).status().code(), StatusCode::kInvalidArgument);
}

TEST(ZlibTest, ZipBombStopsAtLimit) {
  const std::string zeros(32 * 1024 * 1024, '\0');
  auto bomb = zlibCompress(zeros, 9);
  ASSERT_TRUE(bomb.isOk());
  ASSERT_LT(bomb->size(), 64u * 1024);
  auto r = zlibDecompress(*bomb, 1024 * 1024);
  EXPECT_EQ(r.status().code(), StatusCode::kOverLimit);
  // exactly at the limit is fine, one byte less is not
  auto exact = zlibDecompress(*bomb, zeros.size());
  ASSERT_TRUE(exact.isOk());
  EXPECT_EQ(exact->size(), zeros.size());
  EXPECT_EQ(zlibDecompress(*bomb, zeros.size() - 1).status().code(), StatusCode::kOverLimit);
}

// A reply flagged COMPRESSED whose body has no zlib header is delivered as sent (client_instance.cc): only
// bodies no compressor wrote may take that path.
TEST(ZlibTest, HeaderIsRecognisedOnEveryLevelAndNotOnPlainBodies) {
  for (int level = 1; level <= 9; ++level) {
    auto packed = zlibCompress("hello hello hello", level);
    ASSERT_TRUE(packed.isOk());
    EXPECT_TRUE(hasZlibHeader(*packed)) << level;
  }
  EXPECT_TRUE(hasZlibHeader("\x78\x9c"s));  // what Java's Deflater and Go's compress/zlib write by default
  EXPECT_FALSE(hasZlibHeader(""));
  EXPECT_FALSE(hasZlibHeader("x"));
  EXPECT_FALSE(hasZlibHeader("hello from go"));
  EXPECT_FALSE(hasZlibHeader("{\"json\":1}"));
  EXPECT_FALSE(hasZlibHeader("\x78\x9d"s));  // header check not divisible by 31
  EXPECT_FALSE(hasZlibHeader("\x78\xbb"s));  // preset dictionary: no RocketMQ client uses one
}

TEST(ZlibTest, GarbageAndTruncationAreCorrupt) {
  EXPECT_EQ(zlibDecompress("not zlib at all", 1024).status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(zlibDecompress("", 1024).status().code(), StatusCode::kCorrupt);
  auto packed = zlibCompress(std::string(5000, 'a') + "tail", 5);
  ASSERT_TRUE(packed.isOk());
  for (size_t cut = 0; cut < packed->size(); ++cut) {
    EXPECT_EQ(zlibDecompress(packed->substr(0, cut), 1 << 20).status().code(), StatusCode::kCorrupt) << cut;
  }
}

// Deterministic incompressible bytes (xorshift).
std::string noise(size_t n, uint64_t seed = 88172645463325252ull) {
  std::string out(n, '\0');
  for (auto& c : out) {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    c = static_cast<char>(seed >> 24);
  }
  return out;
}

TEST(ZlibTest, CompressIfSmallerRoundTripsCompressibleBodies) {
  std::string data;
  for (int i = 0; i < 5000; ++i) data += "message body " + std::to_string(i % 97) + "\n";
  for (size_t size : {size_t{100}, size_t{4096}, size_t{8192}, size_t{8193}, data.size()}) {
    const std::string in = data.substr(0, size);
    auto packed = zlibCompressIfSmaller(in, 5);
    ASSERT_TRUE(packed.has_value()) << size;
    EXPECT_LT(packed->size(), in.size());
    auto unpacked = zlibDecompress(*packed, in.size());
    ASSERT_TRUE(unpacked.isOk()) << unpacked.status().toString();
    EXPECT_EQ(*unpacked, in);
  }
}

TEST(ZlibTest, CompressIfSmallerGivesUpOnIncompressibleBodies) {
  for (size_t size : {size_t{64}, size_t{4096}, size_t{8193}, size_t{65536}}) {
    EXPECT_FALSE(zlibCompressIfSmaller(noise(size), 5).has_value()) << size;
  }
  // The probe decides: compressible after an incompressible first block is not compressed...
  EXPECT_FALSE(zlibCompressIfSmaller(noise(kZlibProbeBytes) + std::string(60000, 'a'), 5).has_value());
  // ...and a compressible first block lets the whole body be compressed (judged on the whole output).
  const std::string mixed = std::string(kZlibProbeBytes, 'a') + noise(60000);
  auto packed = zlibCompressIfSmaller(mixed, 5);
  ASSERT_TRUE(packed.has_value());
  EXPECT_LT(packed->size(), mixed.size());
  EXPECT_EQ(*zlibDecompress(*packed, mixed.size()), mixed);
}

TEST(ZlibTest, CompressIfSmallerRejectsBadLevel) {
  EXPECT_FALSE(zlibCompressIfSmaller(std::string(10000, 'a'), 0).has_value());
  EXPECT_FALSE(zlibCompressIfSmaller(std::string(10000, 'a'), 10).has_value());
}

TEST(BodyCrcTest, IsZlibCrc32Masked) {
  EXPECT_EQ(bodyCrc(""), 0);
  EXPECT_EQ(bodyCrc("123456789"), static_cast<int32_t>(0xCBF43926u & 0x7FFFFFFFu));  // CRC-32 check value
}

// ---- stored records ------------------------------------------------------------------------------------

MessageExt sampleMessage() {
  MessageExt msg;
  msg.setTopic("TopicTest");
  msg.setBody("Hello RocketMQ");
  msg.setFlag(7);
  msg.setQueueId(3);
  msg.setQueueOffset(42);
  msg.setCommitLogOffset(8000);
  msg.setSysFlag(0);
  msg.setBornTimestamp(1700000000000);
  msg.setStoreTimestamp(1700000000123);
  msg.setBornHost("10.0.0.7:54321");
  msg.setStoreHost("192.168.1.5:10911");
  msg.setReconsumeTimes(2);
  msg.setPreparedTransactionOffset(0);
  msg.putProperty(property::kTags, "TagA");
  msg.putProperty(property::kKeys, "k1 k2");
  msg.putProperty(property::kWaitStoreMsgOk, "true");
  return msg;
}

void expectSameStoredFields(const MessageExt& got, const MessageExt& want) {
  EXPECT_EQ(got.topic(), want.topic());
  EXPECT_EQ(got.body(), want.body());
  EXPECT_EQ(got.flag(), want.flag());
  EXPECT_EQ(got.queueId(), want.queueId());
  EXPECT_EQ(got.queueOffset(), want.queueOffset());
  EXPECT_EQ(got.commitLogOffset(), want.commitLogOffset());
  EXPECT_EQ(got.bornTimestamp(), want.bornTimestamp());
  EXPECT_EQ(got.storeTimestamp(), want.storeTimestamp());
  EXPECT_EQ(got.bornHost(), want.bornHost());
  EXPECT_EQ(got.storeHost(), want.storeHost());
  EXPECT_EQ(got.reconsumeTimes(), want.reconsumeTimes());
  EXPECT_EQ(got.preparedTransactionOffset(), want.preparedTransactionOffset());
  EXPECT_EQ(got.properties(), want.properties());
}

int32_t readI32At(const std::string& bytes, size_t off) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[off + i]);
  return static_cast<int32_t>(v);
}

void writeI32At(std::string& bytes, size_t off, int32_t value) {
  const auto v = static_cast<uint32_t>(value);
  for (size_t i = 0; i < 4; ++i) bytes[off + i] = static_cast<char>(v >> (24 - 8 * i));
}

TEST(StoredMessageTest, LayoutMatchesProtocolTable) {
  const MessageExt msg = sampleMessage();
  const std::string bytes = encodeStoredMessage(msg);
  const std::string props = encodeProperties(msg.properties());
  ASSERT_EQ(bytes.size(), 91 + msg.body().size() + msg.topic().size() + props.size());
  EXPECT_EQ(readI32At(bytes, 0), static_cast<int32_t>(bytes.size()));
  EXPECT_EQ(readI32At(bytes, 4), kMessageMagicV1);
  EXPECT_EQ(readI32At(bytes, 8), bodyCrc(msg.body()));
  EXPECT_EQ(readI32At(bytes, 12), 3);
  EXPECT_EQ(readI32At(bytes, 16), 7);
  EXPECT_EQ(readI32At(bytes, 36), 0);                   // sysFlag: IPv4 hosts
  EXPECT_EQ(bytes.substr(48, 4), "\x0A\x00\x00\x07"s);  // born host IP
  EXPECT_EQ(readI32At(bytes, 52), 54321);               // born host port
  EXPECT_EQ(bytes.substr(64, 4), "\xC0\xA8\x01\x05"s);  // store host IP
  EXPECT_EQ(readI32At(bytes, 68), 10911);
  EXPECT_EQ(readI32At(bytes, 72), 2);  // reconsume times
  EXPECT_EQ(readI32At(bytes, 84), static_cast<int32_t>(msg.body().size()));
  EXPECT_EQ(bytes.substr(88, msg.body().size()), msg.body());
  EXPECT_EQ(static_cast<uint8_t>(bytes[88 + msg.body().size()]), msg.topic().size());
}

TEST(StoredMessageTest, RoundTripFillsAllFields) {
  const MessageExt msg = sampleMessage();
  const std::string bytes = encodeStoredMessage(msg);
  auto decoded = decodeStoredMessages(bytes, true);
  ASSERT_TRUE(decoded.isOk()) << decoded.status().toString();
  ASSERT_EQ(decoded->size(), 1u);
  const MessageExt& got = decoded->front();
  expectSameStoredFields(got, msg);
  EXPECT_EQ(got.storeSize(), static_cast<int32_t>(bytes.size()));
  EXPECT_EQ(got.bodyCrc(), bodyCrc(msg.body()));
  EXPECT_EQ(got.sysFlag(), 0);
  EXPECT_EQ(got.offsetMsgId(), "C0A8010500002A9F0000000000001F40");
  EXPECT_EQ(got.msgId(), got.offsetMsgId());  // no UNIQ_KEY
  EXPECT_EQ(got.tags(), "TagA");
}

TEST(StoredMessageTest, MsgIdPrefersUniqKey) {
  MessageExt msg = sampleMessage();
  msg.putProperty(property::kUniqClientMessageId, "7F0000010B2A18B4AAC2160A6C820000");
  auto decoded = decodeStoredMessages(encodeStoredMessage(msg), true);
  ASSERT_TRUE(decoded.isOk());
  EXPECT_EQ(decoded->front().msgId(), "7F0000010B2A18B4AAC2160A6C820000");
  EXPECT_EQ(decoded->front().offsetMsgId(), "C0A8010500002A9F0000000000001F40");
}

TEST(StoredMessageTest, DecodesBackToBackRecords) {
  std::string bytes;
  std::vector<MessageExt> sent;
  for (int i = 0; i < 5; ++i) {
    MessageExt msg = sampleMessage();
    msg.setBody("body-" + std::to_string(i));
    msg.setQueueOffset(100 + i);
    msg.setCommitLogOffset(static_cast<int64_t>(bytes.size()));
    bytes += encodeStoredMessage(msg);
    sent.push_back(msg);
  }
  auto decoded = decodeStoredMessages(bytes, true);
  ASSERT_TRUE(decoded.isOk()) << decoded.status().toString();
  ASSERT_EQ(decoded->size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) expectSameStoredFields((*decoded)[i], sent[i]);
  auto empty = decodeStoredMessages("", true);
  ASSERT_TRUE(empty.isOk());
  EXPECT_TRUE(empty->empty());
}

TEST(StoredMessageTest, Ipv6HostsSetSysFlagBitsAndRoundTrip) {
  MessageExt msg = sampleMessage();
  msg.setBornHost("[2001:db8::7]:40000");
  msg.setStoreHost("[::1]:10911");
  const std::string bytes = encodeStoredMessage(msg);
  EXPECT_EQ(bytes.size(), encodeStoredMessage(sampleMessage()).size() + 24);
  auto decoded = decodeStoredMessages(bytes, true);
  ASSERT_TRUE(decoded.isOk()) << decoded.status().toString();
  const MessageExt& got = decoded->front();
  EXPECT_EQ(got.sysFlag(), sys_flag::kBornHostV6 | sys_flag::kStoreHostV6);
  expectSameStoredFields(got, msg);
  EXPECT_EQ(got.offsetMsgId(),
            "00000000000000000000000000000001"
            "00002A9F"
            "0000000000001F40");
  auto back = decodeOffsetMessageId(got.offsetMsgId());
  ASSERT_TRUE(back.isOk());
  EXPECT_EQ(back->store_host, "[::1]:10911");
}

TEST(StoredMessageTest, MixedHostFamilies) {
  MessageExt msg = sampleMessage();
  msg.setBornHost("[fe80::1]:1");
  auto decoded = decodeStoredMessages(encodeStoredMessage(msg), true);
  ASSERT_TRUE(decoded.isOk()) << decoded.status().toString();
  EXPECT_EQ(decoded->front().sysFlag(), sys_flag::kBornHostV6);
  expectSameStoredFields(decoded->front(), msg);
}

TEST(StoredMessageTest, LongTopicUsesV2Magic) {
  MessageExt msg = sampleMessage();
  msg.setTopic(std::string(200, 't'));
  const std::string bytes = encodeStoredMessage(msg);
  EXPECT_EQ(readI32At(bytes, 4), kMessageMagicV2);
  auto decoded = decodeStoredMessages(bytes, true);
  ASSERT_TRUE(decoded.isOk()) << decoded.status().toString();
  expectSameStoredFields(decoded->front(), msg);

  msg.setTopic(std::string(127, 't'));
  EXPECT_EQ(readI32At(encodeStoredMessage(msg), 4), kMessageMagicV1);
}

TEST(StoredMessageTest, ZlibBodyIsInflatedAndFlagCleared) {
  const std::string body(10000, 'z');
  MessageExt msg = sampleMessage();
  msg.setBody(*zlibCompress(body, 5));
  msg.setSysFlag(sys_flag::kCompressed | sys_flag::kCompressionZlib);
  const std::string bytes = encodeStoredMessage(msg);

  auto inflated = decodeStoredMessages(bytes, true);
  ASSERT_TRUE(inflated.isOk()) << inflated.status().toString();
  EXPECT_EQ(inflated->front().body(), body);
  EXPECT_EQ(inflated->front().sysFlag(), sys_flag::kCompressionZlib);
  EXPECT_EQ(inflated->front().bodyCrc(), bodyCrc(msg.body()));  // CRC of the stored (compressed) bytes

  auto raw = decodeStoredMessages(bytes, false);
  ASSERT_TRUE(raw.isOk());
  EXPECT_EQ(raw->front().body(), msg.body());
  EXPECT_EQ(raw->front().sysFlag(), sys_flag::kCompressed | sys_flag::kCompressionZlib);
}

TEST(StoredMessageTest, OldClientsCompressionTypeZeroMeansZlib) {
  MessageExt msg = sampleMessage();
  msg.setBody(*zlibCompress("old style", 5));
  msg.setSysFlag(sys_flag::kCompressed);
  auto decoded = decodeStoredMessages(encodeStoredMessage(msg), true);
  ASSERT_TRUE(decoded.isOk()) << decoded.status().toString();
  EXPECT_EQ(decoded->front().body(), "old style");
  EXPECT_EQ(decoded->front().sysFlag(), 0);
}

TEST(StoredMessageTest, Lz4AndZstdAreUnsupported) {
  for (int32_t type : {sys_flag::kCompressionLz4, sys_flag::kCompressionZstd}) {
    MessageExt msg = sampleMessage();
    msg.setSysFlag(sys_flag::kCompressed | type);
    const std::string bytes = encodeStoredMessage(msg);
    auto decoded = decodeStoredMessages(bytes, true);
    EXPECT_EQ(decoded.status().code(), StatusCode::kCorrupt);
    EXPECT_NE(decoded.status().message().find("unsupported compression"), std::string::npos);
    EXPECT_TRUE(decodeStoredMessages(bytes, false).isOk());  // left compressed: fine
  }
}

TEST(StoredMessageTest, CompressedBodyBoundedByMaxBodyBytes) {
  MessageExt msg = sampleMessage();
  msg.setBody(*zlibCompress(std::string(8 * 1024 * 1024, 'x'), 9));
  msg.setSysFlag(sys_flag::kCompressed | sys_flag::kCompressionZlib);
  auto decoded = decodeStoredMessages(encodeStoredMessage(msg), true, 1024 * 1024);
  EXPECT_EQ(decoded.status().code(), StatusCode::kOverLimit);
}

TEST(StoredMessageTest, BadCompressedBodyIsCorrupt) {
  MessageExt msg = sampleMessage();
  msg.setSysFlag(sys_flag::kCompressed | sys_flag::kCompressionZlib);  // body is plain text
  EXPECT_EQ(decodeStoredMessages(encodeStoredMessage(msg), true).status().code(), StatusCode::kCorrupt);
}

TEST(StoredMessageTest, EveryTruncationIsCorrupt) {
  MessageExt v6 = sampleMessage();
  v6.setStoreHost("[2001:db8::1]:10911");
  for (const MessageExt& msg : {sampleMessage(), v6}) {
    const std::string one = encodeStoredMessage(msg);
    const std::string two = one + one;
    for (size_t cut = 1; cut < two.size(); ++cut) {
      if (cut == one.size()) continue;  // a whole first record
      auto r = decodeStoredMessages(std::string_view(two).substr(0, cut), true);
      EXPECT_EQ(r.status().code(), StatusCode::kCorrupt) << "cut at " << cut;
    }
  }
}

TEST(StoredMessageTest, TotalSizeMustMatchFields) {
  const std::string good = encodeStoredMessage(sampleMessage());
  std::string bigger = good + "xx";
  writeI32At(bigger, 0, static_cast<int32_t>(good.size() + 2));  // claims 2 bytes nobody accounts for
  EXPECT_EQ(decodeStoredMessages(bigger, true).status().code(), StatusCode::kCorrupt);

  std::string smaller = good;
  writeI32At(smaller, 0, static_cast<int32_t>(good.size() - 1));
  EXPECT_EQ(decodeStoredMessages(smaller, true).status().code(), StatusCode::kCorrupt);

  std::string huge = good;
  writeI32At(huge, 0, 0x7FFFFFFF);
  EXPECT_EQ(decodeStoredMessages(huge, true).status().code(), StatusCode::kCorrupt);

  std::string negative = good;
  writeI32At(negative, 0, -5);
  EXPECT_EQ(decodeStoredMessages(negative, true).status().code(), StatusCode::kCorrupt);
}

TEST(StoredMessageTest, NegativeLengthsAreCorrupt) {
  const MessageExt msg = sampleMessage();
  const std::string good = encodeStoredMessage(msg);
  std::string bad_body = good;
  writeI32At(bad_body, 84, -1);
  EXPECT_EQ(decodeStoredMessages(bad_body, true).status().code(), StatusCode::kCorrupt);

  std::string bad_topic = good;
  bad_topic[88 + msg.body().size()] = static_cast<char>(0x80);  // Java byte -128
  EXPECT_EQ(decodeStoredMessages(bad_topic, true).status().code(), StatusCode::kCorrupt);

  std::string bad_props = good;
  const size_t props_len_at = 88 + msg.body().size() + 1 + msg.topic().size();
  bad_props[props_len_at] = static_cast<char>(0xFF);
  EXPECT_EQ(decodeStoredMessages(bad_props, true).status().code(), StatusCode::kCorrupt);
}

TEST(StoredMessageTest, BadMagicIsCorrupt) {
  std::string bytes = encodeStoredMessage(sampleMessage());
  writeI32At(bytes, 4, kBlankMagic);
  EXPECT_EQ(decodeStoredMessages(bytes, true).status().code(), StatusCode::kCorrupt);
}

TEST(StoredMessageTest, OneBadRecordFailsTheWholeBody) {
  const std::string good = encodeStoredMessage(sampleMessage());
  std::string bad = good;
  writeI32At(bad, 4, 0x12345678);
  auto r = decodeStoredMessages(good + bad, true);
  EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(r.status().message().find("at byte " + std::to_string(good.size())), std::string::npos);
}

// ---- batches -------------------------------------------------------------------------------------------

std::vector<Message> sampleBatch() {
  std::vector<Message> msgs;
  for (int i = 0; i < 4; ++i) {
    Message msg("BatchTopic", "Tag" + std::to_string(i), std::string(static_cast<size_t>(i) * 10, 'b'));
    msg.setFlag(i);
    msg.putProperty(property::kUniqClientMessageId, createUniqId());
    msgs.push_back(msg);
  }
  return msgs;
}

TEST(BatchTest, RoundTrip) {
  const auto msgs = sampleBatch();
  const std::string bytes = encodeBatch(msgs);
  auto decoded = decodeBatch(bytes, "BatchTopic");
  ASSERT_TRUE(decoded.isOk()) << decoded.status().toString();
  ASSERT_EQ(decoded->size(), msgs.size());
  for (size_t i = 0; i < msgs.size(); ++i) {
    EXPECT_EQ((*decoded)[i].topic(), "BatchTopic");
    EXPECT_EQ((*decoded)[i].body(), msgs[i].body());
    EXPECT_EQ((*decoded)[i].flag(), msgs[i].flag());
    EXPECT_EQ((*decoded)[i].properties(), msgs[i].properties());
  }
}

TEST(BatchTest, LayoutMatchesProtocol) {
  Message msg("T", "hello");
  msg.putProperty("a", "b");
  msg.setFlag(9);
  const std::string bytes = encodeBatch({msg});
  ASSERT_EQ(bytes.size(), 22u + 5 + 3);
  EXPECT_EQ(readI32At(bytes, 0), 30);
  EXPECT_EQ(readI32At(bytes, 4), 0);
  EXPECT_EQ(readI32At(bytes, 8), 0);
  EXPECT_EQ(readI32At(bytes, 12), 9);
  EXPECT_EQ(readI32At(bytes, 16), 5);
  EXPECT_EQ(bytes.substr(20, 5), "hello");
  EXPECT_EQ(bytes.substr(25),
            "\x00\x03"
            "a\x01"
            "b"s);
}

TEST(BatchTest, EveryTruncationIsCorrupt) {
  const std::string bytes = encodeBatch(sampleBatch());
  std::set<size_t> boundaries = {0};
  for (size_t pos = 0; pos < bytes.size();) {
    pos += static_cast<size_t>(readI32At(bytes, pos));
    boundaries.insert(pos);
  }
  for (size_t cut = 1; cut < bytes.size(); ++cut) {
    if (boundaries.count(cut) != 0) continue;
    EXPECT_EQ(decodeBatch(std::string_view(bytes).substr(0, cut), "t").status().code(), StatusCode::kCorrupt)
        << "cut at " << cut;
  }
}

TEST(BatchTest, InconsistentLengthsAreCorrupt) {
  Message msg("T", "hello");
  msg.putProperty("a", "b");
  const std::string good = encodeBatch({msg});
  std::string bad = good;
  writeI32At(bad, 16, -1);  // BODYLEN
  EXPECT_EQ(decodeBatch(bad, "T").status().code(), StatusCode::kCorrupt);
  bad = good;
  writeI32At(bad, 16, 1 << 30);
  EXPECT_EQ(decodeBatch(bad, "T").status().code(), StatusCode::kCorrupt);
  bad = good;
  bad[25] = static_cast<char>(0x80);  // PROPLEN negative
  EXPECT_EQ(decodeBatch(bad, "T").status().code(), StatusCode::kCorrupt);
  bad = good + "zz";
  writeI32At(bad, 0, static_cast<int32_t>(good.size() + 2));  // TOTALSIZE covers unaccounted bytes
  EXPECT_EQ(decodeBatch(bad, "T").status().code(), StatusCode::kCorrupt);
  bad = good;
  writeI32At(bad, 0, 21);
  EXPECT_EQ(decodeBatch(bad, "T").status().code(), StatusCode::kCorrupt);
}

// ---- message ids ---------------------------------------------------------------------------------------

TEST(OffsetMessageIdTest, ProtocolExample) {
  auto id = createOffsetMessageId("192.168.1.5:10911", 8000);
  ASSERT_TRUE(id.isOk());
  EXPECT_EQ(*id, "C0A8010500002A9F0000000000001F40");
  auto back = decodeOffsetMessageId(*id);
  ASSERT_TRUE(back.isOk());
  EXPECT_EQ(back->store_host, "192.168.1.5:10911");
  EXPECT_EQ(back->commit_log_offset, 8000);
}

TEST(OffsetMessageIdTest, Ipv6FormsAreEquivalent) {
  auto bracketed = createOffsetMessageId("[2001:db8::1]:10911", 1);
  auto bare = createOffsetMessageId("2001:db8::1:10911", 1);
  ASSERT_TRUE(bracketed.isOk());
  ASSERT_TRUE(bare.isOk());
  EXPECT_EQ(*bracketed, *bare);
  EXPECT_EQ(bracketed->size(), 56u);
  auto back = decodeOffsetMessageId(*bracketed);
  ASSERT_TRUE(back.isOk());
  EXPECT_EQ(back->store_host, "[2001:db8::1]:10911");
  EXPECT_EQ(back->commit_log_offset, 1);
}

TEST(OffsetMessageIdTest, LowercaseHexDecodes) {
  auto back = decodeOffsetMessageId("c0a8010500002a9f0000000000001f40");
  ASSERT_TRUE(back.isOk());
  EXPECT_EQ(back->store_host, "192.168.1.5:10911");
}

TEST(OffsetMessageIdTest, InvalidInputs) {
  for (const char* host : {"", "192.168.1.5", "192.168.1.5:", "192.168.1.5:70000", "192.168.1.5:-1",
                           "host.example:10911", "[::1]10911", "[::1", "1.2.3.4:12ab"}) {
    EXPECT_EQ(createOffsetMessageId(host, 0).status().code(), StatusCode::kInvalidArgument) << host;
  }
  EXPECT_EQ(decodeOffsetMessageId("").status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(decodeOffsetMessageId("C0A8010500002A9F0000000000001F4").status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(decodeOffsetMessageId("G0A8010500002A9F0000000000001F40").status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(decodeOffsetMessageId("C0A80105FFFFFFFF0000000000001F40").status().code(), StatusCode::kCorrupt);
}

TEST(UniqIdTest, FormatIs32UppercaseHexWithStablePrefix) {
  const std::string a = createUniqId();
  const std::string b = createUniqId();
  ASSERT_EQ(a.size(), 32u);
  for (char c : a) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')) << a;
  EXPECT_EQ(a.substr(0, 20), b.substr(0, 20));  // IP | pid | salt
  EXPECT_NE(a, b);
}

TEST(UniqIdTest, UniqueAcrossThreads) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50000;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ids, t] {
      ids[t].reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i) ids[t].push_back(createUniqId());
    });
  }
  for (auto& th : threads) th.join();
  std::unordered_set<std::string> all;
  for (const auto& v : ids) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads) * kPerThread);
}

TEST(UniqIdTest, CounterWrapWithinOneMillisecondStaysUnique) {
  // 200k ids in a tight loop cross the 16-bit counter several times, usually within few milliseconds.
  std::unordered_set<std::string> seen;
  seen.reserve(200000);
  for (int i = 0; i < 200000; ++i) ASSERT_TRUE(seen.insert(createUniqId()).second) << i;
}

}  // namespace
}  // namespace rocketrpc::remoting
