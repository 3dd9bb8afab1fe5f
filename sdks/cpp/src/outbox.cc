#include "outbox.h"

#include "chorus/worker.h"

namespace chorus::detail {

void Outbox::Send(pb::ConnectRequest msg) {
  std::vector<pb::ConnectRequest> one;
  one.push_back(std::move(msg));
  SendAll(std::move(one));
}

void Outbox::SendAll(std::vector<pb::ConnectRequest> msgs) {
  if (msgs.empty()) return;
  uint64_t mine;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (closed_) throw Error("the stream to the agent is closed");
    for (auto& m : msgs) queue_.push_back(std::move(m));
    queued_seq_ += msgs.size();
    mine = queued_seq_;
  }
  std::lock_guard<std::mutex> wlk(write_mu_);
  std::vector<pb::ConnectRequest> take;
  uint64_t upto;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (written_seq_ >= mine) return;  // a writer before us took ours along
    if (closed_) throw Error("the stream to the agent is closed");
    take.swap(queue_);
    upto = queued_seq_;
  }
  const bool ok = Write(take);
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (ok) {
      written_seq_ = upto;
    } else {
      closed_ = true;
      queue_.clear();
    }
  }
  if (!ok) throw Error("the stream to the agent is closed");
}

bool Outbox::Write(std::vector<pb::ConnectRequest>& msgs) {
  if (msgs.size() > 1 && batches_.load()) {
    pb::ConnectRequest batch;
    auto* list = batch.mutable_batch()->mutable_messages();
    list->Reserve(static_cast<int>(msgs.size()));
    for (auto& m : msgs) list->Add()->Swap(&m);
    batches_written_.fetch_add(1);
    return write_(batch);
  }
  for (const auto& m : msgs) {
    if (!write_(m)) return false;
  }
  return true;
}

void Outbox::Close(const std::function<void()>& on_close) {
  std::lock_guard<std::mutex> wlk(write_mu_);
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (closed_) return;
    closed_ = true;
    queue_.clear();
  }
  if (on_close) on_close();
}

size_t Outbox::queued() const {
  std::lock_guard<std::mutex> lk(mu_);
  return queue_.size();
}

}  // namespace chorus::detail
