// Frame codec: RemotingCommand <-> bytes (docs/design/wire-protocol.md, section "Frame").
//   frame  = length:int32 header-word:int32 header:bytes body:bytes
//   length = 4 + header length + body length; header-word = (serialize type << 24) | header length
// Decoding untrusted bytes never allocates before checking sizes against the limit.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"
#include "remoting/remoting_command.h"

namespace rocketrpc::remoting {

enum class DecodeState { kComplete, kNeedMore, kCorrupt };

struct FrameDecodeResult {
  DecodeState state = DecodeState::kNeedMore;
  /// Bytes of input used by the complete frame (0 unless kComplete).
  size_t consumed = 0;
  /// Why the input is corrupt (only for kCorrupt).
  std::string error;
};

/// Decodes one frame from the front of `input`. kNeedMore when the frame is not complete yet; kCorrupt when the
/// length fields are impossible or exceed `max_frame_bytes` (checked from the first 4 bytes alone), or the
/// header does not decode. The command's serialize_type is set from the frame.
FrameDecodeResult decodeFrame(std::string_view input, size_t max_frame_bytes, RemotingCommand* out);

/// Appends the encoded frame of `cmd` (header encoded per cmd.serialize_type) to `out`.
/// Fails (InvalidArgument) if the binary header cannot represent the command (code > 32767, strings too long).
Status encodeFrame(const RemotingCommand& cmd, std::string* out);

/// Header codecs, exposed for tests and fuzzing.
Status decodeJsonHeader(std::string_view header, RemotingCommand* out);
void encodeJsonHeader(const RemotingCommand& cmd, std::string* out);
Status decodeBinaryHeader(std::string_view header, RemotingCommand* out);
Status encodeBinaryHeader(const RemotingCommand& cmd, std::string* out);

}  // namespace rocketrpc::remoting
