#include "store/checkpoint.h"

#include "remoting/protocol/message_codec.h"
#include "store/endian.h"

namespace rocketrpc::store {

namespace {
constexpr int32_t kCheckpointMagic = 0x5252434B;  // "RRCK"
constexpr int32_t kCheckpointVersion = 1;
constexpr size_t kCheckpointSize = 4 + 4 + 8 + 8 + 8 + 4;
}  // namespace

Status writeCheckpoint(FileSystem& fs, const std::string& path, const Checkpoint& checkpoint) {
  std::string data;
  appendBig32(data, kCheckpointMagic);
  appendBig32(data, kCheckpointVersion);
  appendBig64(data, checkpoint.commit_log_offset);
  appendBig64(data, checkpoint.consume_queue_offset);
  appendBig64(data, checkpoint.timestamp_ms);
  appendBig32(data, remoting::bodyCrc(data));
  return writeFileAtomically(fs, path, data);
}

Result<Checkpoint> readCheckpoint(FileSystem& fs, const std::string& path) {
  auto data = readWholeFile(fs, path);
  if (!data) return data.status();
  const std::string& d = *data;
  if (d.size() != kCheckpointSize || getBig32(d.data()) != kCheckpointMagic ||
      getBig32(d.data() + 4) != kCheckpointVersion ||
      getBig32(d.data() + kCheckpointSize - 4) !=
          remoting::bodyCrc(std::string_view(d).substr(0, kCheckpointSize - 4))) {
    return Status::corrupt("bad checkpoint file " + path);
  }
  return Checkpoint{getBig64(d.data() + 8), getBig64(d.data() + 16), getBig64(d.data() + 24)};
}

}  // namespace rocketrpc::store
