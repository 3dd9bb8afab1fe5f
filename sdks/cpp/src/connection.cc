// The stream lifecycle: connect, hello, read loop, drain, shutdown.
#include "connection.h"

#include <unistd.h>

#include <cstdio>

namespace chorus::detail {

namespace {

// How long the worker waits for the agent to end the stream after it half-closed it on drain.
constexpr auto kCloseTimeout = std::chrono::seconds(5);

std::string StatusText(const grpc::Status& s) {
  return "gRPC status " + std::to_string(static_cast<int>(s.error_code())) + ": " + s.error_message();
}

}  // namespace

Connection::Connection(const Config& config, std::map<std::string, Handler> handlers)
    : config_(config),
      handlers_(std::move(handlers)),
      outbox_([this](const pb::ConnectRequest& m) { return stream_->Write(m); }) {}

Connection::~Connection() {
  // Run joins its threads before it returns; this only covers a Run that threw half-way.
  {
    std::lock_guard<std::mutex> lk(mu_);
    shutdown_ = true;
    stream_done_ = true;
  }
  pool_cv_.notify_all();
  state_cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  if (drainer_.joinable()) drainer_.join();
}

void Connection::Log(const std::string& line) const {
  if (config_.log) {
    config_.log(line);
  } else {
    std::fprintf(stderr, "chorus-worker: %s\n", line.c_str());
  }
}

void Connection::Run() {
  const std::string target = "unix:" + config_.socket_path;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  channel_ = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  if (!channel_->WaitForConnected(std::chrono::system_clock::now() + config_.connect_timeout)) {
    throw Error("cannot connect to the agent at " + target + " within " +
                std::to_string(config_.connect_timeout.count()) + " ms: is the agent running, and is " +
                std::string(kEnvSocket) + " the path of its socket?");
  }
  stub_ = pb::WorkerService::NewStub(channel_);
  stream_ = stub_->Connect(&context_);

  pb::ConnectRequest hello_msg;
  auto* hello = hello_msg.mutable_hello();
  hello->set_token(config_.token);
  hello->set_language(config_.language);
  hello->set_sdk_version(kSdkVersion);
  for (const auto& [method, _] : handlers_) hello->add_methods(method);
  hello->set_capacity(config_.capacity);
  hello->set_pid(static_cast<int32_t>(::getpid()));
  hello->set_accepts_batches(true);

  pb::ConnectResponse msg;
  if (!stream_->Write(hello_msg) || !stream_->Read(&msg) || !msg.has_welcome()) {
    bool stopped;
    {
      std::lock_guard<std::mutex> lk(mu_);
      stopped = stopped_;
    }
    if (!msg.has_welcome() && msg.message_case() != pb::ConnectResponse::MESSAGE_NOT_SET) {
      context_.TryCancel();
    }
    grpc::Status st = stream_->Finish();
    if (stopped) return;
    if (!st.ok()) throw Error("the agent at " + target + " refused the worker's hello (" + StatusText(st) +
                              "): check " + kEnvToken);
    throw Error("the agent at " + target + " did not answer the worker's hello with a welcome");
  }
  welcome_ = msg.welcome();
  inline_limit_ = welcome_.inline_limit_bytes();
  outbox_.set_batches(welcome_.accepts_batches());

  {
    std::lock_guard<std::mutex> lk(mu_);
    for (int i = 0; i < config_.capacity; ++i) threads_.emplace_back([this] { PoolLoop(); });
    drainer_ = std::thread([this] { DrainLoop(); });
  }

  while (stream_->Read(&msg)) Dispatch(msg);

  {
    std::lock_guard<std::mutex> lk(mu_);
    stream_done_ = true;
    shutdown_ = true;
  }
  CancelAll("the connection to the agent ended", true);
  FailPendingCalls("the connection to the agent ended before it answered");
  pool_cv_.notify_all();
  state_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  drainer_.join();
  outbox_.Close(nullptr);
  grpc::Status st = stream_->Finish();
  bool stopped;
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopped = stopped_;
  }
  if (stopped || draining_.load()) return;
  if (!st.ok()) throw Error("the stream to the agent at " + target + " ended with an error (" + StatusText(st) + ")");
}

void Connection::Stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopped_ = true;
  }
  CancelAll("the worker is stopping", true);
  context_.TryCancel();
}

void Connection::Dispatch(pb::ConnectResponse& msg, std::vector<pb::ConnectRequest>* replies) {
  switch (msg.message_case()) {
    case pb::ConnectResponse::kBatch: {
      if (replies != nullptr) {
        Log("ignoring a batch nested in a batch from the agent");
        break;
      }
      std::vector<pb::ConnectRequest> pongs;
      for (auto& m : *msg.mutable_batch()->mutable_messages()) {
        if (m.has_welcome()) {
          Log("ignoring a welcome in a batch from the agent");
          continue;
        }
        Dispatch(m, &pongs);
      }
      try {
        outbox_.SendAll(std::move(pongs));
      } catch (const Error&) {
        // The stream is closing; the read loop ends next.
      }
      break;
    }
    case pb::ConnectResponse::kAssignTask:
      Assign(*msg.mutable_assign_task());
      break;
    case pb::ConnectResponse::kCancelTask:
      Cancel(msg.cancel_task());
      break;
    case pb::ConnectResponse::kDrain:
      StartDrain(msg.drain());
      break;
    case pb::ConnectResponse::kCreateResultsReply: {
      const std::string id = msg.create_results_reply().call_id();
      Reply(id, msg);
      break;
    }
    case pb::ConnectResponse::kSubmitTasksReply: {
      const std::string id = msg.submit_tasks_reply().call_id();
      Reply(id, msg);
      break;
    }
    case pb::ConnectResponse::kPing: {
      pb::ConnectRequest pong;
      pong.mutable_pong()->set_nonce(msg.ping().nonce());
      if (replies != nullptr) {
        replies->push_back(std::move(pong));
        break;
      }
      try {
        Send(std::move(pong));
      } catch (const Error&) {
        // The stream is closing; the read loop ends next.
      }
      break;
    }
    case pb::ConnectResponse::kWelcome:
      Log("ignoring a second welcome from the agent");
      break;
    default:
      Log("ignoring a message of unknown kind " + std::to_string(static_cast<int>(msg.message_case())) +
          " from the agent (a newer agent?)");
  }
}

void Connection::Assign(pb::AssignTask& a) {
  auto task = std::make_shared<TaskState>(std::move(a));
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto [it, inserted] = tasks_.emplace(task->assign.task_id(), task);
    if (!inserted) {
      Log("ignoring a second assignment of task " + task->assign.task_id() + " while it runs");
      return;
    }
    queue_.push_back(task);
  }
  pool_cv_.notify_one();
}

void Connection::Cancel(const pb::CancelTask& c) {
  std::shared_ptr<TaskState> task;
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = tasks_.find(c.task_id());
    if (it == tasks_.end()) return;  // finished already
    task = it->second;
  }
  task->Cancel(c.reason().empty() ? "cancelled by the agent" : c.reason(), false);
  FailPendingCallsOf(c.task_id());
}

void Connection::Reply(const std::string& call_id, pb::ConnectResponse& msg) {
  std::shared_ptr<PendingCall> call;
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = pending_.find(call_id);
    if (it == pending_.end()) {
      Log("ignoring a reply to unknown call " + call_id);
      return;
    }
    call = it->second;
    pending_.erase(it);
  }
  call->reply.set_value(std::move(msg));
}

void Connection::StartDrain(const pb::Drain& d) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (draining_.exchange(true)) return;
    auto grace = std::chrono::seconds(d.grace().seconds()) + std::chrono::nanoseconds(d.grace().nanos());
    if (grace > std::chrono::nanoseconds::zero()) {
      // Cancel what still runs a little before the agent kills the process, so it can report.
      drain_deadline_ = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(grace * 8 / 10);
      drain_has_deadline_ = true;
    }
  }
  state_cv_.notify_all();
}

// DrainLoop closes the worker's side of the stream once a drain was asked and no task is left, and
// ends the stream when the agent does not close its side soon after.
void Connection::DrainLoop() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    if (stream_done_) return;
    if (draining_.load() && tasks_.empty()) break;
    if (draining_.load() && drain_has_deadline_) {
      if (state_cv_.wait_until(lk, drain_deadline_) == std::cv_status::timeout && !tasks_.empty()) {
        drain_has_deadline_ = false;
        lk.unlock();
        CancelAll("the worker was drained and its grace period ran out", true);
        lk.lock();
      }
      continue;
    }
    state_cv_.wait(lk);
  }
  lk.unlock();
  CloseWrites();
  lk.lock();
  if (!state_cv_.wait_for(lk, kCloseTimeout, [this] { return stream_done_; })) {
    lk.unlock();
    Log("the agent did not close the stream after the worker drained; closing it");
    context_.TryCancel();
  }
}

void Connection::CloseWrites() {
  outbox_.Close([this] { stream_->WritesDone(); });
}

void Connection::Send(pb::ConnectRequest msg) { outbox_.Send(std::move(msg)); }

void Connection::CancelAll(const std::string& reason, bool retryable) {
  std::vector<std::shared_ptr<TaskState>> all;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto& [_, t] : tasks_) all.push_back(t);
  }
  for (auto& t : all) {
    t->Cancel(reason, retryable);
    FailPendingCallsOf(t->assign.task_id());
  }
}

}  // namespace chorus::detail
