// The one translation from internal Status values to the public MQException family of the client layer.
#pragma once

#include <exception>

#include "common/status.h"
#include "rocketrpc/errors.h"

namespace rocketrpc::client {

/// Maps a non-OK status to an exception: Timeout -> kTimeout, Network -> kNetwork, RemoteError ->
/// kBrokerError (responseCode set), AccessDenied -> kAccessDenied (responseCode set, also in a send context),
/// NoRoute/NotFound -> kNoRoute, InvalidArgument, Closed, OverLimit, Corrupt/Internal -> kInternal.
/// `send_context` turns network/broker/timeout errors into kSendFailed.
std::exception_ptr toException(const Status& status, bool send_context = false);
[[noreturn]] void throwStatus(const Status& status, bool send_context = false);
/// Throws when !status.isOk().
inline void throwIfError(const Status& status, bool send_context = false) {
  if (!status.isOk()) throwStatus(status, send_context);
}

}  // namespace rocketrpc::client
