// `rocketrpc call`: one RPC through RpcClient, configured by the seed's YAML file. Prints the reply payload
// on stdout, or the error on stderr ("error: <Kind>: <text>", exit 1). With --stream, sends the parts as one
// streaming session and prints the session's answer.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli_util.h"
#include "commands.h"
#include "rocketrpc/rpc.h"

namespace rocketrpc::cli {
namespace {

struct CallOptions {
  std::string config;
  int64_t timeout_ms = 0;  // 0: default-timeout-millis of the file
  bool stream = false;
  bool stats = false;
  std::vector<std::string> payloads;
  SecurityFlags security;
};

int printResponse(const RpcResponse& r) {
  if (r.success()) {
    std::cout.write(r.payload().data(), static_cast<std::streamsize>(r.payload().size()));
    std::cout << std::endl;
    return kExitOk;
  }
  printError(rpcErrorCodeName(r.errorCode()), r.errorMessage());
  return exitCodeFor(r.errorCode());
}

int runCall(const CallOptions& o) {
  try {
    RpcConfig config = loadRpcConfig(o.config);
    if (!config.has_client) {
      printError(rpcErrorCodeName(RpcErrorCode::kConfig), o.config + ": no rocketmq.rpc.client section");
      return kExitUsageError;
    }
    if (!o.stream && o.payloads.size() != 1) {
      printError(rpcErrorCodeName(RpcErrorCode::kInvalidArgument),
                 "call takes exactly one PAYLOAD (use --stream to send several parts as one session)");
      return kExitUsageError;
    }
    const auto timeout =
        o.timeout_ms > 0 ? std::chrono::milliseconds(o.timeout_ms) : config.client.default_timeout;
    applySecurityFlags(o.security, config.client);
    RpcClient client(config.client);
    client.start();
    int rc = kExitOk;
    try {
      if (o.stream) {
        std::string session = client.sendStreamingStart();
        for (const std::string& part : o.payloads) client.sendStreamingMessage(session, part);
        rc = printResponse(client.sendStreamingEnd(session, timeout));
      } else {
        rc = printResponse(client.sendSync(o.payloads.front(), timeout));
      }
    } catch (const RpcException& e) {
      printError(rpcErrorCodeName(e.code()), e.what());
      rc = exitCodeFor(e.code());
    }
    if (o.stats) std::cerr << "stats: " << toString(client.stats()) << std::endl;
    client.close();
    return rc;
  } catch (const RpcException& e) {
    printError(rpcErrorCodeName(e.code()), e.what());
    return exitCodeFor(e.code());
  }
}

}  // namespace

Command addCallCommand(CLI::App& parent) {
  auto o = std::make_shared<CallOptions>();
  CLI::App* app = parent.add_subcommand("call", "Send one RPC (or one streaming session) through RpcClient");
  app->footer(
      "Prints the reply payload, or 'error: <Kind>: <text>' on stderr and exits with the Kind's code: 1 "
      "RemoteError, Session and other failures; 2 InvalidArgument, Config; 3 AccessDenied; 4 Timeout; 5 "
      "NoResponder, SendFailed, Network; 6 OverLimit. Security flags override the file's access-key, "
      "secret-key, security-token and tls.");
  app->add_option("--config", o->config, "YAML file with rocketmq.rpc.client (the seed's format)")
      ->required()
      ->check(CLI::ExistingFile);
  app->add_option("--timeout-ms", o->timeout_ms, "Reply timeout (default: default-timeout-millis)")
      ->check(integerIn(1, 300000));
  app->add_flag("--stream", o->stream, "Send the PARTs as one streaming session and print its answer");
  app->add_flag("--stats", o->stats, "Print the client's counters and latency on stderr at the end");
  addSecurityOptions(*app, o->security);
  app->add_option("payload", o->payloads, "PAYLOAD, or with --stream the PARTs of the session")->required();
  return {app, [o] { return runCall(*o); }};
}

}  // namespace rocketrpc::cli
