// TestAgent: a real gRPC server on a Unix socket in a temporary folder that speaks the agent side of
// chorus.worker.v1.WorkerService/Connect, for the SDK's tests and benchmark.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "chorus/worker.h"
#include "chorus/worker/v1/worker.pb.h"
#include "chorus/worker/v1/worker_service.grpc.pb.h"

namespace chorus::testing {

namespace pb = ::chorus::worker::v1;

class TestAgent {
 public:
  struct Options {
    std::string token = "test-token";
    int64_t inline_limit_bytes = 1 << 20;
    // Welcome.accepts_batches: the worker may send RequestBatch.
    bool accepts_batches = false;
  };

  TestAgent() : TestAgent(Options{}) {}
  explicit TestAgent(Options opts);
  ~TestAgent();
  TestAgent(const TestAgent&) = delete;
  TestAgent& operator=(const TestAgent&) = delete;

  const std::string& socket_path() const { return socket_path_; }
  const std::string& dir() const { return dir_; }
  const std::string& token() const { return opts_.token; }

  // Waits until a worker said hello (and was welcomed); returns its Hello, or nullopt after timeout.
  std::optional<pb::Hello> WaitHello(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Next message from the worker after its hello, or nullopt after timeout or when the stream ended.
  std::optional<pb::ConnectRequest> Next(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Sends a message to the worker; false when no stream is open.
  bool Send(const pb::ConnectResponse& msg);
  // Sends msgs as one ResponseBatch; false when no stream is open.
  bool SendBatch(const std::vector<pb::ConnectResponse>& msgs);
  // Sends an assignment (output_dir is created under dir() when empty).
  bool Assign(pb::AssignTask task);
  // Sends assignments as one ResponseBatch (output_dir as in Assign).
  bool AssignBatch(std::vector<pb::AssignTask> tasks);
  // Sends a CancelTask for task_id with reason.
  bool Cancel(const std::string& task_id, const std::string& reason);
  // Ends the open stream from the agent's side (the worker sees CANCELLED).
  void EndStream();
  // Waits until the worker's stream ended (it half-closed, or EndStream); false after timeout.
  bool WaitEnded(std::chrono::milliseconds timeout = std::chrono::seconds(20));

  // When set, messages after the hello go to this callback (on the server's read thread) instead of
  // the queue read by Next. The callback may call Send.
  void OnMessage(std::function<void(const pb::ConnectRequest&)> fn);
  // When set, each read from the stream (one message, or the messages of one RequestBatch) goes to
  // this callback after the OnMessage one, on the server's read thread. The callback may call Send.
  void OnRead(std::function<void(const std::vector<pb::ConnectRequest>&)> fn);

  // Reads from the stream that carried a RequestBatch, and the messages they held.
  int batches_received() const;
  int batched_messages_received() const;
  // The first batch received, if any (to look at how it was built).
  std::optional<pb::RequestBatch> first_batch() const;

  // Largest number of tasks assigned and not yet completed or failed, as the agent saw it.
  int max_in_flight() const;

 private:
  class Service;

  // Gives task a fresh output folder under dir() when it has none.
  void SetOutputDir(pb::AssignTask& task);

  Options opts_;
  std::string dir_;
  std::string socket_path_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<pb::Hello> hello_;
  std::deque<pb::ConnectRequest> inbox_;
  bool ended_ = false;
  std::set<std::string> in_flight_;
  int max_in_flight_ = 0;
  std::function<void(const pb::ConnectRequest&)> on_message_;
  std::function<void(const std::vector<pb::ConnectRequest>&)> on_read_;
  int batches_received_ = 0;
  int batched_messages_received_ = 0;
  std::optional<pb::RequestBatch> first_batch_;

  std::mutex write_mu_;
  grpc::ServerReaderWriter<pb::ConnectResponse, pb::ConnectRequest>* stream_ = nullptr;
  grpc::ServerContext* context_ = nullptr;
  int seq_ = 0;
};

// The configuration of a worker of the given capacity that connects to agent (its logs discarded).
chorus::Config ConfigFor(const TestAgent& agent, int capacity = 1);

// A task assignment with one expected output "<task_id>-out".
pb::AssignTask MakeTask(const std::string& task_id, const std::string& method, const std::string& payload);

}  // namespace chorus::testing
