#include "broker/pull_request_hold_service.h"

#include <algorithm>

#include "broker/broker_context.h"
#include "common/thread_guard.h"

namespace rocketrpc::broker {

PullRequestHoldService::PullRequestHoldService(std::shared_ptr<BrokerContext> ctx, Replay replay, Answer answer)
    : ctx_(std::move(ctx)),
      replay_(std::move(replay)),
      answer_(std::move(answer)),
      max_per_connection_(static_cast<size_t>(std::max<int64_t>(1, ctx_->config.max_pull_holds_per_connection))) {
  timer_ = std::thread([this] { timerLoop(); });
}

PullRequestHoldService::~PullRequestHoldService() { shutdown(); }

bool PullRequestHoldService::hold(const std::string& topic, int32_t queue_id, int64_t offset,
                                  remoting::RemotingCommand request, remoting::Responder responder,
                                  int64_t hold_ms, store::TagsFilter filter) {
  Key key{topic, queue_id};
  std::string channel = responder.remoteAddress();
  std::unique_lock<std::mutex> lock(mu_);
  if (stopped_) {
    lock.unlock();
    replay_(std::move(request), std::move(responder));
    return true;
  }
  auto count = per_channel_.find(channel);
  if (count != per_channel_.end() && count->second >= max_per_connection_) return false;
  ctx_->metrics.pulls_held.fetch_add(1, std::memory_order_relaxed);
  // A message may have arrived between the empty read and parking (the store indexes a message before it
  // calls the listener): check the queue under the lock, and re-execute at once if so.
  if (ctx_->store->maxOffset(topic, queue_id) > offset) {
    lock.unlock();
    replay_(std::move(request), std::move(responder));
    return true;
  }
  const uint64_t id = next_id_++;
  const auto held_at = Clock::now();
  const auto deadline = held_at + std::chrono::milliseconds(std::max<int64_t>(hold_ms, 1));
  ++per_channel_[channel];
  held_[key].push_back(Held{id, offset, std::move(request), std::move(responder), std::move(filter), deadline,
                            std::move(channel), held_at});
  keys_.emplace(id, std::move(key));
  deadlines_.emplace(deadline, id);
  ctx_->metrics.pulls_holding.fetch_add(1, std::memory_order_relaxed);
  if (deadline < timer_wakes_at_) {
    timer_wakes_at_ = deadline;
    lock.unlock();
    timer_cv_.notify_one();
  }
  return true;
}

void PullRequestHoldService::releaseChannelLocked(const Held& h) {
  auto it = per_channel_.find(h.channel);
  if (it != per_channel_.end() && --it->second == 0) per_channel_.erase(it);
}

void PullRequestHoldService::forgetDeadlineLocked(const Held& h) {
  deadlines_.erase({h.deadline, h.id});
  keys_.erase(h.id);
  releaseChannelLocked(h);
}

void PullRequestHoldService::onConnectionClosed(const std::string& channel) {
  size_t dropped = 0;
  std::vector<Held> gone;  // destroyed outside the lock
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (per_channel_.find(channel) == per_channel_.end()) return;
    for (auto it = held_.begin(); it != held_.end();) {
      auto& list = it->second;
      for (auto h = list.begin(); h != list.end();) {
        if (h->channel == channel) {
          forgetDeadlineLocked(*h);
          gone.push_back(std::move(*h));
          h = list.erase(h);
          ++dropped;
        } else {
          ++h;
        }
      }
      it = list.empty() ? held_.erase(it) : std::next(it);
    }
  }
  ctx_->metrics.pulls_holding.fetch_sub(static_cast<int64_t>(dropped), std::memory_order_relaxed);
  for (const auto& h : gone) ctx_->metrics.pull_hold_seconds.recordSince(h.held_at);
}

void PullRequestHoldService::onMessageArrived(const store::ArrivedMessage& msg) {
  std::vector<Held> woken;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (held_.empty()) return;
    auto it = held_.find(Key{msg.topic, msg.queue_id});
    if (it == held_.end()) return;
    auto& list = it->second;
    for (auto h = list.begin(); h != list.end();) {
      if (msg.queue_offset >= h->offset) {
        forgetDeadlineLocked(*h);
        woken.push_back(std::move(*h));
        h = list.erase(h);
      } else {
        ++h;
      }
    }
    if (list.empty()) held_.erase(it);
  }
  for (auto& h : woken) {
    ctx_->metrics.pulls_holding.fetch_sub(1, std::memory_order_relaxed);
    ctx_->metrics.pull_hold_seconds.recordSince(h.held_at);
    if (h.offset == msg.queue_offset && (!h.filter || h.filter(msg.tags_code))) {
      answer_(h.request, h.responder, msg);
    } else {
      replayLater(std::move(h));
    }
  }
}

void PullRequestHoldService::replayLater(Held h) {
  auto replay = replay_;
  ctx_->post([replay, request = std::move(h.request), responder = std::move(h.responder)]() mutable {
    replay(std::move(request), std::move(responder));
  });
}

void PullRequestHoldService::timerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopped_) {
    const auto now = Clock::now();
    std::vector<Held> due;
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      const uint64_t id = deadlines_.begin()->second;
      deadlines_.erase(deadlines_.begin());
      auto key = keys_.find(id);
      if (key == keys_.end()) continue;
      auto list = held_.find(key->second);
      keys_.erase(key);
      if (list == held_.end()) continue;
      for (auto h = list->second.begin(); h != list->second.end(); ++h) {
        if (h->id == id) {
          releaseChannelLocked(*h);
          due.push_back(std::move(*h));
          list->second.erase(h);
          break;
        }
      }
      if (list->second.empty()) held_.erase(list);
    }
    if (!due.empty()) {
      lock.unlock();
      for (auto& h : due) {
        ctx_->metrics.pulls_holding.fetch_sub(1, std::memory_order_relaxed);
        ctx_->metrics.pull_hold_seconds.recordSince(h.held_at);
        runGuarded("pull hold timer", [&] { replayLater(std::move(h)); });
      }
      lock.lock();
      continue;
    }
    // Sleep until the earliest deadline; pulls woken by messages meanwhile leave it in place (a spurious
    // wake-up once per hold time at most), and hold() only notifies for an earlier deadline.
    timer_wakes_at_ = deadlines_.empty() ? Clock::time_point::max() : deadlines_.begin()->first;
    if (timer_wakes_at_ == Clock::time_point::max()) {
      timer_cv_.wait(lock);
    } else {
      timer_cv_.wait_until(lock, timer_wakes_at_);
    }
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
    deadlines_.clear();
    keys_.clear();
    per_channel_.clear();
  }
  timer_cv_.notify_all();
  if (timer_.joinable()) timer_.join();
  for (auto& h : all) {
    ctx_->metrics.pulls_holding.fetch_sub(1, std::memory_order_relaxed);
    replay_(std::move(h.request), std::move(h.responder));
  }
}

size_t PullRequestHoldService::holding(const std::string& channel) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = per_channel_.find(channel);
  return it == per_channel_.end() ? 0 : it->second;
}

size_t PullRequestHoldService::holding() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [_, list] : held_) n += list.size();
  return n;
}

}  // namespace rocketrpc::broker
