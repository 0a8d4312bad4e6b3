// Streaming session (seed 003, "Streaming Request"): the client sends a session's parts one by one; the
// server gets them all, in order, in processStreamingRequest and answers the end (here: the parts joined by
// spaces, as the seed's ConcatenateReceiver).
//
//   example_rpc_streaming [NAMESRV [TOPIC]]   defaults: 127.0.0.1:9876, RPC_EXAMPLE_STREAM
#include <rocketrpc/rpc.h>

#include <iostream>
#include <vector>

namespace {

class ConcatenateReceiver : public rocketrpc::RpcReceiver {
 public:
  std::string processRequest(std::string_view request) override { return std::string(request); }
  std::string processStreamingRequest(const std::string& session_id,
                                      const std::vector<std::string>& messages) override {
    std::string result;
    for (const std::string& m : messages) result += (result.empty() ? "" : " ") + m;
    return result;
  }
};

}  // namespace

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  const std::string namesrv = argc > 1 ? argv[1] : "127.0.0.1:9876";
  const std::string topic = argc > 2 ? argv[2] : "RPC_EXAMPLE_STREAM";
  try {
    rocketrpc::RpcServerOptions so;
    so.broker_url = namesrv;
    so.request_topic = topic;
    rocketrpc::RpcServer server(so, std::make_shared<ConcatenateReceiver>());
    server.start();

    rocketrpc::RpcClientOptions co;
    co.broker_url = namesrv;
    co.request_topic = topic;
    rocketrpc::RpcClient client(co);
    client.start();

    std::string session_id = client.sendStreamingStart();
    std::cout << "Started session: " << session_id << std::endl;
    for (const char* part : {"Message", "1", "Message", "2", "Message", "3"}) {
      client.sendStreamingMessage(session_id, part);
    }
    rocketrpc::RpcResponse final_response = client.sendStreamingEnd(session_id, 30000ms);
    if (final_response.success()) {
      std::cout << "Stream completed: " << final_response.payload() << std::endl;
    } else {
      std::cout << "Stream failed: " << final_response.errorMessage() << std::endl;
    }
    client.close();
    server.close();
    return final_response.success() ? 0 : 1;
  } catch (const rocketrpc::RpcException& e) {
    std::cerr << "error: " << rocketrpc::rpcErrorCodeName(e.code()) << ": " << e.what() << std::endl;
    return 1;
  }
}
