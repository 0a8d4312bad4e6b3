// Big-endian integers, as every RocketMQ byte layout writes them (frames, binary headers, stored messages,
// message ids, the store's files): the one set of put/get helpers and the one bounds-checked reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rocketrpc {

inline void putBig16(char* p, int16_t v) {
  const auto u = static_cast<uint16_t>(v);
  p[0] = static_cast<char>(u >> 8);
  p[1] = static_cast<char>(u);
}

inline void putBig32(char* p, int32_t v) {
  const auto u = static_cast<uint32_t>(v);
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(u >> (24 - 8 * i));
}

inline void putBig64(char* p, int64_t v) {
  const auto u = static_cast<uint64_t>(v);
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(u >> (56 - 8 * i));
}

inline void appendBig16(std::string& out, int16_t v) {
  char b[2];
  putBig16(b, v);
  out.append(b, 2);
}

inline void appendBig32(std::string& out, int32_t v) {
  char b[4];
  putBig32(b, v);
  out.append(b, 4);
}

inline void appendBig64(std::string& out, int64_t v) {
  char b[8];
  putBig64(b, v);
  out.append(b, 8);
}

inline int16_t getBig16(const char* p) {
  return static_cast<int16_t>(static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1])));
}

inline int32_t getBig32(const char* p) {
  uint32_t u = 0;
  for (int i = 0; i < 4; ++i) u = (u << 8) | static_cast<uint8_t>(p[i]);
  return static_cast<int32_t>(u);
}

inline int64_t getBig64(const char* p) {
  uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u = (u << 8) | static_cast<uint8_t>(p[i]);
  return static_cast<int64_t>(u);
}

/// Bounds-checked big-endian reader over untrusted bytes. Every read fails (returns false, consumes nothing)
/// when fewer bytes remain than requested.
class BigEndianReader {
 public:
  explicit BigEndianReader(std::string_view data) : data_(data) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }

  bool u8(uint8_t* v) {
    if (remaining() < 1) return false;
    *v = static_cast<uint8_t>(data_[pos_]);
    pos_ += 1;
    return true;
  }
  bool i16(int16_t* v) { return fixed(2, v, getBig16); }
  bool i32(int32_t* v) { return fixed(4, v, getBig32); }
  bool i64(int64_t* v) { return fixed(8, v, getBig64); }
  bool bytes(size_t n, std::string_view* v) {
    if (remaining() < n) return false;
    *v = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }

 private:
  template <typename T>
  bool fixed(size_t n, T* v, T (*get)(const char*)) {
    if (remaining() < n) return false;
    *v = get(data_.data() + pos_);
    pos_ += n;
    return true;
  }

  std::string_view data_;
  size_t pos_ = 0;
};

}  // namespace rocketrpc
