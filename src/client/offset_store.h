// Consumer offsets ("next message to consume" per queue), as Java's OffsetStore family:
//  * RemoteBrokerOffsetStore (CLUSTERING): an in-memory table committed to the queue's master broker with
//    UPDATE_CONSUMER_OFFSET (oneway from the periodic task, sync on rebalance hand-over and shutdown) and
//    read back with QUERY_CONSUMER_OFFSET.
//  * LocalFileOffsetStore (BROADCASTING): the same table kept in a JSON file per client id and group, written
//    atomically (temp file, fsync, rename).
// Owned by one push consumer; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "common/status.h"
#include "rocketrpc/message.h"

namespace rocketrpc::client {

class ClientInstance;

enum class ReadOffsetType {
  kMemory,           // the in-memory table only
  kStore,            // the broker / file (the memory table is updated with what is found)
  kMemoryThenStore,  // memory, falling back to the store
};

class OffsetStore {
 public:
  virtual ~OffsetStore() = default;

  /// Loads persisted state (local file); no-op for the broker store.
  virtual Status load() { return Status::ok(); }
  /// Sets the in-memory offset of `mq`. With `increase_only`, a smaller offset than the current one is
  /// ignored.
  void updateOffset(const MessageQueue& mq, int64_t offset, bool increase_only);
  /// NotFound when no offset is known (the broker answered QUERY_NOT_FOUND / the file has none); other errors
  /// mean "unknown, retry later".
  virtual Result<int64_t> readOffset(const MessageQueue& mq, ReadOffsetType type) = 0;
  /// Persists the offsets of `mqs` and forgets the in-memory offsets of other queues. `sync` waits for each
  /// broker's answer (used at shutdown); otherwise the broker store sends oneway requests.
  virtual void persistAll(const std::set<MessageQueue>& mqs, bool sync) = 0;
  /// Persists one queue's offset (rebalance hand-over).
  virtual void persist(const MessageQueue& mq, bool sync) = 0;
  /// Forgets the in-memory offset of `mq`.
  void removeOffset(const MessageQueue& mq);
  /// Copy of the in-memory table.
  std::map<MessageQueue, int64_t> offsets() const;
  /// In-memory offset or -1.
  int64_t memoryOffset(const MessageQueue& mq) const;

 protected:
  mutable std::mutex mu_;
  std::map<MessageQueue, int64_t> table_;  // guarded by mu_
};

class RemoteBrokerOffsetStore final : public OffsetStore {
 public:
  /// `instance` must outlive this store.
  RemoteBrokerOffsetStore(ClientInstance& instance, std::string group);

  Result<int64_t> readOffset(const MessageQueue& mq, ReadOffsetType type) override;
  void persistAll(const std::set<MessageQueue>& mqs, bool sync) override;
  void persist(const MessageQueue& mq, bool sync) override;

 private:
  /// Master address of the queue's broker, refreshing the route once when unknown. NotFound when none.
  Result<std::string> masterAddr(const MessageQueue& mq);
  Status commitToBroker(const MessageQueue& mq, int64_t offset, bool sync);

  ClientInstance& instance_;
  std::string group_;
};

class LocalFileOffsetStore final : public OffsetStore {
 public:
  /// `path` is the JSON file (its directories are created on the first write).
  explicit LocalFileOffsetStore(std::string path);

  /// "<dir>/<client_id>/<group>/offsets.json" where dir is $ROCKETRPC_OFFSET_STORE_DIR, else
  /// "$HOME/.rocketrpc/offsets" (or "/tmp/.rocketrpc/offsets" without HOME).
  static std::string defaultPath(const std::string& client_id, const std::string& group);

  /// Reads the file (absent file: empty table; unreadable or corrupt file: Corrupt).
  Status load() override;
  Result<int64_t> readOffset(const MessageQueue& mq, ReadOffsetType type) override;
  void persistAll(const std::set<MessageQueue>& mqs, bool sync) override;
  void persist(const MessageQueue& mq, bool sync) override;

  const std::string& path() const { return path_; }

  /// {"offsetTable":[{"brokerName":..,"offset":..,"queueId":..,"topic":..}]}
  static std::string encode(const std::map<MessageQueue, int64_t>& offsets);
  static Result<std::map<MessageQueue, int64_t>> decode(std::string_view json);

 private:
  Status writeFile(const std::map<MessageQueue, int64_t>& offsets);

  std::string path_;
  std::mutex file_mu_;                         // serialises snapshot + write; taken before mu_
  std::map<MessageQueue, int64_t> persisted_;  // guarded by mu_: what the file holds
};

}  // namespace rocketrpc::client
