// Value types of the Chorus C++ worker SDK: outputs, new results, subtasks, errors.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace chorus {

// Version of this SDK, sent to the agent in Hello.
inline constexpr const char* kSdkVersion = "0.1.0";

// Error is the SDK's exception. Thrown by a handler, it fails the attempt with what() as the message
// and, like any exception a handler throws, is retryable: the agent runs the task again after a
// backoff, up to its max_retries. Throw PermanentError for a failure another attempt cannot fix.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// RetryableError says explicitly that a failure is transient (the default for any exception).
class RetryableError : public Error {
 public:
  using Error::Error;
};

// PermanentError is a final failure (bad input, the agent refused a call): the task fails at once,
// without its remaining retries.
class PermanentError : public Error {
 public:
  using Error::Error;
};

// CancelledError is thrown by TaskContext::ThrowIfCancelled once the agent cancelled the task (client
// cancellation, session cancelled, max duration) or the worker is shutting down.
class CancelledError : public Error {
 public:
  using Error::Error;
};

// Output is the data of one expected output of a task: bytes (written to a file under the task's
// output folder by the SDK when larger than the agent's inline limit), or the path of a file the
// handler wrote itself under TaskContext::output_dir().
struct Output {
  std::string result_id;
  std::string data;
  std::string path;  // when set, data is ignored
};

// Outputs is what a handler returns: one entry per expected output it completes itself (outputs
// handed to a subtask are left out).
using Outputs = std::vector<Output>;

// NewResult is a result a running task creates in its session.
struct NewResult {
  // Id to give it, unique in the session; empty lets the agent choose.
  std::string result_id;
  // Its data when complete at once; unset leaves it created (to be the output of a subtask).
  std::optional<std::string> data;
};

// SubtaskOptions are a subtask's options; unset fields take the parent's.
struct SubtaskOptions {
  std::string partition;
  std::optional<int> priority;
  std::optional<int> max_retries;
  std::chrono::milliseconds max_duration{0};  // 0 = the parent's
  std::map<std::string, std::string> options;
};

// Subtask is a task a running task submits into its session.
struct Subtask {
  std::string method;
  std::string payload;
  // Results it reads: results of the session or results the parent created in this attempt.
  std::vector<std::string> data_dependencies;
  // Results it must complete; naming one of the parent's expected outputs hands it to the subtask
  // (the parent must then not return it).
  std::vector<std::string> expected_output_ids;
  SubtaskOptions options;
};

}  // namespace chorus
