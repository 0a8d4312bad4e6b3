#include "common/log.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string>

namespace rocketrpc {
namespace {

LogLevel initialLevel() {
  const char* env = std::getenv("ROCKETRPC_LOG_LEVEL");
  if (!env) return LogLevel::kWarn;
  std::string_view v(env);
  if (v == "trace") return LogLevel::kTrace;
  if (v == "debug") return LogLevel::kDebug;
  if (v == "info") return LogLevel::kInfo;
  if (v == "error") return LogLevel::kError;
  if (v == "off") return LogLevel::kOff;
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

}  // namespace

void setLogSink(LogSink sink) {
  std::lock_guard<std::mutex> lock(sinkMutex());
  sinkRef() = std::move(sink);
}
void setLogLevel(LogLevel level) { levelRef().store(static_cast<int>(level)); }
LogLevel logLevel() { return static_cast<LogLevel>(levelRef().load()); }

namespace log {

bool enabled(LogLevel level) { return level != LogLevel::kOff && static_cast<int>(level) >= levelRef().load(); }

void write(LogLevel level, std::string_view module, std::string_view message) {
  std::lock_guard<std::mutex> lock(sinkMutex());
  if (sinkRef()) {
    sinkRef()(level, module, message);
    return;
  }
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%H:%M:%S", &tm);
  std::fprintf(stderr, "%s.%03d %-5s [%.*s] %.*s\n", ts, static_cast<int>(ms % 1000), levelName(level),
               static_cast<int>(module.size()), module.data(), static_cast<int>(message.size()), message.data());
}

bool RateLimiter::allow() {
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count();
  int64_t next = next_ms_.load(std::memory_order_relaxed);
  if (now < next) return false;
  return next_ms_.compare_exchange_strong(next, now + interval_ms_);
}

}  // namespace log
}  // namespace rocketrpc
