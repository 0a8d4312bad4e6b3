// NATS request-reply with the nats.c client.
//
//   bench_nats responder --url nats://127.0.0.1:P [--subject S]   echoes every request to its reply subject
//   bench_nats client --url nats://127.0.0.1:P [--subject S]      serves cells (bench/common/bench_common.h)
//
// The client keeps K requests in flight the way nats.c's own request API does it: one wildcard subscription
// on a private inbox "_INBOX.<nuid>.*", each request published with reply subject "<inbox>.<id>", and the
// reply handler (on the subscription's delivery thread) completing the request by id.
#include <nats.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "common/bench_common.h"

namespace {

[[noreturn]] void die(const char* what, natsStatus s) {
  std::fprintf(stderr, "bench_nats: %s: %s\n", what, natsStatus_GetText(s));
  std::exit(1);
}

natsConnection* connect(const std::string& url, const char* name) {
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetURL(opts, url.c_str());
  if (s == NATS_OK) s = natsOptions_SetName(opts, name);
  if (s == NATS_OK) s = natsOptions_SetMaxPendingMsgs(opts, 1 << 20);
  // Write each publish at once instead of waking the flusher thread, which batches for about a millisecond:
  // what natsConnection_Request does for its own request, and what a latency-minded responder would do.
  if (s == NATS_OK && std::getenv("BENCH_NATS_BATCHED") == nullptr) s = natsOptions_SetSendAsap(opts, true);
  if (s != NATS_OK) die("options", s);
  natsConnection* nc = nullptr;
  for (int attempt = 0; attempt < 50; ++attempt) {  // the server may still be starting
    s = natsConnection_Connect(&nc, opts);
    if (s == NATS_OK) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (s != NATS_OK) die("connect", s);
  natsOptions_Destroy(opts);
  return nc;
}

void onRequest(natsConnection* nc, natsSubscription*, natsMsg* msg, void*) {
  const char* reply = natsMsg_GetReply(msg);
  if (reply != nullptr && *reply != '\0') {
    // Echo, stamped with the time we handled it (bench_common.h, kResponderStampAt).
    thread_local std::string body;
    body.assign(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
    bench::writeStamp(body, bench::kResponderStampAt, bench::monoNs());
    natsConnection_Publish(nc, reply, body.data(), static_cast<int>(body.size()));
  }
  natsMsg_Destroy(msg);
}

int runResponder(const std::string& url, const std::string& subject) {
  natsConnection* nc = connect(url, "bench-responder");
  natsSubscription* sub = nullptr;
  natsStatus s = natsConnection_QueueSubscribe(&sub, nc, subject.c_str(), "bench-responders", onRequest, nullptr);
  if (s == NATS_OK) s = natsSubscription_SetPendingLimits(sub, -1, -1);
  if (s == NATS_OK) s = natsConnection_Flush(nc);
  if (s != NATS_OK) die("subscribe", s);
  std::printf("READY\n");
  std::fflush(stdout);
  // Runs until killed (or stdin closes, so a dead driver does not leave it behind).
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line == "quit") break;
  }
  natsSubscription_Destroy(sub);
  natsConnection_Destroy(nc);
  return 0;
}

class Requester {
 public:
  Requester(const std::string& url, std::string subject) : subject_(std::move(subject)) {
    nc_ = connect(url, "bench-requester");
    char nuid[64];
    natsInbox* inbox = nullptr;
    natsInbox_Create(&inbox);
    std::snprintf(nuid, sizeof nuid, "%s", inbox);
    natsInbox_Destroy(inbox);
    prefix_ = std::string(nuid) + ".";
    natsStatus s = natsConnection_Subscribe(&sub_, nc_, (prefix_ + "*").c_str(), &Requester::onReply, this);
    if (s == NATS_OK) s = natsSubscription_SetPendingLimits(sub_, -1, -1);
    if (s == NATS_OK) s = natsConnection_Flush(nc_);
    if (s != NATS_OK) die("subscribe inbox", s);
  }

  void issue(const std::string& body, bench::ClosedLoop::Done done) {
    uint64_t id;
    {
      std::lock_guard lock(mu_);
      id = next_id_++;
      pending_.emplace(id, std::move(done));
    }
    const std::string reply = prefix_ + std::to_string(id);
    natsStatus s = natsConnection_PublishRequest(nc_, subject_.c_str(), reply.c_str(), body.data(),
                                                 static_cast<int>(body.size()));
    if (s != NATS_OK) complete(id, false, natsStatus_GetText(s), 0);
  }

 private:
  static void onReply(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* self = static_cast<Requester*>(closure);
    const char* subj = natsMsg_GetSubject(msg);
    uint64_t id = std::strtoull(subj + self->prefix_.size(), nullptr, 10);
    const int64_t stamp = bench::readStamp(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)),
                                           bench::kResponderStampAt);
    natsMsg_Destroy(msg);
    self->complete(id, true, {}, stamp);
  }

  void complete(uint64_t id, bool ok, const std::string& error, int64_t stamp) {
    bench::ClosedLoop::Done done;
    {
      std::lock_guard lock(mu_);
      auto it = pending_.find(id);
      if (it == pending_.end()) return;
      done = std::move(it->second);
      pending_.erase(it);
    }
    done(ok, error, stamp);
  }

  natsConnection* nc_ = nullptr;
  natsSubscription* sub_ = nullptr;
  std::string subject_;
  std::string prefix_;
  std::mutex mu_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, bench::ClosedLoop::Done> pending_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  std::string url = "nats://127.0.0.1:4222";
  std::string subject = "bench.echo";
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--url") url = argv[i + 1];
    if (k == "--subject") subject = argv[i + 1];
  }
  if (mode == "responder") return runResponder(url, subject);
  if (mode == "client") {
    Requester req(url, subject);
    return bench::serveCells([&](const bench::CellSpec& spec, bool) {
      const std::string body = bench::makePayload(spec.payload);
      return bench::ClosedLoop::run(spec, body, [&](std::string b, bench::ClosedLoop::Done d) {
        req.issue(b, std::move(d));
      });
    });
  }
  std::fprintf(stderr, "usage: bench_nats responder|client --url URL [--subject S]\n");
  return 2;
}
