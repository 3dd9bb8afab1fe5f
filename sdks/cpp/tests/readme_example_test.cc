// The code block of sdks/cpp/README.md, compiled as a program by CMake (tests/CMakeLists.txt extracts
// it), run as a child process the way the agent launches a worker, against the in-process test agent.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "test_agent.h"

namespace {

using chorus::testing::MakeTask;
using chorus::testing::TestAgent;
namespace pb = chorus::worker::v1;

TEST(ReadmeExample, CompilesAndServesItsMethods) {
  TestAgent agent;
  std::vector<std::string> env = {"CHORUS_AGENT_SOCKET=" + agent.socket_path(),
                                  "CHORUS_WORKER_TOKEN=" + agent.token(), "CHORUS_WORKER_CAPACITY=2"};
  std::vector<char*> envp;
  for (auto& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string bin = CHORUS_README_EXAMPLE;
  char* argv[] = {bin.data(), nullptr};
  pid_t pid = -1;
  ASSERT_EQ(posix_spawn(&pid, bin.c_str(), nullptr, nullptr, argv, envp.data()), 0) << "cannot start " << bin;
  struct Reap {
    pid_t pid;
    ~Reap() {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  } reap{pid};

  auto hello = agent.WaitHello();
  ASSERT_TRUE(hello);
  std::vector<std::string> methods(hello->methods().begin(), hello->methods().end());
  EXPECT_EQ(methods, (std::vector<std::string>{"echo", "sleep"}));
  EXPECT_EQ(hello->capacity(), 2);

  ASSERT_TRUE(agent.Assign(MakeTask("e", "echo", "hello")));
  auto m = agent.Next();
  ASSERT_TRUE(m && m->has_task_completed()) << (m ? m->DebugString() : "no message");
  EXPECT_EQ(m->task_completed().outputs(0).data().inline_(), "hello");

  ASSERT_TRUE(agent.Assign(MakeTask("s", "sleep", "3600000")));
  ASSERT_TRUE(agent.Cancel("s", "cancelled by the client"));
  m = agent.Next();
  ASSERT_TRUE(m && m->has_task_failed()) << (m ? m->DebugString() : "no message");
  EXPECT_EQ(m->task_failed().message(), "cancelled by the client");
}

}  // namespace
