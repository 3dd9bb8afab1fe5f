"""The asyncio client (chorus.aio) against a real Chorus (`bin/chorus dev`, Go worker in partition "go")."""

import asyncio
import doctest
import os

import pytest

import chorus.aio
from chorus.aio import AbortedError, ChorusError, Client, TaskResult


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


def test_module_example_runs(dev_stack):
    result = doctest.testmod(chorus.aio, extraglobs={"ADDRESS": dev_stack["gRPC"]}, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_submissions_are_awaitables(dev_stack):
    async def main():
        async with Client(dev_stack["gRPC"]) as c:
            s = await c.create_session(partition="go")
            results = await asyncio.gather(*(s.submit("echo", str(i).encode()) for i in range(50)))
            assert all(isinstance(r, TaskResult) and r.task_id and r.result_id for r in results)
            assert await asyncio.gather(*results) == [str(i).encode() for i in range(50)]
            big = os.urandom(300_000)  # above the inline limit: uploaded as a payload result
            assert await (await s.submit("echo", big)) == big
            cat = await s.submit("concat", depends_on=[results[1], results[2], results[3]])
            assert await cat == b"123"
            assert [o.status for o in await s.wait(results[:3])] == ["completed"] * 3
            return True
    assert run(main())


def test_failures_and_errors(dev_stack):
    async def main():
        async with Client(dev_stack["gRPC"]) as c:
            s = await c.create_session(partition="go")
            # one graph, so the dependent is stored before the failure (a dependency that already
            # failed is refused at submission instead)
            g = chorus.aio.Graph()
            f = g.task("fail", b"out of coffee", max_retries=0)
            g.task("echo", depends_on=[f.output])
            failing, dependent = await s.submit_graph(g)
            with pytest.raises(AbortedError) as e:
                await failing
            assert "out of coffee" in e.value.reason
            with pytest.raises(AbortedError):
                await dependent  # a failed dependency aborts its dependents' outputs
            with pytest.raises(ChorusError) as e:
                await c.session("no-such-session").get()
            assert e.value.code.name == "NOT_FOUND"
            await s.close()
            with pytest.raises(ChorusError) as e:
                await s.submit("echo", b"x")
            assert e.value.code.name == "FAILED_PRECONDITION"
            return True
    assert run(main())
