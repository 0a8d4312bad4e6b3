// What the layers above the client (the RPC layer) may reach inside a Producer: its ClientInstance, so that
// they share the producer's connections and routes instead of looking an instance up again by client id.
#pragma once

#include <memory>

#include "rocketrpc/producer.h"

namespace rocketrpc {

namespace client {
class ClientInstance;
}

struct ProducerInternals {
  /// The started producer's client instance; nullptr before start() and after shutdown(). The instance stays
  /// usable as long as the producer is started (it shuts down with the producer's last reference).
  static std::shared_ptr<client::ClientInstance> instance(Producer& producer);
};

}  // namespace rocketrpc
