"""Batches on the worker stream: the agent's ResponseBatch in, the worker's RequestBatch out."""

import threading

from chorus.worker import Worker
from chorus.worker.testing import LocalAgent


def echo_worker(capacity: int) -> Worker:
    w = Worker(capacity=capacity)

    @w.method("aecho")
    async def aecho(ctx):
        return ctx.payload

    barrier = threading.Barrier(capacity, timeout=30)

    @w.method("together")
    def together(ctx):
        barrier.wait()  # every task of the batch runs at once on its own thread
        return ctx.payload

    return w


def test_hello_announces_batches():
    with LocalAgent() as agent, agent.serve(echo_worker(2)) as s:
        assert s.hello.accepts_batches


def test_a_batch_of_assignments_runs_every_task_and_answers_its_ping():
    with LocalAgent() as agent, agent.serve(echo_worker(8)) as s:
        with s.batch():
            ids = [s.assign("together", str(i).encode()) for i in range(8)]
            s.ping(42)
        for i, tid in enumerate(ids):
            o = s.outcome(tid)
            assert o.ok, o.message
            assert o.output == str(i).encode()
        assert s.pongs.get(timeout=30) == 42
        assert s.max_in_flight == 8
    assert not s.protocol_errors


def test_outcomes_ready_together_travel_as_one_batch():
    # The async handlers of one batch of assignments all finish in the same turn of the event loop,
    # so the writer finds their outcomes queued together.
    with LocalAgent() as agent, agent.serve(echo_worker(8)) as s:
        with s.batch():
            ids = [s.assign("aecho", str(i).encode()) for i in range(8)]
        for i, tid in enumerate(ids):
            assert s.outcome(tid).output == str(i).encode()
        assert s.messages_received == 8
        assert s.reads == 1
    assert not s.protocol_errors


def test_no_batches_for_an_agent_that_does_not_accept_them():
    with LocalAgent(batches=False) as agent, agent.serve(echo_worker(8)) as s:
        with s.batch():  # the worker accepts batches: the agent may still send them
            ids = [s.assign("aecho", str(i).encode()) for i in range(8)]
        for tid in ids:
            assert s.outcome(tid).ok
        assert s.reads == s.messages_received == 8
    assert not s.protocol_errors
