#include "test_agent.h"

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>

namespace chorus::testing {

class TestAgent::Service final : public pb::WorkerService::Service {
 public:
  explicit Service(TestAgent* agent) : agent_(agent) {}

  grpc::Status Connect(grpc::ServerContext* ctx,
                       grpc::ServerReaderWriter<pb::ConnectResponse, pb::ConnectRequest>* stream) override {
    TestAgent& a = *agent_;
    pb::ConnectRequest first;
    if (!stream->Read(&first)) return grpc::Status(grpc::StatusCode::CANCELLED, "no hello");
    if (!first.has_hello()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the first message must be a hello");
    }
    if (first.hello().token() != a.opts_.token) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "the worker token is wrong");
    }
    {
      std::lock_guard<std::mutex> lk(a.write_mu_);
      if (a.stream_ != nullptr) return grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "a worker is connected");
      a.stream_ = stream;
      a.context_ = ctx;
      pb::ConnectResponse welcome;
      auto* w = welcome.mutable_welcome();
      w->set_agent_id("test-agent");
      w->set_worker_id("w1");
      w->set_work_dir(a.dir_);
      w->set_inline_limit_bytes(a.opts_.inline_limit_bytes);
      w->set_accepts_batches(a.opts_.accepts_batches);
      stream->Write(welcome);
    }
    {
      std::lock_guard<std::mutex> lk(a.mu_);
      a.hello_ = first.hello();
      a.ended_ = false;
    }
    a.cv_.notify_all();

    pb::ConnectRequest m;
    while (stream->Read(&m)) {
      // A batch is read as if its messages came one by one.
      std::vector<pb::ConnectRequest> msgs;
      const bool is_batch = m.has_batch();
      if (is_batch) {
        for (auto& inner : *m.mutable_batch()->mutable_messages()) msgs.push_back(inner);
      } else {
        msgs.push_back(std::move(m));
      }
      std::function<void(const pb::ConnectRequest&)> fn;
      std::function<void(const std::vector<pb::ConnectRequest>&)> on_read;
      {
        std::lock_guard<std::mutex> lk(a.mu_);
        if (is_batch) {
          ++a.batches_received_;
          a.batched_messages_received_ += static_cast<int>(msgs.size());
          if (!a.first_batch_) a.first_batch_ = m.batch();
        }
        for (const auto& x : msgs) {
          if (x.has_task_completed()) a.in_flight_.erase(x.task_completed().task_id());
          if (x.has_task_failed()) a.in_flight_.erase(x.task_failed().task_id());
        }
        fn = a.on_message_;
        on_read = a.on_read_;
        if (!fn && !on_read) a.inbox_.insert(a.inbox_.end(), msgs.begin(), msgs.end());
      }
      m.Clear();
      if (fn) {
        for (const auto& x : msgs) fn(x);
      }
      if (on_read) on_read(msgs);
      if (!fn && !on_read) a.cv_.notify_all();
    }
    {
      std::lock_guard<std::mutex> lk(a.write_mu_);
      a.stream_ = nullptr;
      a.context_ = nullptr;
    }
    {
      std::lock_guard<std::mutex> lk(a.mu_);
      a.ended_ = true;
    }
    a.cv_.notify_all();
    return grpc::Status::OK;
  }

 private:
  TestAgent* agent_;
};

TestAgent::TestAgent(Options opts) : opts_(std::move(opts)) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "chorus-cpp-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("cannot create a temporary folder");
  dir_ = tmpl;
  socket_path_ = dir_ + "/agent.sock";
  service_ = std::make_unique<Service>(this);
  grpc::ServerBuilder b;
  b.AddListeningPort("unix:" + socket_path_, grpc::InsecureServerCredentials());
  b.RegisterService(service_.get());
  b.SetMaxReceiveMessageSize(-1);
  server_ = b.BuildAndStart();
  if (!server_) throw std::runtime_error("cannot start the test agent on " + socket_path_);
}

TestAgent::~TestAgent() {
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_->Wait();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::optional<pb::Hello> TestAgent::WaitHello(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lk(mu_);
  if (!cv_.wait_for(lk, timeout, [this] { return hello_.has_value(); })) return std::nullopt;
  return hello_;
}

std::optional<pb::ConnectRequest> TestAgent::Next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait_for(lk, timeout, [this] { return !inbox_.empty() || ended_; });
  if (inbox_.empty()) return std::nullopt;
  pb::ConnectRequest m = std::move(inbox_.front());
  inbox_.pop_front();
  return m;
}

bool TestAgent::Send(const pb::ConnectResponse& msg) {
  if (msg.has_assign_task()) {
    std::lock_guard<std::mutex> lk(mu_);
    in_flight_.insert(msg.assign_task().task_id());
    max_in_flight_ = std::max(max_in_flight_, static_cast<int>(in_flight_.size()));
  }
  std::lock_guard<std::mutex> lk(write_mu_);
  return stream_ != nullptr && stream_->Write(msg);
}

bool TestAgent::SendBatch(const std::vector<pb::ConnectResponse>& msgs) {
  pb::ConnectResponse batch;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (const auto& m : msgs) {
      if (!m.has_assign_task()) continue;
      in_flight_.insert(m.assign_task().task_id());
      max_in_flight_ = std::max(max_in_flight_, static_cast<int>(in_flight_.size()));
    }
  }
  for (const auto& m : msgs) *batch.mutable_batch()->add_messages() = m;
  std::lock_guard<std::mutex> lk(write_mu_);
  return stream_ != nullptr && stream_->Write(batch);
}

void TestAgent::SetOutputDir(pb::AssignTask& task) {
  if (!task.output_dir().empty()) return;
  std::string d;
  {
    std::lock_guard<std::mutex> lk(write_mu_);
    d = dir_ + "/out-" + std::to_string(++seq_);
  }
  std::filesystem::create_directories(d);
  task.set_output_dir(d);
}

bool TestAgent::Assign(pb::AssignTask task) {
  SetOutputDir(task);
  pb::ConnectResponse m;
  *m.mutable_assign_task() = std::move(task);
  return Send(m);
}

bool TestAgent::AssignBatch(std::vector<pb::AssignTask> tasks) {
  std::vector<pb::ConnectResponse> msgs(tasks.size());
  for (size_t i = 0; i < tasks.size(); ++i) {
    SetOutputDir(tasks[i]);
    *msgs[i].mutable_assign_task() = std::move(tasks[i]);
  }
  return SendBatch(msgs);
}

bool TestAgent::Cancel(const std::string& task_id, const std::string& reason) {
  pb::ConnectResponse m;
  m.mutable_cancel_task()->set_task_id(task_id);
  m.mutable_cancel_task()->set_reason(reason);
  return Send(m);
}

void TestAgent::EndStream() {
  std::lock_guard<std::mutex> lk(write_mu_);
  if (context_ != nullptr) context_->TryCancel();
}

bool TestAgent::WaitEnded(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lk(mu_);
  return cv_.wait_for(lk, timeout, [this] { return ended_; });
}

void TestAgent::OnMessage(std::function<void(const pb::ConnectRequest&)> fn) {
  std::lock_guard<std::mutex> lk(mu_);
  on_message_ = std::move(fn);
}

void TestAgent::OnRead(std::function<void(const std::vector<pb::ConnectRequest>&)> fn) {
  std::lock_guard<std::mutex> lk(mu_);
  on_read_ = std::move(fn);
}

int TestAgent::batches_received() const {
  std::lock_guard<std::mutex> lk(mu_);
  return batches_received_;
}

int TestAgent::batched_messages_received() const {
  std::lock_guard<std::mutex> lk(mu_);
  return batched_messages_received_;
}

std::optional<pb::RequestBatch> TestAgent::first_batch() const {
  std::lock_guard<std::mutex> lk(mu_);
  return first_batch_;
}

int TestAgent::max_in_flight() const {
  std::lock_guard<std::mutex> lk(mu_);
  return max_in_flight_;
}

chorus::Config ConfigFor(const TestAgent& agent, int capacity) {
  chorus::Config c;
  c.socket_path = agent.socket_path();
  c.token = agent.token();
  c.capacity = capacity;
  c.log = [](const std::string&) {};
  return c;
}

pb::AssignTask MakeTask(const std::string& task_id, const std::string& method, const std::string& payload) {
  pb::AssignTask t;
  t.set_session_id("s1");
  t.set_task_id(task_id);
  t.set_method(method);
  t.mutable_payload()->set_inline_(payload);
  t.add_expected_output_ids(task_id + "-out");
  t.set_attempt(1);
  t.set_partition("cpp");
  return t;
}

}  // namespace chorus::testing
