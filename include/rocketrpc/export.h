/// \file
/// Symbol visibility macros of librocketrpc.so.
#pragma once

/// Marks the declarations that make up the public ABI of librocketrpc.so. The library is built with hidden
/// visibility, so everything else (asio, nlohmann::json and fmt instances, the internals under src/) stays out
/// of the dynamic symbol table and cannot clash with an application's own copies.
#if defined(__GNUC__) || defined(__clang__)
#define ROCKETRPC_API __attribute__((visibility("default")))
#else
#define ROCKETRPC_API
#endif

/// Keeps a class nested in an exported one (the pimpl Impl classes) out of the dynamic symbol table.
#if defined(__GNUC__) || defined(__clang__)
#define ROCKETRPC_LOCAL __attribute__((visibility("hidden")))
#else
#define ROCKETRPC_LOCAL
#endif
