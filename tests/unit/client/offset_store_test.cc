// LocalFileOffsetStore and the shared in-memory table (the broker store needs a broker: integration tests).
#include "client/offset_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace rocketrpc::client {
namespace {

namespace fs = std::filesystem;

class LocalFileOffsetStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rocketrpc_offsets_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string file() const { return (dir_ / "client@1" / "group" / "offsets.json").string(); }

  fs::path dir_;
  const MessageQueue a_{"T", "b", 0};
  const MessageQueue b_{"T", "b", 1};
};

TEST_F(LocalFileOffsetStoreTest, UpdateIncreaseOnly) {
  LocalFileOffsetStore store(file());
  store.updateOffset(a_, 10, true);
  store.updateOffset(a_, 5, true);
  EXPECT_EQ(*store.readOffset(a_, ReadOffsetType::kMemory), 10);
  store.updateOffset(a_, 5, false);
  EXPECT_EQ(*store.readOffset(a_, ReadOffsetType::kMemory), 5);
  store.removeOffset(a_);
  EXPECT_EQ(store.readOffset(a_, ReadOffsetType::kMemory).status().code(), StatusCode::kNotFound);
}

TEST_F(LocalFileOffsetStoreTest, MissingFileLoadsEmpty) {
  LocalFileOffsetStore store(file());
  EXPECT_TRUE(store.load().isOk());
  EXPECT_EQ(store.readOffset(a_, ReadOffsetType::kStore).status().code(), StatusCode::kNotFound);
}

TEST_F(LocalFileOffsetStoreTest, PersistAndReloadKeepsAssignedQueuesOnly) {
  {
    LocalFileOffsetStore store(file());
    store.updateOffset(a_, 42, false);
    store.updateOffset(b_, 7, false);
    store.persistAll({a_}, false);
    EXPECT_EQ(store.readOffset(b_, ReadOffsetType::kMemory).status().code(), StatusCode::kNotFound);
  }
  EXPECT_TRUE(fs::exists(file()));
  EXPECT_FALSE(fs::exists(file() + ".tmp"));
  LocalFileOffsetStore reloaded(file());
  ASSERT_TRUE(reloaded.load().isOk());
  EXPECT_EQ(*reloaded.readOffset(a_, ReadOffsetType::kStore), 42);
  EXPECT_EQ(*reloaded.readOffset(a_, ReadOffsetType::kMemoryThenStore), 42);
  EXPECT_EQ(reloaded.readOffset(b_, ReadOffsetType::kStore).status().code(), StatusCode::kNotFound);
}

TEST_F(LocalFileOffsetStoreTest, PersistOneQueue) {
  LocalFileOffsetStore store(file());
  store.updateOffset(a_, 3, false);
  store.persist(a_, true);
  LocalFileOffsetStore reloaded(file());
  ASSERT_TRUE(reloaded.load().isOk());
  EXPECT_EQ(*reloaded.readOffset(a_, ReadOffsetType::kStore), 3);
}

TEST_F(LocalFileOffsetStoreTest, CorruptFileFailsLoad) {
  fs::create_directories(fs::path(file()).parent_path());
  std::ofstream(file()) << "{not json";
  LocalFileOffsetStore store(file());
  EXPECT_EQ(store.load().code(), StatusCode::kCorrupt);
}

TEST(LocalFileOffsetStoreCodecTest, EncodeDecodeRoundTrip) {
  std::map<MessageQueue, int64_t> offsets{{{"T", "b", 0}, 1}, {{"%RETRY%g", "b", 0}, 99}};
  auto decoded = LocalFileOffsetStore::decode(LocalFileOffsetStore::encode(offsets));
  ASSERT_TRUE(decoded.isOk());
  EXPECT_EQ(*decoded, offsets);
  EXPECT_FALSE(LocalFileOffsetStore::decode(R"({"offsetTable":[{"topic":"T"}]})").isOk());
  EXPECT_TRUE(LocalFileOffsetStore::decode("{}")->empty());
}

TEST(LocalFileOffsetStoreCodecTest, DefaultPathHonoursEnvironment) {
  ::setenv("ROCKETRPC_OFFSET_STORE_DIR", "/tmp/x", 1);
  EXPECT_EQ(LocalFileOffsetStore::defaultPath("1.2.3.4@i", "g"), "/tmp/x/1.2.3.4@i/g/offsets.json");
  ::unsetenv("ROCKETRPC_OFFSET_STORE_DIR");
  EXPECT_NE(LocalFileOffsetStore::defaultPath("c", "g").find("/.rocketrpc/offsets/c/g/offsets.json"),
            std::string::npos);
}

}  // namespace
}  // namespace rocketrpc::client
