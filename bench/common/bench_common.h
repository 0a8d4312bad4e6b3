// Shared pieces of the request/reply load generators driven by bench/compare.py.
//
// Cell protocol (one client process serves many cells; the driver talks to it over stdin/stdout):
//   driver -> client: "cell <inflight> <payload_bytes> <warmup_ms> <duration_ms> <max_count>"
//   client -> driver: "ready"                  (warm-up done, nothing in flight)
//   driver -> client: "go"                     (the driver has sampled /proc of every process)
//   client -> driver: "result {json}"          (measured phase done, nothing in flight)
//   driver -> client: "quit"
// Lines that start with anything else are logs and are ignored by the driver.
//
// The load is closed-loop: `inflight` requests are outstanding at all times; each completion records its
// latency and issues the next request until the duration or the count runs out.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace bench {

using Clock = std::chrono::steady_clock;

struct CellSpec {
  int inflight = 1;
  size_t payload = 128;
  int64_t warmup_ms = 500;
  int64_t duration_ms = 2000;
  int64_t max_count = 1000000;
};

struct CellResult {
  int64_t ok = 0;
  int64_t errors = 0;
  double elapsed_s = 0;
  std::vector<int64_t> latencies_ns;  // successful requests
  std::vector<int64_t> request_leg_ns;  // requester -> responder (when the responder stamps replies)
  std::vector<int64_t> reply_leg_ns;    // responder -> requester
  std::string first_error;
};

/// Incompressible, deterministic bytes (the same on every run).
inline std::string makePayload(size_t n, uint64_t seed = 42) {
  std::string s(n, '\0');
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    for (size_t j = 0; j < 8 && i + j < n; ++j) s[i + j] = static_cast<char>(v >> (8 * j));
  }
  return s;
}

/// Timestamps carried in the payload (CLOCK_MONOTONIC ns, little-endian int64; the same clock as Java's
/// System.nanoTime on Linux): bytes 0..7 = when the requester issued the request, bytes 8..15 = when the
/// responder handled it. They split a round trip into the request leg and the reply leg.
inline constexpr size_t kSendStampAt = 0;
inline constexpr size_t kResponderStampAt = 8;

inline int64_t monoNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}
inline void writeStamp(std::string& body, size_t at, int64_t ns) {
  if (body.size() < at + 8) return;
  for (int i = 0; i < 8; ++i) body[at + static_cast<size_t>(i)] = static_cast<char>(static_cast<uint64_t>(ns) >> (8 * i));
}
inline int64_t readStamp(const char* data, size_t size, size_t at) {
  if (size < at + 8) return 0;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(data[at + static_cast<size_t>(i)])) << (8 * i);
  return static_cast<int64_t>(v);
}

inline double percentileUs(const std::vector<int64_t>& sorted_ns, double q) {
  if (sorted_ns.empty()) return 0;
  size_t idx = static_cast<size_t>(q * static_cast<double>(sorted_ns.size()));
  if (idx >= sorted_ns.size()) idx = sorted_ns.size() - 1;
  return static_cast<double>(sorted_ns[idx]) / 1000.0;
}

inline std::string resultJson(CellResult& r) {
  std::sort(r.latencies_ns.begin(), r.latencies_ns.end());
  double sum = 0;
  for (int64_t v : r.latencies_ns) sum += static_cast<double>(v);
  const auto& l = r.latencies_ns;
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(2);
  o << "{\"ok\":" << r.ok << ",\"errors\":" << r.errors << ",\"elapsed_s\":" << r.elapsed_s
    << ",\"throughput\":" << (r.elapsed_s > 0 ? static_cast<double>(r.ok) / r.elapsed_s : 0.0)
    << ",\"p50_us\":" << percentileUs(l, 0.50) << ",\"p99_us\":" << percentileUs(l, 0.99)
    << ",\"p999_us\":" << percentileUs(l, 0.999)
    << ",\"mean_us\":" << (l.empty() ? 0.0 : sum / static_cast<double>(l.size()) / 1000.0)
    << ",\"max_us\":" << (l.empty() ? 0.0 : static_cast<double>(l.back()) / 1000.0);
  if (!r.request_leg_ns.empty()) {
    std::sort(r.request_leg_ns.begin(), r.request_leg_ns.end());
    std::sort(r.reply_leg_ns.begin(), r.reply_leg_ns.end());
    o << ",\"request_leg_p50_us\":" << percentileUs(r.request_leg_ns, 0.5)
      << ",\"request_leg_p99_us\":" << percentileUs(r.request_leg_ns, 0.99)
      << ",\"reply_leg_p50_us\":" << percentileUs(r.reply_leg_ns, 0.5)
      << ",\"reply_leg_p99_us\":" << percentileUs(r.reply_leg_ns, 0.99);
  }
  o << ",\"first_error\":\"";
  for (char c : r.first_error.substr(0, 200)) {
    if (c == '"' || c == '\\')
      o << '\\' << c;
    else if (static_cast<unsigned char>(c) >= 0x20)
      o << c;
  }
  o << "\"}";
  return o.str();
}

/// Serves cells from stdin until "quit" or EOF. `run(spec, measured)` runs one phase (warm-up when
/// measured is false) and returns its outcome.
inline int serveCells(const std::function<CellResult(const CellSpec&, bool measured)>& run) {
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    if (cmd == "quit") break;
    if (cmd != "cell") continue;
    CellSpec spec;
    in >> spec.inflight >> spec.payload >> spec.warmup_ms >> spec.duration_ms >> spec.max_count;
    if (!in || spec.inflight < 1) {
      std::cout << "error bad cell line: " << line << std::endl;
      continue;
    }
    if (spec.warmup_ms > 0) {
      CellSpec warm = spec;
      warm.duration_ms = spec.warmup_ms;
      CellResult w = run(warm, false);
      if (w.ok == 0 && !w.first_error.empty()) std::cout << "log warm-up errors: " << w.first_error << std::endl;
    }
    std::cout << "ready" << std::endl;
    if (!std::getline(std::cin, line) || line != "go") break;
    CellResult r = run(spec, true);
    std::cout << "result " << resultJson(r) << std::endl;
  }
  return 0;
}

/// Closed-loop driver for asynchronous clients whose completions arrive on other threads.
/// `issue(body, done)` starts one request (body stamped at kSendStampAt) and must call
/// done(ok, error_text, responder_stamp) exactly once (possibly inline); responder_stamp is the reply's
/// kResponderStampAt stamp, 0 when unknown.
class ClosedLoop {
 public:
  using Done = std::function<void(bool ok, const std::string& error, int64_t responder_stamp)>;
  using Issue = std::function<void(std::string body, Done done)>;

  static CellResult run(const CellSpec& spec, const std::string& body, const Issue& issue,
                        std::chrono::milliseconds drain_timeout = std::chrono::milliseconds(15000)) {
    auto st = std::make_shared<State>();
    st->deadline = Clock::now() + std::chrono::milliseconds(spec.duration_ms);
    st->max_count = spec.max_count;
    // Uninitialised on purpose: pages are only touched (and counted in RSS) as results arrive.
    st->latencies.reset(new int64_t[static_cast<size_t>(std::max<int64_t>(spec.max_count, 1))]);
    st->capacity = std::max<int64_t>(spec.max_count, 1);
    st->issue = issue;
    st->body = body;
    const auto t0 = Clock::now();
    st->t_last_ns.store(0);
    for (int i = 0; i < spec.inflight; ++i) {
      if (!st->tryReserve()) break;
      st->launch(st, t0);
    }
    {
      std::unique_lock lock(st->mu);
      st->cv.wait_for(lock, std::chrono::milliseconds(spec.duration_ms) + drain_timeout,
                      [&] { return st->outstanding.load() == 0; });
    }
    CellResult r;
    std::lock_guard lock(st->mu);
    r.ok = st->ok;
    r.errors = st->errors + st->outstanding.load();  // never completed counts as an error
    r.first_error = st->first_error;
    if (st->outstanding.load() > 0 && r.first_error.empty()) r.first_error = "requests did not complete";
    const auto end_ns = st->t_last_ns.load();
    r.elapsed_s = end_ns > 0 ? static_cast<double>(end_ns) / 1e9
                             : std::chrono::duration<double>(Clock::now() - t0).count();
    r.latencies_ns.assign(st->latencies.get(), st->latencies.get() + std::min(r.ok, st->capacity));
    r.request_leg_ns = std::move(st->request_legs);
    r.reply_leg_ns = std::move(st->reply_legs);
    // Keep the state alive for late callbacks (after a drain timeout) by leaking a reference on purpose.
    if (st->outstanding.load() > 0) new std::shared_ptr<State>(st);
    return r;
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    Clock::time_point deadline;
    int64_t max_count = 0;
    std::atomic<int64_t> issued{0};
    std::atomic<int64_t> outstanding{0};
    std::atomic<int64_t> t_last_ns{0};
    std::atomic<int64_t> slot{0};
    std::unique_ptr<int64_t[]> latencies;
    int64_t capacity = 0;
    std::vector<int64_t> request_legs, reply_legs;  // guarded by mu
    int64_t ok = 0, errors = 0;
    std::string first_error;
    Issue issue;
    std::string body;
    Clock::time_point t0_run;

    bool tryReserve() {
      if (Clock::now() >= deadline) return false;
      if (issued.fetch_add(1) >= max_count) return false;
      outstanding.fetch_add(1);
      return true;
    }
    static void launch(const std::shared_ptr<State>& self, Clock::time_point t0) {
      State* raw = self.get();
      std::string body = raw->body;
      const auto start = Clock::now();
      const int64_t start_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count();
      writeStamp(body, kSendStampAt, start_ns);
      // Completions may run inline (from inside issue, e.g. a request refused at once) or on another
      // thread. Inline chains are cut after a few levels so the stack stays bounded: that slot is dropped.
      static thread_local int depth = 0;
      ++depth;
      struct Unwind {
        ~Unwind() { --depth; }
      } unwind;
      raw->issue(std::move(body), [raw, start, start_ns, t0, keep = self](bool ok, const std::string& error,
                                                                         int64_t responder_stamp) {
        const auto now = Clock::now();
        const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - start).count();
        {
          std::lock_guard lock(raw->mu);
          if (ok) {
            int64_t i = raw->slot.fetch_add(1);
            if (i < raw->capacity) raw->latencies[static_cast<size_t>(i)] = ns;
            ++raw->ok;
            if (responder_stamp > start_ns && responder_stamp - start_ns <= ns &&
                raw->request_legs.size() < 4000000) {
              raw->request_legs.push_back(responder_stamp - start_ns);
              raw->reply_legs.push_back(start_ns + ns - responder_stamp);
            }
          } else {
            ++raw->errors;
            if (raw->first_error.empty()) raw->first_error = error;
          }
          raw->t_last_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(now - t0).count());
        }
        if (depth < 16 && raw->tryReserve()) launch(keep, t0);
        if (raw->outstanding.fetch_sub(1) == 1) {
          std::lock_guard lock(raw->mu);
          raw->cv.notify_all();
        }
      });
    }
  };
};

}  // namespace bench
