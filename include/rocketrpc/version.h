/// \file
/// The library's version. The macros describe the headers an application was compiled with; version() the
/// library it runs with (they differ when a newer shared library is installed under the same SONAME).
/// CMake reads the version of the project from this file: change it here only.
#pragma once

#include "rocketrpc/export.h"

/// Major version of the headers (0.x: any minor release may change the API and ABI).
#define ROCKETRPC_VERSION_MAJOR 0
/// Minor version of the headers.
#define ROCKETRPC_VERSION_MINOR 2
/// Patch version of the headers.
#define ROCKETRPC_VERSION_PATCH 0
/// "MAJOR.MINOR.PATCH" of the headers.
#define ROCKETRPC_VERSION_STRING "0.2.0"
/// MAJOR * 10000 + MINOR * 100 + PATCH, for preprocessor comparisons.
#define ROCKETRPC_VERSION_NUMBER \
  (ROCKETRPC_VERSION_MAJOR * 10000 + ROCKETRPC_VERSION_MINOR * 100 + ROCKETRPC_VERSION_PATCH)

/// RPC over Apache RocketMQ: the RocketMQ client (Producer, PushConsumer) and the RPC layer (RpcClient,
/// RpcServer) built on it.
namespace rocketrpc {

/// "MAJOR.MINOR.PATCH" of the library linked at run time.
ROCKETRPC_API const char* version() noexcept;
/// ROCKETRPC_VERSION_NUMBER of the library linked at run time.
ROCKETRPC_API int versionNumber() noexcept;

}  // namespace rocketrpc
