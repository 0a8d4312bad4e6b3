// Scraping a Prometheus text endpoint from tests: a plain HTTP/1.0 GET over 127.0.0.1, a free loopback port
// for endpoints that need a fixed one, and `promtool check metrics` on the scraped text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace rocketrpc::testing {

struct HttpResponse {
  int status = 0;
  std::string body;
};

/// GET http://127.0.0.1:<port><path>; nullopt when the connection or the read fails.
std::optional<HttpResponse> httpGet(uint16_t port, const std::string& path);

/// A port that was free on 127.0.0.1 a moment ago (bound to 0, read, closed).
uint16_t freeLoopbackPort();

/// Result of `promtool check metrics` on `text`: nullopt when promtool is not installed, else {exit code,
/// output}.
struct PromtoolResult {
  int exit_code = -1;
  std::string output;
};
std::optional<PromtoolResult> promtoolCheck(const std::string& text);

/// True when running in CI (env CI set and not "false"/"0", or ROCKETRPC_REQUIRE_PROMTOOL=1 as
/// scripts/run-tests.sh sets after setup.sh): promtool must be there, its check is not skipped.
bool inCi();

/// The value of the sample line `series` ("name{labels}" exactly as rendered), or nullopt when absent.
std::optional<double> sampleValue(const std::string& text, const std::string& series);

}  // namespace rocketrpc::testing
