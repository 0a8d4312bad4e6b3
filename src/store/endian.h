// Big-endian integer helpers for the store's on-disk formats (all integers are big-endian, as in RocketMQ).
#pragma once

#include <cstdint>
#include <string>

namespace rocketrpc::store {

inline void putBig32(char* p, int32_t v) {
  const auto u = static_cast<uint32_t>(v);
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(u >> (24 - 8 * i));
}

inline void putBig64(char* p, int64_t v) {
  const auto u = static_cast<uint64_t>(v);
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(u >> (56 - 8 * i));
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

}  // namespace rocketrpc::store
