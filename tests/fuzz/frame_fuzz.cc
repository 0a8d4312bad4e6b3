// libFuzzer target for the frame codec and both header decoders (src/remoting/frame_codec.h).
// Properties checked on every input:
//   * decoders never crash, never over-read (ASan) and never report progress they did not make;
//   * a prefix of a complete frame is "need more", never corrupt or complete;
//   * whatever decodes re-encodes (same header type) and decodes again to an equal command;
//   * the JSON encoder turns any bytes (from binary headers) into JSON that decodes, stably.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "remoting/frame_codec.h"

namespace {

using rocketrpc::remoting::decodeBinaryHeader;
using rocketrpc::remoting::decodeFrame;
using rocketrpc::remoting::decodeJsonHeader;
using rocketrpc::remoting::DecodeState;
using rocketrpc::remoting::encodeBinaryHeader;
using rocketrpc::remoting::encodeFrame;
using rocketrpc::remoting::encodeJsonHeader;
using rocketrpc::remoting::RemotingCommand;

constexpr size_t kMaxFrame = 1 << 20;
// Re-encoding may grow a frame a little (e.g. numbers in extFields become quoted strings).
constexpr size_t kMaxReencodedFrame = 64 << 20;

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "frame_fuzz: property violated: %s\n", what);
    std::abort();
  }
}

bool sameCommand(const RemotingCommand& a, const RemotingCommand& b) {
  return a.code == b.code && a.language == b.language && a.version == b.version && a.opaque == b.opaque &&
         a.flag == b.flag && a.remark == b.remark && a.ext_fields == b.ext_fields && a.body == b.body &&
         a.serialize_type == b.serialize_type;
}

void checkFrameRoundTrip(const RemotingCommand& cmd) {
  std::string frame;
  require(encodeFrame(cmd, &frame).isOk(), "a decoded command does not re-encode");
  RemotingCommand again;
  auto r = decodeFrame(frame, kMaxReencodedFrame, &again);
  require(r.state == DecodeState::kComplete, "a re-encoded frame does not decode");
  require(r.consumed == frame.size(), "a re-encoded frame decodes to a different length");
  require(sameCommand(cmd, again), "a re-encoded frame decodes to a different command");
}

void checkFrames(std::string_view input) {
  while (!input.empty()) {
    RemotingCommand cmd;
    auto r = decodeFrame(input, kMaxFrame, &cmd);
    if (r.state == DecodeState::kNeedMore) {
      require(r.consumed == 0, "need-more consumed bytes");
      return;
    }
    if (r.state == DecodeState::kCorrupt) {
      require(!r.error.empty(), "corrupt without a reason");
      return;
    }
    require(r.consumed >= 8 && r.consumed <= input.size(), "complete frame with an impossible length");
    for (size_t prefix : {size_t{0}, size_t{3}, size_t{7}, r.consumed - 1}) {
      if (prefix >= r.consumed) continue;
      RemotingCommand partial;
      require(decodeFrame(input.substr(0, prefix), kMaxFrame, &partial).state == DecodeState::kNeedMore,
              "a prefix of a complete frame is not need-more");
    }
    checkFrameRoundTrip(cmd);
    input.remove_prefix(r.consumed);
  }
}

void checkJsonHeader(std::string_view input) {
  RemotingCommand cmd;
  if (!decodeJsonHeader(input, &cmd).isOk()) return;
  std::string encoded;
  encodeJsonHeader(cmd, &encoded);
  RemotingCommand again;
  require(decodeJsonHeader(encoded, &again).isOk(), "a re-encoded JSON header does not decode");
  require(sameCommand(cmd, again), "a re-encoded JSON header decodes to a different command");
}

void checkBinaryHeader(std::string_view input) {
  RemotingCommand cmd;
  if (!decodeBinaryHeader(input, &cmd).isOk()) return;
  std::string encoded;
  require(encodeBinaryHeader(cmd, &encoded).isOk(), "a decoded binary header does not re-encode");
  require(encoded.size() <= input.size(), "a re-encoded binary header grew");
  RemotingCommand again;
  require(decodeBinaryHeader(encoded, &again).isOk(), "a re-encoded binary header does not decode");
  require(sameCommand(cmd, again), "a re-encoded binary header decodes to a different command");

  // The same command through the JSON header: arbitrary bytes must still give valid JSON (invalid UTF-8 is
  // replaced), the numeric fields survive, and a second JSON round trip is stable.
  std::string json1;
  encodeJsonHeader(cmd, &json1);
  RemotingCommand from_json;
  require(decodeJsonHeader(json1, &from_json).isOk(), "JSON encoding of a binary header does not decode");
  require(from_json.code == cmd.code && from_json.flag == cmd.flag && from_json.opaque == cmd.opaque &&
              from_json.version == cmd.version && from_json.language == cmd.language &&
              from_json.remark.has_value() == cmd.remark.has_value(),
          "JSON encoding of a binary header changes its fields");
  std::string json2;
  encodeJsonHeader(from_json, &json2);
  RemotingCommand again2;
  require(decodeJsonHeader(json2, &again2).isOk(), "second JSON encoding does not decode");
  std::string json3;
  encodeJsonHeader(again2, &json3);
  require(json2 == json3, "JSON encoding is not stable");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  checkFrames(input);
  checkJsonHeader(input);
  checkBinaryHeader(input);
  return 0;
}
