// Outbox: the worker's writes on the stream, one at a time, batched when the agent accepts batches.
// Internal to the SDK.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "chorus/worker/v1/worker.pb.h"

namespace chorus::detail {

namespace pb = ::chorus::worker::v1;

// Outbox serialises writes on the stream. A sender queues its messages and returns once they are on
// the stream. When no write is in progress, the sender becomes the writer: it writes everything
// queued at that moment, and goes on while more was queued meanwhile. What other threads queued while
// a write was in progress goes out in the next write, as one RequestBatch when batches are on
// (Welcome.accepts_batches), else one message after the other; those threads just wait for it to be
// written (they never take turns on the stream). Nothing ever waits to fill a batch: a lone message
// is written at once, unwrapped.
class Outbox {
 public:
  // Writes one message on the stream; false when the stream is broken.
  using WriteFn = std::function<bool(const pb::ConnectRequest&)>;

  explicit Outbox(WriteFn write) : write_(std::move(write)) {}
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Turns batching on or off (off until the Welcome says the agent accepts batches).
  void set_batches(bool on) { batches_.store(on); }
  // Queues msg and returns once it is on the stream. Throws Error when the stream is closed.
  void Send(pb::ConnectRequest msg);
  // Queues msgs, in order, and returns once they are on the stream (one write when batches are on).
  // Throws Error when the stream is closed.
  void SendAll(std::vector<pb::ConnectRequest> msgs);
  // Closes the outbox: queued and later messages fail with Error. on_close (may be empty) runs once,
  // after the write in progress ended and before any other (e.g. to half-close the stream).
  void Close(const std::function<void()>& on_close);

  // Messages queued and not yet taken by a writer (for tests).
  size_t queued() const;
  // Writes that carried a RequestBatch so far.
  uint64_t batches_written() const { return batches_written_.load(); }

 private:
  // Waits until message number `mine` is written, writing what is queued when no one else does.
  void Flush(std::unique_lock<std::mutex>& lk, uint64_t mine);
  bool Write(std::vector<pb::ConnectRequest>& msgs);

  WriteFn write_;
  std::atomic<bool> batches_{false};
  std::atomic<uint64_t> batches_written_{0};

  mutable std::mutex mu_;  // guards the fields below
  std::condition_variable written_;  // signalled when written_seq_, writing_ or closed_ change
  bool writing_ = false;             // a thread is writing on the stream (or closing it)
  std::vector<pb::ConnectRequest> queue_;
  uint64_t queued_seq_ = 0;   // sequence number of the last message queued
  uint64_t written_seq_ = 0;  // every message up to this one is on the stream
  bool closed_ = false;
};

}  // namespace chorus::detail
