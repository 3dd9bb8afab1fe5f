#include "outbox.h"

#include "chorus/worker.h"

namespace chorus::detail {

void Outbox::Send(pb::ConnectRequest msg) {
  std::unique_lock<std::mutex> lk(mu_);
  if (closed_) throw Error("the stream to the agent is closed");
  queue_.push_back(std::move(msg));
  Flush(lk, ++queued_seq_);
}

void Outbox::SendAll(std::vector<pb::ConnectRequest> msgs) {
  if (msgs.empty()) return;
  std::unique_lock<std::mutex> lk(mu_);
  if (closed_) throw Error("the stream to the agent is closed");
  for (auto& m : msgs) queue_.push_back(std::move(m));
  queued_seq_ += msgs.size();
  Flush(lk, queued_seq_);
}

void Outbox::Flush(std::unique_lock<std::mutex>& lk, uint64_t mine) {
  // Another thread is writing: it (or the next writer) takes ours along.
  written_.wait(lk, [&] { return written_seq_ >= mine || closed_ || !writing_; });
  if (written_seq_ >= mine) return;
  if (closed_) throw Error("the stream to the agent is closed");
  writing_ = true;
  std::vector<pb::ConnectRequest> take;
  // Write what is queued, then what was queued meanwhile, until nothing is left.
  while (!queue_.empty() && !closed_) {
    take.swap(queue_);
    const uint64_t upto = queued_seq_;
    lk.unlock();
    const bool ok = Write(take);
    take.clear();
    lk.lock();
    if (ok) {
      written_seq_ = upto;
    } else {
      closed_ = true;
      queue_.clear();
    }
    written_.notify_all();
  }
  writing_ = false;
  written_.notify_all();
  if (written_seq_ < mine) throw Error("the stream to the agent is closed");
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
  std::unique_lock<std::mutex> lk(mu_);
  written_.wait(lk, [&] { return !writing_; });
  if (closed_) return;
  closed_ = true;
  queue_.clear();
  writing_ = true;  // no write starts while on_close runs
  lk.unlock();
  if (on_close) on_close();
  lk.lock();
  writing_ = false;
  written_.notify_all();
}

size_t Outbox::queued() const {
  std::lock_guard<std::mutex> lk(mu_);
  return queue_.size();
}

}  // namespace chorus::detail
