"""The example worker (workers/python/worker.py) as a separate process, as the agent launches it: the
conformance methods with exact bytes, cancellation, capacity from the environment, drain, start errors."""

import contextlib
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chorus.worker.testing import LocalAgent

EXAMPLE = Path(__file__).resolve().parents[3] / "workers" / "python" / "worker.py"


def start(env):
    return subprocess.Popen([sys.executable, str(EXAMPLE)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@contextlib.contextmanager
def running(env):
    """The example worker as a process with env. When the block ends it must have exited with status 0;
    it is killed if it still runs."""
    proc = start(env)
    try:
        yield proc
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.fixture
def agent():
    with LocalAgent() as a:
        yield a


@pytest.fixture
def worker(agent):
    """The example worker at capacity 2, connected; yields its stream and checks it exits 0 on drain."""
    with running(agent.env(capacity=2)):
        stream = agent.accept()
        yield stream
        stream.drain(grace=30)
        stream.wait_ended()


def test_hello(worker):
    assert worker.hello.language == "python"
    assert sorted(worker.hello.methods) == ["concat", "echo", "fail", "fanout", "flaky", "sha256", "sleep"]
    assert worker.hello.capacity == 2


def test_echo_and_sha256(worker):
    assert worker.run("echo", b"hello \x00 world").output == b"hello \x00 world"
    assert worker.run("echo", b"").output == b""
    assert worker.run("sha256", b"abc").output == \
        b"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    big = os.urandom(16 << 20)
    o = worker.run("echo", big)
    assert o.output == big and o.output_paths  # 16 MiB travels as files both ways
    assert worker.run("sha256", big).output == hashlib.sha256(big).hexdigest().encode()


def test_fail_message_reaches_the_agent_unchanged(worker):
    o = worker.run("fail", "the input deck is malformed: line 3 — ünïcode".encode())
    assert (o.ok, o.message, o.retryable) == (False, "the input deck is malformed: line 3 — ünïcode", False)


def test_flaky_fails_retryably_then_succeeds(worker):
    o = worker.run("flaky", b"x", attempt=1)
    assert (o.ok, o.retryable) == (False, True)
    assert worker.run("flaky", b"x", attempt=2).output == b"x"


def test_sleep_and_its_cancellation(worker):
    assert worker.run("sleep", b"5").output == b"5"
    assert "not a non-negative whole number" in worker.run("sleep", b"soon").message
    tid = worker.assign("sleep", b"3600000")
    worker.ping(7)  # the worker is live and serving while the sleep runs
    assert worker.pongs.get(timeout=30) == 7
    worker.cancel(tid, "timed out after 1s")
    o = worker.outcome(tid)
    assert (o.ok, o.message, o.retryable) == (False, "cancelled: timed out after 1s", True)


def test_fanout_hands_its_output_to_the_reducer(worker):
    n = 12
    o = worker.run("fanout", str(n).encode(), expected_output_ids=["fan.out"])
    assert o.ok and o.outputs == {}, o.message  # the reducer completes fan.out, not fanout
    parts = [rid for rid, data in o.created]
    assert len(parts) == n and all(data is None for _, data in o.created)
    subs = [s for _, s in o.subtasks]
    assert len(subs) == n + 1
    for i, s in enumerate(subs[:n]):
        assert (s.method, s.payload.inline, list(s.expected_output_ids)) == ("sha256", str(i).encode(), [parts[i]])
    reducer = subs[n]
    assert reducer.method == "concat"
    assert list(reducer.data_dependencies) == parts
    assert list(reducer.expected_output_ids) == ["fan.out"]
    # Run the graph as an agent would: the sha256 subtasks, then the reducer on their outputs.
    digests = [worker.run(s.method, s.payload.inline, expected_output_ids=list(s.expected_output_ids)).output
               for s in subs[:n]]
    c = worker.run("concat", inputs=list(zip(parts, digests)), expected_output_ids=["fan.out"])
    assert c.outputs == {"fan.out": b"".join(hashlib.sha256(str(i).encode()).hexdigest().encode() for i in range(n))}


def test_capacity_comes_from_the_environment(agent):
    with running(agent.env(capacity=3)):
        s = agent.accept()
        assert s.hello.capacity == 3
        ids = [s.assign("sleep", b"3600000") for _ in range(3)]
        s.ping(1)
        assert s.pongs.get(timeout=30) == 1
        s.drain(grace=0.5)  # the sleeps outlive the grace: cancelled, reported retryable, then exit 0
        for t in ids:
            o = s.outcome(t)
            assert not o.ok and o.retryable and "grace period" in o.message
        s.wait_ended()


def test_missing_environment_is_a_clear_error():
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHORUS_")}
    proc = start(env)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "CHORUS_AGENT_SOCKET and CHORUS_WORKER_TOKEN not set" in err


def test_bad_capacity_is_a_clear_error(agent):
    proc = start(agent.env() | {"CHORUS_WORKER_CAPACITY": "many"})
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "CHORUS_WORKER_CAPACITY='many' is not a whole number" in err


def test_unreachable_agent_is_a_clear_error(tmp_path):
    env = dict(os.environ, CHORUS_AGENT_SOCKET=str(tmp_path / "gone.sock"), CHORUS_WORKER_TOKEN="t")
    proc = start(env)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert f"the agent's socket {tmp_path / 'gone.sock'} does not exist" in err


def test_sigterm_cancels_running_tasks_and_leaves(agent):
    with running(agent.env()) as proc:
        s = agent.accept()
        tid = s.assign("sleep", b"3600000")
        s.ping(3)
        assert s.pongs.get(timeout=30) == 3
        proc.terminate()
        o = s.outcome(tid)
        assert (o.ok, o.message, o.retryable) == (False, "cancelled: the worker received SIGTERM", True)
        s.wait_ended()
