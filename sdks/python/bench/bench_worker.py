"""Zero-work throughput of a Python worker process through the local test agent, and the SDK's per-task
overhead.

    .venv/bin/python sdks/python/bench/bench_worker.py [--tasks 20000]

Runs one worker process per case and keeps at most `capacity` empty `echo` tasks in flight on its stream
(the agent's rule). Cases: the SDK with a sync handler, the SDK with an async handler, and a bare worker
written directly on the generated stubs (no SDK), whose time per task is the cost of the test agent and
gRPC alone. SDK overhead per task = time per task (SDK, capacity 1) - time per task (bare, capacity 1).
"""

import argparse
import os
import subprocess
import sys
import time

from chorus.worker.testing import LocalAgent


def serve_sdk(kind: str) -> None:
    from chorus.worker import Worker

    w = Worker()
    if kind == "async":
        @w.method("echo")
        async def echo(ctx):
            return ctx.payload
    else:
        @w.method("echo")
        def echo(ctx):
            return ctx.payload
    w.run()


def serve_bare() -> None:
    """A worker without the SDK: one blocking stream, answers each AssignTask at once."""
    import queue

    import grpc

    from chorus.worker.v1 import worker_pb2 as pb
    from chorus.worker.v1 import worker_service_pb2_grpc as pb_grpc

    out: "queue.Queue" = queue.Queue()
    out.put(pb.ConnectRequest(hello=pb.Hello(token=os.environ["CHORUS_WORKER_TOKEN"], language="python-bare",
                                             methods=["echo"], capacity=int(os.environ["CHORUS_WORKER_CAPACITY"]),
                                             pid=os.getpid())))

    def requests():
        while (m := out.get()) is not None:
            yield m

    with grpc.insecure_channel("unix:" + os.environ["CHORUS_AGENT_SOCKET"]) as ch:
        for r in pb_grpc.WorkerServiceStub(ch).Connect(requests()):
            kind = r.WhichOneof("message")
            if kind == "assign_task":
                a = r.assign_task
                out.put(pb.ConnectRequest(task_completed=pb.TaskCompleted(task_id=a.task_id, outputs=[
                    pb.Output(result_id=a.expected_output_ids[0], data=a.payload)])))
            elif kind == "drain":
                out.put(None)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(kind: str, capacity: int, tasks: int) -> tuple[float, float]:
    """Returns (tasks/s, worker CPU µs per task)."""
    with LocalAgent() as agent:
        proc = subprocess.Popen([sys.executable, __file__, "--serve", kind], env=agent.env(capacity))
        try:
            s = agent.accept()
            for _ in range(min(200, tasks)):  # warm up
                s.run("echo")
            while not s.finished.empty():
                s.finished.get()
            start, cpu0 = time.perf_counter(), cpu_seconds(proc.pid)
            sent = done = 0
            while sent < min(capacity, tasks):
                s.assign("echo", task_id=f"b{sent}")
                sent += 1
            while done < tasks:
                s.finished.get(timeout=60)
                done += 1
                if sent < tasks:
                    s.assign("echo", task_id=f"b{sent}")
                    sent += 1
            elapsed, cpu = time.perf_counter() - start, cpu_seconds(proc.pid) - cpu0
            assert s.max_in_flight <= capacity
            s.drain()
            s.wait_ended()
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        return tasks / elapsed, cpu / tasks * 1e6


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tasks", type=int, default=20000)
    p.add_argument("--serve", choices=["sync", "async", "bare"], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve == "bare":
        return serve_bare()
    if args.serve:
        return serve_sdk(args.serve)
    rates, cpus = {}, {}
    for kind in ("bare", "sync", "async"):
        for cap in (1, 8):
            rates[kind, cap], cpus[kind, cap] = r, c = measure(kind, cap, args.tasks)
            print(f"{kind:5s} capacity {cap}: {r:6.0f} tasks/s ({1e6 / r:6.1f} µs/task wall), "
                  f"worker CPU {c:6.1f} µs/task", flush=True)
    for kind in ("sync", "async"):
        for cap in (1, 8):
            print(f"SDK overhead, {kind} handler, capacity {cap}: "
                  f"{1e6 / rates[kind, cap] - 1e6 / rates['bare', cap]:+7.1f} µs/task wall, "
                  f"{cpus[kind, cap] - cpus['bare', cap]:+7.1f} µs/task worker CPU (vs the bare worker)")

if __name__ == "__main__":
    main()
