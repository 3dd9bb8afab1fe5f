// TaskContext: the handler's view of its task.
#include "chorus/task_context.h"

#include "connection.h"

namespace chorus {

using detail::pb::ConnectRequest;

TaskContext::TaskContext(std::shared_ptr<detail::Connection> conn, std::shared_ptr<detail::TaskState> state)
    : conn_(std::move(conn)), state_(std::move(state)) {}

TaskContext::~TaskContext() = default;

const std::string& TaskContext::task_id() const { return state_->assign.task_id(); }
const std::string& TaskContext::session_id() const { return state_->assign.session_id(); }
const std::string& TaskContext::method() const { return state_->assign.method(); }
const std::string& TaskContext::partition() const { return state_->assign.partition(); }
int TaskContext::attempt() const { return state_->assign.attempt(); }
const std::string& TaskContext::traceparent() const { return state_->assign.traceparent(); }
const std::string& TaskContext::tracestate() const { return state_->assign.tracestate(); }
const std::map<std::string, std::string>& TaskContext::options() const { return state_->options; }
std::chrono::milliseconds TaskContext::max_duration() const { return state_->max_duration; }
const std::vector<std::string>& TaskContext::expected_output_ids() const { return state_->expected_output_ids; }
const std::string& TaskContext::output_dir() const { return state_->assign.output_dir(); }

const std::string& TaskContext::payload() const { return state_->Load(state_->payload); }
const std::string& TaskContext::payload_path() const { return state_->assign.payload().path(); }

std::vector<std::string> TaskContext::input_ids() const {
  std::vector<std::string> ids;
  ids.reserve(state_->inputs.size());
  for (const auto& in : state_->inputs) ids.push_back(in.result_id);
  return ids;
}

const std::string& TaskContext::input(const std::string& result_id) const {
  auto it = state_->input_index.find(result_id);
  if (it == state_->input_index.end()) {
    throw PermanentError("task " + task_id() + " has no data dependency \"" + result_id + "\"");
  }
  return state_->Load(state_->inputs[it->second]);
}

const std::string& TaskContext::input_at(size_t i) const {
  if (i >= state_->inputs.size()) {
    throw PermanentError("task " + task_id() + " has " + std::to_string(state_->inputs.size()) +
                " data dependencies; there is no number " + std::to_string(i));
  }
  return state_->Load(state_->inputs[i]);
}

size_t TaskContext::input_count() const { return state_->inputs.size(); }

Outputs TaskContext::Output(std::string data) const {
  if (state_->expected_output_ids.empty()) {
    throw PermanentError("task " + task_id() + " expects no output, so it cannot return one");
  }
  return Outputs{chorus::Output{state_->expected_output_ids.front(), std::move(data), ""}};
}

void TaskContext::Progress(double fraction, const std::string& message) {
  ConnectRequest m;
  auto* p = m.mutable_task_progress();
  p->set_task_id(task_id());
  p->set_fraction(fraction);
  p->set_message(message);
  conn_->Send(std::move(m));
}

std::vector<std::string> TaskContext::CreateResults(const std::vector<NewResult>& results) {
  std::vector<detail::pb::NewResult> msgs(results.size());
  for (size_t i = 0; i < results.size(); ++i) {
    msgs[i].set_result_id(results[i].result_id);
    if (results[i].data) {
      *msgs[i].mutable_data() = conn_->OutData(*state_, *results[i].data,
                                               results[i].result_id.empty() ? "result" : results[i].result_id);
    }
  }
  auto reply = conn_->Call(*state_, [&](ConnectRequest& req, const std::string& call_id) {
    auto* c = req.mutable_create_results();
    c->set_call_id(call_id);
    c->set_task_id(task_id());
    for (auto& m : msgs) *c->add_results() = std::move(m);
  });
  const auto& r = reply.create_results_reply();
  if (!r.error().empty()) throw PermanentError("the agent refused to create results for task " + task_id() + ": " + r.error());
  if (static_cast<size_t>(r.result_ids_size()) != results.size()) {
    throw Error("the agent answered " + std::to_string(r.result_ids_size()) + " result ids for " +
                std::to_string(results.size()) + " results");
  }
  return {r.result_ids().begin(), r.result_ids().end()};
}

std::string TaskContext::CreateResult(const NewResult& result) { return CreateResults({result}).front(); }

std::vector<std::string> TaskContext::NewResults(size_t n) {
  if (n == 0) return {};
  return CreateResults(std::vector<NewResult>(n));
}

std::vector<std::string> TaskContext::Submit(const std::vector<Subtask>& subtasks) {
  std::vector<detail::pb::Subtask> msgs(subtasks.size());
  for (size_t i = 0; i < subtasks.size(); ++i) {
    const Subtask& s = subtasks[i];
    auto& m = msgs[i];
    m.set_method(s.method);
    *m.mutable_payload() = conn_->OutData(*state_, s.payload, "payload-" + s.method);
    for (const auto& d : s.data_dependencies) m.add_data_dependencies(d);
    for (const auto& e : s.expected_output_ids) m.add_expected_output_ids(e);
    const SubtaskOptions& o = s.options;
    if (!o.partition.empty() || o.priority || o.max_retries || o.max_duration.count() > 0 || !o.options.empty()) {
      auto* mo = m.mutable_options();
      mo->set_partition(o.partition);
      if (o.priority) mo->set_priority(*o.priority);
      if (o.max_retries) mo->set_max_retries(*o.max_retries);
      if (o.max_duration.count() > 0) {
        mo->mutable_max_duration()->set_seconds(o.max_duration.count() / 1000);
        mo->mutable_max_duration()->set_nanos(static_cast<int32_t>(o.max_duration.count() % 1000) * 1000000);
      }
      mo->mutable_options()->insert(o.options.begin(), o.options.end());
    }
  }
  auto reply = conn_->Call(*state_, [&](ConnectRequest& req, const std::string& call_id) {
    auto* st = req.mutable_submit_tasks();
    st->set_call_id(call_id);
    st->set_task_id(task_id());
    for (auto& m : msgs) *st->add_tasks() = std::move(m);
  });
  const auto& r = reply.submit_tasks_reply();
  if (!r.error().empty()) throw PermanentError("the agent refused the subtasks of task " + task_id() + ": " + r.error());
  if (static_cast<size_t>(r.task_ids_size()) != subtasks.size()) {
    throw Error("the agent answered " + std::to_string(r.task_ids_size()) + " task ids for " +
                std::to_string(subtasks.size()) + " subtasks");
  }
  return {r.task_ids().begin(), r.task_ids().end()};
}

bool TaskContext::Cancelled() const { return state_->cancelled.load(); }

std::string TaskContext::CancelReason() const {
  std::lock_guard<std::mutex> lk(state_->mu);
  return state_->cancel_reason;
}

void TaskContext::ThrowIfCancelled() const {
  if (Cancelled()) throw CancelledError("task " + task_id() + " was cancelled: " + CancelReason());
}

bool TaskContext::WaitCancelled(std::chrono::milliseconds d) const {
  std::unique_lock<std::mutex> lk(state_->mu);
  return state_->cv.wait_for(lk, d, [this] { return state_->cancelled.load(); });
}

bool TaskContext::Draining() const { return conn_->draining(); }

}  // namespace chorus
