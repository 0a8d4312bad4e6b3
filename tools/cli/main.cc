// rocketrpc: command-line client of the rocketrpc library (request-reply over RocketMQ).
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "cli_util.h"
#include "commands.h"
#include "rocketrpc/errors.h"
#include "rocketrpc/logging.h"
#include "rocketrpc/version.h"


namespace {

using rocketrpc::LogLevel;

const std::map<std::string, LogLevel> kLogLevels = {{"trace", LogLevel::kTrace}, {"debug", LogLevel::kDebug},
                                                    {"info", LogLevel::kInfo},   {"warn", LogLevel::kWarn},
                                                    {"error", LogLevel::kError}, {"off", LogLevel::kOff}};

rocketrpc::cli::Command addVersionCommand(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("version", "Print the version and exit");
  return {app, [] {
            std::cout << "rocketrpc " << rocketrpc::version() << std::endl;
            return rocketrpc::cli::kExitOk;
          }};
}

}  // namespace

int main(int argc, char** argv) {
  using namespace rocketrpc::cli;
  CLI::App app{"rocketrpc: RocketMQ request-reply client"};
  app.fallthrough();  // global options are accepted after the subcommand too; set before adding subcommands
  app.require_subcommand(1);
  app.set_version_flag("--version", rocketrpc::version());
  std::string log_level;
  app.add_option("--log-level", log_level, "Library log level: trace|debug|info|warn|error|off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  const std::vector<Command> commands = {addRequestCommand(app), addRespondCommand(app), addCallCommand(app),
                                         addServeCommand(app), addVersionCommand(app)};

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success))
      return app.exit(e);  // --help, --version
    printError(rocketrpc::ErrorCode::kInvalidArgument, std::string(e.what()) + " (see --help)");
    return kExitUsageError;
  }
  if (std::string bad_level; !rocketrpc::logLevelFromEnvironment(&bad_level)) {
    printError(rocketrpc::ErrorCode::kInvalidArgument, bad_level);
    return kExitUsageError;
  }
  if (!log_level.empty()) rocketrpc::setLogLevel(kLogLevels.at(log_level));

  try {
    for (const Command& command : commands) {
      if (command.app->parsed()) return command.run();
    }
    printError(rocketrpc::ErrorCode::kInvalidArgument, "no subcommand (see --help)");
    return kExitUsageError;
  } catch (const rocketrpc::MQException& e) {
    printError(e.code(), e.what());
    return exitCodeFor(e.code());
  } catch (const std::exception& e) {
    printError(rocketrpc::ErrorCode::kInternal, e.what());
    return kExitRuntimeError;
  }
}
