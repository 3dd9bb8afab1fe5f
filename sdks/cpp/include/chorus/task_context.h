// TaskContext: what a handler sees of the task it runs, and how it talks back to the agent.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "chorus/types.h"

namespace chorus {

namespace detail {
class Connection;
struct TaskState;
}  // namespace detail

// TaskContext is one assigned attempt of a task. It is handed to the handler by reference and is
// valid until the handler returns. Its methods may be called from the handler's thread (or threads
// the handler starts and joins before returning).
class TaskContext {
 public:
  TaskContext(std::shared_ptr<detail::Connection> conn, std::shared_ptr<detail::TaskState> state);
  TaskContext(const TaskContext&) = delete;
  TaskContext& operator=(const TaskContext&) = delete;
  ~TaskContext();

  const std::string& task_id() const;
  const std::string& session_id() const;
  const std::string& method() const;
  const std::string& partition() const;
  // Attempt number: 1 for the first, 2 for the first retry, ...
  int attempt() const;
  // W3C trace context of the task (traceparent and tracestate header values).
  const std::string& traceparent() const;
  const std::string& tracestate() const;
  // The task's free-form options.
  const std::map<std::string, std::string>& options() const;
  // Longest the attempt may run; 0 means no limit (the agent cancels the task past it).
  std::chrono::milliseconds max_duration() const;
  // Results the task must complete or hand to a subtask.
  const std::vector<std::string>& expected_output_ids() const;
  // Empty folder for output files of this task (large outputs go there).
  const std::string& output_dir() const;

  // The payload bytes; read from its file on first use when the agent sent a path. Throws Error
  // when the file cannot be read.
  const std::string& payload() const;
  // Path of the payload file when the agent sent one (large payloads), else empty.
  const std::string& payload_path() const;

  // Ids of the task's data dependencies, in the order submitted.
  std::vector<std::string> input_ids() const;
  // Data of the dependency with this result id (read from its file on first use). Throws Error when
  // the task has no such input.
  const std::string& input(const std::string& result_id) const;
  // Data of the i-th dependency, in the order submitted.
  const std::string& input_at(size_t i) const;
  size_t input_count() const;

  // Outputs holding data for the first expected output: the usual return value of a task with one
  // expected output. Throws Error when the task expects no output.
  Outputs Output(std::string data) const;

  // Reports progress (fraction 0..1 and a free-form message).
  void Progress(double fraction, const std::string& message = "");

  // Creates results in the task's session and returns their ids in order. They are stored when the
  // task completes. Blocks until the agent answers; throws Error when it refuses.
  std::vector<std::string> CreateResults(const std::vector<NewResult>& results);
  // Creates one result (id chosen by the agent when empty) and returns its id.
  std::string CreateResult(const NewResult& result);
  // Creates n results without data (to be outputs of subtasks), ids chosen by the agent.
  std::vector<std::string> NewResults(size_t n);

  // Submits subtasks into the task's session and returns their task ids in order. They are stored
  // atomically with the task's outputs when it completes. Blocks until the agent answers; throws
  // Error when it refuses.
  std::vector<std::string> Submit(const std::vector<Subtask>& subtasks);

  // True once the agent cancelled the task or the worker is shutting down.
  bool Cancelled() const;
  // Why the task was cancelled (empty while it is not).
  std::string CancelReason() const;
  // Throws CancelledError when Cancelled().
  void ThrowIfCancelled() const;
  // Waits up to d; returns true as soon as the task is cancelled, false when d passed first. The
  // building block of handlers that sleep or poll.
  bool WaitCancelled(std::chrono::milliseconds d) const;
  // True once the agent asked the worker to drain (finish its tasks and exit).
  bool Draining() const;

 private:
  std::shared_ptr<detail::Connection> conn_;
  std::shared_ptr<detail::TaskState> state_;
};

}  // namespace chorus
