// Worker: configuration and handler registration; the stream itself lives in Connection.
#include "chorus/worker.h"

#include <cstdlib>

#include "connection.h"

namespace chorus {

Config Config::FromEnv() {
  Config c;
  if (const char* v = std::getenv(kEnvSocket)) c.socket_path = v;
  if (const char* v = std::getenv(kEnvToken)) c.token = v;
  if (const char* v = std::getenv(kEnvCapacity); v != nullptr && *v != '\0') {
    char* end = nullptr;
    long n = std::strtol(v, &end, 10);
    if (*end != '\0' || n < 1 || n > 100000) {
      throw Error(std::string(kEnvCapacity) + "=\"" + v + "\" is not valid: it must be a positive integer");
    }
    c.capacity = static_cast<int>(n);
  }
  return c;
}

Worker::Worker(Config config) : config_(std::move(config)) {
  if (config_.socket_path.empty()) {
    throw Error(std::string("no agent socket: set ") + kEnvSocket +
                " (the agent does this when it launches the worker)");
  }
  if (config_.token.empty()) {
    throw Error(std::string("no worker token: set ") + kEnvToken +
                " (the agent does this when it launches the worker)");
  }
  if (config_.capacity < 1) {
    throw Error("capacity " + std::to_string(config_.capacity) + " is not valid: it must be at least 1");
  }
  if (config_.language.empty()) config_.language = "cpp";
}

Worker::~Worker() = default;

void Worker::Handle(const std::string& method, Handler handler) {
  if (method.empty()) throw Error("a handler needs a method name");
  if (!handler) throw Error("the handler of method \"" + method + "\" is empty");
  std::lock_guard<std::mutex> lk(mu_);
  handlers_[method] = std::move(handler);
}

void Worker::Run() {
  std::shared_ptr<detail::Connection> conn;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (conn_) throw Error("Worker::Run is already running");
    if (stopped_) return;
    if (handlers_.empty()) throw Error("no handler is registered: call Worker::Handle before Worker::Run");
    conn = std::make_shared<detail::Connection>(config_, handlers_);
    conn_ = conn;
  }
  struct Reset {
    Worker* w;
    ~Reset() {
      std::lock_guard<std::mutex> lk(w->mu_);
      w->conn_.reset();
    }
  } reset{this};
  conn->Run();
}

void Worker::Stop() {
  std::shared_ptr<detail::Connection> conn;
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopped_ = true;
    conn = conn_;
  }
  if (conn) conn->Stop();
}

}  // namespace chorus
