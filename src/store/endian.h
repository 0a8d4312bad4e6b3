// Big-endian integer helpers for the store's on-disk formats (all integers are big-endian, as in RocketMQ):
// the common ones (common/big_endian.h), under the names the store uses.
#pragma once

#include "common/big_endian.h"

namespace rocketrpc::store {

using rocketrpc::appendBig32;
using rocketrpc::appendBig64;
using rocketrpc::getBig32;
using rocketrpc::getBig64;
using rocketrpc::putBig32;
using rocketrpc::putBig64;

}  // namespace rocketrpc::store
