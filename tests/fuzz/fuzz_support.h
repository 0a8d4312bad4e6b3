// Shared by the fuzz targets whose inputs make the library log (damaged stores, malformed requests).
#pragma once

#include <cstdlib>

#include "rocketrpc/logging.h"

namespace rocketrpc::fuzz {

/// Turns the library's logging off for the whole run, unless ROCKETRPC_LOG_LEVEL asks for it (to read a crash):
/// the errors bad inputs are meant to cause would drown libFuzzer's own output. Cheap after the first call.
inline void quietLogs() {
  static const bool done = [] {
    if (std::getenv("ROCKETRPC_LOG_LEVEL") == nullptr) setLogLevel(LogLevel::kOff);
    return true;
  }();
  (void)done;
}

}  // namespace rocketrpc::fuzz
