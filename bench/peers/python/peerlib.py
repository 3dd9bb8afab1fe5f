"""Shared helpers of the Python peer benchmarks: a private valkey-server, latency summaries, results.

The result file has the shape `chorus bench` merges into its report (internal/bench/results,
Peer): system, version, setup, throughput {tasks, clients, wall_s, tasks_per_s} and latency
[{name, batch, tasks, submit, end_to_end}] with distributions in milliseconds.
"""

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

MODES = [("one at a time", 1, 200, 1000), ("batches of 10", 10, 500, 3000), ("batches of 100", 100, 1000, 10000)]
CLIENTS = 16


def utilization_plan(full):
    """(slots, [(task_ms, tasks)]): the same sizes as chorus bench's utilization scenario."""
    slots = 200 if full else 50
    per_slot = [(100, 50 if full else 20), (1000, 20 if full else 5)]
    return slots, [(ms, slots * n) for ms, n in per_slot]


def utilization_result(task_ms, slots, spans):
    """Utilization from the (start, end) wall-clock times the tasks measured themselves."""
    busy = sum(e - s for s, e in spans)
    wall = max(e for _, e in spans) - min(s for s, _ in spans)
    return {"task_ms": task_ms, "tasks": len(spans), "slots": slots, "busy_s": busy, "wall_s": wall,
            "utilization": busy / (slots * wall) if wall > 0 else 0}


def latency(system, full, submit, finished):
    """The latency modes of one peer. submit(batch) sends a batch of no-op tasks and returns what
    finished takes; finished(that) yields once as each task of the batch completes (and raises if one
    failed)."""
    out = []
    for name, batch, quick, long in MODES:
        n = long if full else quick
        submits, e2e = [], []
        for _ in range(0, n, batch):
            t0 = time.perf_counter()
            sent = submit(batch)
            took = time.perf_counter() - t0
            for _ in finished(sent):
                e2e.append(time.perf_counter() - t0)
                submits.append(took)
        out.append({"name": name, "batch": batch, "tasks": len(e2e), "submit": dist(submits), "end_to_end": dist(e2e)})
        log(system, "latency", name, "e2e p50 ms", round(out[-1]["end_to_end"]["p50_ms"], 2))
    return out


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Valkey:
    """A private valkey-server on a free loopback port, AOF on (appendfsync everysec) like Chorus's."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="peer-valkey-")
        self.port = free_port()
        binary = shutil.which("valkey-server") or "/usr/bin/valkey-server"
        self.proc = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", self.dir, "--appendonly", "yes",
             "--save", "", "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as c:
                    c.sendall(b"PING\r\n")
                    if c.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        self.close()
        raise RuntimeError(f"valkey-server did not answer on port {self.port} within 15s")

    def url(self, db=0):
        return f"redis://127.0.0.1:{self.port}/{db}"

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def dist(seconds):
    """Distribution of durations (seconds) in milliseconds, like bench.Dist."""
    v = sorted(x * 1000 for x in seconds)
    if not v:
        return {"n": 0}

    def q(p):
        return v[max(0, min(len(v) - 1, math.ceil(p * len(v)) - 1))]

    return {"n": len(v), "min_ms": v[0], "p50_ms": q(0.5), "p90_ms": q(0.9), "p99_ms": q(0.99), "max_ms": v[-1],
            "mean_ms": sum(v) / len(v)}


def write_result(path, result):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    log("wrote", path)


def run_clients(system, tasks, submit_and_wait):
    """Spreads `tasks` over CLIENTS threads, each calling submit_and_wait(n) for its share, and returns
    the throughput result. The first error of any client is raised."""
    import threading

    errors = []

    def client(n):
        try:
            submit_and_wait(n)
        except Exception as e:  # reported after every client has finished
            errors.append(e)

    threads = [threading.Thread(target=client, args=(tasks // CLIENTS + (1 if i < tasks % CLIENTS else 0),)) for i in range(CLIENTS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        raise errors[0]
    log(system + " throughput", tasks, "tasks in", round(wall, 2), "s:", round(tasks / wall), "tasks/s")
    return {"tasks": tasks, "clients": CLIENTS, "wall_s": wall, "tasks_per_s": tasks / wall}


def exit_now(code):
    """Flushes the output and ends the process with code at once, without finalizers or atexit hooks:
    the peers' client libraries keep reconnecting to their stopped servers from background threads
    (Celery's result consumer, Dask's client), which would hold the exit up."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
