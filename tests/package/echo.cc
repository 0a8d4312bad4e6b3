// The consumer test's program: built out of tree against an installed rocketrpc (find_package or pkg-config),
// as C++17, it serves an echo receiver and calls it once through the broker at argv[1].
//
//   package_echo NAMESRV TOPIC
#include <rocketrpc/rpc.h>
#include <rocketrpc/version.h>

#include <iostream>
#include <memory>
#include <string>

namespace {

class Echo : public rocketrpc::RpcReceiver {
 public:
  std::string processRequest(std::string_view request) override { return std::string(request); }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: package_echo NAMESRV TOPIC\n";
    return 2;
  }
  if (std::string(rocketrpc::version()) != ROCKETRPC_VERSION_STRING) {
    std::cerr << "headers " << ROCKETRPC_VERSION_STRING << " but library " << rocketrpc::version() << "\n";
    return 1;
  }
  try {
    rocketrpc::RpcServerOptions so;
    so.broker_url = argv[1];
    so.request_topic = argv[2];
    rocketrpc::RpcServer server(so, std::make_shared<Echo>());
    server.start();

    rocketrpc::RpcClientOptions co;
    co.broker_url = argv[1];
    co.request_topic = argv[2];
    rocketrpc::RpcClient client(co);
    client.start();
    const std::string sent = std::string("echo from rocketrpc ") + rocketrpc::version();
    rocketrpc::RpcResponse response = client.sendSync(sent, std::chrono::milliseconds(10000));
    client.close();
    server.close();
    if (!response.success() || response.payload() != sent) {
      std::cerr << "unexpected reply: " << (response.success() ? response.payload() : response.errorMessage())
                << "\n";
      return 1;
    }
    std::cout << "ECHO OK " << response.payload() << std::endl;
    return 0;
  } catch (const rocketrpc::RpcException& e) {  // caught across the library boundary: typeinfo is exported
    std::cerr << "error: " << rocketrpc::rpcErrorCodeName(e.code()) << ": " << e.what() << "\n";
    return 1;
  }
}
