// Batches on the worker stream (issue 20): the Outbox that builds RequestBatch on its own, and the
// worker against the real test agent sending and receiving batches.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "chorus/worker.h"
#include "outbox.h"
#include "test_agent.h"
#include "worker_tests.h"

namespace {

using chorus::testing::ConfigFor;
using chorus::testing::MakeTask;
using chorus::testing::NextOrFail;
using chorus::testing::RunningWorker;
using chorus::testing::TestAgent;
namespace pb = chorus::worker::v1;

pb::ConnectRequest Pong(int64_t nonce) {
  pb::ConnectRequest m;
  m.mutable_pong()->set_nonce(nonce);
  return m;
}

// Waits (no deadline: the test's own timeout guards it) until the outbox holds n queued messages.
void WaitQueued(const chorus::detail::Outbox& box, size_t n) {
  while (box.queued() < n) std::this_thread::yield();
}

// A sink that records every write; the first blocks until released.
struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<pb::ConnectRequest> writes;
  bool released = false;
  bool fail_after_first = false;

  bool Write(const pb::ConnectRequest& m) {
    std::unique_lock<std::mutex> lk(mu);
    writes.push_back(m);
    cv.notify_all();
    if (writes.size() == 1) cv.wait(lk, [this] { return released; });
    return writes.size() == 1 || !fail_after_first;
  }
  void WaitFirst() {
    std::unique_lock<std::mutex> lk(mu);
    cv.wait(lk, [this] { return !writes.empty(); });
  }
  void Release() {
    std::lock_guard<std::mutex> lk(mu);
    released = true;
    cv.notify_all();
  }
};

// Pong 1 is being written (the write blocks); pongs 2, 3 and 4 are queued behind it in that order;
// then the write ends. Returns the errors the senders got.
std::vector<std::string> SendBehindABusyWrite(Recorder& rec, bool batches) {
  chorus::detail::Outbox box([&](const pb::ConnectRequest& m) { return rec.Write(m); });
  box.set_batches(batches);
  std::mutex mu;
  std::vector<std::string> errors;
  auto send = [&](int64_t nonce) {
    try {
      box.Send(Pong(nonce));
    } catch (const chorus::Error& e) {
      std::lock_guard<std::mutex> lk(mu);
      errors.push_back(e.what());
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back(send, 1);
  rec.WaitFirst();
  for (int64_t n = 2; n <= 4; ++n) {
    threads.emplace_back(send, n);
    WaitQueued(box, static_cast<size_t>(n - 1));
  }
  rec.Release();
  for (auto& t : threads) t.join();
  EXPECT_EQ(box.queued(), 0u);
  if (rec.fail_after_first) {
    EXPECT_THROW(box.Send(Pong(5)), chorus::Error) << "a broken stream takes no more messages";
  }
  return errors;
}

TEST(Outbox, WhatQueuedBehindABusyWriteGoesOutAsOneBatch) {
  Recorder rec;
  auto errors = SendBehindABusyWrite(rec, true);
  EXPECT_TRUE(errors.empty());
  ASSERT_EQ(rec.writes.size(), 2u);
  EXPECT_EQ(rec.writes[0].pong().nonce(), 1) << "a lone message goes out at once, unwrapped";
  ASSERT_TRUE(rec.writes[1].has_batch()) << rec.writes[1].DebugString();
  const auto& b = rec.writes[1].batch();
  ASSERT_EQ(b.messages_size(), 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(b.messages(i).pong().nonce(), i + 2) << "in the order queued";
}

TEST(Outbox, WithoutBatchesEveryMessageGoesOutAlone) {
  Recorder rec;
  auto errors = SendBehindABusyWrite(rec, false);
  EXPECT_TRUE(errors.empty());
  ASSERT_EQ(rec.writes.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_FALSE(rec.writes[i].has_batch());
    EXPECT_EQ(rec.writes[i].pong().nonce(), i + 1);
  }
}

TEST(Outbox, EverySenderInABrokenBatchGetsTheError) {
  Recorder rec;
  rec.fail_after_first = true;
  auto errors = SendBehindABusyWrite(rec, true);
  EXPECT_EQ(errors.size(), 3u) << "pongs 2, 3 and 4 were in the failed batch";
}

TEST(Outbox, SendAllIsOneWriteAndClosedOutboxRefuses) {
  std::vector<pb::ConnectRequest> writes;
  chorus::detail::Outbox box([&](const pb::ConnectRequest& m) {
    writes.push_back(m);
    return true;
  });
  box.set_batches(true);
  box.SendAll({Pong(1), Pong(2)});
  box.SendAll({Pong(3)});
  box.SendAll({});
  ASSERT_EQ(writes.size(), 2u);
  ASSERT_TRUE(writes[0].has_batch());
  EXPECT_EQ(writes[0].batch().messages_size(), 2);
  EXPECT_EQ(writes[1].pong().nonce(), 3);
  EXPECT_EQ(box.batches_written(), 1u);
  int closed = 0;
  box.Close([&] { ++closed; });
  box.Close([&] { ++closed; });
  EXPECT_EQ(closed, 1);
  EXPECT_THROW(box.Send(Pong(4)), chorus::Error);
}

TEST(Batches, HelloSaysTheWorkerAcceptsBatches) {
  TestAgent agent;
  chorus::Worker w(ConfigFor(agent, 1));
  w.Handle("echo", [](chorus::TaskContext& c) { return c.Output(c.payload()); });
  RunningWorker run(w);
  auto hello = agent.WaitHello();
  ASSERT_TRUE(hello);
  EXPECT_TRUE(hello->accepts_batches());
}

TEST(Batches, AssignmentsInABatchRunInOrder) {
  TestAgent agent;
  chorus::Worker w(ConfigFor(agent, 1));
  w.Handle("echo", [](chorus::TaskContext& c) { return c.Output(c.payload()); });
  RunningWorker run(w);
  ASSERT_TRUE(agent.WaitHello());
  std::vector<pb::AssignTask> tasks;
  for (int i = 1; i <= 5; ++i) tasks.push_back(MakeTask("t" + std::to_string(i), "echo", "p" + std::to_string(i)));
  ASSERT_TRUE(agent.AssignBatch(tasks));
  for (int i = 1; i <= 5; ++i) {
    auto m = NextOrFail(agent);
    ASSERT_TRUE(m.has_task_completed()) << m.DebugString();
    EXPECT_EQ(m.task_completed().task_id(), "t" + std::to_string(i)) << "capacity 1 runs them in batch order";
    EXPECT_EQ(m.task_completed().outputs(0).data().inline_(), "p" + std::to_string(i));
  }
  EXPECT_EQ(agent.batches_received(), 0) << "the Welcome did not accept batches";
}

TEST(Batches, CancelAfterItsAssignmentInOneBatchCancelsIt) {
  TestAgent agent;
  chorus::Worker w(ConfigFor(agent, 1));
  w.Handle("forever", [](chorus::TaskContext& c) {
    c.WaitCancelled(std::chrono::hours(1));
    c.ThrowIfCancelled();
    return c.Output("");
  });
  RunningWorker run(w);
  ASSERT_TRUE(agent.WaitHello());
  std::vector<pb::ConnectResponse> batch(2);
  *batch[0].mutable_assign_task() = MakeTask("t1", "forever", "");
  batch[1].mutable_cancel_task()->set_task_id("t1");
  batch[1].mutable_cancel_task()->set_reason("cancelled by the client");
  ASSERT_TRUE(agent.SendBatch(batch));
  auto m = NextOrFail(agent);
  ASSERT_TRUE(m.has_task_failed()) << m.DebugString();
  EXPECT_EQ(m.task_failed().task_id(), "t1");
  EXPECT_EQ(m.task_failed().message(), "cancelled by the client");
  EXPECT_FALSE(m.task_failed().retryable());
}

// The pongs to a batch of pings come in one batch when the agent's Welcome accepts batches, one by one
// when it does not.
TEST(Batches, PingsOfOneBatchAreAnsweredInOneBatchIfTheAgentTakesBatches) {
  for (bool accepts : {true, false}) {
    SCOPED_TRACE(accepts ? "the agent accepts batches" : "the agent takes no batches");
    TestAgent::Options opts;
    opts.accepts_batches = accepts;
    TestAgent agent(opts);
    chorus::Worker w(ConfigFor(agent, 1));
    w.Handle("echo", [](chorus::TaskContext& c) { return c.Output(c.payload()); });
    RunningWorker run(w);
    ASSERT_TRUE(agent.WaitHello());
    std::vector<pb::ConnectResponse> pings(3);
    for (int i = 0; i < 3; ++i) pings[i].mutable_ping()->set_nonce(i + 1);
    ASSERT_TRUE(agent.SendBatch(pings));
    for (int i = 0; i < 3; ++i) {
      auto m = NextOrFail(agent);
      ASSERT_TRUE(m.has_pong()) << m.DebugString();
      EXPECT_EQ(m.pong().nonce(), i + 1);
    }
    EXPECT_EQ(agent.batches_received(), accepts ? 1 : 0);
    EXPECT_EQ(agent.batched_messages_received(), accepts ? 3 : 0);
  }
}

TEST(Batches, RepliesInOneBatchReachTheirCalls) {
  TestAgent agent;
  chorus::Worker w(ConfigFor(agent, 2));
  w.Handle("make", [](chorus::TaskContext& c) { return c.Output(c.NewResults(1).at(0)); });
  RunningWorker run(w);
  ASSERT_TRUE(agent.WaitHello());
  ASSERT_TRUE(agent.AssignBatch({MakeTask("a", "make", ""), MakeTask("b", "make", "")}));
  std::vector<pb::ConnectResponse> replies;
  for (int i = 0; i < 2; ++i) {
    auto cr = NextOrFail(agent);
    ASSERT_TRUE(cr.has_create_results()) << cr.DebugString();
    pb::ConnectResponse r;
    r.mutable_create_results_reply()->set_call_id(cr.create_results().call_id());
    r.mutable_create_results_reply()->add_result_ids("r-" + cr.create_results().task_id());
    replies.push_back(r);
  }
  ASSERT_TRUE(agent.SendBatch(replies));
  std::set<std::string> outputs;
  for (int i = 0; i < 2; ++i) {
    auto m = NextOrFail(agent);
    ASSERT_TRUE(m.has_task_completed()) << m.DebugString();
    outputs.insert(m.task_completed().task_id() + "=" + m.task_completed().outputs(0).data().inline_());
  }
  EXPECT_EQ(outputs, (std::set<std::string>{"a=r-a", "b=r-b"}));
}

// A busy worker: many zero-work tasks at capacity 16, assigned in batches. Every outcome arrives
// exactly once whether or not it travelled in a batch; how many batches form depends on timing, so
// the test only reports it.
void RunBusy(bool accepts_batches) {
  constexpr int kTasks = 400;
  TestAgent::Options opts;
  opts.accepts_batches = accepts_batches;
  TestAgent agent(opts);
  chorus::Worker w(ConfigFor(agent, 16));
  w.Handle("echo", [](chorus::TaskContext& c) {
    c.Progress(0.5);
    return c.Output(c.payload());
  });
  RunningWorker run(w);
  ASSERT_TRUE(agent.WaitHello());
  for (int i = 0; i < kTasks; i += 16) {
    std::vector<pb::AssignTask> tasks;
    for (int j = i; j < i + 16; ++j) tasks.push_back(MakeTask("t" + std::to_string(j), "echo", std::to_string(j)));
    ASSERT_TRUE(agent.AssignBatch(tasks));
  }
  std::set<std::string> done;
  std::set<std::string> progressed;
  while (done.size() < static_cast<size_t>(kTasks)) {
    auto m = NextOrFail(agent);
    if (m.has_task_progress()) {
      EXPECT_TRUE(progressed.insert(m.task_progress().task_id()).second);
      continue;
    }
    ASSERT_TRUE(m.has_task_completed()) << m.DebugString();
    const auto& id = m.task_completed().task_id();
    EXPECT_TRUE(progressed.count(id)) << "progress of " << id << " came after its completion";
    EXPECT_EQ(m.task_completed().outputs(0).data().inline_(), id.substr(1));
    EXPECT_TRUE(done.insert(id).second) << id << " completed twice";
  }
  EXPECT_EQ(progressed.size(), static_cast<size_t>(kTasks));
  if (!accepts_batches) {
    EXPECT_EQ(agent.batches_received(), 0) << "the worker batched although the Welcome said no";
  } else if (auto first = agent.first_batch()) {
    EXPECT_GE(first->messages_size(), 2);
    for (const auto& m : first->messages()) {
      EXPECT_TRUE(m.has_task_completed() || m.has_task_progress()) << m.DebugString();
    }
  }
  ::testing::Test::RecordProperty("batches", agent.batches_received());
  ::testing::Test::RecordProperty("batched_messages", agent.batched_messages_received());
}

TEST(Batches, BusyWorkerReportsEveryOutcomeOnceInBatches) { RunBusy(true); }

TEST(Batches, BusyWorkerNeverBatchesWhenTheAgentTakesNoBatches) { RunBusy(false); }

}  // namespace
