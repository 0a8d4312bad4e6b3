#include <rocketrpc/rpc.h>

#include <iostream>

// A service: processRequest returns the reply body; an exception becomes an error reply.
class Greeter : public rocketrpc::RpcReceiver {
 public:
  std::string processRequest(std::string_view request) override { return "hello, " + std::string(request); }
};

int main(int argc, char** argv) {
  const std::string namesrv = argc > 1 ? argv[1] : "127.0.0.1:9876";  // rocketrpc-broker or Apache name server
  try {
    rocketrpc::RpcServerOptions so;
    so.broker_url = namesrv;
    so.request_topic = "Greeter";
    rocketrpc::RpcServer server(so, std::make_shared<Greeter>());
    server.start();  // serve first: a call nobody serves fails at once with kNoResponder

    rocketrpc::RpcClientOptions co;
    co.broker_url = namesrv;
    co.request_topic = "Greeter";
    rocketrpc::RpcClient client(co);
    client.start();
    rocketrpc::RpcResponse reply = client.sendSync("world", std::chrono::seconds(5));
    std::cout << (reply.success() ? reply.payload() : reply.errorMessage()) << std::endl;  // hello, world
    client.close();
    server.close();
    return reply.success() ? 0 : 1;
  } catch (const rocketrpc::RpcException& e) {  // not sent, no reply in time, closed, ...
    std::cerr << rocketrpc::rpcErrorCodeName(e.code()) << ": " << e.what() << std::endl;
    return 1;
  }
}
