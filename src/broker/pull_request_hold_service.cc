#include "broker/pull_request_hold_service.h"

#include "broker/broker_context.h"

namespace rocketrpc::broker {

PullRequestHoldService::PullRequestHoldService(std::shared_ptr<BrokerContext> ctx, Replay replay)
    : ctx_(std::move(ctx)), replay_(std::move(replay)) {}

PullRequestHoldService::~PullRequestHoldService() { shutdown(); }

void PullRequestHoldService::hold(const std::string& topic, int32_t queue_id, int64_t offset,
                                  remoting::RemotingCommand request, remoting::Responder responder,
                                  int64_t hold_ms) {
  Key key{topic, queue_id};
  uint64_t id = 0;
  std::unique_lock<std::mutex> lock(mu_);
  if (stopped_) {
    lock.unlock();
    replay_(std::move(request), std::move(responder));
    return;
  }
  id = next_id_++;
  auto& list = held_[key];
  list.push_back(Held{id, offset, std::move(request), std::move(responder), 0});
  ctx_->metrics.pulls_held.fetch_add(1, std::memory_order_relaxed);
  ctx_->metrics.pulls_holding.fetch_add(1, std::memory_order_relaxed);
  // A message may have arrived between the empty read and parking: check the queue under the lock.
  if (ctx_->store->maxOffset(topic, queue_id) > offset) {
    std::vector<Held> woken;
    woken.push_back(std::move(list.back()));
    list.pop_back();
    if (list.empty()) held_.erase(key);
    lock.unlock();
    wake(std::move(woken));
    return;
  }
  list.back().timer = timers_.schedule(std::chrono::milliseconds(std::max<int64_t>(hold_ms, 1)),
                                       [this, key, id] { expire(key, id); });
}

void PullRequestHoldService::onMessageArrived(const std::string& topic, int32_t queue_id, int64_t queue_offset,
                                              int64_t /*tags_code*/) {
  std::vector<Held> woken;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = held_.find(Key{topic, queue_id});
    if (it == held_.end()) return;
    auto& list = it->second;
    for (auto h = list.begin(); h != list.end();) {
      if (queue_offset >= h->offset) {
        woken.push_back(std::move(*h));
        h = list.erase(h);
      } else {
        ++h;
      }
    }
    if (list.empty()) held_.erase(it);
  }
  for (auto& h : woken) timers_.cancel(h.timer);
  wake(std::move(woken));
}

void PullRequestHoldService::expire(const Key& key, uint64_t id) {
  std::vector<Held> woken;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = held_.find(key);
    if (it == held_.end()) return;
    for (auto h = it->second.begin(); h != it->second.end(); ++h) {
      if (h->id == id) {
        woken.push_back(std::move(*h));
        it->second.erase(h);
        break;
      }
    }
    if (it->second.empty()) held_.erase(it);
  }
  wake(std::move(woken));
}

void PullRequestHoldService::wake(std::vector<Held> woken) {
  for (auto& h : woken) {
    ctx_->metrics.pulls_holding.fetch_sub(1, std::memory_order_relaxed);
    auto replay = replay_;
    ctx_->post([replay, request = std::move(h.request), responder = std::move(h.responder)]() mutable {
      replay(std::move(request), std::move(responder));
    });
  }
}

void PullRequestHoldService::shutdown() {
  std::vector<Held> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& [_, list] : held_)
      for (auto& h : list) all.push_back(std::move(h));
    held_.clear();
  }
  timers_.shutdown();
  for (auto& h : all) {
    ctx_->metrics.pulls_holding.fetch_sub(1, std::memory_order_relaxed);
    replay_(std::move(h.request), std::move(h.responder));
  }
}

size_t PullRequestHoldService::holding() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [_, list] : held_) n += list.size();
  return n;
}

}  // namespace rocketrpc::broker
