// rocketrpc: command-line client of the rocketrpc library (request-reply over RocketMQ).
#include <algorithm>
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
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
                                         addServeCommand(app), addAdminCommand(app),
                                         addVersionCommand(app)};

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success))
      return app.exit(e);  // --help, --version
    bool has_command = false;
    for (const Command& command : commands) has_command = has_command || command.app->parsed();
    if (!has_command) {
      // No known command was given: name what was typed (if anything) and list the commands.
      std::string listed;
      for (const Command& command : commands) listed += (listed.empty() ? "" : ", ") + command.app->get_name();
      std::string typed;
      for (int i = 1; i < argc && typed.empty(); ++i) {
        if (std::string_view(argv[i]) == "--log-level") {
          ++i;  // the one global option with a separate value
        } else if (argv[i][0] != '-') {
          typed = argv[i];
        }
      }
      printError(rocketrpc::ErrorCode::kInvalidArgument,
                 (typed.empty() ? std::string("a command is required") : "unknown command '" + typed + "'") +
                     " (commands: " + listed + "; see --help)");
      return kExitUsageError;
    }
    // A command with subcommands (admin, admin topic...) that got none or a wrong one: list them.
    CLI::App* deepest = nullptr;
    for (const Command& command : commands) {
      if (command.app->parsed()) deepest = command.app;
    }
    for (bool descended = true; deepest != nullptr && descended;) {
      descended = false;
      for (CLI::App* sub : deepest->get_subcommands([](CLI::App*) { return true; })) {
        if (sub->parsed()) deepest = sub, descended = true;
      }
    }
    std::vector<CLI::App*> subcommands;
    if (deepest != nullptr) subcommands = deepest->get_subcommands([](CLI::App*) { return true; });
    std::string subs;
    for (CLI::App* sub : subcommands) subs += (subs.empty() ? "" : ", ") + sub->get_name();
    // A word where a subcommand belongs (`admin foo`) is named first: the parser's own complaint is about
    // something else (a required option, a missing subcommand).
    std::string unknown;
    if (!subs.empty()) {
      int at = argc;  // the command's own word, then what follows it
      for (int i = argc - 1; i > 0 && at == argc; --i) {
        if (deepest->get_name() == argv[i]) at = i;
      }
      for (int i = at + 1; i < argc && unknown.empty(); ++i) {
        const std::string word = argv[i];
        if (word.empty()) continue;
        if (word[0] == '-') {
          // An option of this command that takes a value, written without '=': its value is the next word.
          const CLI::Option* opt = deepest->get_option_no_throw(word);
          if (opt != nullptr && opt->get_type_size() != 0 && word.find('=') == std::string::npos) ++i;
          continue;
        }
        const bool is_sub = std::any_of(subcommands.begin(), subcommands.end(),
                                        [&](CLI::App* sub) { return sub->check_name(word); });
        if (!is_sub) unknown = "unknown subcommand '" + word + "' of '" + deepest->get_name() + "'; ";
      }
    }
    printError(rocketrpc::ErrorCode::kInvalidArgument,
               unknown + std::string(e.what()) +
                   (subs.empty() ? "" : " (subcommands of '" + deepest->get_name() + "': " + subs + ")") +
                   " (see --help)");
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
