#include "support/interop_tools.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "remoting/protocol/codes.h"
#include "remoting/transport.h"
#include "support/subprocess.h"

namespace rocketrpc::testing {

namespace fs = std::filesystem;
using remoting::RemotingCommand;
using namespace std::chrono_literals;

std::string apacheRocketmqScript() {
  std::string from_env = envOr("ROCKETRPC_APACHE_ROCKETMQ_SH", "");
  if (!from_env.empty()) return from_env;
  std::error_code ec;
  fs::path dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  if (ec) return "";
  for (; !dir.empty(); dir = dir.parent_path()) {
    fs::path candidate = dir / "scripts" / "apache-rocketmq.sh";
    if (fs::exists(candidate, ec)) return candidate.string();
    if (dir == dir.root_path()) break;
  }
  return "";
}

std::optional<ToolResult> runMqadmin(const std::string& script, const std::string& home_dir,
                                     const std::string& namesrv, const std::vector<std::string>& args,
                                     std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{"bash", script, "admin", "--dir", home_dir};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("-n");
  argv.push_back(namesrv);
  Subprocess tool(argv);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  // Read while waiting, so a long output never fills the pipe and blocks the tool.
  while (tool.readLine(std::chrono::duration_cast<std::chrono::milliseconds>(
      std::max(deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration::zero())))) {
  }
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  auto rc = tool.wait(std::max(left, std::chrono::milliseconds(1)));
  if (!rc) return std::nullopt;
  return ToolResult{*rc, tool.output()};
}

Result<remoting::ClusterInfo> queryClusterInfo(const std::string& namesrv) {
  remoting::RemotingClient client;
  client.start();
  auto resp = client.invokeSync(
      namesrv, RemotingCommand::request(remoting::request_code::kGetBrokerClusterInfo), 5000ms);
  client.shutdown();
  if (!resp.isOk()) return resp.status();
  if (resp->code != 0) return Status::remote(resp->code, "cluster info: " + resp->remarkOrEmpty());
  return remoting::parseClusterInfo(resp->body);
}

Result<remoting::TopicRouteData> queryTopicRoute(const std::string& namesrv, const std::string& topic) {
  remoting::RemotingClient client;
  client.start();
  auto cmd = RemotingCommand::request(remoting::request_code::kGetRouteInfoByTopic);
  cmd.set("topic", topic);
  auto resp = client.invokeSync(namesrv, std::move(cmd), 5000ms);
  client.shutdown();
  if (!resp.isOk()) return resp.status();
  if (resp->code != 0) return Status::remote(resp->code, "route of " + topic + ": " + resp->remarkOrEmpty());
  return remoting::parseTopicRouteData(resp->body);
}

TempDir::TempDir(const std::string& prefix) {
  std::string tmpl = envOr("TMPDIR", "/tmp") + "/" + prefix + ".XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace rocketrpc::testing
