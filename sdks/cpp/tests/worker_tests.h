// Helpers of the worker tests (they report through GoogleTest, so they are not in the test agent,
// which the benchmark links too).
#pragma once

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <thread>

#include "chorus/worker.h"
#include "test_agent.h"

namespace chorus::testing {

// RunningWorker runs Worker::Run on its own thread and stops it at the end of the test.
class RunningWorker {
 public:
  explicit RunningWorker(chorus::Worker& w) : w_(w) {
    thread_ = std::thread([this] {
      try {
        w_.Run();
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lk(mu_);
        error_ = e.what();
      }
    });
  }
  ~RunningWorker() {
    w_.Stop();
    thread_.join();
  }
  // Waits for Run to return and gives its error message ("" when it returned normally).
  std::string Join() {
    thread_.join();
    thread_ = std::thread([] {});
    std::lock_guard<std::mutex> lk(mu_);
    return error_;
  }

 private:
  chorus::Worker& w_;
  std::thread thread_;
  std::mutex mu_;
  std::string error_;
};

// NextOrFail is the worker's next message; when none comes, it fails the test and returns an empty one.
inline pb::ConnectRequest NextOrFail(TestAgent& agent) {
  auto m = agent.Next();
  if (!m) {
    ADD_FAILURE() << "no message from the worker";
    return {};
  }
  return *m;
}

}  // namespace chorus::testing
