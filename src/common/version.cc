#include "rocketrpc/version.h"

namespace rocketrpc {

const char* version() noexcept { return ROCKETRPC_VERSION_STRING; }
int versionNumber() noexcept { return ROCKETRPC_VERSION_NUMBER; }

}  // namespace rocketrpc
