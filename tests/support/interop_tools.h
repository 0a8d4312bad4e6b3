// Tools for interop tests that talk to a cluster from outside: Apache's mqadmin (run through
// scripts/apache-rocketmq.sh admin) and direct name-server queries (cluster info, topic route) over the
// real protocol. Free functions; each call uses its own connections (thread-safe).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "remoting/protocol/route_data.h"

namespace rocketrpc::testing {

/// scripts/apache-rocketmq.sh: env ROCKETRPC_APACHE_ROCKETMQ_SH, else the first scripts/apache-rocketmq.sh
/// found walking up from the directory of the running test binary (build trees live inside the source tree).
/// Empty when neither exists.
std::string apacheRocketmqScript();

/// Exit code (128+signal when killed) and stdout of a finished program.
struct ToolResult {
  int exit_code = -1;
  std::string output;
};

/// Runs `apache-rocketmq.sh admin --dir <home_dir> ARGS... -n <namesrv>`: Apache's mqadmin against any name
/// server, with `home_dir` as its home and log directory. stderr passes through. nullopt when it did not
/// finish within `timeout` (it is killed then). The first call may download the RocketMQ tools jars.
/// @throws std::runtime_error when the script cannot be started.
std::optional<ToolResult> runMqadmin(const std::string& script, const std::string& home_dir,
                                     const std::string& namesrv, const std::vector<std::string>& args,
                                     std::chrono::milliseconds timeout);

/// GET_BROKER_CLUSTER_INFO from `namesrv`.
Result<remoting::ClusterInfo> queryClusterInfo(const std::string& namesrv);

/// GET_ROUTEINFO_BY_TOPIC from `namesrv`; a remote error (e.g. unknown topic, code 17) is a Status.
Result<remoting::TopicRouteData> queryTopicRoute(const std::string& namesrv, const std::string& topic);

/// A new empty directory under $TMPDIR (default /tmp) named <prefix>.XXXXXX, removed with its content by the
/// destructor. Thread-compatible.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace rocketrpc::testing
