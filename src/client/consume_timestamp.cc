#include "client/consume_timestamp.h"

#include <ctime>

namespace rocketrpc::client {

Result<int64_t> parseConsumeTimestamp(std::string_view text) {
  if (text.size() != 14 || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return Status::invalidArgument("consume timestamp must be yyyyMMddHHmmss, got '" + std::string(text) +
                                   "'");
  }
  auto num = [&](size_t pos, size_t len) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  tm.tm_hour = num(8, 2);
  tm.tm_min = num(10, 2);
  tm.tm_sec = num(12, 2);
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return Status::invalidArgument("consume timestamp out of range: '" + std::string(text) + "'");
  }
  std::time_t secs = timegm(&tm);
  return static_cast<int64_t>(secs) * 1000;
}

std::string formatConsumeTimestamp(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
  return buf;
}

}  // namespace rocketrpc::client
