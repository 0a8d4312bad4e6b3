// The store checkpoint: how far the commit log and the consume queues are known to be durable. Recovery
// trusts everything below it and validates (and re-dispatches) from there. Format:
// docs/design/commitlog-format.md ("Checkpoint").
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "store/file_system.h"

namespace rocketrpc::store {

/// Plain value type.
struct Checkpoint {
  int64_t commit_log_offset = 0;     // commit log bytes below this are durable
  int64_t consume_queue_offset = 0;  // consume-queue entries of every record below this are durable
  int64_t timestamp_ms = 0;          // store timestamp of the newest message covered (informational)
};

/// Replaces the checkpoint file atomically.
Status writeCheckpoint(FileSystem& fs, const std::string& path, const Checkpoint& checkpoint);
/// NotFound when absent; Corrupt when the magic, version or CRC do not match.
Result<Checkpoint> readCheckpoint(FileSystem& fs, const std::string& path);

}  // namespace rocketrpc::store
