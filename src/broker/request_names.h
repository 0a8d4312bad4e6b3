// The broker's door for names: before any processor sees a request, every name its header carries (topic,
// consumer/producer group, client id, broker name, topic filter type, the KEYS of a single send) is checked with
// the one validator (remoting/protocol/names.h). Names in bodies (heartbeats, lock requests, batches) are
// checked where the body is decoded, with checkBodyNames below. Pure functions, thread-safe.
#pragma once

#include <string_view>

#include "common/status.h"
#include "remoting/remoting_command.h"

namespace rocketrpc::broker {

/// OK, or InvalidArgument naming the header field and the rule it breaks. Fields absent from the header are
/// not checked (the processor reports a missing field itself).
Status checkRequestNames(const remoting::RemotingCommand& request);

/// The KEYS entry of an encoded property string ("name\x01value\x02..."), if any, as a view into `properties`.
std::string_view findKeysProperty(std::string_view properties);

}  // namespace rocketrpc::broker
