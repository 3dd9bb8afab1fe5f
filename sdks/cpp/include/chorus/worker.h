// The Chorus C++ worker SDK.
//
// A worker process is launched by a Chorus agent, dials the agent's Unix socket
// (CHORUS_AGENT_SOCKET), says hello with its token (CHORUS_WORKER_TOKEN) and runs the tasks the agent
// assigns, up to its capacity at once (CHORUS_WORKER_CAPACITY, default 1):
//
//   chorus::Worker worker(chorus::Config::FromEnv());
//   worker.Handle("echo", [](chorus::TaskContext& ctx) { return ctx.Output(ctx.payload()); });
//   worker.Run();
//
// A handler returns one Output per expected output it completes (or hands some to subtasks with
// TaskContext::Submit), or throws: RetryableError lets the agent retry, anything else is final.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "chorus/task_context.h"
#include "chorus/types.h"

namespace chorus {

// Environment variables the agent sets for each worker process.
inline constexpr const char* kEnvSocket = "CHORUS_AGENT_SOCKET";
inline constexpr const char* kEnvToken = "CHORUS_WORKER_TOKEN";
inline constexpr const char* kEnvCapacity = "CHORUS_WORKER_CAPACITY";

// Config configures a Worker.
struct Config {
  // Path of the agent's Unix socket. Required (FromEnv reads CHORUS_AGENT_SOCKET).
  std::string socket_path;
  // Token authenticating this process to the agent. Required (FromEnv reads CHORUS_WORKER_TOKEN).
  std::string token;
  // Tasks run at once, on that many threads. Default 1 (FromEnv reads CHORUS_WORKER_CAPACITY).
  int capacity = 1;
  // Language announced in Hello. Default "cpp".
  std::string language = "cpp";
  // How long Run waits for the agent's socket to accept the connection. Default 10 s.
  std::chrono::milliseconds connect_timeout{10000};
  // Receives the SDK's log lines. Default: one line per call on stderr.
  std::function<void(const std::string&)> log;

  // The configuration the agent describes in the environment. Throws Error when
  // CHORUS_WORKER_CAPACITY is set but not a positive integer.
  static Config FromEnv();
};

// Handler runs one task.
using Handler = std::function<Outputs(TaskContext&)>;

// Worker serves methods for one agent over one gRPC stream.
class Worker {
 public:
  // Throws Error when the configuration is not valid (no socket path, no token, capacity < 1).
  explicit Worker(Config config);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Registers the handler of a method (before Run). Registering a method twice replaces it.
  void Handle(const std::string& method, Handler handler);

  // Connects to the agent, says hello and runs assigned tasks until the agent drains the worker (the
  // worker finishes its tasks and returns) or ends the stream. Throws Error when the agent cannot be
  // reached or the stream ends with an error; running tasks are cancelled then.
  void Run();

  // Ends Run from another thread: running tasks are cancelled and the stream is closed.
  void Stop();

 private:
  Config config_;
  std::map<std::string, Handler> handlers_;
  std::mutex mu_;
  std::shared_ptr<detail::Connection> conn_;
  bool stopped_ = false;
};

}  // namespace chorus
