// Simple synchronous RPC (seed 003, "Simple Synchronous RPC"): an RpcServer hosting an uppercase receiver and
// an RpcClient calling it with sendSync.
//
//   example_rpc_sync [NAMESRV [TOPIC]]      defaults: 127.0.0.1:9876, RPC_EXAMPLE_SYNC
#include <rocketrpc/rpc.h>

#include <cctype>
#include <iostream>

namespace {

class UpperCaseReceiver : public rocketrpc::RpcReceiver {
 public:
  std::string processRequest(std::string_view request) override {
    std::string out(request);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (out == "FAIL") throw std::runtime_error("the receiver refused 'fail'");
    return out;
  }
};

}  // namespace

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  const std::string namesrv = argc > 1 ? argv[1] : "127.0.0.1:9876";
  const std::string topic = argc > 2 ? argv[2] : "RPC_EXAMPLE_SYNC";
  try {
    rocketrpc::RpcServerOptions so;
    so.broker_url = namesrv;
    so.request_topic = topic;
    rocketrpc::RpcServer server(so, std::make_shared<UpperCaseReceiver>());
    server.start();

    rocketrpc::RpcClientOptions co;
    co.broker_url = namesrv;
    co.request_topic = topic;
    rocketrpc::RpcClient client(co);
    client.start();
    for (const char* input : {"hello", "fail"}) {
      try {
        rocketrpc::RpcResponse response = client.sendSync(input, 5000ms);
        if (response.success()) {
          std::cout << "Received: " << response.payload() << std::endl;
        } else {
          std::cout << "Error: " << response.errorMessage() << std::endl;
        }
      } catch (const rocketrpc::RpcTimeoutException& e) {
        std::cout << "Request timed out: " << e.what() << std::endl;
      }
    }
    client.close();
    server.close();
    return 0;
  } catch (const rocketrpc::RpcException& e) {
    std::cerr << "error: " << rocketrpc::rpcErrorCodeName(e.code()) << ": " << e.what() << std::endl;
    return 1;
  }
}
