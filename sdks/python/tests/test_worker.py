"""The worker SDK against a local agent speaking the real protocol over a real Unix socket.

Workers run in this process (LocalAgent.serve runs them in a thread); test_example_worker.py runs the
example worker as a separate process.
"""

import asyncio
import contextlib
import doctest
import hashlib
import os
import threading

import pytest

import chorus.worker.testing
from chorus import __version__
from chorus.worker import AgentError, PermanentError, RetryableError, Subtask, TaskOptions, Worker, WorkerError
from chorus.worker.testing import LocalAgent


@pytest.fixture
def agent():
    with LocalAgent() as a:
        yield a


def test_doctest_of_testing_module():
    failed, attempted = doctest.testmod(chorus.worker.testing, report=True)
    assert attempted > 0
    assert failed == 0


def test_hello_says_who_the_worker_is(agent):
    w = Worker(capacity=3)
    w.add_method("b", lambda ctx: None)
    w.add_method("a", lambda ctx: None)
    with agent.serve(w) as s:
        assert s.hello.token == agent.token
        assert s.hello.language == "python"
        assert s.hello.sdk_version == __version__ == "0.1.0"
        assert list(s.hello.methods) == ["a", "b"]
        assert s.hello.capacity == 3
        assert s.hello.pid == os.getpid()
    assert s.ended


def test_sync_and_async_handlers_return_outputs(agent):
    w = Worker()

    @w.method()
    def upper(ctx):
        return ctx.payload.upper()

    @w.method("aupper")
    async def aupper(ctx):
        await asyncio.sleep(0)
        return ctx.payload.upper()

    @w.method()
    def text(ctx):
        return "héllo"

    @w.method()
    async def two(ctx):
        a, b = ctx.expected_output_ids
        return {a: b"first", b: b"second"}

    @w.method()
    def nothing(ctx):
        return None

    with agent.serve(w) as s:
        assert s.run("upper", b"abc").outputs == {"task-1.out": b"ABC"}
        assert s.run("aupper", b"xyz").output == b"XYZ"
        assert s.run("text").output == "héllo".encode()
        o = s.run("two", expected_output_ids=["x", "y"])
        assert o.ok and o.outputs == {"x": b"first", "y": b"second"}
        o = s.run("nothing")
        assert o.ok and o.outputs == {}
        assert s.protocol_errors == []


def test_task_facts_reach_the_handler(agent):
    w = Worker()
    seen = {}

    @w.method()
    def facts(ctx):
        seen.update(task_id=ctx.task_id, session_id=ctx.session_id, method=ctx.method, attempt=ctx.attempt,
                    options=ctx.options, traceparent=ctx.traceparent, max_duration=ctx.max_duration,
                    expected=ctx.expected_output_ids, partition=ctx.partition, inputs=list(ctx.inputs.items()),
                    output_dir=ctx.output_dir)
        return b""

    tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with agent.serve(w) as s:
        o = s.run("facts", task_id="t9", session_id="sess", attempt=2, options={"k": "v"}, traceparent=tp,
                  max_duration=1.5, expected_output_ids=["o1"], inputs=[("b", b"2"), ("a", b"1")])
        assert o.ok
    assert seen == dict(task_id="t9", session_id="sess", method="facts", attempt=2, options={"k": "v"},
                        traceparent=tp, max_duration=1.5, expected=["o1"], partition="test",
                        inputs=[("b", b"2"), ("a", b"1")], output_dir=os.path.join(agent.work_dir, "tasks", "t9"))


def test_errors_become_task_failures(agent):
    w = Worker()

    @w.method()
    def boom(ctx):
        raise ValueError(ctx.payload.decode())

    @w.method()
    async def aboom(ctx):
        raise RetryableError("try again later")

    @w.method()
    def bad_input(ctx):
        raise PermanentError("line 3 of the deck is malformed")

    @w.method()
    def wrong_output(ctx):
        return {"not-mine": b"x"}

    @w.method()
    def two_outputs(ctx):
        return b"one value"

    with agent.serve(w) as s:
        # An uncaught exception is retryable by default: max_retries applies to it.
        o = s.run("boom", b"disk quota exceeded on /scratch")
        assert (o.ok, o.message, o.retryable) == (False, "disk quota exceeded on /scratch", True)
        o = s.run("aboom")
        assert (o.ok, o.message, o.retryable) == (False, "try again later", True)
        o = s.run("bad_input")
        assert (o.ok, o.message, o.retryable) == (False, "line 3 of the deck is malformed", False)
        o = s.run("nope")
        assert not o.ok and not o.retryable and "does not serve method 'nope'" in o.message
        o = s.run("wrong_output")
        assert not o.ok and "'not-mine', which is not an expected output" in o.message
        o = s.run("two_outputs", expected_output_ids=["a", "b"])
        assert not o.ok and "expects 2 outputs" in o.message
        long = s.run("boom", b"x" * 10000)
        assert len(long.message) == 4096


def test_progress_is_reported_in_order(agent):
    w = Worker()

    @w.method()
    def steps(ctx):
        for i in range(1, 5):
            ctx.progress(i / 4, f"step {i}")
        return b"done"

    @w.method()
    async def asteps(ctx):
        ctx.progress(0.5, "half")
        return b"done"

    @w.method()
    def bad(ctx):
        ctx.progress(1.5)

    with agent.serve(w) as s:
        assert s.run("steps").progress == [(0.25, "step 1"), (0.5, "step 2"), (0.75, "step 3"), (1.0, "step 4")]
        assert s.run("asteps").progress == [(0.5, "half")]
        o = s.run("bad")
        assert "between 0 and 1" in o.message and o.progress == []


def test_large_data_travels_as_files(agent):
    w = Worker()
    big = os.urandom(16 << 20)

    @w.method()
    def digest(ctx):
        assert ctx.payload_path is not None
        ins = ctx.inputs
        assert ins.path("small") is None and ins.path("large") is not None
        return {"d": hashlib.sha256(ctx.payload).hexdigest(), "copy": ins["large"] + ins["small"]}

    with agent.serve(w) as s:
        o = s.run("digest", big, inputs=[("large", big), ("small", b"!")], expected_output_ids=["d", "copy"])
        assert o.ok, o.message
        assert o.outputs["d"] == hashlib.sha256(big).hexdigest().encode()
        assert o.outputs["copy"] == big + b"!"
        assert "d" not in o.output_paths  # small: inline
        path = o.output_paths["copy"]
        assert os.path.dirname(path) == os.path.join(agent.work_dir, "tasks", o.task_id)


def test_inline_limit_comes_from_welcome():
    w = Worker()
    w.add_method("echo", lambda ctx: ctx.payload)
    with LocalAgent(inline_limit=10) as agent, agent.serve(w) as s:
        assert s.run("echo", b"0123456789").output_paths == {}
        o = s.run("echo", b"0123456789a")
        assert o.output == b"0123456789a" and list(o.output_paths) == [f"{o.task_id}.out"]


def test_results_and_subtasks(agent):
    w = Worker()

    @w.method()
    def graph(ctx):
        part = ctx.create_result()
        named = ctx.create_result(b"data", result_id="mine")
        more = ctx.create_results([(None, b"x" * 100), ("n2", None)])
        t1 = ctx.submit("sha256", b"0", expected_output_ids=[part],
                        options=TaskOptions(partition="cpu", priority=7, max_retries=2, max_duration=2.5,
                                            options={"a": "b"}))
        ids = ctx.submit_many([Subtask("concat", data_dependencies=[part, named], options={"k": "v"},
                                       expected_output_ids=ctx.expected_output_ids)])
        return None if [t1] + ids else b"unreachable"

    @w.method()
    async def agraph(ctx):
        rid = await ctx.create_result(b"async")
        tid = await ctx.submit("echo", b"p", data_dependencies=[rid])
        return tid.encode()

    with LocalAgent(inline_limit=50) as agent2, agent2.serve(w) as s:
        o = s.run("graph")
        assert o.ok and o.outputs == {}, o.message
        assert o.created == [("r-2", None), ("mine", b"data"), ("r-3", b"x" * 100), ("n2", None)]
        (t1, sub1), (t2, sub2) = o.subtasks
        assert (t1, t2) == ("t-4", "t-5")
        assert sub1.method == "sha256" and sub1.payload.inline == b"0"
        assert list(sub1.expected_output_ids) == ["r-2"]
        assert sub1.options.partition == "cpu" and sub1.options.priority == 7 and sub1.options.max_retries == 2
        assert sub1.options.max_duration.ToNanoseconds() == 2_500_000_000 and dict(sub1.options.options) == {"a": "b"}
        assert sub2.method == "concat" and list(sub2.data_dependencies) == ["r-2", "mine"]
        assert list(sub2.expected_output_ids) == [f"{o.task_id}.out"]
        assert not sub2.options.HasField("priority") and dict(sub2.options.options) == {"k": "v"}
        o = s.run("agraph")
        assert o.ok and o.created == [("r-7", b"async")] and o.output == b"t-8"
        assert list(o.subtasks[0][1].data_dependencies) == ["r-7"]


def test_refused_call_fails_the_task(agent):
    w = Worker()

    @w.method()
    def sub(ctx):
        ctx.submit("echo")

    @w.method()
    def guarded(ctx):
        try:
            ctx.create_result()
        except AgentError as e:
            return str(e)

    with agent.serve(w) as s:
        s.refuse_calls = "session s-1 is closed"
        o = s.run("sub")
        assert (o.ok, o.message, o.retryable) == (False, "the agent refused to submit subtasks: session s-1 is closed", False)
        s.refuse_calls = "too many results"
        assert s.run("guarded").output == b"the agent refused to create results: too many results"


def _forever(ctx):
    """A handler that reports it started, then sleeps until it is cancelled."""
    ctx.progress(0, "started")
    ctx.sleep(3600)


def _started(s, task_id):
    return lambda _: any(m == "started" for _, m in s.live(task_id).progress)


@contextlib.contextmanager
def _forever_started(agent):
    """Serves a worker with one task, which has started and runs until it is cancelled; yields the
    served worker and the task's id."""
    w = Worker()
    w.add_method("forever", _forever)
    with agent.serve(w) as s:
        tid = s.assign("forever")
        s.wait_for(_started(s, tid))
        yield s, tid


def test_cancel_reaches_sync_and_async_handlers(agent):
    w = Worker(capacity=2)

    @w.method()
    def wait(ctx):
        ctx.progress(0, "started")
        ctx.sleep(3600)
        return b"slept"

    @w.method()
    async def await_(ctx):
        ctx.progress(0, "started")
        await asyncio.sleep(3600)
        return b"slept"

    @w.method()
    def quick(ctx):
        return ctx.payload

    @w.method()
    def poll(ctx):
        ctx.progress(0, "started")
        ctx.cancelled.wait()
        return b"ignored output of a cancelled task"

    with agent.serve(w) as s:
        for method in ("wait", "await_", "poll"):
            tid = s.assign(method)
            s.wait_for(_started(s, tid))
            s.cancel(tid, "cancelled by the client")
            o = s.outcome(tid)
            assert (o.ok, o.message, o.retryable) == (False, "cancelled: cancelled by the client", True)
        s.cancel("task-1")  # cancelling a finished task changes nothing
        assert s.run("quick", b"after").output == b"after"  # the slots are free again
        assert s.protocol_errors == []


def test_capacity_runs_sync_handlers_concurrently(agent):
    w = Worker(capacity=4)
    barrier = threading.Barrier(4, timeout=30)
    lock = threading.Lock()
    running = [0, 0]

    @w.method()
    def meet(ctx):
        with lock:
            running[0] += 1
            running[1] = max(running)
        barrier.wait()  # passes only if 4 handlers run at once
        with lock:
            running[0] -= 1
        return b"met"

    with agent.serve(w) as s:
        ids = [s.assign("meet") for _ in range(8)]
        assert all(s.outcome(t).output == b"met" for t in ids)
    assert running[1] == 4


def test_capacity_runs_async_handlers_concurrently(agent):
    w = Worker(capacity=5)
    state = {"now": 0, "max": 0}

    @w.method()
    async def meet(ctx):
        state["now"] += 1
        state["max"] = max(state["max"], state["now"])
        while state["max"] < 5:  # wait until all five run at once
            await asyncio.sleep(0.001)
        state["now"] -= 1
        return b"met"

    with agent.serve(w) as s:
        ids = [s.assign("meet") for _ in range(5)]
        assert all(s.outcome(t).output == b"met" for t in ids)
    assert state["max"] == 5


def test_capacity_bounds_tasks_beyond_it(agent):
    # An agent must not send more than capacity; if it does, the worker queues them.
    w = Worker(capacity=2)
    lock = threading.Lock()
    running = [0, 0]
    release = threading.Event()

    @w.method()
    def hold(ctx):
        with lock:
            running[0] += 1
            running[1] = max(running)
        release.wait(30)
        with lock:
            running[0] -= 1
        return b""

    with agent.serve(w) as s:
        ids = [s.assign("hold") for _ in range(5)]
        release.set()
        assert all(s.outcome(t).ok for t in ids)
    assert running[1] <= 2


def test_drain_lets_running_tasks_finish(agent):
    w = Worker()
    go = threading.Event()

    @w.method()
    def work(ctx):
        ctx.progress(0, "started")
        go.wait(30)
        return b"finished"

    with agent.serve(w) as s:
        tid = s.assign("work")
        s.wait_for(_started(s, tid))
        s.drain(grace=60)
        go.set()
        assert s.outcome(tid).output == b"finished"
        s.wait_ended()


def test_drain_past_grace_cancels_running_tasks(agent):
    with _forever_started(agent) as (s, tid):
        s.drain(grace=0.2)
        o = s.outcome(tid)
        assert not o.ok and o.retryable
        assert o.message == "cancelled: the worker is draining and its grace period of 0.2s ran out"
        s.wait_ended()


def test_ping_is_answered(agent):
    w = Worker()
    w.add_method("echo", lambda ctx: ctx.payload)
    with agent.serve(w) as s:
        s.ping(42)
        assert s.pongs.get(timeout=30) == 42


def test_agent_ending_the_stream_stops_the_worker(agent):
    with _forever_started(agent) as (s, _):
        s.close()  # serve() returns without error: the worker left cleanly


def test_wrong_token_is_a_clear_error(agent):
    w = Worker()
    w.add_method("echo", lambda ctx: ctx.payload)
    with pytest.raises(WorkerError, match="refused this worker .*wrong worker token.*CHORUS_WORKER_TOKEN"):
        w.serve(agent.socket_path, "not-the-token")


def test_missing_socket_is_a_clear_error(tmp_path):
    w = Worker()
    w.add_method("echo", lambda ctx: ctx.payload)
    with pytest.raises(WorkerError, match="does not exist: is the agent running"):
        w.serve(str(tmp_path / "nope.sock"), "t")
    dead = tmp_path / "dead.sock"
    dead.write_bytes(b"")  # a path that exists but where nothing listens
    with pytest.raises(WorkerError, match="cannot reach the agent at unix:"):
        w.serve(str(dead), "t")


def test_registration_rules():
    w = Worker()
    w.add_method("a", lambda ctx: None)
    with pytest.raises(ValueError, match="already registered"):
        w.add_method("a", lambda ctx: None)
    with pytest.raises(ValueError, match="at least 1"):
        Worker(capacity=0)
    with pytest.raises(WorkerError, match="no method is registered"):
        Worker().serve("/nonexistent", "t")
