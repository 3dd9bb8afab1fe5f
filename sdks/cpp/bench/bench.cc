// Zero-work throughput of the C++ SDK through the in-process test agent (a real gRPC server on a
// Unix socket). The agent keeps `capacity` tasks in flight and assigns the next one as soon as one
// completes, from its read thread. A raw loop on the generated stub (no SDK) gives the transport's own
// cost, so the SDK's per-task overhead is the difference.
//
// With batches on (Welcome.accepts_batches), the agent answers each read from the stream with one
// ResponseBatch holding an assignment per outcome it read, as the real agent does on a busy stream,
// and the worker sends the outcomes ready at once as one RequestBatch.
//
// Each row also gives the CPU time per task of this process (test agent and worker together), which
// a busy machine disturbs less than wall time.
//
// Usage: chorus_worker_bench [tasks per run, default 20000] [nobatch: skip the rows with batches]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <future>
#include <thread>

#include "chorus/worker.h"
#include "test_agent.h"

namespace {

using chorus::testing::ConfigFor;
using chorus::testing::MakeTask;
using chorus::testing::TestAgent;
namespace pb = chorus::worker::v1;
using Clock = std::chrono::steady_clock;

// CPU seconds this process used so far (every thread).
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Rate {
  double tasks_per_s = 0;
  double cpu_us_per_task = 0;
};

// Feeds `total` tasks, `capacity` in flight, and returns tasks/s once all completed. With batches,
// the assignments that answer one read from the stream go out as one ResponseBatch.
Rate Drive(TestAgent& agent, int capacity, int total, bool batches = false) {
  std::atomic<int> sent{0}, done{0};
  std::promise<void> finished;
  pb::ConnectResponse tmpl;
  *tmpl.mutable_assign_task() = MakeTask("t", "noop", "");
  tmpl.mutable_assign_task()->set_output_dir(agent.dir());
  auto next = [&](std::vector<pb::ConnectResponse>& out) {
    int i = sent.fetch_add(1);
    if (i >= total) return;
    pb::ConnectResponse m = tmpl;
    m.mutable_assign_task()->set_task_id("t" + std::to_string(i));
    m.mutable_assign_task()->set_expected_output_ids(0, "o" + std::to_string(i));
    out.push_back(std::move(m));
  };
  auto send = [&](std::vector<pb::ConnectResponse>& out) {
    if (out.size() == 1) {
      agent.Send(out[0]);
    } else if (out.size() > 1) {
      agent.SendBatch(out);
    }
  };
  agent.OnRead([&](const std::vector<pb::ConnectRequest>& msgs) {
    std::vector<pb::ConnectResponse> out;
    bool last = false;
    for (const auto& m : msgs) {
      if (!m.has_task_completed() && !m.has_task_failed()) continue;
      if (m.has_task_failed()) std::fprintf(stderr, "task failed: %s\n", m.task_failed().message().c_str());
      if (done.fetch_add(1) + 1 == total) {
        last = true;
        continue;
      }
      next(out);
      if (!batches) {
        send(out);
        out.clear();
      }
    }
    send(out);
    if (last) finished.set_value();
  });
  auto start = Clock::now();
  const double cpu0 = CpuSeconds();
  std::vector<pb::ConnectResponse> first;
  for (int i = 0; i < capacity; ++i) next(first);
  if (batches) {
    send(first);
  } else {
    for (auto& m : first) agent.Send(m);
  }
  finished.get_future().wait();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = CpuSeconds() - cpu0;
  agent.OnRead(nullptr);
  return Rate{total / secs, cpu * 1e6 / total};
}

struct SdkRun {
  Rate rate;
  int batches = 0;           // RequestBatch writes the agent read
  int batched_messages = 0;  // messages they carried
};

SdkRun RunSdk(int capacity, int total, bool batches) {
  TestAgent::Options opts;
  opts.accepts_batches = batches;
  TestAgent agent(opts);
  chorus::Worker w(ConfigFor(agent, capacity));
  w.Handle("noop", [](chorus::TaskContext& ctx) { return ctx.Output(""); });
  std::thread t([&] { w.Run(); });
  agent.WaitHello();
  Drive(agent, capacity, total / 10, batches);  // warm-up
  int b0 = agent.batches_received(), m0 = agent.batched_messages_received();
  SdkRun r;
  r.rate = Drive(agent, capacity, total, batches);
  r.batches = agent.batches_received() - b0;
  r.batched_messages = agent.batched_messages_received() - m0;
  w.Stop();
  t.join();
  return r;
}

// A worker without the SDK: one thread reading assignments and writing completions.
Rate RunRaw(int capacity, int total) {
  TestAgent agent;
  auto channel = grpc::CreateChannel("unix:" + agent.socket_path(), grpc::InsecureChannelCredentials());
  auto stub = pb::WorkerService::NewStub(channel);
  grpc::ClientContext ctx;
  auto stream = stub->Connect(&ctx);
  std::thread t([&] {
    pb::ConnectRequest hello;
    hello.mutable_hello()->set_token(agent.token());
    hello.mutable_hello()->set_capacity(capacity);
    stream->Write(hello);
    pb::ConnectResponse in;
    while (stream->Read(&in)) {
      if (!in.has_assign_task()) continue;
      pb::ConnectRequest out;
      auto* c = out.mutable_task_completed();
      c->set_task_id(in.assign_task().task_id());
      auto* o = c->add_outputs();
      o->set_result_id(in.assign_task().expected_output_ids(0));
      o->mutable_data()->set_inline_("");
      stream->Write(out);
    }
  });
  agent.WaitHello();
  Drive(agent, capacity, total / 10);
  Rate rate = Drive(agent, capacity, total);
  ctx.TryCancel();
  t.join();
  stream->Finish();
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  int total = argc > 1 ? std::atoi(argv[1]) : 20000;
  const bool with_batches = !(argc > 2 && std::strcmp(argv[2], "nobatch") == 0);
  std::printf("zero-work tasks through the in-process test agent, %d tasks per run; CPU = this process (agent + worker)\n",
              total);
  Rate raw1 = RunRaw(1, total);
  std::printf("raw stub (no SDK)     capacity  1: %8.0f tasks/s  (%6.1f us/task, CPU %6.1f us/task)\n", raw1.tasks_per_s,
              1e6 / raw1.tasks_per_s, raw1.cpu_us_per_task);
  Rate sdk1;
  for (bool batches : {false, true}) {
    if (batches && !with_batches) break;
    for (int cap : {1, 2, 4, 8, 16}) {
      SdkRun r = RunSdk(cap, total, batches);
      if (cap == 1 && !batches) sdk1 = r.rate;
      std::printf("C++ SDK %-10s capacity %2d: %8.0f tasks/s  (%6.1f us/task, CPU %6.1f us/task)",
                  batches ? "batches" : "no batches", cap, r.rate.tasks_per_s, 1e6 / r.rate.tasks_per_s,
                  r.rate.cpu_us_per_task);
      if (batches) std::printf("  %d of %d outcomes in %d batches", r.batched_messages, total, r.batches);
      std::printf("\n");
    }
  }
  std::printf("SDK overhead per task at capacity 1: %.1f us wall, %.1f us CPU\n",
              1e6 / sdk1.tasks_per_s - 1e6 / raw1.tasks_per_s, sdk1.cpu_us_per_task - raw1.cpu_us_per_task);
  return 0;
}
