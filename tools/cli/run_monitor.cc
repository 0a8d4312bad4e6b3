#include "run_monitor.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>

namespace rocketrpc::cli {

namespace {

// A lock-free atomic, not a volatile sig_atomic_t: the handler may run on any thread and the run reads it from
// others (a lock-free atomic store is async-signal-safe, and race-free for the reader).
std::atomic<int> g_stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);
struct sigaction g_old_int {}, g_old_term {};

void onStopSignal(int sig) { g_stop_signal.store(sig); }  // async-signal-safe: one lock-free store

}  // namespace

RunMonitor::RunMonitor(std::function<std::string()> line, std::chrono::milliseconds interval)
    : line_(std::move(line)), interval_(interval) {
  g_stop_signal.store(0);
  struct sigaction sa {};
  sa.sa_handler = onStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;  // a second signal finds the default action and ends the process
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
  if (::isatty(STDERR_FILENO) == 1) thread_ = std::thread([this] { loop(); });
}

RunMonitor::~RunMonitor() {
  finish();
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
}

int RunMonitor::stopSignal() { return g_stop_signal.load(); }

void RunMonitor::finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (shown_) {
    std::fputs("\r\x1b[K", stderr);
    std::fflush(stderr);
    shown_ = false;
  }
}

void RunMonitor::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, interval_, [this] { return stop_; })) {
    // The line is made without mu_ held: it takes the caller's locks, and the caller may hold them while it
    // calls finish(), which takes mu_ (a lock-order inversion, found by TSan).
    lock.unlock();
    const std::string text = line_();
    lock.lock();
    if (stop_) break;
    // \r + erase to the end of the line: the line is rewritten in place, whatever its previous length.
    std::fprintf(stderr, "\r%s\x1b[K", text.c_str());
    std::fflush(stderr);
    shown_ = true;
  }
}

std::string formatRate(double n, double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", seconds > 0 ? n / seconds : 0.0);
  return buf;
}

}  // namespace rocketrpc::cli
