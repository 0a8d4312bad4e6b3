// Subprocess: runs a real program (the rocketrpc CLI, the Java peer) for interop tests, with its stdout
// readable line by line and its stderr passed through. Thread-compatible.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace rocketrpc::testing {

class Subprocess {
 public:
  /// Starts argv[0] (looked up in PATH) with the arguments. Throws std::runtime_error on failure.
  explicit Subprocess(std::vector<std::string> argv);
  ~Subprocess();  ///< kills (SIGKILL) and reaps a still-running child
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  /// Next stdout line (without '\n'), or nullopt on EOF or when `timeout` passes.
  std::optional<std::string> readLine(std::chrono::milliseconds timeout);
  /// Reads lines until one equals `line` (true) or EOF/timeout (false).
  bool waitForLine(const std::string& line, std::chrono::milliseconds timeout);
  /// Everything read from stdout so far (all lines, '\n'-joined).
  const std::string& output() const { return output_; }
  void signal(int sig);
  /// Waits for exit; returns the exit code (128+signal when killed), or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
  std::string output_;
  std::optional<int> exit_code_;
};

/// Environment variable or `fallback`.
std::string envOr(const char* name, const std::string& fallback);

}  // namespace rocketrpc::testing
