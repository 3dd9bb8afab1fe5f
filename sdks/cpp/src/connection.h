// Connection: one gRPC stream to the agent, the tasks running over it and the calls waiting for
// replies. Internal to the SDK.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "chorus/worker.h"
#include "chorus/worker/v1/worker.pb.h"
#include "chorus/worker/v1/worker_service.grpc.pb.h"
#include "outbox.h"

namespace chorus::detail {

namespace pb = ::chorus::worker::v1;

// LazyData is data that arrived inline or as a file path; a file is read on first use.
struct LazyData {
  std::string result_id;
  const pb::Data* source = nullptr;
  bool loaded = false;
  std::string bytes;  // file contents once loaded
};

// TaskState is one assigned task: its assignment, decoded fields and cancellation.
struct TaskState {
  explicit TaskState(pb::AssignTask a);

  pb::AssignTask assign;
  std::vector<std::string> expected_output_ids;
  std::map<std::string, std::string> options;
  std::chrono::milliseconds max_duration{0};

  std::mutex mu;  // guards the fields below
  std::condition_variable cv;
  LazyData payload;
  std::vector<LazyData> inputs;
  std::map<std::string, size_t> input_index;
  std::atomic<bool> cancelled{false};
  std::string cancel_reason;
  bool cancel_retryable = false;

  // Reads d's file when needed and returns its bytes. Throws Error when the file cannot be read.
  const std::string& Load(LazyData& d);
  // Marks the task cancelled (the first reason wins) and wakes waiters.
  void Cancel(const std::string& reason, bool retryable);
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(const Config& config, std::map<std::string, Handler> handlers);
  ~Connection();

  // Serves the stream until drained, ended or stopped (see Worker::Run).
  void Run();
  // Cancels running tasks and ends the stream.
  void Stop();

  // Sends one message to the agent; returns once it is on the stream (see Outbox). Throws Error when
  // the stream is closed.
  void Send(pb::ConnectRequest msg);
  // Sends a request carrying a fresh call_id (set by fill) and waits for the agent's reply. Throws
  // CancelledError when the task is cancelled meanwhile, Error when the stream ends.
  pb::ConnectResponse Call(TaskState& task, const std::function<void(pb::ConnectRequest&, const std::string&)>& fill);
  // Data for bytes a task sends out: inline, or written to a file under the task's output folder when
  // larger than the agent's inline limit. Throws RetryableError when the file cannot be written.
  pb::Data OutData(const TaskState& task, std::string bytes, const std::string& name_hint);

  bool draining() const { return draining_.load(); }
  void Log(const std::string& line) const;

 private:
  struct PendingCall {
    std::string task_id;
    std::promise<pb::ConnectResponse> reply;
  };

  // Handles one message from the agent. A batch is handled message by message, in order; the pongs
  // it calls for are ready together and go out as one write.
  void Dispatch(pb::ConnectResponse& msg, std::vector<pb::ConnectRequest>* replies = nullptr);
  void Assign(pb::AssignTask& a);
  void Cancel(const pb::CancelTask& c);
  void Reply(const std::string& call_id, pb::ConnectResponse& msg);
  void StartDrain(const pb::Drain& d);
  void PoolLoop();
  void Execute(const std::shared_ptr<TaskState>& task);
  pb::ConnectRequest Outcome(const std::shared_ptr<TaskState>& task, const Handler* handler);
  void Finished(const std::string& task_id);
  void DrainLoop();
  void CancelAll(const std::string& reason, bool retryable);
  void FailPendingCalls(const std::string& why);
  void FailPendingCallsOf(const std::string& task_id);
  void CloseWrites();

  Config config_;
  std::map<std::string, Handler> handlers_;

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::WorkerService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriterInterface<pb::ConnectRequest, pb::ConnectResponse>> stream_;

  Outbox outbox_;  // every write on the stream after the hello

  pb::Welcome welcome_;
  int64_t inline_limit_ = 0;
  std::atomic<uint64_t> seq_{0};

  mutable std::mutex mu_;  // guards everything below
  std::condition_variable pool_cv_;
  std::condition_variable state_cv_;
  std::deque<std::shared_ptr<TaskState>> queue_;
  std::unordered_map<std::string, std::shared_ptr<TaskState>> tasks_;
  std::unordered_map<std::string, std::shared_ptr<PendingCall>> pending_;
  bool stream_done_ = false;
  bool shutdown_ = false;
  bool stopped_ = false;
  std::chrono::steady_clock::time_point drain_deadline_;
  bool drain_has_deadline_ = false;
  std::atomic<bool> draining_{false};
  std::vector<std::thread> threads_;
  std::thread drainer_;
};

}  // namespace chorus::detail
