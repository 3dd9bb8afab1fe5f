"""Zero-work throughput of a Python worker process through the local test agent, and the SDK's per-task
overhead.

    .venv/bin/python sdks/python/bench/bench_worker.py [--tasks 20000]

Runs one worker process per case against a lean asyncio agent speaking the worker protocol on a Unix
socket, and keeps at most `capacity` empty `echo` tasks in flight on its stream (the agent's rule). Cases: the SDK with a sync handler, the SDK with an async handler, and a bare worker
written directly on grpc.aio and the generated stubs (no SDK), whose time per task is the cost of the test agent and
gRPC alone. SDK overhead per task = time per task (SDK, capacity 1) - time per task (bare, capacity 1).

The lean agent batches as the real one does with a worker that accepts batches (the SDK does; the
bare worker does not): the tasks that replace the outcomes of one batch go out as one batch.
"""

import argparse
import asyncio
import os
import sys
import tempfile
import time

import grpc

from chorus.worker.v1 import worker_pb2 as pb
from chorus.worker.v1 import worker_service_pb2_grpc as pb_grpc


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
    """A worker without the SDK: one grpc.aio stream, each AssignTask answered at once in the reading
    coroutine (the floor for a Python worker on grpcio)."""

    async def serve() -> None:
        async with grpc.aio.insecure_channel("unix:" + os.environ["CHORUS_AGENT_SOCKET"]) as ch:
            call = pb_grpc.WorkerServiceStub(ch).Connect()
            await call.write(pb.ConnectRequest(hello=pb.Hello(
                token=os.environ["CHORUS_WORKER_TOKEN"], language="python-bare", methods=["echo"],
                capacity=int(os.environ["CHORUS_WORKER_CAPACITY"]), pid=os.getpid())))
            while (r := await call.read()) is not grpc.aio.EOF:
                kind = r.WhichOneof("message")
                if kind == "assign_task":
                    a = r.assign_task
                    await call.write(pb.ConnectRequest(task_completed=pb.TaskCompleted(task_id=a.task_id, outputs=[
                        pb.Output(result_id=a.expected_output_ids[0], data=a.payload)])))
                elif kind == "drain":
                    await call.done_writing()

    asyncio.run(serve())


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class LeanAgent(pb_grpc.WorkerServiceServicer):
    """A minimal agent for throughput: one asyncio coroutine per stream, a reused AssignTask message,
    `capacity` tasks in flight, the next one sent as each ends (LocalAgent's per-task bookkeeping costs more
    than the worker itself, so it is not used here)."""

    def __init__(self, token: str, work_dir: str, warmup: int, tasks: int):
        self.token, self.work_dir, self.warmup, self.tasks = token, work_dir, warmup, tasks
        self.pid = 0
        self.result: "asyncio.Future" = asyncio.get_running_loop().create_future()

    async def Connect(self, request_iterator, context):
        first = await context.read()
        if first.hello.token != self.token:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "wrong worker token")
        cap = first.hello.capacity
        batches = first.hello.accepts_batches
        await context.write(pb.ConnectResponse(welcome=pb.Welcome(
            agent_id="bench", worker_id="w", work_dir=self.work_dir, inline_limit_bytes=64 << 10,
            accepts_batches=True)))
        msg = pb.ConnectResponse(assign_task=pb.AssignTask(
            session_id="s", method="echo", payload=pb.Data(inline=b""), expected_output_ids=["o"], attempt=1,
            output_dir=self.work_dir, partition="bench"))
        total = self.warmup + self.tasks
        sent = done = 0
        in_flight = max_in_flight = 0
        start = cpu0 = 0.0
        def assignments(n: int) -> list:
            nonlocal sent, in_flight, max_in_flight
            out = []
            for _ in range(min(n, total - sent)):
                msg.assign_task.task_id = str(sent)
                m = pb.ConnectResponse()
                m.CopyFrom(msg)
                out.append(m)
                sent += 1
                in_flight += 1
            max_in_flight = max(max_in_flight, in_flight)
            return out

        async def write(msgs: list) -> None:
            if batches and len(msgs) > 1:
                await context.write(pb.ConnectResponse(batch=pb.ResponseBatch(messages=msgs)))
                return
            for m in msgs:
                await context.write(m)

        await write(assignments(cap))
        while done < total:
            m = await context.read()
            msgs = m.batch.messages if m.WhichOneof("message") == "batch" else [m]
            ended = 0
            for m in msgs:
                kind = m.WhichOneof("message")
                if kind == "task_failed":
                    raise RuntimeError(f"task failed: {m.task_failed.message}")
                if kind != "task_completed":
                    continue
                done += 1
                ended += 1
                in_flight -= 1
                if done == self.warmup:
                    start, cpu0 = time.perf_counter(), cpu_seconds(self.pid)
            if ended:
                await write(assignments(ended))
        elapsed, cpu = time.perf_counter() - start, cpu_seconds(self.pid) - cpu0
        assert max_in_flight <= cap
        self.result.set_result((self.tasks / elapsed, cpu / self.tasks * 1e6))
        await context.write(pb.ConnectResponse(drain=pb.Drain()))
        while await context.read() is not grpc.aio.EOF:
            pass


async def measure(kind: str, capacity: int, tasks: int) -> tuple[float, float]:
    """Returns (tasks/s, worker CPU µs per task)."""
    with tempfile.TemporaryDirectory(prefix="chorus-bench-") as tmp:
        sock = os.path.join(tmp, "agent.sock")
        server = grpc.aio.server()
        agent = LeanAgent("bench-token", tmp, warmup=min(1000, tasks), tasks=tasks)
        pb_grpc.add_WorkerServiceServicer_to_server(agent, server)
        server.add_insecure_port("unix:" + sock)
        await server.start()
        env = dict(os.environ, CHORUS_AGENT_SOCKET=sock, CHORUS_WORKER_TOKEN="bench-token",
                   CHORUS_WORKER_CAPACITY=str(capacity))
        proc = await asyncio.create_subprocess_exec(sys.executable, __file__, "--serve", kind, env=env)
        agent.pid = proc.pid
        try:
            return await asyncio.wait_for(agent.result, 600)
        finally:
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except asyncio.TimeoutError:
                proc.kill()
            await server.stop(None)


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
            rates[kind, cap], cpus[kind, cap] = r, c = asyncio.run(measure(kind, cap, args.tasks))
            print(f"{kind:5s} capacity {cap}: {r:6.0f} tasks/s ({1e6 / r:6.1f} µs/task wall), "
                  f"worker CPU {c:6.1f} µs/task", flush=True)
    for kind in ("sync", "async"):
        for cap in (1, 8):
            print(f"SDK overhead, {kind} handler, capacity {cap}: "
                  f"{1e6 / rates[kind, cap] - 1e6 / rates['bare', cap]:+7.1f} µs/task wall, "
                  f"{cpus[kind, cap] - cpus['bare', cap]:+7.1f} µs/task worker CPU (vs the bare worker)")

if __name__ == "__main__":
    main()
