// libFuzzer target for the binary message decoders (src/remoting/protocol/message_codec.h). The first input
// byte selects the decoder; the rest is the untrusted payload. Nothing may crash, leak, or allocate beyond
// what the input's own size bounds (plus the configured inflate limit).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "remoting/protocol/message_codec.h"

namespace {

using namespace rocketrpc::remoting;

constexpr size_t kMaxInflate = 1 << 20;

void checkStored(std::string_view data, bool decompress) {
  auto msgs = decodeStoredMessages(data, decompress, kMaxInflate);
  // The salvaging decoder agrees with the strict one on sound input, and on damaged input accounts for no more
  // records than the input can hold (a stored record is at least 91 bytes).
  auto salvaged = decodeStoredMessagesSalvaging(data, decompress, kMaxInflate);
  if (msgs.isOk() != salvaged.first_error.isOk()) __builtin_trap();
  if (msgs && (salvaged.messages.size() != msgs->size() || salvaged.skipped_records != 0 || salvaged.rest_lost))
    __builtin_trap();
  if ((salvaged.messages.size() + salvaged.skipped_records) * 91 > data.size()) __builtin_trap();
  if (!msgs) return;
  for (const auto& msg : *msgs) {
    // An inflated body never exceeds the limit; a plain one never exceeds the input.
    if (msg.body().size() > kMaxInflate && msg.body().size() > data.size()) __builtin_trap();
    // Whatever decodes must re-encode and decode again; the offset id must be decodable.
    if (!decodeStoredMessages(encodeStoredMessage(msg), false, kMaxInflate)) __builtin_trap();
    if (!decodeOffsetMessageId(msg.offsetMsgId())) __builtin_trap();
  }
}

void checkBatch(std::string_view data) {
  auto msgs = decodeBatch(data, "FuzzTopic");
  if (!msgs) return;
  const std::string again = encodeBatch(*msgs);
  auto twice = decodeBatch(again, "FuzzTopic");
  if (!twice || twice->size() != msgs->size()) __builtin_trap();  // re-encoding must stay decodable
}

void checkProperties(std::string_view data) {
  const Properties props = decodeProperties(data);
  // Encoding a decoded map and decoding it again is the identity.
  if (decodeProperties(encodeProperties(props)) != props) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      checkStored(input, true);
      break;
    case 1:
      checkStored(input, false);
      break;
    case 2:
      checkBatch(input);
      break;
    case 3:
      checkProperties(input);
      break;
    case 4:
      (void)decodeOffsetMessageId(input);
      break;
    case 5:
      (void)javaStringHash(input);
      (void)zlibDecompress(input, kMaxInflate);
      break;
  }
  return 0;
}
