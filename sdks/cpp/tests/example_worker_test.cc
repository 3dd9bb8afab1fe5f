// The example worker (workers/cpp) as a real child process, launched the way the agent launches it
// (socket and token in its environment), against the in-process test agent.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "test_agent.h"

extern char** environ;

namespace {

using chorus::testing::MakeTask;
using chorus::testing::TestAgent;
namespace pb = chorus::worker::v1;

// Child is the example worker process; it is killed at the end of the test if still running.
class Child {
 public:
  Child(const TestAgent& agent, int capacity) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::strncmp(*e, "CHORUS_", 7) != 0) env.emplace_back(*e);
    }
    env.push_back("CHORUS_AGENT_SOCKET=" + agent.socket_path());
    env.push_back("CHORUS_WORKER_TOKEN=" + agent.token());
    env.push_back("CHORUS_WORKER_CAPACITY=" + std::to_string(capacity));
    std::vector<char*> envp;
    for (auto& s : env) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string bin = CHORUS_EXAMPLE_WORKER;
    char* argv[] = {bin.data(), nullptr};
    if (posix_spawn(&pid_, bin.c_str(), nullptr, nullptr, argv, envp.data()) != 0) pid_ = -1;
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool started() const { return pid_ > 0; }
  // Waits for the process to exit and returns its exit status.
  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
};

// Next returns the worker's next message other than a progress report (sleep reports progress half
// way; these tests look at outcomes).
pb::ConnectRequest Next(TestAgent& agent) {
  for (;;) {
    auto m = agent.Next();
    if (!m) {
      ADD_FAILURE() << "no message from the example worker";
      return {};
    }
    if (!m->has_task_progress()) return *m;
  }
}

std::string RunToOutput(TestAgent& agent, const pb::AssignTask& t) {
  EXPECT_TRUE(agent.Assign(t));
  auto m = Next(agent);
  EXPECT_TRUE(m.has_task_completed()) << t.method() << ": " << m.DebugString();
  if (m.task_completed().outputs_size() != 1) return "<no output>";
  return m.task_completed().outputs(0).data().inline_();
}

TEST(ExampleWorker, ServesTheConformanceMethods) {
  TestAgent agent;
  Child child(agent, 2);
  ASSERT_TRUE(child.started()) << "cannot start " << CHORUS_EXAMPLE_WORKER;
  auto hello = agent.WaitHello();
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->language(), "cpp");
  EXPECT_EQ(hello->capacity(), 2);
  std::vector<std::string> methods(hello->methods().begin(), hello->methods().end());
  EXPECT_EQ(methods, (std::vector<std::string>{"concat", "echo", "fail", "fanout", "sha256", "sleep"}));

  EXPECT_EQ(RunToOutput(agent, MakeTask("e", "echo", std::string("bin\0ary", 7))), std::string("bin\0ary", 7));
  EXPECT_EQ(RunToOutput(agent, MakeTask("h", "sha256", "abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(RunToOutput(agent, MakeTask("h0", "sha256", "")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(RunToOutput(agent, MakeTask("s", "sleep", "5")), "5");

  ASSERT_TRUE(agent.Assign(MakeTask("f", "fail", "the message, unchanged")));
  auto failed = Next(agent);
  ASSERT_TRUE(failed.has_task_failed()) << failed.DebugString();
  EXPECT_EQ(failed.task_failed().message(), "the message, unchanged");
  EXPECT_FALSE(failed.task_failed().retryable());

  ASSERT_TRUE(agent.Assign(MakeTask("bad", "sleep", "soon")));
  failed = Next(agent);
  ASSERT_TRUE(failed.has_task_failed()) << failed.DebugString();
  EXPECT_NE(failed.task_failed().message().find("ASCII digits"), std::string::npos);

  pb::AssignTask concat = MakeTask("c", "concat", "");
  for (std::string part : {"ab", "cd", "ef"}) {
    auto* in = concat.add_inputs();
    in->set_result_id("r-" + part);
    in->mutable_data()->set_inline_(part);
  }
  EXPECT_EQ(RunToOutput(agent, concat), "abcdef");
}

TEST(ExampleWorker, SleepHonoursCancellation) {
  TestAgent agent;
  Child child(agent, 1);
  ASSERT_TRUE(child.started());
  ASSERT_TRUE(agent.WaitHello());
  ASSERT_TRUE(agent.Assign(MakeTask("s", "sleep", "3600000")));
  ASSERT_TRUE(agent.Cancel("s", "timed out after 1h"));
  auto m = Next(agent);
  ASSERT_TRUE(m.has_task_failed()) << m.DebugString();
  EXPECT_EQ(m.task_failed().message(), "timed out after 1h");
}

TEST(ExampleWorker, FanoutSubmitsShardsAndAReducerThatTakesItsOutput) {
  TestAgent agent;
  Child child(agent, 1);
  ASSERT_TRUE(child.started());
  ASSERT_TRUE(agent.WaitHello());
  ASSERT_TRUE(agent.Assign(MakeTask("p", "fanout", "3")));

  auto cr = Next(agent);
  ASSERT_TRUE(cr.has_create_results()) << cr.DebugString();
  ASSERT_EQ(cr.create_results().results_size(), 3);
  pb::ConnectResponse reply;
  reply.mutable_create_results_reply()->set_call_id(cr.create_results().call_id());
  for (std::string id : {"r0", "r1", "r2"}) reply.mutable_create_results_reply()->add_result_ids(id);
  ASSERT_TRUE(agent.Send(reply));

  auto st = Next(agent);
  ASSERT_TRUE(st.has_submit_tasks()) << st.DebugString();
  const auto& tasks = st.submit_tasks().tasks();
  ASSERT_EQ(tasks.size(), 4);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(tasks[i].method(), "sha256");
    EXPECT_EQ(tasks[i].payload().inline_(), std::to_string(i));
    ASSERT_EQ(tasks[i].expected_output_ids_size(), 1);
    EXPECT_EQ(tasks[i].expected_output_ids(0), "r" + std::to_string(i));
  }
  EXPECT_EQ(tasks[3].method(), "concat");
  EXPECT_EQ(std::vector<std::string>(tasks[3].data_dependencies().begin(), tasks[3].data_dependencies().end()),
            (std::vector<std::string>{"r0", "r1", "r2"}));
  ASSERT_EQ(tasks[3].expected_output_ids_size(), 1);
  EXPECT_EQ(tasks[3].expected_output_ids(0), "p-out");

  reply.Clear();
  reply.mutable_submit_tasks_reply()->set_call_id(st.submit_tasks().call_id());
  for (std::string id : {"t0", "t1", "t2", "t3"}) reply.mutable_submit_tasks_reply()->add_task_ids(id);
  ASSERT_TRUE(agent.Send(reply));
  auto done = Next(agent);
  ASSERT_TRUE(done.has_task_completed()) << done.DebugString();
  EXPECT_EQ(done.task_completed().outputs_size(), 0);
}

TEST(ExampleWorker, ExitsCleanlyWhenDrained) {
  TestAgent agent;
  Child child(agent, 1);
  ASSERT_TRUE(child.started());
  ASSERT_TRUE(agent.WaitHello());
  pb::ConnectResponse drain;
  drain.mutable_drain()->mutable_grace()->set_seconds(30);
  ASSERT_TRUE(agent.Send(drain));
  EXPECT_TRUE(agent.WaitEnded());
  EXPECT_EQ(child.Wait(), 0);
}

}  // namespace
