// Unguessable identifiers from the kernel's CSPRNG (getrandom(2)), for values a peer must not be able to
// predict: request correlation ids (a forged reply carrying a pending id would be delivered as the answer)
// and RPC streaming session ids. Thread-safe (no state).
#pragma once

#include <cstddef>
#include <string>

namespace rocketrpc {

/// Fills `out` with `size` bytes from getrandom(2) (blocking only until the kernel's pool is first seeded).
/// @throws std::system_error when the kernel gives no randomness; never falls back to a predictable source.
void secureRandomBytes(void* out, size_t size);

/// 128 bits from secureRandomBytes as 36 characters shaped like a UUID ("8-4-4-4-12" lowercase hex), so that
/// Java peers (whose ids come from UUID.randomUUID().toString()) and logs see the familiar form. All 128 bits
/// are random (no version/variant nibbles), hence not a version-4 UUID but 6 bits harder to guess than one.
std::string newRandomId();

}  // namespace rocketrpc
