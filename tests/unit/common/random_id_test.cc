// newRandomId: correlation and session ids from the kernel's CSPRNG. Uniqueness over many draws, the UUID
// shape Java peers and logs expect, and every one of the 128 bits actually varying (no fixed version or
// variant nibble, no stuck bit from a weak generator).
#include "common/random_id.h"

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string>

namespace rocketrpc {
namespace {

int hexValue(char c) { return c >= 'a' ? c - 'a' + 10 : c - '0'; }

TEST(RandomIdTest, ShapedLikeAUuidInLowercaseHex) {
  for (int i = 0; i < 100; ++i) {
    const std::string id = newRandomId();
    ASSERT_EQ(id.size(), 36u) << id;
    for (size_t j = 0; j < id.size(); ++j) {
      if (j == 8 || j == 13 || j == 18 || j == 23) {
        EXPECT_EQ(id[j], '-') << id;
      } else {
        EXPECT_TRUE((id[j] >= '0' && id[j] <= '9') || (id[j] >= 'a' && id[j] <= 'f')) << id;
      }
    }
  }
}

TEST(RandomIdTest, UniqueAndEveryBitVaries) {
  constexpr int kDraws = 20000;
  std::set<std::string> ids;
  std::array<int, 128> ones{};
  for (int i = 0; i < kDraws; ++i) {
    const std::string id = newRandomId();
    ids.insert(id);
    int bit = 0;
    for (char c : id) {
      if (c == '-') continue;
      const int v = hexValue(c);
      for (int b = 3; b >= 0; --b) ones[static_cast<size_t>(bit++)] += (v >> b) & 1;
    }
    ASSERT_EQ(bit, 128);
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kDraws));
  // Each bit is 1 in about half of the draws: mean 10000, sd ~71; 9000..11000 fails with probability ~1e-40.
  for (size_t b = 0; b < ones.size(); ++b) {
    EXPECT_GT(ones[b], kDraws * 45 / 100) << "bit " << b;
    EXPECT_LT(ones[b], kDraws * 55 / 100) << "bit " << b;
  }
}

TEST(RandomIdTest, SecureRandomBytesFillsLargeBuffers) {
  std::string a(4096, '\0');
  std::string b(4096, '\0');
  secureRandomBytes(a.data(), a.size());
  secureRandomBytes(b.data(), b.size());
  EXPECT_NE(a, b);
  EXPECT_NE(a, std::string(4096, '\0'));
}

}  // namespace
}  // namespace rocketrpc
