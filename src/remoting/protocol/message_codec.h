// Message encodings shared by the client and the broker (docs/design/message-format.md):
// properties strings, stored-message records (pull bodies), batch bodies, message ids, tag hash codes and
// body compression. Decoders of untrusted bytes return Corrupt instead of reading out of bounds and check
// lengths before allocating. Pure functions (thread-safe) unless stated.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "rocketrpc/message.h"

namespace rocketrpc::remoting {

using Properties = std::map<std::string, std::string, std::less<>>;

inline constexpr char kNameValueSeparator = '\x01';
inline constexpr char kPropertySeparator = '\x02';
inline constexpr int32_t kMessageMagicV1 = static_cast<int32_t>(0xDAA320A7);
inline constexpr int32_t kMessageMagicV2 = static_cast<int32_t>(0xDAA320AB);
inline constexpr int32_t kBlankMagic = static_cast<int32_t>(0xCBD43194);
inline constexpr size_t kMaxPropertiesBytes = 32767;

/// Message sysFlag bits.
namespace sys_flag {
inline constexpr int32_t kCompressed = 0x1;
inline constexpr int32_t kMultiTags = 0x2;
inline constexpr int32_t kTransactionPrepared = 0x4;
inline constexpr int32_t kTransactionCommit = 0x8;
inline constexpr int32_t kTransactionRollback = 0xC;
inline constexpr int32_t kBornHostV6 = 0x10;
inline constexpr int32_t kStoreHostV6 = 0x20;
inline constexpr int32_t kNeedUnwrap = 0x40;
inline constexpr int32_t kInnerBatch = 0x80;
inline constexpr int32_t kCompressionTypeMask = 0x700;
inline constexpr int32_t kCompressionLz4 = 0x100;
inline constexpr int32_t kCompressionZstd = 0x200;
inline constexpr int32_t kCompressionZlib = 0x300;
}  // namespace sys_flag

/// "k\1v\2k\1v" (no trailing separator, as 4.9.8 writes). Empty names/values are skipped.
std::string encodeProperties(const Properties& props);
/// The text encodeProperties would give for `props` after Message::putProperty(name, value) of each override in
/// order (the last of equal names wins; an empty value removes the name), without copying `props`.
std::string encodeProperties(const Properties& props,
                             std::span<const std::pair<std::string_view, std::string_view>> overrides);
/// Accepts a trailing separator or not; segments without a separator, with an empty name or empty value are
/// ignored; duplicate names: last wins. Never fails on content (any bytes decode to some map).
Properties decodeProperties(std::string_view text);

/// Java String.hashCode of the UTF-8 string's UTF-16 form (invalid UTF-8 bytes count as U+FFFD).
int32_t javaStringHash(std::string_view utf8);

/// zlib (RFC 1950) compression at `level` (1..9).
Result<std::string> zlibCompress(std::string_view data, int level);
/// What a sender compresses with: the zlib stream of `data` at `level` (1..9), or nullopt when compressing
/// does not pay: the output would not be smaller than `data`, or (inputs over 2 * kZlibProbeBytes) the first
/// kZlibProbeBytes do not shrink by at least 1/32, so incompressible bodies cost one small block of deflate
/// instead of a full pass. Also nullopt on a zlib failure or an invalid level. The stream has a sync-flush
/// point after the probed block, which every inflater accepts.
std::optional<std::string> zlibCompressIfSmaller(std::string_view data, int level);
inline constexpr size_t kZlibProbeBytes = 4096;
/// Inflates at most `max_output` bytes; more -> OverLimit; bad data -> Corrupt.
Result<std::string> zlibDecompress(std::string_view data, size_t max_output);
/// True when `data` starts with a zlib stream header (RFC 1950: deflate, window <= 32 KiB, header check
/// divisible by 31, no preset dictionary), as every zlib compressor of a RocketMQ client writes it (Java's
/// Deflater, Go's compress/zlib, ours). False for the empty string.
bool hasZlibHeader(std::string_view data);

/// Decodes back-to-back stored-message records (a PULL_MESSAGE body / VIEW_MESSAGE_BY_ID body).
/// Bodies flagged COMPRESSED are inflated (zlib; LZ4/ZSTD -> Corrupt "unsupported") and the flag cleared
/// when `decompress` is true. msgId = UNIQ_KEY if present else the offset id; offsetMsgId always set.
/// Any truncated or inconsistent record -> Corrupt (nothing partial is returned).
Result<std::vector<MessageExt>> decodeStoredMessages(std::string_view data, bool decompress,
                                                     size_t max_body_bytes = 64 * 1024 * 1024);
/// What decodeStoredMessagesSalvaging() could read from a damaged body.
struct SalvagedMessages {
  std::vector<MessageExt> messages;  ///< every record that decoded, in order
  size_t skipped_records = 0;        ///< records with a sound structure whose body did not decode: left out
  bool rest_lost = false;            ///< a record's structure was broken: it and every record after it are lost
  Status first_error;                ///< ok when nothing was left out
};
/// decodeStoredMessages() that keeps what it can: a record it can delimit but not decode (a corrupt or
/// unsupported compressed body) is skipped; a record it cannot delimit ends the decoding.
SalvagedMessages decodeStoredMessagesSalvaging(std::string_view data, bool decompress,
                                               size_t max_body_bytes = 64 * 1024 * 1024);
/// Checks, without decoding or allocating, that `record` is exactly one well-formed stored-message record (the
/// structure decodeStoredMessages requires) whose PHYSICALOFFSET is `physical_offset`; else Corrupt. The body
/// CRC is not checked.
Status checkStoredRecord(std::string_view record, int64_t physical_offset);
/// Encodes one stored-message record (V1 magic; IPv4 or IPv6 hosts per the sysFlag bits derived from the
/// host strings). Used by the broker store and tests. The body is written as is.
std::string encodeStoredMessage(const MessageExt& msg);

/// Batch body for SEND_BATCH_MESSAGE: per message TOTALSIZE MAGIC(0) BODYCRC(0) FLAG BODYLEN BODY PROPLEN PROPS.
std::string encodeBatch(const std::vector<Message>& msgs);
/// Inverse of encodeBatch (broker side). Each message gets topic `topic`.
Result<std::vector<Message>> decodeBatch(std::string_view data, const std::string& topic);

/// Offset message id: store host IP (4 or 16 bytes) | port (int32) | commit-log offset (int64), as uppercase hex.
/// `store_host` is "ip:port" (IPv6 as "[v6]:port" or "v6:port"). Invalid host -> InvalidArgument.
Result<std::string> createOffsetMessageId(std::string_view store_host, int64_t commit_log_offset);
struct OffsetMessageId {
  std::string store_host;  // "ip:port"
  int64_t commit_log_offset = 0;
};
Result<OffsetMessageId> decodeOffsetMessageId(std::string_view id);

/// Generates UNIQ_KEY ids: 32 uppercase hex chars, unique per process and time. Thread-safe.
std::string createUniqId();

/// True when `uniq_key` (a message's UNIQ_KEY) was made by rocketmq-client-go: 32 hex digits whose "class
/// loader" field (digits 12..19) is all zeros. Go hard-codes that field to 0; Java puts its class loader's
/// identity hash there, which HotSpot never makes 0; an IPv6 Java id is 56 digits; ours has a non-zero salt
/// there (docs/design/rpc.md, "Go peers"). Allocates nothing.
bool isGoClientUniqId(std::string_view uniq_key);

/// CRC32 (zlib) & 0x7FFFFFFF, as stored in BODYCRC.
int32_t bodyCrc(std::string_view body);

}  // namespace rocketrpc::remoting
