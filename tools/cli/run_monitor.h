// RunMonitor: the manners of a long CLI run (request --count, call --count). On a terminal it keeps one
// progress line on stderr, rewritten about once a second (never when stderr is a pipe or a file, so logs and
// scripts see only the summary). SIGINT and SIGTERM ask the run to stop: the command then prints its summary
// so far and exits 128 + the signal (130, 143); a second signal of the same kind kills at once (the default).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace rocketrpc::cli {

class RunMonitor {
 public:
  /// Installs the SIGINT/SIGTERM handlers and, when stderr is a terminal, starts the progress line; `line`
  /// returns its text (called from the monitor's thread, so it must be thread-safe).
  explicit RunMonitor(std::function<std::string()> line,
                      std::chrono::milliseconds interval = std::chrono::milliseconds(1000));
  /// Stops the progress line (erasing it) and restores the previous signal handlers.
  ~RunMonitor();
  RunMonitor(const RunMonitor&) = delete;
  RunMonitor& operator=(const RunMonitor&) = delete;

  /// 0, or the signal (SIGINT, SIGTERM) that asked the run to stop.
  static int stopSignal();
  /// Erases the progress line now (before the summary is printed).
  void finish();

 private:
  void loop();

  std::function<std::string()> line_;
  const std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool shown_ = false;  // a progress line is on the terminal
  std::thread thread_;
};

/// "rate" helper for progress lines: `n` events over `seconds`, one decimal.
std::string formatRate(double n, double seconds);

}  // namespace rocketrpc::cli
