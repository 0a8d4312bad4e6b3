// RemotingClient -> RemotingServer echo on 127.0.0.1, plain and TLS in the same run (arg 0 = plain, 1 = TLS):
// BM_Transport_EchoRoundTrip is one synchronous call per iteration (latency), BM_Transport_EchoPipelined keeps
// 64 calls in flight (throughput, where write batching matters). TLS certificates are made with the openssl
// command in a temporary directory; without it the TLS cases are skipped with an error.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>

#include "remoting/transport.h"

namespace {

using namespace rocketrpc::remoting;
using namespace std::chrono_literals;

constexpr int32_t kEchoCode = 100;

/// CA + server certificate for IP 127.0.0.1, made once per process; empty dir when openssl failed.
struct BenchPki {
  std::filesystem::path dir;
  BenchPki() {
    auto d = std::filesystem::temp_directory_path() / ("rocketrpc_bench_pki_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    const std::string p = d.string() + "/";
    {
      std::ofstream cnf(p + "pki.cnf");
      cnf << "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = bench\n[ca_ext]\n"
             "basicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n[leaf]\n"
             "basicConstraints = CA:FALSE\nsubjectAltName = IP:127.0.0.1\n";
    }
    const std::string key = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::string cmd =
        "cd '" + p + "' && openssl req -x509 -config pki.cnf -extensions ca_ext" + key +
        " -keyout ca.key -out ca.crt -days 1 && openssl req -new -config pki.cnf" + key +
        " -keyout server.key -out server.csr && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key "
        "-set_serial 1 -days 1 -extfile pki.cnf -extensions leaf -out server.crt";
    if (std::system((cmd + " >/dev/null 2>&1").c_str()) == 0) dir = d;
  }
  ~BenchPki() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

const BenchPki& pki() {
  static BenchPki instance;
  return instance;
}

/// A server and a client connected to it (connection opened before timing).
struct EchoPair {
  std::unique_ptr<RemotingServer> server;
  std::unique_ptr<RemotingClient> client;
  std::string addr;

  bool start(bool tls, benchmark::State& state) {
    TransportOptions so;
    TransportOptions co;
    if (tls) {
      if (pki().dir.empty()) {
        state.SkipWithError("the openssl command failed: no certificates");
        return false;
      }
      so.tls_server.mode = TlsServerMode::kEnforcing;
      so.tls_server.cert_file = (pki().dir / "server.crt").string();
      so.tls_server.key_file = (pki().dir / "server.key").string();
      co.tls.enabled = true;
      co.tls.ca_file = (pki().dir / "ca.crt").string();
    }
    server = std::make_unique<RemotingServer>(so);
    server->registerHandler(kEchoCode, [](RemotingCommand request, Responder responder) {
      auto response = RemotingCommand::responseTo(request, 0);
      response.body = std::move(request.body);
      responder.respond(std::move(response));
    });
    if (!server->start("127.0.0.1", 0).isOk()) {
      state.SkipWithError("server start failed");
      return false;
    }
    addr = "127.0.0.1:" + std::to_string(server->port());
    client = std::make_unique<RemotingClient>(co);
    if (!client->start().isOk() || !client->invokeSync(addr, request(), 5s).isOk()) {
      state.SkipWithError("first call failed");
      return false;
    }
    return true;
  }

  static RemotingCommand request() {
    auto r = RemotingCommand::request(kEchoCode);
    r.body = std::string(128, 'x');
    return r;
  }
};

void BM_Transport_EchoRoundTrip(benchmark::State& state) {
  EchoPair pair;
  if (!pair.start(state.range(0) == 1, state)) return;
  const RemotingCommand req = EchoPair::request();
  for (auto _ : state) {
    auto r = pair.client->invokeSync(pair.addr, req, 5s);
    if (!r.isOk()) state.SkipWithError("call failed");
  }
  state.SetLabel(state.range(0) == 1 ? "tls" : "plain");
}

void BM_Transport_EchoPipelined(benchmark::State& state) {
  EchoPair pair;
  if (!pair.start(state.range(0) == 1, state)) return;
  constexpr int kInFlight = 64;
  const RemotingCommand req = EchoPair::request();
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  int64_t calls = 0;
  for (auto _ : state) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return in_flight < kInFlight; });
    ++in_flight;
    lock.unlock();
    pair.client->invokeAsync(pair.addr, req, 10s, [&](rocketrpc::Result<RemotingCommand>) {
      std::lock_guard<std::mutex> guard(mu);
      --in_flight;
      cv.notify_all();
    });
    ++calls;
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return in_flight == 0; });
  state.SetItemsProcessed(calls);
  state.SetLabel(state.range(0) == 1 ? "tls" : "plain");
}

BENCHMARK(BM_Transport_EchoRoundTrip)->Arg(0)->Arg(1)->UseRealTime();
BENCHMARK(BM_Transport_EchoPipelined)->Arg(0)->Arg(1)->UseRealTime();

}  // namespace
