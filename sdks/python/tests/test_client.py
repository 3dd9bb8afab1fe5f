"""The Python client against a real Chorus: `bin/chorus dev` (valkey-server, gateway, agent, Go worker)."""

import doctest
import os
import subprocess
from pathlib import Path

import pytest

import chorus.client
from chorus.client import AbortedError, ChorusError, Client, Graph
from chorus.v1 import event_pb2, result_pb2

CHORUS = Path(__file__).resolve().parents[3] / "bin" / "chorus"


@pytest.fixture(scope="module")
def address(dev_stack):
    return dev_stack["gRPC"]


def test_module_example_runs(address):
    result = doctest.testmod(chorus.client, extraglobs={"ADDRESS": address}, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_graph_inputs_and_large_data(address):
    with Client(address) as c:
        s = c.create_session(partition="go", labels={"test": "python"})
        g = Graph()
        big = os.urandom(300_000)  # above the inline limit: uploaded as a stream, passed by payload_id
        echo = g.task("echo", big)
        cat = g.task("concat", depends_on=[g.input(b"abc"), g.input(b"def")])
        submitted = s.submit(g)
        assert len(submitted) == 2 and echo.task_id and cat.task_id
        assert s.wait_and_download(echo.output) == big
        assert s.wait_and_download(cat.output) == b"abcdef"
        assert s.task(echo.task_id).status == 5  # TASK_STATUS_COMPLETED
        assert len(s.list_tasks()) == 2


def test_listings_follow_their_pages(address):
    with Client(address) as c:
        s = c.create_session(partition="go")
        ids = s.create_results(*[""] * 1001)  # more than one page of 1,000
        listed = s.list_results()
        assert len(listed) == 1001 and {r.result_id for r in listed} == set(ids)
        assert s.id in {x.session_id for x in c.list_sessions()}


def test_failure_is_an_aborted_error(address):
    with Client(address) as c:
        s = c.create_session(partition="go")
        g = Graph()
        t = g.task("fail", b"the answer is not 42", max_retries=0)
        s.submit(g)
        with pytest.raises(AbortedError) as e:
            s.wait_and_download(t.output)
        assert "the answer is not 42" in str(e.value)


def test_wait_reports_each_outcome(address):
    with Client(address) as c:
        s = c.create_session(partition="go")
        g = Graph()
        outs = [g.task("echo", str(i).encode()).output for i in range(100)]
        s.submit(g)
        seen = []
        results = s.wait(outs, on_outcome=seen.append)
        assert [o.status for o in results] == ["completed"] * 100 and len(seen) == 100
        assert s.download_bytes(outs[42]) == b"42"


def test_upload_download_and_events(address):
    with Client(address) as c:
        s = c.create_session(partition="go")
        (rid,) = s.create_results("")
        data = os.urandom(3 << 20)
        res = s.upload(rid, [data[i:i + (1 << 20)] for i in range(0, len(data), 1 << 20)])
        assert res.status == result_pb2.RESULT_STATUS_COMPLETED and res.size_bytes == len(data)
        assert b"".join(s.download(rid)) == data
        events = s.watch("", kinds=[event_pb2.EVENT_KIND_RESULT_STATUS])
        first = next(events)
        assert first.result_status.result_id == rid
        events.close()


def test_errors_are_clear(address):
    with Client(address) as c:
        with pytest.raises(ChorusError) as e:
            c.session("no-such-session").get()
        assert "no-such-session" in str(e.value) and e.value.code.name == "NOT_FOUND"
        s = c.create_session(partition="go")
        s.close()
        with pytest.raises(ChorusError) as e:
            g = Graph()
            g.task("echo", b"x")
            s.submit(g)
        assert e.value.code.name == "FAILED_PRECONDITION"


@pytest.fixture(scope="module")
def auth_dev(tmp_path_factory, chorus_dev):
    """`chorus dev --auth`: its gRPC address, the token it prints (tenant dev) and its secret file."""
    start_dev, stop_dev = chorus_dev
    data = tmp_path_factory.mktemp("chorus-dev-auth")
    proc, found, lines = start_dev(data, "--auth", until="More tokens:", want=("gRPC", "TOKEN"))
    yield found["gRPC"], found["TOKEN"], data / "auth" / "jwt-secret"
    stop_dev(proc, lines)


def test_token_and_tenant_walls(auth_dev, monkeypatch):
    addr, token, secret = auth_dev
    monkeypatch.delenv("CHORUS_TOKEN", raising=False)
    with Client(addr) as anonymous:
        with pytest.raises(ChorusError) as e:
            anonymous.create_session(partition="go")
        assert e.value.code.name == "UNAUTHENTICATED"
    with Client(addr, token=token) as dev:
        s = dev.create_session(partition="go")
        g = Graph()
        h = g.task("sha256", b"hello")
        s.submit(g)
        assert s.wait_and_download(h.output).startswith(b"2cf24dba")
    other = subprocess.run([str(CHORUS), "token", "--secret-file", str(secret), "--tenant", "acme"],
                           check=True, capture_output=True, text=True).stdout.strip()
    monkeypatch.setenv("CHORUS_TOKEN", other)  # the default token comes from the environment
    with Client(addr) as acme:
        assert all(x.session_id != s.id for x in acme.list_sessions())
        with pytest.raises(ChorusError) as e:
            acme.session(s.id).cancel()
        assert e.value.code.name == "NOT_FOUND"
