#include "remoting/header_fields.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "remoting/frame_codec.h"
#include "remoting/remoting_command.h"

namespace rocketrpc::remoting {
namespace {

std::vector<std::string> keys(const HeaderFields& f) {
  std::vector<std::string> out;
  for (const auto& [k, v] : f) out.push_back(k);
  return out;
}

TEST(HeaderFieldsTest, KeepsFieldsSortedBytewiseWhateverTheInsertionOrder) {
  HeaderFields f;
  f["topic"] = "T";
  f.insert_or_assign("queueId", "3");
  f["a"] = "1";
  f["\xff"] = "high byte";  // bytewise: after every ASCII key, as Java's TreeMap orders these names
  f["Z"] = "upper";
  EXPECT_EQ(keys(f), (std::vector<std::string>{"Z", "a", "queueId", "topic", "\xff"}));
  EXPECT_EQ(f.size(), 5u);
}

TEST(HeaderFieldsTest, LookupReplaceAndEraseBehaveAsAMap) {
  HeaderFields f;
  f["k"] = "v1";
  f.insert_or_assign("k", "v2");
  f["k"] += "!";
  ASSERT_NE(f.find("k"), f.end());
  EXPECT_EQ(f.find("k")->second, "v2!");
  EXPECT_EQ(f.size(), 1u);
  EXPECT_EQ(f.find("missing"), f.end());
  EXPECT_EQ(f.count("k"), 1u);
  EXPECT_EQ(f.erase("missing"), 0u);
  EXPECT_EQ(f.erase("k"), 1u);
  EXPECT_TRUE(f.empty());
  RemotingCommand cmd;
  cmd.set("n", int64_t{42});
  cmd.setBool("b", true);
  ASSERT_NE(cmd.get("n"), nullptr);
  EXPECT_EQ(cmd.getInt("n"), 42);
  EXPECT_TRUE(cmd.getBool("b"));
  EXPECT_EQ(cmd.get("absent"), nullptr);
}

TEST(HeaderFieldsTest, NormalizeSortsAppendedFieldsAndTheLastOfEqualKeysWins) {
  HeaderFields f;
  f.append("c", "1");
  f.append("a", "first a");
  f.append("b", "2");
  f.append("a", "second a");
  f.append("c", "3");
  f.normalize();
  EXPECT_EQ(keys(f), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(f.find("a")->second, "second a");
  EXPECT_EQ(f.find("c")->second, "3");
}

// A hostile frame can pack hundreds of thousands of fields in any order: decoded in one sort, not one insertion
// each (which would be quadratic), with the map's semantics.
TEST(HeaderFieldsTest, ManyFieldsInDescendingOrderDecodeSortedAndDeduplicated) {
  // A binary header (SerializeType ROCKETMQ) by hand: 100,000 keys, descending, each twice (the second wins).
  std::string ext;
  auto put16 = [&](uint16_t v) { ext.push_back(static_cast<char>(v >> 8)), ext.push_back(static_cast<char>(v)); };
  auto put32 = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) ext.push_back(static_cast<char>(v >> s));
  };
  constexpr int kFields = 100000;
  for (int round = 0; round < 2; ++round) {
    for (int i = kFields - 1; i >= 0; --i) {
      char key[16];
      std::snprintf(key, sizeof key, "k%07d", i);
      const std::string value = round == 0 ? "old" : std::to_string(i);
      put16(static_cast<uint16_t>(std::strlen(key)));
      ext.append(key);
      put32(static_cast<uint32_t>(value.size()));
      ext.append(value);
    }
  }
  // Fixed binary header: code(2) language(1) version(2) opaque(4) flag(4) remarkLen(4) extLen(4) ext.
  std::string header;
  header.append("\x00\x0a\x01\x01\x99\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00", 17);
  for (int s = 24; s >= 0; s -= 8) header.push_back(static_cast<char>(ext.size() >> s));
  header += ext;
  std::string wire;
  const uint32_t length = static_cast<uint32_t>(4 + header.size());
  for (int s = 24; s >= 0; s -= 8) wire.push_back(static_cast<char>(length >> s));
  const uint32_t mark = (1u << 24) | static_cast<uint32_t>(header.size());  // serialize type 1 = ROCKETMQ
  for (int s = 24; s >= 0; s -= 8) wire.push_back(static_cast<char>(mark >> s));
  wire += header;
  RemotingCommand decoded;
  FrameDecodeResult r = decodeFrame(wire, 64 * 1024 * 1024, &decoded);
  ASSERT_EQ(r.state, DecodeState::kComplete) << r.error;
  ASSERT_EQ(decoded.ext_fields.size(), static_cast<size_t>(kFields));
  EXPECT_EQ(decoded.ext_fields.begin()->first, "k0000000");
  EXPECT_EQ(decoded.ext_fields.begin()->second, "0");
  EXPECT_EQ(decoded.get("k0054321") ? *decoded.get("k0054321") : "", "54321");
  std::string previous;
  for (const auto& [k, v] : decoded.ext_fields) {
    ASSERT_LT(previous, k);
    previous = k;
  }
}

}  // namespace
}  // namespace rocketrpc::remoting
