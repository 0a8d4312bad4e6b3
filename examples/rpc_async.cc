// Asynchronous RPC with many requests in flight (seed 003, "Asynchronous with Multiple Requests"): futures
// for a batch, then continuations that never block a thread.
//
//   example_rpc_async [NAMESRV [TOPIC [COUNT]]]    defaults: 127.0.0.1:9876, RPC_EXAMPLE_ASYNC, 1000
#include <rocketrpc/rpc.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <iostream>
#include <mutex>
#include <vector>

namespace {

class EchoReceiver : public rocketrpc::RpcReceiver {
 public:
  std::string processRequest(std::string_view request) override { return std::string(request); }
};

}  // namespace

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  const std::string namesrv = argc > 1 ? argv[1] : "127.0.0.1:9876";
  const std::string topic = argc > 2 ? argv[2] : "RPC_EXAMPLE_ASYNC";
  const int count = argc > 3 ? std::stoi(argv[3]) : 1000;
  try {
    rocketrpc::RpcServerOptions so;
    so.broker_url = namesrv;
    so.request_topic = topic;
    rocketrpc::RpcServer server(so, std::make_shared<EchoReceiver>());
    server.start();

    rocketrpc::RpcClientOptions co;
    co.broker_url = namesrv;
    co.request_topic = topic;
    co.max_concurrent_requests = static_cast<size_t>(count) + 1;
    rocketrpc::RpcClient client(co);
    client.start();

    // 1. Futures: send them all, then collect.
    std::vector<std::future<rocketrpc::RpcResponse>> futures;
    for (int i = 0; i < count; ++i)
      futures.push_back(client.sendAsync("request-" + std::to_string(i), 10000ms));
    int ok = 0;
    for (auto& f : futures) {
      try {
        if (f.get().success()) ++ok;
      } catch (const rocketrpc::RpcException& e) {
        std::cerr << "request failed: " << e.what() << std::endl;
      }
    }
    std::cout << "futures: " << ok << "/" << count << " ok" << std::endl;

    // 2. Continuations: no thread waits per request.
    std::mutex mu;
    std::condition_variable cv;
    int done = 0;
    std::atomic<int> continued_ok{0};
    for (int i = 0; i < count; ++i) {
      client.sendAsync("cont-" + std::to_string(i), 10000ms, [&](rocketrpc::RpcResult result) {
        if (result.ok() && result.value().success()) continued_ok++;
        std::lock_guard<std::mutex> lock(mu);
        if (++done == count) cv.notify_one();
      });
    }
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done == count; });
    lock.unlock();
    std::cout << "continuations: " << continued_ok.load() << "/" << count << " ok" << std::endl;
    std::cout << "stats: " << rocketrpc::toString(client.stats()) << std::endl;
    client.close();
    server.close();
    return ok == count && continued_ok.load() == count ? 0 : 1;
  } catch (const rocketrpc::RpcException& e) {
    std::cerr << "error: " << rocketrpc::rpcErrorCodeName(e.code()) << ": " << e.what() << std::endl;
    return 1;
  }
}
