// The SDK against a real gRPC agent endpoint (TestAgent) on a Unix socket: no mocks.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "chorus/worker.h"
#include "test_agent.h"
#include "worker_tests.h"

namespace {

using chorus::testing::ConfigFor;
using chorus::testing::MakeTask;
using chorus::testing::NextOrFail;
using chorus::testing::RunningWorker;
using chorus::testing::TestAgent;
namespace pb = chorus::worker::v1;
using namespace std::chrono_literals;

// Latch: a one-shot gate handlers wait on.
class Latch {
 public:
  void Open() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// UntilCancelled is a handler that reports it started, then waits until its task is cancelled.
chorus::Outputs UntilCancelled(chorus::TaskContext& c) {
  c.Progress(0, "started");
  c.WaitCancelled(std::chrono::hours(1));
  c.ThrowIfCancelled();
  return chorus::Outputs{};
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(Worker, HelloAnnouncesTheWorker) {
  TestAgent agent;
  chorus::Worker w(ConfigFor(agent, 3));
  w.Handle("sha256", [](chorus::TaskContext& c) { return c.Output(""); });
  w.Handle("echo", [](chorus::TaskContext& c) { return c.Output(c.payload()); });
  RunningWorker run(w);
  auto hello = agent.WaitHello();
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->token(), "test-token");
  EXPECT_EQ(hello->language(), "cpp");
  EXPECT_EQ(hello->sdk_version(), chorus::kSdkVersion);
  ASSERT_EQ(hello->methods_size(), 2);
  EXPECT_EQ(hello->methods(0), "echo");
  EXPECT_EQ(hello->methods(1), "sha256");
  EXPECT_EQ(hello->capacity(), 3);
  EXPECT_EQ(hello->pid(), static_cast<int32_t>(getpid()));
}

TEST(Worker, AssignmentReturnsOutputs) {
  TestAgent agent;
  chorus::Worker w(ConfigFor(agent));
  w.Handle("echo", [](chorus::TaskContext& c) { return c.Output(c.payload()); });
  RunningWorker run(w);
  ASSERT_TRUE(agent.WaitHello());
  ASSERT_TRUE(agent.Assign(MakeTask("t1", "echo", "hello")));
  auto m = NextOrFail(agent);
  ASSERT_TRUE(m.has_task_completed()) << m.DebugString();
  EXPECT_EQ(m.task_completed().task_id(), "t1");
  ASSERT_EQ(m.task_completed().outputs_size(), 1);
  EXPECT_EQ(m.task_completed().outputs(0).result_id(), "t1-out");
  EXPECT_EQ(m.task_completed().outputs(0).data().inline_(), "hello");
}

TEST(Worker, ContextCarriesTheAssignment) {
  TestAgent agent;
  const std::string payload_file = agent.dir() + "/payload.bin";
  const std::string input_file = agent.dir() + "/input.bin";
  std::ofstream(payload_file) << "payload-from-file";
  std::ofstream(input_file) << "input-from-file";

  struct Seen {
    std::string session, method, partition, traceparent, tracestate, payload, payload_path, out_dir;
    int attempt = 0;
    std::map<std::string, std::string> options;
    std::chrono::milliseconds max_duration{0};
    std::vector<std::string> expected, input_ids;
    std::string in_a, in_b, in_b_at;
    size_t input_count = 0;
    std::string missing_error;
  } seen;
  std::mutex seen_mu;  // the handler runs on a worker thread
  chorus::Worker w(ConfigFor(agent));
  w.Handle("inspect", [&](chorus::TaskContext& c) {
    std::lock_guard<std::mutex> lk(seen_mu);
    seen.session = c.session_id();
    seen.method = c.method();
    seen.partition = c.partition();
    seen.traceparent = c.traceparent();
    seen.tracestate = c.tracestate();
    seen.payload = c.payload();
    seen.payload_path = c.payload_path();
    seen.out_dir = c.output_dir();
    seen.attempt = c.attempt();
    seen.options = c.options();
    seen.max_duration = c.max_duration();
    seen.expected = c.expected_output_ids();
    seen.input_ids = c.input_ids();
    seen.in_a = c.input("a");
    seen.in_b = c.input("b");
    seen.in_b_at = c.input_at(1);
    seen.input_count = c.input_count();
    try {
      c.input("nope");
    } catch (const chorus::Error& e) {
      seen.missing_error = e.what();
    }
    return chorus::Outputs{{"x", "1", ""}, {"y", "2", ""}};
  });
  RunningWorker run(w);
  ASSERT_TRUE(agent.WaitHello());

  pb::AssignTask t = MakeTask("t1", "inspect", "");
  t.set_session_id("sess-9");
  t.mutable_payload()->set_path(payload_file);
  t.clear_expected_output_ids();
  t.add_expected_output_ids("x");
  t.add_expected_output_ids("y");
  auto* a = t.add_inputs();
  a->set_result_id("a");
  a->mutable_data()->set_inline_("input-inline");
  auto* b = t.add_inputs();
  b->set_result_id("b");
  b->mutable_data()->set_path(input_file);
  (*t.mutable_options())["k"] = "v";
  t.mutable_max_duration()->set_seconds(2);
  t.mutable_max_duration()->set_nanos(500000000);
  t.set_attempt(3);
  t.set_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  t.set_tracestate("vendor=1");
  t.set_partition("cpp-gpu");
  ASSERT_TRUE(agent.Assign(t));
  auto m = NextOrFail(agent);
  ASSERT_TRUE(m.has_task_completed()) << m.DebugString();
  ASSERT_EQ(m.task_completed().outputs_size(), 2);
  EXPECT_EQ(m.task_completed().outputs(1).result_id(), "y");
  EXPECT_EQ(m.task_completed().outputs(1).data().inline_(), "2");

  std::lock_guard<std::mutex> lk(seen_mu);
  EXPECT_EQ(seen.session, "sess-9");
  EXPECT_EQ(seen.method, "inspect");
  EXPECT_EQ(seen.partition, "cpp-gpu");
  EXPECT_EQ(seen.traceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  EXPECT_EQ(seen.tracestate, "vendor=1");
  EXPECT_EQ(seen.payload, "payload-from-file");
  EXPECT_EQ(seen.payload_path, payload_file);
  EXPECT_FALSE(seen.out_dir.empty());
  EXPECT_EQ(seen.attempt, 3);
  EXPECT_EQ(seen.options, (std::map<std::string, std::string>{{"k", "v"}}));
  EXPECT_EQ(seen.max_duration, 2500ms);
  EXPECT_EQ(seen.expected, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(seen.input_ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(seen.in_a, "input-inline");
  EXPECT_EQ(seen.in_b, "input-from-file");
  EXPECT_EQ(seen.in_b_at, "input-from-file");
  EXPECT_EQ(seen.input_count, 2u);
  EXPECT_NE(seen.missing_error.find("nope"), std::string::npos) << seen.missing_error;
}

TEST(Worker, LargeOutputsAreWrittenToFiles) {
  TestAgent::Options opts;
  opts.inline_limit_bytes = 16;
  TestAgent agent(opts);
  chorus::Worker w(ConfigFor(agent));
  w.Handle("repeat", [](chorus::TaskContext& c) { return c.Output(std::string(std::stoul(c.payload()), 'z')); });
  RunningWorker run(w);
  ASSERT_TRUE(agent.WaitHello());

  pb::AssignTask big = MakeTask("big", "repeat", "100000");
  big.set_output_dir(agent.dir() + "/big-out");
  std::filesystem::create_directories(big.output_dir());
  ASSERT_TRUE(agent.Assign(big));
  auto m = NextOrFail(agent);
  ASSERT_TRUE(m.has_task_completed()) << m.DebugString();
  const auto& data = m.task_completed().outputs(0).data();
  ASSERT_EQ(data.source_case(), pb::Data::kPath);
  EXPECT_EQ(data.path().rfind(big.output_dir() + "/", 0), 0u) << data.path();
  EXPECT_EQ(ReadFile(data.path()), std::string(100000, 'z'));

  ASSERT_TRUE(agent.Assign(MakeTask("small", "repeat", "16")));
  m = NextOrFail(agent);
  ASSERT_TRUE(m.has_task_completed()) << m.DebugString();
  EXPECT_EQ(m.task_completed().outputs(0).data().inline_(), std::string(16, 'z'));
}

TEST(Worker, ErrorsBecomeFailures) {
  TestAgent agent;
  chorus::Worker w(ConfigFor(agent));
  w.Handle("final", [](chorus::TaskContext& c) -> chorus::Outputs { throw chorus::PermanentError(c.payload()); });
  w.Handle("error", [](chorus::TaskContext&) -> chorus::Outputs { throw chorus::Error("scratch disk full"); });
  w.Handle("retry", [](chorus::TaskContext&) -> chorus::Outputs { throw chorus::RetryableError("disk busy"); });
  w.Handle("std", [](chorus::TaskContext&) -> chorus::Outputs { throw std::runtime_error("plain"); });
  w.Handle("odd", [](chorus::TaskContext&) -> chorus::Outputs { throw 42; });
  w.Handle("wrong", [](chorus::TaskContext&) { return chorus::Outputs{{"not-mine", "x", ""}}; });
  RunningWorker run(w);
  ASSERT_TRUE(agent.WaitHello());

  struct Case {
    std::string method, payload, contains;
    bool retryable;
  };
  std::vector<Case> cases = {
      {"final", "bad input: x must be > 0", "bad input: x must be > 0", false},
      {"retry", "", "disk busy", true},
      // Any other exception is retryable by default: max_retries applies to it.
      {"error", "", "scratch disk full", true},
      {"std", "", "plain", true},
      {"odd", "", "not a std::exception", true},
      {"wrong", "", "not-mine", false},
      {"missing", "", "\"missing\" is not served", false},
  };
  for (const auto& tc : cases) {
    ASSERT_TRUE(agent.Assign(MakeTask("t-" + tc.method, tc.method, tc.payload)));
    auto m = NextOrFail(agent);
    ASSERT_TRUE(m.has_task_failed()) << tc.method << ": " << m.DebugString();
    EXPECT_EQ(m.task_failed().task_id(), "t-" + tc.method);
    EXPECT_NE(m.task_failed().message().find(tc.contains), std::string::npos) << m.task_failed().message();
    EXPECT_EQ(m.task_failed().retryable(), tc.retryable) << tc.method;
  }
  // The message of a final error reaches the agent unchanged.
  ASSERT_TRUE(agent.Assign(MakeTask("exact", "final", "exact message")));
  auto m = NextOrFail(agent);
  EXPECT_EQ(m.task_failed().message(), "exact message");
}

TEST(Worker, ProgressReachesTheAgentBeforeCompletion) {
  TestAgent agent;
  chorus::Worker w(ConfigFor(agent));
  w.Handle("steps", [](chorus::TaskContext& c) {
    c.Progress(0.25, "a quarter");
    c.Progress(0.75);
    return c.Output("done");
  });
  RunningWorker run(w);
  ASSERT_TRUE(agent.WaitHello());
  ASSERT_TRUE(agent.Assign(MakeTask("t1", "steps", "")));
  auto p1 = NextOrFail(agent);
  auto p2 = NextOrFail(agent);
  auto done = NextOrFail(agent);
  ASSERT_TRUE(p1.has_task_progress()) << p1.DebugString();
  EXPECT_EQ(p1.task_progress().task_id(), "t1");
  EXPECT_DOUBLE_EQ(p1.task_progress().fraction(), 0.25);
  EXPECT_EQ(p1.task_progress().message(), "a quarter");
  ASSERT_TRUE(p2.has_task_progress());
  EXPECT_DOUBLE_EQ(p2.task_progress().fraction(), 0.75);
  EXPECT_TRUE(done.has_task_completed());
}

TEST(Worker, SubtasksAndResultsWaitForTheAgentsReply) {
  TestAgent agent;
  chorus::Worker w(ConfigFor(agent));
  w.Handle("graph", [](chorus::TaskContext& c) {
    auto ids = c.NewResults(2);
    auto made = c.CreateResult({"named", std::string("blob")});
    chorus::Subtask s1{"sha256", "0", {}, {ids[0]}, {}};
    chorus::Subtask s2{"concat", "", {ids[0], made}, c.expected_output_ids(), {}};
    s2.options.priority = 7;
    s2.options.max_duration = 1500ms;
    s2.options.options["k"] = "v";
    auto tasks = c.Submit({s1, s2});
    (void)tasks;
    return chorus::Outputs{};
  });
  RunningWorker run(w);
  ASSERT_TRUE(agent.WaitHello());
  ASSERT_TRUE(agent.Assign(MakeTask("p", "graph", "")));

  auto cr = NextOrFail(agent);
  ASSERT_TRUE(cr.has_create_results()) << cr.DebugString();
  EXPECT_EQ(cr.create_results().task_id(), "p");
  ASSERT_EQ(cr.create_results().results_size(), 2);
  EXPECT_EQ(cr.create_results().results(0).result_id(), "");
  EXPECT_FALSE(cr.create_results().results(0).has_data());
  pb::ConnectResponse reply;
  auto* r = reply.mutable_create_results_reply();
  r->set_call_id(cr.create_results().call_id());
  r->add_result_ids("r1");
  r->add_result_ids("r2");
  ASSERT_TRUE(agent.Send(reply));

  auto cr2 = NextOrFail(agent);
  ASSERT_TRUE(cr2.has_create_results()) << cr2.DebugString();
  EXPECT_NE(cr2.create_results().call_id(), cr.create_results().call_id());
  EXPECT_EQ(cr2.create_results().results(0).result_id(), "named");
  EXPECT_EQ(cr2.create_results().results(0).data().inline_(), "blob");
  reply.Clear();
  reply.mutable_create_results_reply()->set_call_id(cr2.create_results().call_id());
  reply.mutable_create_results_reply()->add_result_ids("named");
  ASSERT_TRUE(agent.Send(reply));

  auto st = NextOrFail(agent);
  ASSERT_TRUE(st.has_submit_tasks()) << st.DebugString();
  const auto& sub = st.submit_tasks();
  EXPECT_EQ(sub.task_id(), "p");
  ASSERT_EQ(sub.tasks_size(), 2);
  EXPECT_EQ(sub.tasks(0).method(), "sha256");
  EXPECT_EQ(sub.tasks(0).payload().inline_(), "0");
  EXPECT_EQ(sub.tasks(0).expected_output_ids(0), "r1");
  EXPECT_FALSE(sub.tasks(0).has_options());
  EXPECT_EQ(sub.tasks(1).data_dependencies_size(), 2);
  EXPECT_EQ(sub.tasks(1).data_dependencies(1), "named");
  EXPECT_EQ(sub.tasks(1).expected_output_ids(0), "p-out");
  EXPECT_EQ(sub.tasks(1).options().priority(), 7);
  EXPECT_FALSE(sub.tasks(1).options().has_max_retries());
  EXPECT_EQ(sub.tasks(1).options().max_duration().seconds(), 1);
  EXPECT_EQ(sub.tasks(1).options().max_duration().nanos(), 500000000);
  EXPECT_EQ(sub.tasks(1).options().options().at("k"), "v");

  // Nothing completes before the reply.
  reply.Clear();
  reply.mutable_submit_tasks_reply()->set_call_id(sub.call_id());
  reply.mutable_submit_tasks_reply()->add_task_ids("st1");
  reply.mutable_submit_tasks_reply()->add_task_ids("st2");
  ASSERT_TRUE(agent.Send(reply));
  auto done = NextOrFail(agent);
  ASSERT_TRUE(done.has_task_completed()) << done.DebugString();
  EXPECT_EQ(done.task_completed().outputs_size(), 0);
}

TEST(Worker, RefusedSubmitFailsTheTask) {
  TestAgent agent;
  chorus::Worker w(ConfigFor(agent));
  std::atomic<bool> submitted{false};
  w.Handle("submit", [&](chorus::TaskContext& c) {
    c.Submit({chorus::Subtask{"echo", "x", {}, {}, {}}});
    submitted = true;
    return chorus::Outputs{};
  });
  RunningWorker run(w);
  ASSERT_TRUE(agent.WaitHello());
  ASSERT_TRUE(agent.Assign(MakeTask("p", "submit", "")));
  auto st = NextOrFail(agent);
  ASSERT_TRUE(st.has_submit_tasks());
  pb::ConnectResponse reply;
  reply.mutable_submit_tasks_reply()->set_call_id(st.submit_tasks().call_id());
  reply.mutable_submit_tasks_reply()->set_error("dependency r9 does not exist");
  ASSERT_TRUE(agent.Send(reply));
  auto m = NextOrFail(agent);
  ASSERT_TRUE(m.has_task_failed()) << m.DebugString();
  EXPECT_NE(m.task_failed().message().find("dependency r9 does not exist"), std::string::npos);
  EXPECT_FALSE(m.task_failed().retryable()) << "a refused call is final";
  EXPECT_FALSE(submitted.load());
}

TEST(Worker, CancelStopsARunningTask) {
  TestAgent agent;
  chorus::Worker w(ConfigFor(agent));
  w.Handle("sleep", [](chorus::TaskContext& c) {
    c.Progress(0, "started");
    if (c.WaitCancelled(std::chrono::hours(1))) c.ThrowIfCancelled();
    return c.Output("slept");
  });
  w.Handle("wait-reply", [](chorus::TaskContext& c) {
    c.Progress(0, "started");
    c.Submit({chorus::Subtask{"echo", "", {}, {}, {}}});  // the agent never answers
    return chorus::Outputs{};
  });
  RunningWorker run(w);
  ASSERT_TRUE(agent.WaitHello());
  for (std::string method : {"sleep", "wait-reply"}) {
    ASSERT_TRUE(agent.Assign(MakeTask("t-" + method, method, "")));
    auto started = NextOrFail(agent);
    ASSERT_TRUE(started.has_task_progress()) << started.DebugString();
    if (method == "wait-reply") ASSERT_TRUE(NextOrFail(agent).has_submit_tasks());
    ASSERT_TRUE(agent.Cancel("t-" + method, "cancelled by the client"));
    auto m = NextOrFail(agent);
    ASSERT_TRUE(m.has_task_failed()) << m.DebugString();
    EXPECT_EQ(m.task_failed().task_id(), "t-" + method);
    EXPECT_EQ(m.task_failed().message(), "cancelled by the client");
    EXPECT_FALSE(m.task_failed().retryable());
  }
}

TEST(Worker, TaskCancelledBeforeItStartsNeverRuns) {
  TestAgent agent;
  chorus::Worker w(ConfigFor(agent, 1));
  std::atomic<int> runs{0};
  w.Handle("block", [&](chorus::TaskContext& c) {
    runs++;
    return UntilCancelled(c);
  });
  RunningWorker run(w);
  ASSERT_TRUE(agent.WaitHello());
  ASSERT_TRUE(agent.Assign(MakeTask("a", "block", "")));
  ASSERT_TRUE(NextOrFail(agent).has_task_progress());
  ASSERT_TRUE(agent.Assign(MakeTask("b", "block", "")));  // queued behind a (capacity 1)
  for (std::string id : {"b", "a"}) {
    ASSERT_TRUE(agent.Cancel(id, "session cancelled"));
  }
  std::set<std::string> failed;
  for (int i = 0; i < 2; ++i) {
    auto m = NextOrFail(agent);
    ASSERT_TRUE(m.has_task_failed()) << m.DebugString();
    EXPECT_EQ(m.task_failed().message(), "session cancelled");
    failed.insert(m.task_failed().task_id());
  }
  EXPECT_EQ(failed, (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(runs.load(), 1);
}

TEST(Worker, DrainFinishesRunningTasksThenCloses) {
  TestAgent agent;
  chorus::Worker w(ConfigFor(agent, 2));
  Latch release;
  std::atomic<bool> saw_draining{false};
  w.Handle("work", [&](chorus::TaskContext& c) {
    c.Progress(0, "started");
    release.Wait();
    saw_draining = c.Draining();
    return c.Output("finished");
  });
  RunningWorker run(w);
  ASSERT_TRUE(agent.WaitHello());
  ASSERT_TRUE(agent.Assign(MakeTask("t1", "work", "")));
  ASSERT_TRUE(NextOrFail(agent).has_task_progress());
  pb::ConnectResponse drain;
  drain.mutable_drain()->mutable_grace()->set_seconds(600);
  ASSERT_TRUE(agent.Send(drain));
  pb::ConnectResponse ping;
  ping.mutable_ping()->set_nonce(7);
  ASSERT_TRUE(agent.Send(ping));
  auto pong = NextOrFail(agent);  // the drain was read before the ping
  ASSERT_TRUE(pong.has_pong());
  release.Open();
  auto m = NextOrFail(agent);
  ASSERT_TRUE(m.has_task_completed()) << m.DebugString();
  EXPECT_EQ(m.task_completed().outputs(0).data().inline_(), "finished");
  EXPECT_TRUE(saw_draining.load());
  EXPECT_TRUE(agent.WaitEnded());
  EXPECT_EQ(run.Join(), "");
}

TEST(Worker, DrainGraceCancelsWhatStillRuns) {
  TestAgent agent;
  chorus::Worker w(ConfigFor(agent));
  w.Handle("forever", UntilCancelled);
  RunningWorker run(w);
  ASSERT_TRUE(agent.WaitHello());
  ASSERT_TRUE(agent.Assign(MakeTask("t1", "forever", "")));
  ASSERT_TRUE(NextOrFail(agent).has_task_progress());
  pb::ConnectResponse drain;
  drain.mutable_drain()->mutable_grace()->set_nanos(100000000);
  ASSERT_TRUE(agent.Send(drain));
  auto m = NextOrFail(agent);
  ASSERT_TRUE(m.has_task_failed()) << m.DebugString();
  EXPECT_TRUE(m.task_failed().retryable());
  EXPECT_NE(m.task_failed().message().find("grace period"), std::string::npos) << m.task_failed().message();
  EXPECT_TRUE(agent.WaitEnded());
  EXPECT_EQ(run.Join(), "");
}

TEST(Worker, CapacityIsNeverExceeded) {
  constexpr int kCapacity = 3;
  constexpr int kTasks = 12;
  TestAgent agent;
  chorus::Worker w(ConfigFor(agent, kCapacity));
  std::mutex mu;
  std::condition_variable cv;
  int running = 0, max_running = 0, started = 0;
  w.Handle("gate", [&](chorus::TaskContext& c) {
    std::unique_lock<std::mutex> lk(mu);
    ++running;
    ++started;
    max_running = std::max(max_running, running);
    cv.notify_all();
    // The first kCapacity tasks wait for each other: they must all run at once.
    cv.wait(lk, [&] { return started >= kCapacity; });
    --running;
    return c.Output(c.payload());
  });
  RunningWorker run(w);
  ASSERT_TRUE(agent.WaitHello());
  // A misbehaving agent sends every task at once; the worker still runs kCapacity at a time.
  for (int i = 0; i < kTasks; ++i) ASSERT_TRUE(agent.Assign(MakeTask("t" + std::to_string(i), "gate", "x")));
  std::set<std::string> done;
  for (int i = 0; i < kTasks; ++i) {
    auto m = NextOrFail(agent);
    ASSERT_TRUE(m.has_task_completed()) << m.DebugString();
    done.insert(m.task_completed().task_id());
  }
  EXPECT_EQ(done.size(), static_cast<size_t>(kTasks));
  std::lock_guard<std::mutex> lk(mu);
  EXPECT_EQ(max_running, kCapacity);
}

TEST(Worker, PingIsAnsweredWithPong) {
  TestAgent agent;
  chorus::Worker w(ConfigFor(agent));
  w.Handle("echo", [](chorus::TaskContext& c) { return c.Output(c.payload()); });
  RunningWorker run(w);
  ASSERT_TRUE(agent.WaitHello());
  pb::ConnectResponse ping;
  ping.mutable_ping()->set_nonce(12345);
  ASSERT_TRUE(agent.Send(ping));
  auto m = NextOrFail(agent);
  ASSERT_TRUE(m.has_pong());
  EXPECT_EQ(m.pong().nonce(), 12345);
}

TEST(Worker, StreamEndedByTheAgentCancelsTasksAndFailsRun) {
  TestAgent agent;
  chorus::Worker w(ConfigFor(agent));
  std::mutex mu;
  std::string reason;
  w.Handle("forever", [&](chorus::TaskContext& c) {
    c.Progress(0, "started");
    c.WaitCancelled(std::chrono::hours(1));
    std::lock_guard<std::mutex> lk(mu);
    reason = c.CancelReason();
    c.ThrowIfCancelled();
    return chorus::Outputs{};
  });
  RunningWorker run(w);
  ASSERT_TRUE(agent.WaitHello());
  ASSERT_TRUE(agent.Assign(MakeTask("t1", "forever", "")));
  ASSERT_TRUE(NextOrFail(agent).has_task_progress());
  agent.EndStream();
  std::string err = run.Join();
  EXPECT_NE(err.find("ended with an error"), std::string::npos) << err;
  std::lock_guard<std::mutex> lk(mu);
  EXPECT_NE(reason.find("connection to the agent ended"), std::string::npos) << reason;
}

TEST(Worker, WrongTokenIsReported) {
  TestAgent agent;
  chorus::Config c = ConfigFor(agent);
  c.token = "wrong";
  chorus::Worker w(c);
  w.Handle("echo", [](chorus::TaskContext& ctx) { return ctx.Output(ctx.payload()); });
  RunningWorker run(w);
  std::string err = run.Join();
  EXPECT_NE(err.find("token is wrong"), std::string::npos) << err;
  EXPECT_NE(err.find("CHORUS_WORKER_TOKEN"), std::string::npos) << err;
}

TEST(Worker, MissingAgentIsReported) {
  TestAgent agent;
  chorus::Config c = ConfigFor(agent);
  c.socket_path = agent.dir() + "/nobody-listens.sock";
  c.connect_timeout = 100ms;
  chorus::Worker w(c);
  w.Handle("echo", [](chorus::TaskContext& ctx) { return ctx.Output(ctx.payload()); });
  try {
    w.Run();
    FAIL() << "Run returned without an agent";
  } catch (const chorus::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot connect to the agent"), std::string::npos) << e.what();
  }
}

TEST(Worker, RunWithoutHandlersIsRefused) {
  TestAgent agent;
  chorus::Worker w(ConfigFor(agent));
  EXPECT_THROW(w.Run(), chorus::Error);
}

TEST(Worker, ConfigIsValidated) {
  chorus::Config c;
  c.token = "t";
  EXPECT_THROW(chorus::Worker{c}, chorus::Error);
  c.socket_path = "/tmp/x.sock";
  c.capacity = 0;
  EXPECT_THROW(chorus::Worker{c}, chorus::Error);
  c.capacity = 1;
  c.token = "";
  EXPECT_THROW(chorus::Worker{c}, chorus::Error);
}

}  // namespace
