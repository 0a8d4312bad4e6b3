// Subcommands of the rocketrpc CLI. Each add*Command registers its CLI::App under the parent (options bound
// to state the returned runner owns); main runs the runner of the subcommand that was parsed.
// To add a subcommand: write add<Name>Command in its own <name>_command.cc and list it in main.cc.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace rocketrpc::cli {

/// Runs a parsed subcommand and returns the exit code. An MQException escaping it exits with 1 (3 for
/// kAccessDenied, see cli_util.h).
using Runner = std::function<int()>;

struct Command {
  CLI::App* app;
  Runner run;
};

Command addRequestCommand(CLI::App& parent);
Command addRespondCommand(CLI::App& parent);
Command addCallCommand(CLI::App& parent);
Command addServeCommand(CLI::App& parent);
Command addAdminCommand(CLI::App& parent);

}  // namespace rocketrpc::cli
