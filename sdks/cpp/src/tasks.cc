// Running tasks: the thread pool, handler outcomes, calls to the agent and outgoing data.
#include <cerrno>
#include <cstring>
#include <fstream>

#include "connection.h"

namespace chorus::detail {

namespace {

std::string Sanitize(const std::string& name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == '_';
    out.push_back(ok ? c : '_');
  }
  if (out.empty() || out[0] == '.') out.insert(out.begin(), '_');
  return out.substr(0, 100);
}

pb::ConnectRequest Failed(const std::string& task_id, const std::string& message, bool retryable) {
  pb::ConnectRequest m;
  auto* f = m.mutable_task_failed();
  f->set_task_id(task_id);
  f->set_message(message);
  f->set_retryable(retryable);
  return m;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s.empty() ? "none" : s;
}

}  // namespace

TaskState::TaskState(pb::AssignTask a) : assign(std::move(a)) {
  expected_output_ids.assign(assign.expected_output_ids().begin(), assign.expected_output_ids().end());
  options.insert(assign.options().begin(), assign.options().end());
  if (assign.has_max_duration()) {
    max_duration = std::chrono::milliseconds(assign.max_duration().seconds() * 1000 +
                                             assign.max_duration().nanos() / 1000000);
  }
  payload.source = &assign.payload();
  inputs.resize(assign.inputs_size());
  for (int i = 0; i < assign.inputs_size(); ++i) {
    inputs[i].result_id = assign.inputs(i).result_id();
    inputs[i].source = &assign.inputs(i).data();
    input_index.emplace(inputs[i].result_id, static_cast<size_t>(i));
  }
}

const std::string& TaskState::Load(LazyData& d) {
  if (d.source->source_case() != pb::Data::kPath) return d.source->inline_();
  std::lock_guard<std::mutex> lk(mu);
  if (d.loaded) return d.bytes;
  const std::string what = d.result_id.empty() ? std::string("the payload") : "input " + d.result_id;
  std::ifstream in(d.source->path(), std::ios::binary | std::ios::ate);
  if (!in) throw Error("cannot open the data of " + what + " at " + d.source->path() + ": " + std::strerror(errno));
  const std::streamoff size = in.tellg();
  in.seekg(0);
  std::string buf(static_cast<size_t>(size < 0 ? 0 : size), '\0');
  if (size < 0 || !in.read(buf.data(), size)) {
    throw Error("cannot read the data of " + what + " from " + d.source->path());
  }
  d.bytes = std::move(buf);
  d.loaded = true;
  return d.bytes;
}

void TaskState::Cancel(const std::string& reason, bool retryable) {
  {
    std::lock_guard<std::mutex> lk(mu);
    if (cancelled.load()) return;
    cancel_reason = reason;
    cancel_retryable = retryable;
    cancelled.store(true);
  }
  cv.notify_all();
}

void Connection::PoolLoop() {
  for (;;) {
    std::shared_ptr<TaskState> task;
    {
      std::unique_lock<std::mutex> lk(mu_);
      pool_cv_.wait(lk, [this] { return shutdown_ || !queue_.empty(); });
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    Execute(task);
  }
}

void Connection::Execute(const std::shared_ptr<TaskState>& task) {
  auto it = handlers_.find(task->assign.method());
  const Handler* handler = it == handlers_.end() ? nullptr : &it->second;
  pb::ConnectRequest outcome = Outcome(task, handler);
  try {
    Send(std::move(outcome));
  } catch (const Error&) {
    Log("could not report the outcome of task " + task->assign.task_id() + ": the stream to the agent is closed");
  }
  Finished(task->assign.task_id());
}

pb::ConnectRequest Connection::Outcome(const std::shared_ptr<TaskState>& task, const Handler* handler) {
  const std::string& id = task->assign.task_id();
  auto cancelled = [&] {
    std::lock_guard<std::mutex> lk(task->mu);
    return Failed(id, task->cancel_reason, task->cancel_retryable);
  };
  if (task->cancelled.load()) return cancelled();
  if (handler == nullptr) {
    std::vector<std::string> served;
    for (const auto& [m, _] : handlers_) served.push_back(m);
    return Failed(id, "method \"" + task->assign.method() + "\" is not served by this worker (it serves: " +
                          Join(served) + ")", false);
  }
  try {
    TaskContext ctx(shared_from_this(), task);
    Outputs outputs = (*handler)(ctx);
    pb::ConnectRequest m;
    auto* done = m.mutable_task_completed();
    done->set_task_id(id);
    for (auto& o : outputs) {
      bool expected = false;
      for (const auto& e : task->expected_output_ids) expected = expected || e == o.result_id;
      if (!expected) {
        return Failed(id, "the handler of \"" + task->assign.method() + "\" returned output \"" + o.result_id +
                              "\", which is not an expected output of the task (expected: " +
                              Join(task->expected_output_ids) + ")", false);
      }
      auto* out = done->add_outputs();
      out->set_result_id(o.result_id);
      if (!o.path.empty()) {
        out->mutable_data()->set_path(o.path);
      } else {
        *out->mutable_data() = OutData(*task, std::move(o.data), o.result_id);
      }
    }
    return m;
  } catch (const PermanentError& e) {
    if (task->cancelled.load()) return cancelled();
    return Failed(id, e.what(), false);
  } catch (const std::exception& e) {  // retryable unless marked permanent (RetryableError included)
    if (task->cancelled.load()) return cancelled();
    return Failed(id, e.what(), true);
  } catch (...) {
    if (task->cancelled.load()) return cancelled();
    return Failed(id, "the handler of \"" + task->assign.method() + "\" threw an exception that is not a std::exception",
                  true);
  }
}

void Connection::Finished(const std::string& task_id) {
  bool draining;
  {
    std::lock_guard<std::mutex> lk(mu_);
    tasks_.erase(task_id);
    draining = draining_.load();
  }
  // Only DrainLoop waits for tasks to finish, and only once a drain began (StartDrain wakes it then):
  // waking it for every task would cost a context switch per task.
  if (draining) state_cv_.notify_all();
}

pb::ConnectResponse Connection::Call(TaskState& task,
                                     const std::function<void(pb::ConnectRequest&, const std::string&)>& fill) {
  const std::string call_id = "c" + std::to_string(++seq_);
  auto call = std::make_shared<PendingCall>();
  call->task_id = task.assign.task_id();
  auto reply = call->reply.get_future();
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (task.cancelled.load()) throw CancelledError("task " + call->task_id + " was cancelled");
    if (stream_done_) throw Error("the connection to the agent ended");
    pending_.emplace(call_id, call);
  }
  pb::ConnectRequest req;
  fill(req, call_id);
  try {
    Send(std::move(req));
  } catch (...) {
    std::lock_guard<std::mutex> lk(mu_);
    pending_.erase(call_id);
    throw;
  }
  return reply.get();
}

void Connection::FailPendingCalls(const std::string& why) {
  std::unordered_map<std::string, std::shared_ptr<PendingCall>> calls;
  {
    std::lock_guard<std::mutex> lk(mu_);
    calls.swap(pending_);
  }
  for (auto& [_, c] : calls) c->reply.set_exception(std::make_exception_ptr(Error(why)));
}

void Connection::FailPendingCallsOf(const std::string& task_id) {
  std::vector<std::shared_ptr<PendingCall>> calls;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second->task_id == task_id) {
        calls.push_back(it->second);
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& c : calls) {
    c->reply.set_exception(std::make_exception_ptr(CancelledError("task " + task_id + " was cancelled")));
  }
}

pb::Data Connection::OutData(const TaskState& task, std::string bytes, const std::string& name_hint) {
  pb::Data d;
  const std::string& dir = task.assign.output_dir();
  if (inline_limit_ > 0 && static_cast<int64_t>(bytes.size()) > inline_limit_ && !dir.empty()) {
    std::string path = dir + "/" + std::to_string(++seq_) + "-" + Sanitize(name_hint);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      throw RetryableError("cannot write " + std::to_string(bytes.size()) + " bytes of " + name_hint + " to " + path +
                           ": " + std::strerror(errno));
    }
    d.set_path(path);
  } else {
    d.set_inline_(std::move(bytes));
  }
  return d;
}

}  // namespace chorus::detail
