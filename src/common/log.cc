#include "common/log.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string>

namespace rocketrpc {
namespace {

constexpr const char* kLevelNames = "trace, debug, info, warn, error or off";

// Set when ROCKETRPC_LOG_LEVEL holds something that is not a level; reported once by the first write().
std::atomic<bool> bad_env_level{false};

LogLevel initialLevel() {
  const char* env = std::getenv("ROCKETRPC_LOG_LEVEL");
  if (env == nullptr || *env == '\0') return LogLevel::kWarn;
  if (auto level = parseLogLevel(env)) return *level;
  bad_env_level.store(true, std::memory_order_relaxed);
  return LogLevel::kWarn;
}

std::atomic<int>& levelRef() {
  static std::atomic<int> level{static_cast<int>(initialLevel())};
  return level;
}

std::mutex& sinkMutex() {
  static std::mutex m;
  return m;
}

LogSink& sinkRef() {
  static LogSink sink;
  return sink;
}

const char* levelName(LogLevel l) {
  switch (l) {
    case LogLevel::kTrace: return "TRACE";
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarn: return "WARN";
    case LogLevel::kError: return "ERROR";
    case LogLevel::kOff: return "OFF";
  }
  return "?";
}

long threadId() {
  thread_local const long tid = static_cast<long>(::syscall(SYS_gettid));
  return tid;
}

// Under sinkMutex(): writes one line in the documented format to stderr.
void writeStderr(LogLevel level, std::string_view module, std::string_view message) {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  std::fprintf(stderr, "%s.%03dZ %-5s [%ld] [%.*s] %.*s\n", ts, static_cast<int>(ms % 1000), levelName(level),
               threadId(), static_cast<int>(module.size()), module.data(), static_cast<int>(message.size()),
               message.data());
}

}  // namespace

void setLogSink(LogSink sink) {
  std::lock_guard<std::mutex> lock(sinkMutex());
  sinkRef() = std::move(sink);
}
void setLogLevel(LogLevel level) { levelRef().store(static_cast<int>(level)); }
LogLevel logLevel() { return static_cast<LogLevel>(levelRef().load()); }

std::optional<LogLevel> parseLogLevel(std::string_view name) {
  std::string v;
  for (char c : name) v += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "trace") return LogLevel::kTrace;
  if (v == "debug") return LogLevel::kDebug;
  if (v == "info") return LogLevel::kInfo;
  if (v == "warn" || v == "warning") return LogLevel::kWarn;
  if (v == "error") return LogLevel::kError;
  if (v == "off") return LogLevel::kOff;
  return std::nullopt;
}

bool logLevelFromEnvironment(std::string* error) {
  const char* env = std::getenv("ROCKETRPC_LOG_LEVEL");
  if (env == nullptr || *env == '\0') return true;
  if (auto level = parseLogLevel(env)) {
    setLogLevel(*level);
    return true;
  }
  if (error != nullptr) {
    *error = std::string("invalid ROCKETRPC_LOG_LEVEL '") + env + "': expected " + kLevelNames;
  }
  return false;
}

namespace log {

bool enabled(LogLevel level) { return level != LogLevel::kOff && static_cast<int>(level) >= levelRef().load(); }

void write(LogLevel level, std::string_view module, std::string_view message) {
  std::lock_guard<std::mutex> lock(sinkMutex());
  if (bad_env_level.exchange(false, std::memory_order_relaxed)) {
    const std::string complaint = std::string("ROCKETRPC_LOG_LEVEL is not a level (expected ") + kLevelNames +
                                  "); logging at warn";
    if (sinkRef()) {
      sinkRef()(LogLevel::kError, "log", complaint);
    } else {
      writeStderr(LogLevel::kError, "log", complaint);
    }
  }
  if (sinkRef()) {
    sinkRef()(level, module, message);
    return;
  }
  writeStderr(level, module, message);
}

bool RateLimiter::allow() {
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count();
  int64_t next = next_ms_.load(std::memory_order_relaxed);
  if (now >= next && next_ms_.compare_exchange_strong(next, now + interval_ms_)) return true;
  suppressed_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

std::string RateLimiter::suppressedNote() {
  const uint64_t n = suppressed_.exchange(0, std::memory_order_relaxed);
  if (n == 0) return {};
  return " (" + std::to_string(n) + (n == 1 ? " similar message" : " similar messages") + " suppressed)";
}

}  // namespace log
}  // namespace rocketrpc
